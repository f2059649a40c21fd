"""Mean-field Langevin dynamics of a tanh network: runs from several laws, equilibrium, contraction, figures.

Notebook ``03-mfld/03-mean-field-langevin`` (claims MFLD-6 to MFLD-8) runs ``N`` neurons ``(c, a)`` of
``f(z) = (1/N) sum_i c_i tanh(a_i z)`` by :func:`gradflows.particles.mean_field_langevin` from several
initial laws (:func:`network_runs`), measures the fluctuation of the free-energy estimate at equilibrium
(:func:`equilibrium_stats`) and the ``W_2`` distance between runs (:func:`network_w2`), and draws them
(:func:`plot_network_runs`, :func:`plot_w2`, :func:`plot_network_snapshots`, :func:`plot_explorer`).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import torch

from .._errors import DivergenceError
from .._validation import check_int, check_positive
from ..energies import relative_entropy_to_gaussian, w2
from ..mean_field import mf_free_energy_path, mf_output
from ..particles import mean_field_langevin
from ..rates import semilog_slope

__all__ = [
    "network_runs",
    "equilibrium_stats",
    "plot_network_runs",
    "network_w2",
    "plot_w2",
    "plot_network_snapshots",
    "plot_explorer",
]

_NARROW = ("narrow", "narrow, replica")


def network_runs(
    starts: dict[str, torch.Tensor],
    Z: torch.Tensor,
    Y: torch.Tensor,
    sigma: float,
    tau: float,
    n_steps: int,
    every: int,
    generator: torch.Generator | None,
) -> tuple[dict[str, dict], np.ndarray]:
    """One float32 run of :func:`gradflows.particles.mean_field_langevin` from each initial cloud, in order.

    Returns per run the recorded clouds ``S`` (float64), ``F(m^N_t)``, the kNN ``H(m^N_t | N(0, I))`` and
    ``V = F + (sigma^2/2) H`` (:func:`gradflows.mean_field.mf_free_energy_path`, data in float64), and the
    recorded times. Used in notebooks/03-mfld/03.
    """
    n_steps, every = check_int("n_steps", n_steps), check_int("every", every)
    check_positive("tau", tau)
    net = {}
    for name, X0 in starts.items():
        path = mean_field_langevin(X0.float(), Z.float(), Y.float(), sigma, tau, n_steps, record_every=every,
                                   generator=generator, progress=False)  # fmt: skip
        S = path.X.double()
        F_t, H_t = mf_free_energy_path(S, Z, Y)
        net[name] = dict(S=S, F=F_t, H=H_t, V=F_t + 0.5 * sigma**2 * H_t)
    return net, path.times.double().numpy()


def equilibrium_stats(
    net: dict[str, dict], t: np.ndarray, sigma: float, generator: torch.Generator | None, t_eq: float = 50.0
) -> SimpleNamespace:
    """Fluctuation of the free-energy estimate at equilibrium (``t >= t_eq``) of the two narrow runs.

    ``sd_V`` (one estimate), ``sd_rep`` (from the replica difference), the pooled cloud ``X_eq`` and its
    covariance ``cov_eq``; the kNN estimator on 200 Gaussian clouds of that covariance (``H_cal``
    against the exact ``H_gauss``); the means of ``V`` over blocks of 10 records, their sd ``sd_blk`` at
    equilibrium and the largest ``rise`` of each run's block means above their running minimum.
    Prints two lines. Used in notebooks/03-mfld/03 (claim MFLD-6 (c)).
    """
    e = SimpleNamespace(eq=t >= t_eq)
    N = net[_NARROW[0]]["S"].shape[1]
    e.sd_V = np.concatenate([net[k]["V"][e.eq] for k in _NARROW]).std()
    e.sd_rep = np.std(net[_NARROW[0]]["V"][e.eq] - net[_NARROW[1]]["V"][e.eq]) / math.sqrt(2)
    e.X_eq = torch.cat([net[k]["S"][e.eq].reshape(-1, 2) for k in _NARROW])
    e.cov_eq = torch.cov(e.X_eq.T)
    L_eq = torch.linalg.cholesky(e.cov_eq)
    e.H_gauss = 0.5 * (torch.trace(e.cov_eq) - 2 - torch.logdet(e.cov_eq)).item()  # H(N(0, cov) | N(0, I))
    e.H_cal = np.array(
        [
            relative_entropy_to_gaussian(torch.randn(N, 2, generator=generator) @ L_eq.T, k=3).item()
            for _ in range(200)
        ]
    )
    blocks = {
        k: r["V"][1:].reshape(-1, 10).mean(1) for k, r in net.items()
    }  # V averaged over blocks of 10 records
    t_blk = t[1:].reshape(-1, 10).mean(1)
    e.sd_blk = np.concatenate([blocks[k][t_blk >= t_eq] for k in _NARROW]).std()
    e.rise = {k: max(b[j] - b[:j].min() for j in range(1, len(b))) for k, b in blocks.items()}
    print(
        f"fluctuation of V at equilibrium: sd {e.sd_V:.4f} (from the replica difference: {e.sd_rep:.4f});  "
        f"kNN estimator on Gaussian clouds of {N} points: bias {e.H_cal.mean() - e.H_gauss:+.3f}, "
        f"sd {e.H_cal.std():.3f} "
        f"-> (sigma^2/2) x sd = {0.5 * sigma**2 * e.H_cal.std():.4f}"
    )
    print(f"block means over 50 time units: sd at equilibrium {e.sd_blk:.5f}")
    return e


def plot_network_runs(
    net: dict[str, dict], t: np.ndarray, eq: np.ndarray, sd_V: float, F_zero: float
) -> None:
    """The free-energy estimate of each run (log scale, and zoomed on equilibrium with +-2 sd) and the loss.

    Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for (name, r), col in zip(net.items(), ("C0", "C2", "C3"), strict=True):
        axes[0].semilogy(t, r["V"], "-", color=col, label=name)
        axes[1].plot(t, r["V"], "o-", ms=2.5, lw=0.8, color=col)
        axes[2].semilogy(t, r["F"], "-", color=col)
    V_eq = np.mean([net[k]["V"][eq].mean() for k in _NARROW])
    axes[1].axhspan(
        V_eq - 2 * sd_V, V_eq + 2 * sd_V, color="k", alpha=0.1, label="equilibrium mean $\\pm2$ sd"
    )
    axes[0].set(xlabel="$t$", title="$\\widehat V^\\sigma(m_t)$")
    axes[1].set(xlabel="$t$", title="$\\widehat V^\\sigma(m_t)$ for $t\\geq 20$", xlim=(20, t[-1]),
                ylim=(V_eq - 0.02, V_eq + 0.06))  # fmt: skip
    axes[2].axhline(F_zero, color="k", ls=":", lw=0.8, label="zero network")
    axes[2].set(xlabel="$t$", title="loss $F(m^N_t)$")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def network_w2(
    net: dict[str, dict],
    t: np.ndarray,
    cov_eq: torch.Tensor,
    sigma: float,
    t_floor: float = 50.0,
    t_fit: float = 20.0,
    t_late: float = 320.0,
) -> SimpleNamespace:
    """``W_2`` between the narrow and the shifted run every second record, its floor, and its decay.

    ``W_net``, the floor ``W_floor`` (the two narrow runs; its mean ``floor_net`` for ``t >= t_floor``),
    the distance of the centres ``centre_gap``; on the first contiguous window with ``t >= t_fit`` and
    ``W_net >= 2`` floors: the semilog slope ``rate_net`` (``se_net``), that of the centres, residual sums
    of squares of exponential and power-law fits and the ``z_quad`` of a quadratic term; ``lam_max`` of
    ``cov_eq``; ``late`` marks ``t >= t_late``. Prints four lines.
    Used in notebooks/03-mfld/03 (claims MFLD-7, MFLD-8).
    """
    w = SimpleNamespace(idx_w=np.arange(0, len(t), 2))  # every second record
    w.t_w = t_w = t[w.idx_w]
    nar, rep, sh = net["narrow"]["S"], net["narrow, replica"]["S"], net["shifted"]["S"]
    w.W_net = W = np.array([w2(nar[i], sh[i]).item() for i in w.idx_w])
    w.W_floor = np.array([w2(nar[i], rep[i]).item() for i in w.idx_w])
    w.centre_gap = np.array([(sh[i].mean(0) - nar[i].mean(0)).norm().item() for i in w.idx_w])
    w.floor_net = w.W_floor[t_w >= t_floor].mean()
    win = (t_w >= t_fit) & (W >= 2 * w.floor_net)
    w.win = win = win & (np.cumsum(~win & (t_w >= t_fit)) == 0)  # the first contiguous window
    w.rate_net, w.se_net = semilog_slope(t_w[win], W[win], stderr=True)
    w.rate_centre = semilog_slope(t_w[win], w.centre_gap[win])
    w.rss_exp = np.polyfit(t_w[win], np.log(W[win]), 1, full=True)[1][0]
    w.rss_pow = np.polyfit(np.log(t_w[win]), np.log(W[win]), 1, full=True)[1][0]
    coef_q, cov_q = np.polyfit(t_w[win], np.log(W[win]), 2, cov="unscaled")
    se_q = math.sqrt(cov_q[0, 0] * np.polyfit(t_w[win], np.log(W[win]), 2, full=True)[1][0] / (win.sum() - 3))
    w.z_quad = coef_q[0] / se_q
    w.lam_max = torch.linalg.eigvalsh(cov_eq).max().item()
    w.late = t_w >= t_late
    print(
        f"floor {w.floor_net:.3f} (sd over time {w.W_floor[t_w >= t_floor].std():.3f});  "
        f"W2 at t = 0: {W[0]:.3f};  "
        f"mean W2 for t >= {t_late:g}: {W[w.late].mean():.3f}"
    )
    print(
        f"fitted slope of log W2 on t in [{t_w[win].min():g}, {t_w[win].max():g}]: "
        f"{w.rate_net:.4f} +- {w.se_net:.4f};  "
        f"of log |centre gap|: {w.rate_centre:.4f}"
    )
    print(
        f"residual sum of squares of log W2: exponential fit {w.rss_exp:.4f}, "
        f"power-law fit {w.rss_pow:.4f} (ratio "
        f"{w.rss_pow / w.rss_exp:.1f});  quadratic term in t: {w.z_quad:+.1f} standard errors"
    )
    print(
        "OU heuristic: (sigma^2/2) / largest variance of the stationary cloud = "
        f"{0.5 * sigma**2 / w.lam_max:.4f}"
    )
    return w


def plot_w2(t_g: np.ndarray, g: SimpleNamespace, w: SimpleNamespace) -> None:
    """``W_2`` between runs with their floors and fits: the Gaussian case (``g`` from
    :func:`gradflows.experiments.gaussian_mean_field.gaussian_w2`) and the network (``w`` from
    :func:`network_w2`).

    Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    wg = g.win_g
    axes[0].semilogy(t_g, g.Wg, "o", ms=3, label="$W_2$, particles")
    axes[0].semilogy(t_g, g.Wg_exact, "k-", lw=1, label="$W_2$ between the exact laws")
    axes[0].semilogy(t_g, g.Wg_em, "k:", lw=1, label="$W_2$ between the laws of the scheme")
    axes[0].semilogy(t_g, g.Wg_floor, "s", ms=3, color="C2", label="floor: same law, independent runs")
    fit_g = g.Wg[wg][0] * np.exp(-g.rate_g * (t_g[wg] - t_g[wg][0]))
    axes[0].semilogy(t_g[wg], fit_g, "C3--", label=f"fit, rate {g.rate_g:.3f}")
    axes[0].set(xlabel="$t$", title="Gaussian case: narrow vs wide initial law")
    axes[0].legend(fontsize=8)
    t_w, win = w.t_w, w.win
    axes[1].semilogy(t_w, w.W_net, "o", ms=3, label="$W_2$, narrow vs shifted")
    axes[1].semilogy(t_w, w.centre_gap, "^", ms=3, color="C1", label="distance of the centres")
    axes[1].semilogy(t_w, w.W_floor, "s", ms=3, color="C2", label="floor: two narrow runs")
    fit_w = w.W_net[win][0] * np.exp(w.rate_net * (t_w[win] - t_w[win][0]))
    axes[1].semilogy(t_w[win], fit_w, "C3--", label=f"fit, slope {w.rate_net:.4f}")
    axes[1].set(xlabel="$t$", title="network, $N=512$")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def plot_network_snapshots(
    net: dict[str, dict], t: np.ndarray, Z: torch.Tensor, Y: torch.Tensor, times
) -> None:
    """Neurons ``(a, c)`` of the narrow and the shifted run at the recorded times nearest to ``times``, and
    outputs against the target. Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, len(times), figsize=(15, 8.4), sharex="row", sharey="row")
    z_np = Z[:, 0].numpy()
    for j, tj in enumerate(times):
        i = int(np.argmin(np.abs(t - tj)))
        for row, (name, col) in enumerate((("narrow", "C0"), ("shifted", "C3"))):
            X = net[name]["S"][i]
            axes[row, j].plot(X[:, 1], X[:, 0], ".", ms=2, color=col)
            axes[row, j].set(
                title=f"{name}, $t={t[i]:g}$", xlim=(-6, 6), ylim=(-6, 6), xlabel="inner weight $a$"
            )
            axes[2, j].plot(z_np, mf_output(X, Z).numpy(), color=col, label=name)
        axes[2, j].plot(z_np, Y.numpy(), "k--", lw=1, label="target")
        axes[2, j].set(xlabel="$z$", ylim=(-1.4, 1.4))
    for row in range(2):
        axes[row, 0].set_ylabel("outer weight $c$")
    axes[2, 0].set_ylabel("$f_{m^N_t}(z)$")
    axes[2, 0].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def plot_explorer(
    X0: torch.Tensor,
    Z: torch.Tensor,
    Y: torch.Tensor,
    sigma: float,
    tau: float,
    T: float,
    generator: torch.Generator | None,
    F_zero: float,
) -> None:
    """One run up to ``T`` (about 40 records): final neurons, ``V`` and ``F`` along the run, final output.

    The dynamics run in float32 on ``X0`` (``Z``, ``Y`` in float64 for the estimates); prints a message
    if the scheme diverges. Used by the explorer of notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    n_steps = max(1, int(round(T / tau)))
    every = max(1, n_steps // 40)
    try:
        p = mean_field_langevin(X0, Z.float(), Y.float(), sigma, tau, n_steps, record_every=every,
                                generator=generator, progress=False)  # fmt: skip
    except DivergenceError:  # not reached on the explorer's slider range, kept for other data
        print(f"the scheme diverged for tau = {tau:g}: reduce the step")
        return
    S = p.X.double()
    F_e, H_e = mf_free_energy_path(S, Z, Y)
    V_e = F_e + 0.5 * sigma**2 * H_e
    t_e = p.times.double().numpy()
    z_np = Z[:, 0].numpy()
    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    axes[0].plot(S[-1][:, 1], S[-1][:, 0], ".", ms=3)
    axes[0].set(xlabel="inner weight $a$", ylabel="outer weight $c$", xlim=(-6, 6), ylim=(-6, 6),
                title=f"neurons at $t={t_e[-1]:g}$")  # fmt: skip
    axes[1].semilogy(t_e, V_e, label="$\\widehat V^\\sigma$")
    axes[1].semilogy(t_e, F_e, label="$F$")
    title = f"$\\sigma={sigma:.2f}$, $N={len(X0)}$, $\\tau={tau:.3g}$: $F(T)/F(0)={F_e[-1] / F_zero:.4f}$"
    axes[1].set(xlabel="$t$", title=title)
    axes[1].legend(fontsize=8)
    axes[2].plot(z_np, mf_output(S[-1], Z).numpy(), label="network")
    axes[2].plot(z_np, Y.numpy(), "k--", lw=1, label="target")
    axes[2].set(xlabel="$z$", title="output at $T$")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    plt.show()
