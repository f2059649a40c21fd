"""Noise as exploration: exit-time sweeps, straight-line fits with propagated errors, and the figures.

Notebook ``04-global/01-noise-as-exploration`` (claim GLOB-1) runs batches of Langevin paths out of the
shallow well of a tilted double well and away from the saddle of ``(x^2 - 1)^2 / 4 + y^2 / 2`` with
:func:`gradflows.exit_times.exit_times`, and compares the mean exit times with the exact quadrature and
the Euler--Maruyama chain of :mod:`gradflows.references.first_passage`. This module holds the
landscape's critical points (:func:`tilted_well`), the two-dimensional saddle landscape
(:func:`saddle_landscape`), the sweep over noise levels (:func:`exit_sweep`), the unweighted
least-squares line whose slope error is propagated from the Monte Carlo standard errors (:func:`line_fit`),
and the figures.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..exit_times import ExitTimes, exit_times
from ..particles import langevin

__all__ = [
    "tilted_well",
    "saddle_landscape",
    "exit_sweep",
    "line_fit",
    "plot_trap",
    "plot_kramers",
    "plot_saddle",
    "plot_explorer",
]


def tilted_well(tilt: float) -> dict:
    """Critical points and curvatures of ``f(x) = (x^2 - 1)^2 / 4 + tilt x`` (``0 < tilt < 2 / 3^{3/2}``).

    Returns ``b < s < m`` (deep minimum, saddle, shallow minimum: the roots of ``x^3 - x + tilt``), the
    barrier ``f(s) - f(m)``, the curvatures ``f''(m)``, ``f''(s)``, and ``f``/``grad`` for NumPy.
    """
    tilt = float(tilt)
    if not 0 < tilt < 2 / 3**1.5:
        raise ValueError(f"tilt must lie in (0, {2 / 3**1.5:.4f}) for two minima, got {tilt!r}")
    b, s, m = np.sort(np.roots([1.0, 0.0, -1.0, tilt]).real)

    def f(x):
        return (x * x - 1) ** 2 / 4 + tilt * x

    return {
        "b": float(b), "s": float(s), "m": float(m), "barrier": float(f(s) - f(m)),
        "f2_min": float(3 * m * m - 1), "f2_saddle": float(3 * s * s - 1),
        "f": f, "grad": lambda x: x * (x * x - 1) + tilt,
    }  # fmt: skip


def saddle_landscape() -> dict:
    """``f(x, y) = (x^2 - 1)^2 / 4 + y^2 / 2``: ``f`` and ``grad`` on tensors ``(n, 2)``, and its ``x``-part
    ``f_x(x) = (x^2 - 1)^2 / 4`` with ``f_x'`` as ``grad_x`` (for NumPy or tensors). Saddle at the origin
    (Hessian ``diag(-1, 1)``), minima at ``(+-1, 0)``."""

    def f_x(x):
        return (x * x - 1) ** 2 / 4

    def grad_x(x):
        return x * (x * x - 1)

    return {
        "f_x": f_x, "grad_x": grad_x,
        "f": lambda X: f_x(X[:, 0]) + X[:, 1] ** 2 / 2,
        "grad": lambda X: torch.stack([grad_x(X[:, 0]), X[:, 1]], 1),
    }  # fmt: skip


def exit_sweep(
    x0: torch.Tensor,
    sigmas,
    n: int,
    dt: float,
    n_steps: int,
    grad: Callable[[torch.Tensor], torch.Tensor],
    exited: Callable[[torch.Tensor], torch.Tensor],
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray, ExitTimes]:
    """``n`` paths from the point ``x0`` ``(d,)`` for each noise level, in one batch of
    :func:`~gradflows.exit_times.exit_times`. Returns the mean exit times and their standard errors per
    level, and the :class:`~gradflows.exit_times.ExitTimes` of all paths (``exited``: which left). A level
    with a censored path (no exit by the horizon) gets mean ``inf`` and standard error ``nan``, so that
    the count of censored paths, not an exception, is what a check sees."""
    sig = torch.as_tensor(np.repeat(np.asarray(sigmas, dtype=float), n), dtype=x0.dtype)
    res = exit_times(
        x0.expand(sig.numel(), -1), sig, dt, n_steps, grad=grad, exited=exited, generator=generator
    )
    t = res.times.reshape(len(sigmas), n).double()
    return t.mean(1).numpy(), (t.std(1) / np.sqrt(n)).numpy(), res


def line_fit(u, y, se) -> tuple[float, float, float, float]:
    """Least-squares line ``y ~ a + c u`` (unweighted) and the standard errors of ``c`` and ``a`` propagated
    from independent point errors ``se``: ``sd(c)^2 = sum_i w_i^2 se_i^2`` with ``w_i`` the least-squares
    weights. Returns ``(c, a, sd(c), sd(a))``."""
    u, y, se = (np.asarray(v, dtype=float) for v in (u, y, se))
    if not (u.shape == y.shape == se.shape and u.ndim == 1 and u.size >= 2):
        raise ValueError("u, y and se must be 1-D arrays of the same length >= 2")
    du = u - u.mean()
    w_c = du / (du * du).sum()
    w_a = 1 / u.size - u.mean() * w_c
    return (
        float(w_c @ y),
        float(w_a @ y),
        float(np.sqrt((w_c**2 * se**2).sum())),
        float(np.sqrt((w_a**2 * se**2).sum())),
    )


def plot_trap(f, t, gd, noisy, geo, t2, gd2, noisy2, sigma: float, sigma2: float) -> None:
    """Left: the tilted well with its critical points; middle: gradient descent and noisy paths (noise
    ``sigma``) in it; right: the same (noise ``sigma2``) from the stable manifold of the saddle of
    ``(x^2 - 1)^2/4 + y^2/2`` (``gd2``, ``noisy2``: ``(steps, paths, 2)``)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.6))
    xs = np.linspace(-1.7, 1.7, 400)
    axes[0].plot(xs, f(xs), "k")
    labels = {"b": "$b$ deep minimum", "s": "$s$ saddle", "m": "$m$ shallow minimum"}
    for name, c in (("b", "C2"), ("s", "C3"), ("m", "C0")):
        axes[0].plot(geo[name], f(geo[name]), "o", color=c, label=labels[name])
    axes[0].set(xlabel="$x$", ylabel="$f$", title="tilted double well")
    axes[0].legend(fontsize=8, loc="upper center")
    axes[1].plot(t, noisy, lw=0.6, alpha=0.7)
    axes[1].plot(t, gd, "k", lw=2, label="gradient descent ($\\sigma=0$)")
    axes[1].axhline(geo["s"], color="C3", ls=":", label="saddle $s$")
    axes[1].set(xlabel="$t$", ylabel="$X_t$", ylim=(-1.8, 2.6), title=f"from $m+0.3$: $\\sigma={sigma:g}$")
    axes[1].legend(fontsize=8, loc="upper center", ncol=2)
    gx, gy = np.meshgrid(np.linspace(-1.5, 1.5, 200), np.linspace(-1, 1.7, 200))
    axes[2].contour(gx, gy, (gx**2 - 1) ** 2 / 4 + gy**2 / 2, 20, colors="0.75", linewidths=0.6)
    for j in range(noisy2.shape[1]):
        axes[2].plot(noisy2[:, j, 0], noisy2[:, j, 1], lw=0.7)
    axes[2].plot(gd2[:, 0, 0], gd2[:, 0, 1], "k", lw=2, label="gradient descent")
    axes[2].plot(0, 0, "o", color="C3")
    axes[2].set(
        xlabel="$x$", ylabel="$y$", title=f"from the stable manifold of the saddle: $\\sigma={sigma2:g}$"
    )
    axes[2].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    plt.show()


def plot_kramers(sig, mc, se, quad, em, kramers, sig_fine, ratio_fine) -> None:
    """Left: mean exit time against ``1/sigma^2`` (Monte Carlo with 2-se bars, quadrature, the scheme's chain,
    Kramers); right: quadrature / Kramers against ``sigma^2``."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    u = 1 / np.asarray(sig) ** 2
    ax = axes[0]
    ax.errorbar(u, mc, yerr=2 * se, fmt="o", ms=4, label="Monte Carlo (±2 se)")
    ax.semilogy(u, quad, "k-", lw=1, label="exact (quadrature)")
    ax.semilogy(u, em, "C1--", lw=1, label="Euler–Maruyama chain (grid)")
    ax.semilogy(u, kramers, "C3:", label="Eyring–Kramers")
    ax.set(xlabel="$1/\\sigma^2$", ylabel="mean exit time", title="escape from the shallow well")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.plot(np.asarray(sig_fine) ** 2, ratio_fine, "k.-")
    ax.axhline(1, color="C3", ls=":")
    ax.set(
        xlabel="$\\sigma^2$", ylabel="exact / Kramers", xlim=(0, None), title="the $O(\\sigma^2)$ correction"
    )
    fig.tight_layout()
    plt.show()


def plot_saddle(sig, mc, se, quad, em, asym) -> None:
    """Mean exit time from the saddle against ``log(1/sigma)``: Monte Carlo, quadrature (the diffusion), the
    Euler--Maruyama chain (what the simulation estimates), the asymptote."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    v = np.log(1 / np.asarray(sig))
    ax.errorbar(v, mc, yerr=2 * np.asarray(se), fmt="o", ms=4, label="Monte Carlo (±2 se)")
    ax.plot(v, quad, "k-", lw=1, label="exact (quadrature)")
    ax.plot(v, em, "C1--", lw=1, label="Euler–Maruyama chain (grid)")
    ax.plot(v, asym, "C3:", label="$\\log(1/\\sigma)/\\lambda + c$")
    ax.set(xlabel="$\\log(1/\\sigma)$", ylabel="mean exit time", title="escape from the saddle")
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def plot_explorer(
    sigma: float, tilt: float, n: int, T: float, dt: float, generator, tau_quad: float, tau_kramers: float
) -> None:
    """One run of the explorer: ``n`` Langevin paths from the shallow minimum up to ``T``, their histogram
    against the Gibbs density ``exp(-2f/sigma^2)/Z`` (normalised on a grid)."""
    import matplotlib.pyplot as plt

    geo = tilted_well(tilt)
    x0 = torch.full((n, 1), geo["m"], dtype=torch.float64)
    X = langevin(
        x0, sigma, dt, int(round(T / dt)), grad=geo["grad"], generator=generator, progress=False
    ).last
    xs = np.linspace(-2.2, 2.2, 800)
    rho = np.exp(-2 * (geo["f"](xs) - geo["f"](xs).min()) / sigma**2)
    rho /= np.trapezoid(rho, xs)
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.hist(
        X[:, 0].numpy(), bins=np.linspace(-2.2, 2.2, 89), density=True, alpha=0.5, label=f"paths at $T={T:g}$"
    )
    ax.plot(xs, rho, "k", lw=1, label="Gibbs $e^{-2f/\\sigma^2}/Z$")
    ax.axvline(geo["s"], color="C3", ls=":", lw=1)
    left = float((X[:, 0] < geo["s"]).double().mean())
    title = f"σ = {sigma:.2f}: {left:.0%} past the saddle; E tau {tau_quad:.3g}, Kramers {tau_kramers:.3g}"
    ax.set(xlabel="$x$", ylabel="density", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
