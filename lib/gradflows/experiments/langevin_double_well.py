"""Langevin particles in the double well ``f(x) = (x^2 - 1)^2 / 4``: figures, time-step bias, explorer.

Notebook ``03-mfld/02-langevin-gibbs`` (claims MFLD-4 and MFLD-6) runs ``10^5`` Euler-Maruyama particles
from the left well and compares them with a finite-volume Fokker-Planck solution on cells and with the
Gibbs density. The figures are :func:`plot_snapshots`, :func:`plot_relaxation`, :func:`plot_bias`,
:func:`plot_ou_dissipation` and :func:`plot_free_energy`; :func:`time_averaged_tv` measures the
``O(dt)`` bias of the scheme once the sampling noise is averaged away, and :func:`plot_explorer` draws
one run of the notebook's explorer.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._errors import DivergenceError
from .._validation import check_positive
from ..energies import free_energy_1d, knn_entropy
from ..particles import langevin, time_averaged_histogram
from ..rates import loglog_slope

__all__ = [
    "plot_snapshots",
    "plot_relaxation",
    "time_averaged_tv",
    "plot_bias",
    "plot_ou_dissipation",
    "plot_free_energy",
    "plot_explorer",
]


def plot_snapshots(show, t, hist, centres, width, x_cells, m_cells, gibbs) -> None:
    """Histograms of the particles at the recorded times nearest to ``show``, with the Fokker-Planck ``m_t``
    on the cells and the Gibbs density. Used in notebooks/03-mfld/02.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(show), figsize=(15, 2.9))
    for ax, ti in zip(axes, show, strict=True):
        i = int(np.argmin(np.abs(t - ti)))
        ax.bar(centres, hist[i] / width, width=width, color="C0", alpha=0.45, label="particles")
        ax.plot(x_cells, m_cells[i], "C3", lw=1.3, label="Fokker–Planck $m_t$")
        ax.plot(x_cells, gibbs, "k--", lw=0.9, label="Gibbs $m^{\\sigma,*}$")
        ax.set(xlim=(-2.3, 2.3), title=f"$t={t[i]:g}$", xlabel="$x$")
    axes[0].set_ylabel("density")
    axes[1].legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    plt.show()


def plot_relaxation(t, mean_x, EX_fp, frac_right, tv_gibbs, lam1: float) -> None:
    """Left: the particle mean, the Fokker-Planck mean and the fraction in the right well; right: ``|E X_t|``
    and TV(histogram, Gibbs) on a log scale with ``e^{-lambda_1 t}``. Used in notebooks/03-mfld/02.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax = axes[0]
    ax.plot(t, mean_x, "o", ms=3, label="particles")
    ax.plot(t, EX_fp, "C3", label="Fokker–Planck")
    ax.plot(t, frac_right, "s", ms=3, color="C2", label="fraction with $X_t>0$")
    ax.axhline(0, color="k", lw=0.6)
    ax.axhline(0.5, color="C2", lw=0.6, ls=":")
    ax.set(xlabel="$t$", ylabel="moment", title="relaxation of the imbalance")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.semilogy(t, np.abs(mean_x), "o", ms=3, label="$|\\mathbb{E}X_t|$, particles")
    ax.semilogy(t, np.abs(EX_fp), "C3", label="$|\\mathbb{E}X_t|$, Fokker–Planck")
    ax.semilogy(t, 0.9 * np.exp(-lam1 * t), "k:", lw=1, label="$\\propto e^{-\\lambda_1 t}$")
    ax.semilogy(t, tv_gibbs, "^", ms=3, color="C1", label="TV(histogram, Gibbs)")
    ax.set(xlabel="$t$", ylim=(1e-4, 2), title="approach to equilibrium")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def time_averaged_tv(
    x_start: torch.Tensor,
    sigma: float,
    dts,
    T_burn: float,
    T_avg: float,
    grad: Callable[[torch.Tensor], torch.Tensor],
    edges: np.ndarray,
    p_exact: np.ndarray,
    tv_bias: dict,
    generator: torch.Generator | None,
) -> tuple[dict, dict, float, float]:
    """TV(time-averaged histogram, Gibbs) for each step in ``dts``, against the predicted bias ``tv_bias``.

    For each ``dt``, :func:`gradflows.particles.time_averaged_histogram` from ``x_start`` (bins ``edges``);
    the standard error of the TV is bounded by ``(1/2) sum_b se_b``. Prints one line per ``dt`` and the
    fitted slopes in ``dt``; returns ``tv_avg``, ``se_avg``, the measured and the predicted slope.
    Used in notebooks/03-mfld/02 (claim MFLD-4 (c)).
    """
    check_positive("T_avg", T_avg)
    B, lo, hi = len(edges) - 1, float(edges[0]), float(edges[-1])
    tv_avg, se_avg = {}, {}
    for dt in dts:
        p_avg, se_b = time_averaged_histogram(
            x_start, sigma, dt, T_burn, T_avg, grad, B, lo, hi, generator=generator
        )
        tv_avg[dt] = 0.5 * np.abs(p_avg - p_exact).sum()
        se_avg[dt] = 0.5 * se_b.sum()  # (1/2) sum_b se_b
        print(
            f"dt = {dt:<7}: TV(time-averaged histogram, Gibbs) = {tv_avg[dt]:.4f}   "
            f"predicted bias TV(m*_dt, Gibbs) = {tv_bias[dt]:.4f}   ratio {tv_avg[dt] / tv_bias[dt]:.3f}"
        )
    slope_tv = loglog_slope(dts, [tv_avg[d] for d in dts])
    slope_bias = loglog_slope(dts, [tv_bias[d] for d in dts])
    print(f"fitted slopes in dt: measured {slope_tv:.3f}, predicted {slope_bias:.3f}")
    return tv_avg, se_avg, slope_tv, slope_bias


def plot_bias(
    dts, dt_main: float, tv_avg: dict, tv_bias: dict, tv_snapshot: float, mc_expected: float
) -> None:
    """Time-averaged TV and the predicted bias against ``dt``, with the one-snapshot TV of the main run.

    Used in notebooks/03-mfld/02.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    dd = np.array(list(dts) + [dt_main])
    ax.loglog(dts, [tv_avg[d] for d in dts], "o", label="time-averaged histogram")
    ax.loglog(
        dd,
        [tv_bias[d] for d in dd],
        "k-",
        lw=1,
        label="bias $\\mathrm{TV}(m^*_{\\Delta t}, m^{\\sigma,*})$ (grid)",
    )
    ax.loglog([dt_main], [tv_snapshot], "*", ms=11, color="C3", label="one snapshot, $\\Delta t=0.01$")
    ax.axhline(mc_expected, color="C3", ls=":", lw=1, label="expected Monte Carlo TV, one snapshot")
    ax.set(xlabel="$\\Delta t$", ylabel="total variation", title="time-step bias vs sampling error")
    ax.legend(fontsize=8)
    plt.show()


def plot_ou_dissipation(t, V, V_star: float, dV, sub, fisher) -> None:
    """Ornstein-Uhlenbeck: the free-energy gap against ``e^{-2t}``, ``-dV/dt`` against the Fisher integral.

    Used in notebooks/03-mfld/02 (claim MFLD-6 (a)).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].semilogy(t, V - V_star, label="$V^\\sigma(m_t)-V^\\sigma(m^*)$")
    axes[0].semilogy(t, 2.0 * np.exp(-2 * t), "k:", lw=1, label="$\\propto e^{-2t}$")
    axes[0].set(xlabel="$t$", title="Ornstein–Uhlenbeck: free-energy gap")
    axes[0].legend(fontsize=8)
    axes[1].plot(t, -dV, label="$-\\frac{d}{dt}V^\\sigma(m_t)$ (finite differences)")
    axes[1].plot(t[sub], fisher, "o", ms=4, label="Fisher integral (quad)")
    axes[1].set(xlabel="$t$", title="dissipation = relative Fisher information")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def plot_free_energy(t, V_part, V_fp, V_star: float, sd_V: float, lam1: float) -> None:
    """The particle estimate of the free energy against the Fokker-Planck one, and both gaps on a log scale.

    Used in notebooks/03-mfld/02 (claim MFLD-6 (b)).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].plot(t, V_part, "o", ms=3, label="particles: mean $f$ $-$ $\\frac{\\sigma^2}{2}$ kNN entropy")
    axes[0].plot(t, V_fp, "C3", label="Fokker–Planck (grid)")
    label = "$V^\\sigma(m^{\\sigma,*})=-\\frac{\\sigma^2}{2}\\log Z$"
    axes[0].axhline(V_star, color="k", ls="--", lw=0.9, label=label)
    axes[0].set(xlabel="$t$", ylabel="$V^\\sigma(m_t)$", title="double well: free energy")
    axes[0].legend(fontsize=8)
    axes[1].semilogy(t, np.abs(V_part - V_star), "o", ms=3, label="particles, $|V-V^*|$")
    axes[1].semilogy(t, V_fp - V_star, "C3", label="Fokker–Planck, $V-V^*$")
    axes[1].semilogy(t, 0.3 * np.exp(-2 * lam1 * t), "k:", lw=1, label="$\\propto e^{-2\\lambda_1t}$")
    axes[1].axhline(sd_V, color="C0", ls=":", lw=1, label="sampling sd")
    axes[1].set(xlabel="$t$", ylim=(1e-6, 1), title="free-energy gap")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def plot_explorer(
    x0: torch.Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    f: Callable[[torch.Tensor], torch.Tensor],
    grad: Callable[[torch.Tensor], torch.Tensor],
    generator: torch.Generator | None,
    edges: np.ndarray,
    x_cells: np.ndarray,
    m_T: np.ndarray,
    m_inf: np.ndarray,
    inv_gap: float,
) -> None:
    """One Langevin run of ``n_steps`` from ``x0``: its histogram against the Fokker-Planck ``m_T`` and the
    Gibbs density ``m_inf`` on the cells (width ``h``), with the TV and the kNN free energy in the title.

    Prints a message instead when Euler-Maruyama diverges. Used by the explorer of notebooks/03-mfld/02.
    """
    import matplotlib.pyplot as plt

    try:
        X = langevin(x0, sigma, dt, n_steps, grad=grad, generator=generator, progress=False).last
    except DivergenceError:
        print(f"Euler-Maruyama diverged for dt = {dt:g}: reduce the step")
        return
    h, bw = x_cells[1] - x_cells[0], edges[1] - edges[0]
    inside = (x_cells > edges[0]) & (x_cells < edges[-1])
    counts = np.histogram(X[:, 0].numpy(), edges)[0] / len(X)
    p_inf = (m_inf[inside] * h).reshape(len(edges) - 1, -1).sum(-1)
    tv = 0.5 * np.abs(counts - p_inf).sum() + 0.5 * (1 - counts.sum())
    fx = f(torch.from_numpy(x_cells)[:, None])
    V_emp = (f(X).mean() - 0.5 * sigma**2 * knn_entropy(X, k=4)).item()
    V_inf = free_energy_1d(torch.from_numpy(m_inf), fx, torch.from_numpy(x_cells), sigma).item()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    ax.bar(0.5 * (edges[1:] + edges[:-1]), counts / bw, width=bw, alpha=0.45, label="particles")
    ax.plot(x_cells, m_T, "C3", label="Fokker–Planck $m_T$")
    ax.plot(x_cells, m_inf, "k--", lw=1, label="Gibbs")
    title = (
        f"$\\sigma={sigma:.2f}$, $\\Delta t={dt:.3g}$, $T={n_steps * dt:g}$, $1/\\lambda_1={inv_gap:.3g}$: "
        f"TV = {tv:.3f}, $V$ = {V_emp:.4f} (Gibbs {V_inf:.4f})"
    )
    ax.set(xlim=(edges[0], edges[-1]), xlabel="$x$", ylabel="density", title=title)
    ax.legend(fontsize=8)
    plt.show()
