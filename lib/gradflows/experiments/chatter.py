"""Gradient descent on the kink of ``|w|``: chatter, smoothing, and the figures of notebook
``01-sgd/04-regularity``.

GD (5.35) ``w <- w - dt sign(w)`` ends in a two-cycle of amplitude ``max(r, dt - r)``,
``r = w0 mod dt``, whatever value ``sign(0)`` takes; GD on the smoothed ``sqrt(w^2 + eps^2)`` with
``dt <= eps/4`` decreases ``|w|`` monotonically. This module holds the choice of ``sign(0)``, the
late-time statistics of a run, the sweep over steps, and the three figures of the notebook
(smoothed flows against the weak solution, the chatter, the smoothed LASSO flow).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter

from .. import ode_optimizers as odeo
from .. import weak_solutions
from .._stepping import Trajectory
from .._validation import as_tensor, check_finite, check_positive

__all__ = [
    "sign_with",
    "late_stats",
    "chatter_sweep",
    "print_chatter_table",
    "smoothed_sweep",
    "print_lasso_table",
    "plot_smoothed_convergence",
    "plot_chatter",
    "plot_lasso",
]


def sign_with(value_at_zero: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """``sign`` with the value ``value_at_zero`` at 0: a gradient of ``|w|`` for
    :func:`gradflows.ode_optimizers.gradient_flow`."""
    value_at_zero = float(value_at_zero)

    def grad(W: torch.Tensor) -> torch.Tensor:
        return torch.where(W == 0, torch.full_like(W, value_at_zero), torch.sign(W))

    return grad


def late_stats(traj: Trajectory, t_late: float) -> tuple[np.ndarray, np.ndarray]:
    """Late amplitude ``max_{t >= t_late} |w^n|`` and fraction of late steps with a sign change, per start.

    ``traj.W`` has shape ``(times, starts, 1)``. Used in notebook ``01-sgd/04-regularity``.
    """
    late = traj.W[traj.times >= t_late][..., 0]  # (n_late, n_w0)
    if late.shape[0] < 2:
        raise ValueError(f"need at least two recorded times >= t_late = {t_late}")
    amp = late.abs().amax(0)
    flips = (torch.sign(late[1:]) * torch.sign(late[:-1]) < 0).double().mean(0)
    return amp.numpy(), flips.numpy()


def chatter_sweep(
    flows: Mapping[str, odeo.Flow], w0: torch.Tensor, dts: Sequence[float], T: float, t_late: float
) -> dict[tuple[str, float], tuple[np.ndarray, np.ndarray]]:
    """GD (explicit Euler) of each flow from the starts ``w0`` (shape ``(k, 1)``) on ``[0, T]`` for each
    ``dt``.

    Returns ``{(name, dt): late_stats}``. Used in notebook ``01-sgd/04-regularity``.
    """
    T = check_positive("T", T)
    w0 = check_finite("w0", as_tensor("w0", w0))
    out = {}
    for name, flow in flows.items():
        for dt in dts:
            tr = odeo.integrate(flow, w0, float(dt), int(round(T / dt)), method="euler", progress=False)
            out[name, dt] = late_stats(tr, t_late)
    return out


def plot_smoothed_convergence(
    eps_list: np.ndarray, sup_err: np.ndarray, L1_err: np.ndarray, a_star: float
) -> None:
    """Figure: smoothed flows against the weak solution (5.43), and the sup and L1 errors against ``eps``.

    ``sup_err`` and ``L1_err`` have shape ``(len(eps_list), starts)``. Used in notebook
    ``01-sgd/04-regularity``.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    t_plot = torch.linspace(0, 2, 801)
    colors = plt.cm.viridis(np.linspace(0.1, 0.85, 4))
    for w0 in (1.0, -0.7):
        for c, eps in zip(colors, (0.3, 0.1, 0.03, 0.01), strict=True):
            axes[0].plot(
                t_plot,
                weak_solutions.smoothed_abs_flow(w0, t_plot, eps),
                color=c,
                lw=1.6,
                label=f"smoothed, $\\varepsilon={eps}$" if w0 > 0 else None,
            )
        axes[0].plot(
            t_plot,
            weak_solutions.weak_solution_abs(w0, t_plot),
            "k--",
            lw=1.4,
            zorder=5,
            label="weak solution (5.43)" if w0 > 0 else None,
        )
    axes[0].axhline(0, color="gray", lw=0.6)
    axes[0].set(xlabel="$t$", ylabel="$w$", title="$w'=-w/\\sqrt{w^2+\\varepsilon^2}$ vs the weak solution")
    axes[0].legend()
    for j in range(sup_err.shape[1]):
        axes[1].loglog(eps_list, sup_err[:, j], "o-", color="C0", alpha=0.35, ms=3)
        axes[1].loglog(eps_list, L1_err[:, j], "s-", color="C1", alpha=0.35, ms=3)
    axes[1].loglog(eps_list, a_star * eps_list, "k--", lw=1, label="$a^*\\varepsilon$ (sup error, predicted)")
    axes[1].loglog(
        eps_list,
        0.5 * eps_list**2 * np.log(1 / eps_list),
        "k:",
        lw=1.2,
        label="$\\frac{\\varepsilon^2}{2}\\ln\\frac{1}{\\varepsilon}$ ($L^1$ error, leading term)",
    )
    axes[1].plot([], [], "o-", color="C0", label=f"sup error, {sup_err.shape[1]} values of $w_0$")
    axes[1].plot([], [], "s-", color="C1", label=f"$L^1$ error, {sup_err.shape[1]} values of $w_0$")
    axes[1].set(xlabel="$\\varepsilon$", ylabel="error", title="convergence as $\\varepsilon\\to0$")
    axes[1].legend(fontsize=8)
    fig.tight_layout()


def plot_chatter(
    gd_flow: odeo.Flow,
    smooth_flow: odeo.Flow,
    eps: float,
    dts: np.ndarray,
    amps: Sequence[np.ndarray],
    dts_s: np.ndarray,
    smooth_amps: Sequence[float],
    slope: float,
    w0: float = 0.73,
) -> None:
    """Figure: GD, smoothed GD and the implicit (prox) step near the kink; late amplitudes against ``dt``.

    ``amps[i]`` holds the late amplitudes of GD over the starts for ``dts[i]``. Used in notebook
    ``01-sgd/04-regularity``.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4))
    ax = axes[0]
    t_plot = torch.linspace(0, 1.4, 500)
    ax.plot(t_plot, weak_solutions.weak_solution_abs(w0, t_plot), "k", lw=2.2, label="weak solution")
    start = torch.tensor([[w0]])
    for dt, c in zip((0.1, 0.05, 0.025), ("C3", "C1", "C0"), strict=True):
        tr = odeo.integrate(gd_flow, start, dt, int(1.4 / dt), method="euler", progress=False)
        ax.plot(tr.times, tr.W[:, 0, 0], "o-", color=c, ms=3, lw=0.8, label=f"GD (5.35), $\\Delta t={dt}$")
    tr = odeo.integrate(smooth_flow, start, 0.0125, int(1.4 / 0.0125), method="euler", progress=False)
    ax.plot(
        tr.times,
        tr.W[:, 0, 0],
        color="C2",
        lw=1.5,
        label=f"smoothed GD, $\\varepsilon={eps}$, $\\Delta t=0.0125$",
    )
    w, prox = w0, [w0]
    for _ in range(14):
        w = np.sign(w) * max(abs(w) - 0.1, 0.0)  # implicit Euler = soft thresholding
        prox.append(w)
    ax.plot(0.1 * np.arange(15), prox, "kx", ms=7, label="implicit Euler (prox), $\\Delta t=0.1$")
    ax.axhline(0, color="gray", lw=0.6)
    ax.set(xlabel="$t$", ylabel="$w$", xlim=(0.35, 1.4), ylim=(-0.12, 0.4), title="near the kink")
    ax.legend(fontsize=7.5)
    ax = axes[1]
    ax.fill_between(
        dts,
        [a.min() for a in amps],
        [a.max() for a in amps],
        color="C0",
        alpha=0.2,
        label=f"GD: range over {len(amps[0])} $w_0$",
    )
    ax.loglog(
        dts, [a.mean() for a in amps], "o-", color="C0", label=f"GD: mean amplitude (slope {slope:.3f})"
    )
    ax.loglog(dts, 0.75 * dts, "k--", lw=1, label="$3\\Delta t/4$")
    ax.loglog(dts_s, smooth_amps, "s-", color="C2", label=f"smoothed GD, $\\varepsilon={eps}$")
    ax.set(xlabel="$\\Delta t$", ylabel="$\\max_{t\\geq 2.5}|w^n|$", title="late amplitude")
    ax.legend(fontsize=8)
    fig.tight_layout()


def plot_lasso(
    traj: Trajectory,
    W_star: np.ndarray,
    W_end: np.ndarray,
    a: np.ndarray,
    lam: float,
    eps_l: np.ndarray,
    C: float,
) -> None:
    """Figure: the smoothed LASSO flow for the smallest ``eps``, and the coordinates that vanish only as
    ``eps -> 0``.

    Used in notebook ``01-sgd/04-regularity``.
    """
    zero_set = np.abs(a) < lam
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for j in range(len(a)):
        ax.plot(traj.times, traj.W[:, -1, j], color="C3" if zero_set[j] else "C0", lw=1.2)
        ax.axhline(W_star[j], color="k", ls=":", lw=0.7)
    ax.plot([], [], color="C3", label="$|a_j|<\\lambda$ (zero in $W^*$)")
    ax.plot([], [], color="C0", label="$|a_j|>\\lambda$")
    ax.plot([], [], "k:", label="soft threshold $W^*_j$")
    title = f"smoothed LASSO flow, $\\varepsilon={eps_l[-1]}$, $\\lambda={lam}$"
    ax.set(xlabel="$t$", ylabel="$W_j(t)$", title=title, xlim=(0, 6), ylim=(-1.25, 2.4))
    ax.legend(fontsize=8, loc="upper right")
    ax = axes[1]
    for j in np.flatnonzero(zero_set):
        ax.loglog(eps_l, np.abs(W_end[:, j]), "o-", label=f"$|W_{{\\varepsilon,{j}}}|$, $a_{j}={a[j]:.2f}$")
    ax.loglog(eps_l, C * eps_l, "k--", lw=1, label="$C\\varepsilon$")
    ax.set_xticks(eps_l, [f"{e:g}" for e in eps_l])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(
        xlabel="$\\varepsilon$",
        ylabel="$|W_{\\varepsilon,j}(T)|$",
        title="coordinates that vanish only in the limit",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()


def print_chatter_table(
    gd: Mapping[tuple[str, float], tuple[np.ndarray, np.ndarray]],
    names: Sequence[str],
    dts: Sequence[float],
    amp_exact: Mapping[float, np.ndarray],
) -> None:
    """Print, per ``dt``, the mean late amplitude / dt for each choice, the distance to the two-cycle, the
    flips.

    ``gd`` comes from :func:`chatter_sweep`. Used in notebook ``01-sgd/04-regularity``.
    """
    print(
        "    dt       mean amplitude/dt  (three choices of sign(0))   max |GD - exact cycle|   flip fraction"
    )
    for dt in dts:
        ratios = [gd[name, dt][0].mean() / dt for name in names]
        dev = max(np.abs(gd[name, dt][0] - amp_exact[dt]).max() for name in names)
        print(
            f"{dt:.6f}   " + "  ".join(f"{x:.4f}" for x in ratios) + f"           {dev:.1e}               "
            f"{min(gd[name, dt][1].min() for name in names):.2f}"
        )


def smoothed_sweep(
    flow: odeo.Flow, w0: torch.Tensor, dts: Sequence[float], T: float, t_late: float, eps: float
) -> dict[float, tuple[float, int, bool]]:
    """GD on the smoothed ``|w|`` for each ``dt``: late amplitude, number of sign changes, whether ``|w|``
    is monotone.

    Prints one line per ``dt``. Used in notebook ``01-sgd/04-regularity``.
    """
    T = check_positive("T", T)
    out = {}
    for dt in dts:
        tr = odeo.integrate(flow, w0, float(dt), int(round(T / dt)), method="euler", progress=False)
        total_flips = int((torch.sign(tr.W[1:]) * torch.sign(tr.W[:-1]) < 0).sum())
        monotone = bool((tr.W[1:].abs() <= tr.W[:-1].abs()).all())
        out[dt] = (late_stats(tr, t_late)[0].max(), total_flips, monotone)
        print(
            f"smoothed eps={eps}, dt={dt:.6f}: late amplitude {out[dt][0]:.1e}, sign changes {total_flips}, "
            f"|w| monotone: {monotone}"
        )
    return out


def print_lasso_table(
    a: np.ndarray,
    W_star: np.ndarray,
    row0_gap: float,
    C: float,
    eps: np.ndarray,
    W_end: np.ndarray,
    W_eps: np.ndarray,
    lam: float,
) -> None:
    """Print the smoothed LASSO experiment: ``a``, ``W*``, a consistency check, ``C``, and one line per
    ``eps``.

    ``W_end[i]`` is the flow at ``T`` and ``W_eps[i]`` the smoothed minimizer for ``eps[i]``.
    Used in notebook ``01-sgd/04-regularity``.
    """
    zero_set = np.abs(a) < lam
    err = np.abs(W_end - W_star).max(axis=1)
    print("a      :", np.round(a, 3))
    print("W*     :", np.round(W_star, 3), f" ({int((W_star == 0).sum())} exact zeros)")
    print(f"row 0 of J_lasso vs 0.5|W-a|^2 + lam*smoothed_abs: {row0_gap:.1e}")
    print(f"C = {C:.4f}")
    for i, e in enumerate(eps):
        print(
            f"eps={e:.3f}: |W_eps(T) - W*|_inf = {err[i]:.5f} = {err[i] / e:.3f} eps,  "
            f"|flow - smoothed minimiser| = {np.abs(W_end[i] - W_eps[i]).max():.1e},  "
            f"exact zeros: {int((W_end[i] == 0).sum())},  "
            f"min |W_j| on zero set: {np.abs(W_end[i, zero_set]).min():.1e}"
        )
