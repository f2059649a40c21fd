"""Contraction of gradient descent on strongly convex losses: bounds, measured factors, figures.

Lemma (5.6)-(5.7) of notebook ``01-sgd/01-gradient-flow``: with the Hessian of ``J`` between
``alpha`` and ``beta``, one GD step contracts the distance to the minimizer by at most
``rho(dt) = sqrt(1 - 2 alpha dt + beta^2 dt^2)`` (the lemma's factor) and, on a quadratic, by
exactly ``rho_*(dt) = max(|1 - alpha dt|, |1 - beta dt|)`` (the sharp factor). This module holds
the two bounds, the measured worst factor of GD from many starts, the fitted late factor of a run,
and the two figures of the notebook.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import landscapes, ode_optimizers, plotting, rates
from .._validation import as_tensor, check_finite, check_int, check_nonnegative, check_positive

__all__ = [
    "rho_lemma",
    "rho_sharp",
    "worst_step_factor",
    "fitted_factors",
    "plot_contraction_factors",
    "gd_explorer",
    "plot_gd_vs_flow",
    "plot_flow_errors",
    "decay_rates",
]


def _steps(dt):
    arr = np.asarray(dt, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError(f"dt must be positive and finite, got {dt!r}")
    return arr


def rho_lemma(alpha: float, beta: float, dt):
    """The lemma's contraction factor ``sqrt(1 - 2 alpha dt + beta^2 dt^2)`` of one GD step (5.7).

    ``dt`` is a number (returns a float) or an array (returns an array). Used in notebook
    ``01-sgd/01-gradient-flow``.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    arr = _steps(dt)
    if arr.ndim == 0:
        return math.sqrt(1 - 2 * alpha * float(arr) + beta**2 * float(arr) ** 2)
    return np.sqrt(1 - 2 * alpha * arr + beta**2 * arr**2)


def rho_sharp(alpha: float, beta: float, dt):
    """The sharp factor ``rho_*(dt) = max(|1 - alpha dt|, |1 - beta dt|)`` of GD on a quadratic.

    ``dt`` is a number (returns a float) or an array (returns an array). Used in notebook
    ``01-sgd/01-gradient-flow``.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    arr = _steps(dt)
    if arr.ndim == 0:
        return max(abs(1 - alpha * float(arr)), abs(1 - beta * float(arr)))
    return np.maximum(np.abs(1 - alpha * arr), np.abs(1 - beta * arr))


def worst_step_factor(
    flow: ode_optimizers.Flow, W0, W_star, dt: float, n_steps: int, floor: float = 1e-9
) -> tuple[float, torch.Tensor]:
    """Largest measured GD step factor ``|e^{n+1}| / |e^n|`` over starts and steps, and the errors.

    Runs ``n_steps`` GD (explicit Euler) steps of the gradient ``flow`` from the rows of ``W0``
    and returns ``(max ratio, e)``, with ``e = |W^n - W_*|`` of shape ``(n_steps + 1, ...)``; steps
    where ``|e^n| <= floor |e^0|`` (round-off territory) are left out of the maximum. The observed
    counterpart of the factors (5.7). Used in notebook ``01-sgd/01-gradient-flow``.
    """
    W0 = check_finite("W0", as_tensor("W0", W0))
    W_star = check_finite("W_star", as_tensor("W_star", W_star, W0.dtype))
    if W_star.shape[-1] != W0.shape[-1]:
        raise ValueError(f"W_star must have last dimension {W0.shape[-1]}, got shape {tuple(W_star.shape)}")
    check_nonnegative("floor", floor)
    W = ode_optimizers.integrate(
        flow, W0, check_positive("dt", dt), check_int("n_steps", n_steps), method="euler"
    ).W
    e = torch.linalg.vector_norm(W - W_star, dim=-1)
    ratio = e[1:] / e[:-1]
    valid = e[:-1] > floor * e[0]
    return ratio[valid].max().item(), e


def fitted_factors(e: torch.Tensor, start: int = 0) -> list[float]:
    """Per-step factor ``exp(slope)`` of a log-linear fit of the errors ``e[start:]`` against ``n``.

    ``e`` has shape ``(n_steps + 1,)`` (one run: a list of one factor) or
    ``(n_steps + 1, starts)`` (one factor per column). Used in notebook ``01-sgd/01-gradient-flow``
    (the growth beyond ``dt = 2/beta`` and the late factor of the non-quadratic loss).
    """
    e = check_finite("e", as_tensor("e", e))
    if e.ndim not in (1, 2):
        raise ValueError(f"e must have shape (n_steps + 1,) or (n_steps + 1, starts), got {tuple(e.shape)}")
    start = check_int("start", start, minimum=0)
    if e.shape[0] - start < 2:
        raise ValueError(f"need at least two errors after start = {start}, got {e.shape[0]}")
    steps = torch.arange(start, e.shape[0], dtype=e.dtype)
    if e.ndim == 1:
        return [math.exp(rates.semilog_slope(steps, e[start:]))]
    return [math.exp(rates.semilog_slope(steps, e[start:, k])) for k in range(e.shape[1])]


def plot_contraction_factors(alpha: float, beta: float, dts, observed) -> plt.Axes:
    """The figure of the lemma's factor, the sharp factor and the observed worst factors against ``dt``.

    Used in notebook ``01-sgd/01-gradient-flow``.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    if np.shape(dts) != np.shape(observed):
        raise ValueError(
            f"dts and observed must have the same shape, got {np.shape(dts)} and {np.shape(observed)}"
        )
    grid = np.linspace(1e-3, 0.47, 400)
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(
        grid, rho_lemma(alpha, beta, grid), "C3", label=r"lemma: $\sqrt{1-2\alpha\Delta t+\beta^2\Delta t^2}$"
    )
    ax.plot(grid, rho_sharp(alpha, beta, grid), "C0", label=r"sharp: $\max_\lambda|1-\Delta t\lambda|$")
    ax.plot(dts, observed, "ko", ms=4, label="observed worst step factor (GD)")
    ax.axhline(1, color="k", lw=0.8)
    ax.axvspan(
        0, 2 * alpha / beta**2, color="C3", alpha=0.15, label=r"lemma applies: $\Delta t<2\alpha/\beta^2$"
    )
    for x, name, ha in [
        (2 / (alpha + beta), r"$2/(\alpha+\beta)$ ", "right"),
        (2 / beta, r" $2/\beta$", "left"),
    ]:
        ax.axvline(x, color="0.4", ls=":")
        ax.text(x, 1.38, name, ha=ha, va="bottom")
    ax.set_ylim(0.5, 1.45)
    ax.set_xlabel(r"step $\Delta t$")
    ax.set_ylabel("per-step contraction factor")
    ax.set_title(rf"GD on a quadratic, $\alpha={alpha}$, $\beta={beta}$")
    ax.legend(loc="lower left", fontsize=8)
    return ax


def gd_explorer(dt: float, kappa: float, W0, n_steps: int = 40, beta: float = 10.0) -> None:
    """Explorer figure: GD on the planar quadratic with condition number ``kappa`` and its error.

    Left: ``n_steps`` GD steps from ``W0`` on the contours; right: ``|W^n - W_*|`` against the sharp
    factor ``rho_*^n`` and, where it applies (``dt < 2 alpha/beta^2``), the lemma's ``rho^n``.
    Used in notebook ``01-sgd/01-gradient-flow``.
    """
    dt, kappa = check_positive("dt", dt), check_positive("kappa", kappa)
    alpha = beta / kappa
    Je = landscapes.quadratic(landscapes.rotated_quadratic(alpha, beta))
    W = ode_optimizers.integrate(ode_optimizers.gradient_flow(Je), W0, dt, n_steps, method="euler").W
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
    plotting.plot_landscape(Je, (-3, 3), (-3, 3), ax=ax0, n=81, levels=20)
    plotting.plot_paths(ax0, {rf"GD, $\Delta t={dt:.3f}$": W}, markers=True)
    e = torch.linalg.vector_norm(W, dim=-1)
    ns = np.arange(n_steps + 1)
    rho_s = rho_sharp(alpha, beta, dt)
    ax1.semilogy(ns, e, "ko", ms=3, label="GD error")
    ax1.semilogy(ns, e[0].item() * rho_s**ns, "C0", label=rf"sharp $\rho_*^n$, $\rho_*={rho_s:.3f}$")
    if dt < 2 * alpha / beta**2:
        rho_l = rho_lemma(alpha, beta, dt)
        ax1.semilogy(ns, e[0].item() * rho_l**ns, "C3--", label=rf"lemma $\rho^n$, $\rho={rho_l:.4f}$")
    ax1.set_xlabel("$n$")
    ax1.set_ylabel(r"$|W^n-W_*|$")
    ax1.legend(loc="best")
    ax1.set_title(rf"$\kappa={kappa:g}$: $2\alpha/\beta^2={2 * alpha / beta**2:.4f}$, $2/\beta={2 / beta:g}$")
    plt.tight_layout()
    plt.show()


def plot_gd_vs_flow(J, flow_path, gd_paths: dict, T: float, beta: float) -> None:
    """Figure: GD paths for several steps against the gradient flow on a planar quadratic, and ``J``.

    ``flow_path`` and the values of ``gd_paths`` (keyed by ``dt``) are :class:`~gradflows.Trajectory`
    objects; three panels show the paths on the contours of ``J``, the fourth the loss along every
    run (log scale). Used in notebook ``01-sgd/01-gradient-flow``.
    """
    T, beta = check_positive("T", T), check_positive("beta", beta)
    if len(gd_paths) != 3:
        raise ValueError(f"gd_paths must hold three GD runs (one per panel), got {len(gd_paths)}")
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for ax, (color, (dt, tr)) in zip(axes.flat, enumerate(gd_paths.items(), start=1), strict=False):
        plotting.plot_landscape(J, (-3, 3), (-2, 2), ax=ax, levels=25)
        ax.plot(*flow_path.W.T, color="C0", lw=2.5, label="gradient flow")
        ax.set_prop_cycle(color=[plt.rcParams["axes.prop_cycle"].by_key()["color"][color]])
        label = f"GD, $\\Delta t={dt}$, $1-\\beta\\Delta t={1 - beta * dt:.1f}$"
        plotting.plot_paths(ax, {label: tr.W}, markers=True)
        ax.set_title(f"{round(T / dt)} GD steps up to $t={T:g}$")
    ax1 = axes[1, 1]
    curves = {"gradient flow": (flow_path.times, J(flow_path.W))}
    curves |= {f"GD, $\\Delta t={dt}$": (tr.times, J(tr.W)) for dt, tr in gd_paths.items()}
    plotting.plot_curves(curves, ax=ax1, xlabel="$t = n\\Delta t$", ylabel="$J$", logy=True)
    ax1.set_title("the loss decreases in every run")
    fig.suptitle(
        r"$J(W)=\frac{1}{2}\langle AW,W\rangle$, eigenvalues $\alpha=1$, $\beta=10$; "
        r"paths from $\blacktriangle$ to $\bigstar$"
    )
    plt.tight_layout()


def plot_flow_errors(t, rel: torch.Tensor, alpha: float, title: str) -> None:
    """Figure: relative errors ``|W(t) - W_*| / |W(0) - W_*|`` of the gradient flow against ``e^{-alpha t}``.

    ``rel`` has shape ``(times, starts)``: random starts (grey) then the starts along the ``alpha``-
    and the ``beta``-eigenvector (last two columns). Used in notebook ``01-sgd/01-gradient-flow``.
    """
    alpha = check_positive("alpha", alpha)
    if rel.ndim != 2 or rel.shape[0] != len(t) or rel.shape[1] < 3:
        raise ValueError(f"rel must have shape (len(t), starts >= 3), got {tuple(rel.shape)}")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.semilogy(t, rel[:, :-2], color="0.6", lw=0.7)
    ax.semilogy(t, rel[:, -2], color="C0", lw=2.5, label=r"start along the $\alpha$-eigenvector")
    ax.semilogy(t, rel[:, -1], color="C1", lw=2, label=r"start along the $\beta$-eigenvector")
    ax.semilogy(t, torch.exp(-alpha * torch.as_tensor(t)), "k--", label=r"bound $e^{-\alpha t}$ (Lemma)")
    ax.set_ylim(1e-13, 2)
    ax.set_xlabel("$t$")
    ax.set_ylabel(r"$|W(t)-W_*|\,/\,|W(0)-W_*|$")
    ax.set_title(title)
    ax.legend(loc="lower left")


def decay_rates(J, gd_paths: dict, alpha: float, beta: float) -> dict:
    """Print and return the decay rate of ``J`` along GD runs: predicted from ``rho_*`` and fitted.

    ``J`` is quadratic in the error, so along GD it decays like ``rho_*^(2n) = exp(2 t log(rho_*) / dt)``;
    the fit is a semilog slope over the second half of each run. ``gd_paths`` maps ``dt`` to a
    :class:`~gradflows.Trajectory`; returns ``{dt: fitted rate}``.
    Used in notebook ``01-sgd/01-gradient-flow``.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    print(" dt    |1-alpha dt|  |1-beta dt|  predicted decay rate of J  fitted (2nd half of the run)")
    fits = {}
    for dt, tr in gd_paths.items():
        half = len(tr.times) // 2
        fits[dt] = fit = -rates.semilog_slope(tr.times[half:], J(tr.W[half:]))
        flat, steep = abs(1 - alpha * dt), abs(1 - beta * dt)
        print(
            f"{dt:<5} {flat:>11.2f} {steep:>12.2f} {-2 * math.log(max(flat, steep)) / dt:>26.3f} {fit:>14.3f}"
        )
    return fits
