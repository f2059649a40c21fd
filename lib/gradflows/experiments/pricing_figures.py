"""The figures of the option-pricing chapter (notebooks ``05-tdgf/01`` to ``05-tdgf/04``).

Each function draws one figure from arrays the notebook computed and shows it; the notebook keeps the
computation and the call. Styles follow :func:`gradflows.plotting.use_style`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullFormatter

__all__ = [
    "imex_convergence",
    "truncation_effect",
    "one_step_network",
    "price_and_errors",
    "errors_along_steps",
    "error_maps",
    "error_vs_cost",
    "boundary_layer",
    "cost_per_iteration",
    "cost_ratio",
    "quadrature_rates",
    "error_vs_time",
    "kernel_spectrum",
    "component_decay",
    "movements",
    "imex_error",
    "tdgf_error",
    "kernel_components",
]


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def imex_convergence(hs: np.ndarray, errors: dict[str, np.ndarray], slopes: dict, first: str) -> None:
    """Log-log errors of the IMEX steps against ``h``, one line per grid, with slope 1 (notebook 01)."""
    if set(errors) != set(slopes) or first not in errors:
        raise ValueError("errors and slopes must have the same keys, including first")
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for (name, e), mk in zip(errors.items(), ("o", "x", "s", "^", "v"), strict=False):
        ax.loglog(hs, e, mk + "-", ms=6, mfc="none", label=f"{name} (slope {slopes[name][0]:.2f})")
    ax.loglog(hs, errors[first][0] * hs / hs[0], "k:", lw=1, label="slope 1")
    ax.set(xlabel="time step $h$", ylabel=r"max error over $S\in[0.8,1.2]$ at $\tau=1$",
           title="IMEX Euler with P1 elements, Black–Scholes call")  # fmt: skip
    ax.set_xticks(hs, [f"{v:g}" for v in hs])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.legend(fontsize=8)
    plt.show()


def truncation_effect(x: np.ndarray, trunc: np.ndarray) -> None:
    """``|U_[0.01,3] - U_[0.01,6]|`` against ``S``, with the error window shaded (notebook 01)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.semilogy(x, np.abs(trunc) + 1e-16, label=r"$|U_{[0.01,3]}-U_{[0.01,6]}|$ at $\tau=1$")
    ax.axvspan(0.8, 1.2, color="C2", alpha=0.15, label="error window")
    ax.set(xlabel="$S$", ylabel="difference", ylim=(1e-12, 2),
           title="Effect of the zero-flux condition at S = 3 (N = 40)")  # fmt: skip
    ax.legend(fontsize=8)
    plt.show()


def one_step_network(x, net_minus_fem, fem_minus_exact, h: float, evals, gap_fine, dist, gap_loss) -> None:
    """Left: network and time errors of one step on ``[0.4, 2]``; right: energy gap against the weighted
    H^1 distance along training (notebook 01)."""
    near = (x >= 0.4) & (x <= 2.0)  # away from S = 3, where the zero-flux condition dominates
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    ax[0].plot(x[near], net_minus_fem[near], label="network $-$ FEM step")
    ax[0].plot(x[near], fem_minus_exact[near], "--", label="FEM step $-$ exact price at $\\tau=h$")
    ax[0].axvspan(0.8, 1.2, color="C2", alpha=0.15)
    ax[0].set(xlabel="$S$", ylabel="difference", title=f"One step, h = {h}: network and time errors")
    ax[0].legend(fontsize=8)
    ax[1].loglog(evals, gap_fine, "o", mfc="none", label=r"energy gap $I^1(w)-I_h(U^1)$ (fine quadrature)")
    ax[1].loglog(evals, dist, "-", label=r"$\frac{1+hr}{2}\|w-U^1\|^2+\frac{h}{2}\|\sqrt{A}\,(w-U^1)'\|^2$")
    ax[1].loglog(evals, np.abs(gap_loss), ":", label="training loss $-$ $I_h(U^1)$ (midpoint rule, abs.)")
    ax[1].set(xlabel="L-BFGS energy evaluation", ylabel="gap",
              title="Energy gap vs weighted H1 distance along training")  # fmt: skip
    ax[1].legend(fontsize=8)
    plt.show()


def price_and_errors(
    S, prices: dict, errors: dict, left: dict, right: dict, band: float | None = None, extra=None
) -> None:
    """Left: prices (``label: (values, style kwargs)``); right: errors (same form), with ``+-band`` dotted
    and a zero line; ``left`` and ``right`` are the axes' ``set`` arguments (notebook 02)."""
    S = _np(S)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for label, (v, kw) in prices.items():
        ax[0].plot(S, _np(v), label=label, **kw)
    for label, (v, kw) in errors.items():
        ax[1].plot(S, _np(v), label=label, **kw)
    if band is None:
        ax[1].axhline(0, color="0.7", lw=0.8)
    else:
        for s in (1, -1):
            ax[1].axhline(s * band, color="C3", lw=0.8, ls=":")
    ax[0].set(**left)
    ax[1].set(**right)
    ax[0].legend(fontsize=8)
    ax[1].legend(fontsize=8)
    plt.show()


def errors_along_steps(taus, curves: dict, title: str) -> None:
    """Semilog errors against ``tau_k`` (``label: (values, fmt, kwargs)``) (notebook 02)."""
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for label, (v, fmt, kw) in curves.items():
        ax.semilogy(taus, v, fmt, label=label, **kw)
    ax.set(xlabel=r"$\tau_k$", ylabel=r"max error over $S\in[0.8,1.2]$", title=title)
    ax.legend(fontsize=8)
    plt.show()


def error_maps(Sg, Vg, maps: dict) -> None:
    """Price-error maps in ``(S, V)``, each on its own symmetric colour scale (notebook 02)."""
    fig, ax = plt.subplots(1, len(maps), figsize=(12, 3.8), sharey=True)
    for a, (name, e) in zip(np.atleast_1d(ax), maps.items(), strict=True):
        lim = e.abs().max().item()  # each map on its own scale
        im = a.pcolormesh(_np(Sg), _np(Vg), _np(e.reshape(Sg.shape)), cmap="RdBu_r", vmin=-lim, vmax=lim,
                          shading="nearest")  # fmt: skip
        a.axhline(0.03, color="k", lw=0.8, ls="--")
        a.set(xlabel="$S$", title=f"{name} $-$ QuantLib, tau = 1, seed 0")
        fig.colorbar(im, ax=a, label="price error")
    np.atleast_1d(ax)[0].set_ylabel("$V$")
    plt.show()


def error_vs_cost(
    sec_tdgf, err_tdgf, budgets, err_dgm, factors, tol: float, floor: float, n_steps: int
) -> None:
    """Heston errors of the TDGF seeds and the DGM seeds at each budget, against CPU seconds (notebook 02)."""
    fig, ax = plt.subplots(figsize=(6.8, 4.2))
    ax.semilogy(sec_tdgf, err_tdgf, "C0o", ms=7, label=f"TDGF, {len(err_tdgf)} seeds")
    dgm_label = f"DGM, {len(err_dgm)} seeds, budgets {factors} x TDGF median"
    for j in range(len(budgets)):
        ax.semilogy(
            [budgets[j]] * len(err_dgm),
            err_dgm[:, j],
            "C1s",
            mfc="none",
            ms=7,
            label=None if j else dgm_label,
        )
    ax.axhline(tol, color="C3", ls=":", label=f"tolerance {tol:.1e} (one volatility point)")
    ax.axhline(floor, color="k", ls="--", lw=1, label=f"time-stepping error of {n_steps} steps")
    ax.set(xlabel="CPU seconds", ylabel=r"max error, $V=0.03$, $S\in[0.8,1.2]$",
           title="Heston: error against training cost")  # fmt: skip
    ax.legend(fontsize=8)
    plt.show()


def boundary_layer(V, left: dict, left_title: str, S, right: dict, tol: float, right_title: str) -> None:
    """Left: errors across the variance range (``label: (values, fmt, kwargs)``); right: errors at
    ``V = 0.03`` with the tolerance dotted (notebook 02)."""
    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for label, (v, fmt, kw) in left.items():
        ax[0].plot(_np(V), _np(v), fmt, label=label, **kw)
    ax[0].set(xlabel="$V$", ylabel="price $-$ QuantLib", title=left_title)
    ax[0].legend(fontsize=7)
    for label, (v, fmt, kw) in right.items():
        ax[1].plot(_np(S), _np(v), fmt, label=label, **kw)
    for s in (1, -1):
        ax[1].axhline(s * tol, color="C3", lw=0.8, ls=":")
    ax[1].set(xlabel="$S$", ylabel="price $-$ QuantLib", title=right_title)
    ax[1].legend(fontsize=8)
    plt.show()


def cost_per_iteration(ds, t_tdgf, t_dgm, points: int) -> None:
    """Milliseconds per TDGF and DGM iteration against ``d`` (notebook 03)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ds, 1e3 * t_tdgf, "o-", label="TDGF: $u$ and $\\nabla u$")
    ax.plot(ds, 1e3 * t_dgm, "s-", label="DGM: $u_\\tau$, $\\nabla u$ and $D^2u$")
    ax.set(xlabel="number of assets $d$", ylabel="ms per iteration (best of n)",
           title=f"one loss and backward pass, {points} points, same network")  # fmt: skip
    ax.legend()
    plt.show()


def cost_ratio(ds, ratio, fit, kbar: float) -> None:
    """The DGM / TDGF cost ratio against ``d``, the fitted line and the cost model ``1 + 1/(1 + kappa) +
    kappa d`` (notebook 03)."""
    dd = np.linspace(1, 10, 50)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(ds, ratio, "o", label="measured DGM / TDGF")
    ax.plot(dd, fit.intercept + fit.slope * dd, "C0-", lw=1, label=f"fitted line, slope {fit.slope:.2f}")
    ax.plot(
        dd,
        1 + 1 / (1 + kbar) + kbar * dd,
        "k--",
        lw=1,
        label=f"model $R(d)$ with measured $\\kappa={kbar:.2f}$",
    )
    ax.axhline(1, color="0.6", lw=0.8)
    ax.set(
        xlabel="number of assets $d$",
        ylabel="cost ratio",
        title="cost of a DGM iteration over a TDGF iteration",
    )
    ax.legend()
    plt.show()


def quadrature_rates(quad: dict) -> None:
    """Relative quadrature errors of the step energy: grid and Monte Carlo in ``d = 1, 2``, Monte Carlo
    in ``d = 5`` (notebook 03)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for d, c in ((1, "C0"), (2, "C1")):
        ax.loglog(quad[d]["N"], quad[d]["grid"], "o-", color=c, label=f"midpoint grid, $d={d}$")
        ax.loglog(quad[d]["N"], quad[d]["mc"], "s--", color=c, label=f"Monte Carlo (rms), $d={d}$")
    ax.loglog(quad[5]["N"], quad[5]["mc"], "^--", color="C2", label="Monte Carlo (sd), $d=5$")
    ax.set(xlabel="number of points $N$", ylabel="relative error of $I^2$",
           title="quadrature of the step energy: grid vs Monte Carlo")  # fmt: skip
    ax.legend(fontsize=8)
    plt.show()


def error_vs_time(trend: dict, trend_iters: dict, dgm: dict, n_dgm: int, floor: float, n_steps: int) -> None:
    """Basket d = 5: error on the diagonal against seconds, labelled by iterations per step (notebook 03)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for n, mk in zip(trend_iters, ("o-", "s-"), strict=False):
        its = trend_iters[n]
        ax.loglog([trend[n, i]["seconds"] for i in its], [trend[n, i]["diag"] for i in its], mk,
                  label=f"TDGF, $n={n}$ points")  # fmt: skip
        for i in its:
            ax.annotate(f"{i}", (trend[n, i]["seconds"], trend[n, i]["diag"]), fontsize=7, xytext=(3, 3),
                        textcoords="offset points")  # fmt: skip
    ax.loglog([dgm["seconds"]], [dgm["diag"]], "D", color="C3", ms=8, label=f"DGM, $n={n_dgm}$ points")
    ax.axhline(floor, color="k", ls=":", lw=1, label=f"time-stepping error ({n_steps} steps)")
    ax.set(xlabel="wall-clock seconds", ylabel="max error on the diagonal at $\\tau=T$",
           title="basket with d = 5: error against training time")  # fmt: skip
    ax.xaxis.set_minor_formatter(NullFormatter())  # the minor labels of a short log axis overlap
    ax.legend(fontsize=8)
    plt.show()


def kernel_spectrum(lam_inf, lam_small, lam_big, N_big: int, x, vec_inf, Qh, n: int) -> None:
    """Left: eigenvalues of the limit operator and of ``M_0`` for ``N = 100`` and ``N_big``; right: the value
    parts of the four leading ``q``-orthonormal eigenfunctions (notebook 04)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    ax = axes[0]
    k = np.arange(1, 2 * n + 1)
    ax.semilogy(k, np.clip(lam_inf, 1e-18, None), "k.-", label="limit kernel $Z$ (Gauss–Hermite)")
    ax.semilogy(k, _np(lam_small).clip(1e-18), "o", ms=3, mfc="none", label="$N=100$, $t=0$")
    ax.semilogy(k, _np(lam_big).clip(1e-18), "x", ms=4, label=f"$N={N_big}$, $t=0$")
    ax.set(xlabel="index $i$", ylabel="$\\lambda_i$", title="spectrum of M", ylim=(1e-18, 1e2))
    ax.legend(fontsize=8)
    ax = axes[1]
    for i in range(4):
        e_i = vec_inf[:n, i] / Qh[:n]  # value part of the q-orthonormal eigenfunction
        ax.plot(x, np.sign(e_i[-1]) * e_i, label=f"$e_{i + 1}$, $\\lambda={lam_inf[i]:.3g}$")
    ax.set(xlabel="$S$", ylabel="$e_i(S)$", title="leading eigenfunctions of the limit operator")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def component_decay(runs: list[dict]) -> None:
    """``|c_i(t)|`` of the four leading modes against ``|c_i(0)| e^{-lambda_i t}``, one panel per run of
    :func:`gradflows.experiments.kernel_regime.train_kernel_flow` (notebook 04)."""
    fig, axes = plt.subplots(1, len(runs), figsize=(11, 4), sharey=True)
    for ax, run in zip(np.atleast_1d(axes), runs, strict=True):
        t = run["t"].numpy()
        for i in range(4):
            ax.semilogy(t, run["C"][:, i].abs().numpy(), color=f"C{i}", lw=1.6, label=f"$|c_{i + 1}(t)|$")
            ax.semilogy(t, abs(run["C"][0, i].item()) * np.exp(-run["lam"][i].item() * t), "k--", lw=0.8)
        ax.plot([], [], "k--", lw=0.8, label="$|c_i(0)|\\,e^{-\\lambda_i t}$")
        ax.set(xlabel="$t$", title=f"$N={run['N']}$, $\\delta={run['delta']}$", ylim=(1e-4, 3))
    np.atleast_1d(axes)[0].set_ylabel("component along $v_i$")
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    plt.show()


def movements(N, curves: list, lln: list) -> None:
    """Left: movements and errors against the width (``(values, marker, label)``) with ``N^-1/4`` and
    ``N^-1/2``; right: the rms distance of the initial kernel to its limit (notebook 04)."""
    N = np.asarray(N, dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    ax = axes[0]
    for y, m, lab in curves:
        ax.loglog(N, y, m + "-", ms=5, label=lab)
    for p, ls in [(-0.25, ":"), (-0.5, "--")]:
        ax.loglog(N, 0.5 * (N / N[0]) ** p, "k" + ls, lw=0.8, label=f"$\\propto N^{{{p}}}$")
    ax.set(xlabel="width $N$", title="training, $\\delta=3/4$, $T=12$")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.loglog(N, lln, "o-", label="rms $\\|M_0-M_\\infty\\|/\\|M_\\infty\\|$")
    ax.loglog(N, lln[0] * (N / N[0]) ** -0.5, "k--", lw=0.8, label="$\\propto N^{-1/2}$")
    ax.set(xlabel="width $N$", title="kernel at initialization")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def imex_error(model, T: float, n_steps: int, nodes: int) -> None:
    """Explorer of notebook 01: the error ``U^N - u(T)`` of :func:`~gradflows.finite_elements.fem_imex_1d`
    on ``[0.4, 1.4]`` (beyond ~1.5 the zero-flux condition at ``S = 3`` dominates)."""
    from ..finite_elements import fem_imex_1d

    x, U = fem_imex_1d(model, T, n_steps, nodes)
    sel = (x >= 0.4) & (x <= 1.4)
    e = U[-1] - model.reference(torch.as_tensor(x)[:, None], T).numpy()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(x[sel], e[sel])
    ax.axvspan(0.8, 1.2, color="C2", alpha=0.15)
    win = (x >= 0.8) & (x <= 1.2)
    ax.set(
        xlabel="$S$",
        ylabel=r"$U^N(S)-u(1,S)$",
        title=f"N = {n_steps}, {nodes} nodes: max error on [0.8, 1.2] = {np.abs(e[win]).max():.2e}",
    )
    plt.show()


def tdgf_error(
    model,
    T: float,
    n_steps: int,
    iters: int,
    S: torch.Tensor,
    clock,
    fit_iters: int = 200,
    points: int = 1000,
) -> None:
    """Explorer of notebook 02: a Black–Scholes TDGF (book network, midpoint grid of 1000 points, L-BFGS,
    step 1 with four times the iterations, payoff fit 200) against the same steps with finite elements, at
    ``S`` ``(n, 1)``; the title gives both errors and the seconds of ``clock``."""
    from ..device import seed
    from ..finite_elements import fem_imex_1d
    from ..tdgf import make_net, tdgf_solve

    seed(0)
    net = make_net(model, 50, 1, gated=False)
    t0 = clock()
    r = tdgf_solve(
        model, T, n_steps, iters, points, net=net, fit_iters=fit_iters, first_iters=4 * iters, progress=False
    )
    sec = clock() - t0
    x, U = fem_imex_1d(model, T, n_steps, 3001)
    ref = model.reference(S, T)
    e_net, e_fem = r.price(S) - ref, np.interp(S[:, 0].numpy(), x, U[-1]) - ref.numpy()
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.plot(S[:, 0].numpy(), e_net.numpy(), label="TDGF $-$ closed form")
    ax.plot(S[:, 0].numpy(), e_fem, "k--", lw=1, label="FEM, same steps $-$ closed form")
    ax.set(xlabel="$S$", ylabel="error at tau = 1",
           title=f"N = {n_steps}, {iters} iterations/step: TDGF {e_net.abs().max().item():.1e}, "
                 f"FEM {np.abs(e_fem).max():.1e}, {sec:.1f} s")  # fmt: skip
    ax.legend(fontsize=8)
    plt.show()


def kernel_components(run: dict) -> None:
    """Explorer of notebook 04: the first three components of a run of
    :func:`gradflows.experiments.kernel_regime.train_kernel_flow` against their predicted exponentials."""
    t = run["t"].numpy()
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    for i in range(3):
        ax.semilogy(t, run["C"][:, i].abs().numpy(), color=f"C{i}",
                    label=f"$|c_{i + 1}|$, $\\lambda={run['lam'][i].item():.3g}$")  # fmt: skip
        ax.semilogy(
            t, abs(run["C"][0, i].item()) * np.exp(-run["lam"][i].item() * t), "--", color=f"C{i}", lw=0.8
        )
    ratios = ", ".join(f"{v:.2f}" for v in run["rates"] / run["lam"][:3].numpy())
    ax.set(xlabel="$t$", ylabel="component", ylim=(1e-4, 5),
           title=f"N={run['N']}, δ={run['delta']:.2f}: rate/λ = {ratios}; "
                 f"kernel moved {100 * run['kernel_move']:.1f} %")  # fmt: skip
    ax.legend(fontsize=8, loc="lower left")
    plt.show()
