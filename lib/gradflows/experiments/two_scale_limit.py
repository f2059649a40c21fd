"""The limit eps -> 0 of the two-scale deep-relaxation system: sweeps, rates and figures.

* :func:`deviation_sweep` -- ``E|X^eps_T - Xhat_T|^2`` over many paths of
  :func:`gradflows.deep_relaxation.two_scale`, for several ``eps`` at a fixed ratio ``dt / eps``,
  with Monte Carlo standard errors;
* :func:`esgd_deviation_sweep` -- the same for Entropy-SGD without restarts, read as a multirate
  scheme with ``eps = lr / (L inner_lr)``;
* :func:`slope_stderr` -- the standard error of a least-squares log-log slope propagated from
  the standard errors of independent points;
* :func:`plot_sweep`, :func:`plot_paths` -- the figures of the notebook and its explorer.

Notebook ``04-global/03-deep-relaxation``.
"""

from __future__ import annotations

from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import NullLocator

from ..deep_relaxation import two_scale

__all__ = ["deviation_sweep", "esgd_deviation_sweep", "slope_stderr", "plot_sweep", "plot_paths"]


def deviation_sweep(
    grad: Callable,
    x0: float,
    gamma: float,
    eps_list,
    ratio: float,
    T: float,
    n_paths: int,
    x_hat: float,
    generator: torch.Generator,
) -> dict[str, np.ndarray]:
    """For each ``eps``: ``n_paths`` paths from ``X_0 = Y_0 = x0`` with ``dt = ratio eps`` up to ``T``.

    Returns arrays over ``eps``: ``msd`` (``E|X_T - x_hat|^2``), ``se`` (its standard error),
    ``bias`` (``E X_T - x_hat``), ``bias_se`` and ``var`` (the sample variance of ``X_T``).
    """
    out = {k: [] for k in ("msd", "se", "bias", "bias_se", "var")}
    for eps in eps_list:
        dt = ratio * eps
        n_steps = _n_steps(T, dt, f"ratio * eps = {ratio:g} * {eps:g}")
        x = torch.full((n_paths, 1), float(x0))
        xT = two_scale(x, x, gamma, eps, dt, n_steps, grad=grad, generator=generator, progress=False).last[
            :, 0
        ]
        dev = xT - x_hat
        sq = dev * dev
        out["msd"].append(sq.mean().item())
        out["se"].append(sq.std().item() / n_paths**0.5)
        out["bias"].append(dev.mean().item())
        out["bias_se"].append(dev.std().item() / n_paths**0.5)
        out["var"].append(xT.var().item())
    return {k: np.array(v) for k, v in out.items()}


def _n_steps(T: float, dt: float, what: str) -> int:
    """``T / dt`` as an integer; ValueError unless ``n_steps dt`` hits ``T`` (relative error ``< 1e-9``)."""
    n = int(round(T / dt))
    if n < 1 or abs(n * dt - T) > 1e-9 * T:
        raise ValueError(
            f"T = {T:g} must be a whole number of steps {what} = {dt:g}; got T / dt = {T / dt:.6g}"
        )
    return n


def esgd_deviation_sweep(
    grad: Callable,
    x0: float,
    gamma: float,
    eps_list,
    inner_lr: float,
    inner_steps: int,
    T: float,
    n_paths: int,
    x_hat: float,
    generator: torch.Generator,
) -> dict[str, np.ndarray]:
    """Entropy-SGD read as a multirate scheme of (Se): ``EntropySGD(restart=False, alpha=1)`` with
    ``inner_steps = L`` SGLD steps of ``inner_lr = h`` per outer step ``lr = eps L h`` (so that
    ``eps = lr / (L inner_lr)``), ``n_paths`` paths from ``x = y = x0`` up to ``T``, for each ``eps``.

    Returns ``msd`` (``E|x_K - x_hat|^2``), ``se`` and ``bias`` (``E x_K - x_hat``) over ``eps``.
    """
    from ..entropy_sgd import EntropySGD

    out = {k: [] for k in ("msd", "se", "bias")}
    for eps in eps_list:
        lr = eps * inner_steps * inner_lr
        n_outer = _n_steps(T, lr, f"lr = eps L inner_lr = {lr:g}")
        x = torch.nn.Parameter(torch.full((n_paths,), float(x0)))
        opt = EntropySGD(
            [x], lr=lr, inner_lr=inner_lr, gamma=gamma, inner_steps=inner_steps, alpha=1.0,
            noise_scale=1.0, restart=False, generator=generator,
        )  # fmt: skip

        def closure(x=x) -> None:
            x.grad = grad(x.detach())

        for _ in range(n_outer):
            opt.step(closure)
        dev = x.detach() - x_hat
        sq = dev * dev
        out["msd"].append(sq.mean().item())
        out["se"].append(sq.std().item() / n_paths**0.5)
        out["bias"].append(dev.mean().item())
    return {k: np.array(v) for k, v in out.items()}


def slope_stderr(x, y, se) -> float:
    """Standard error of the least-squares slope of ``log y`` on ``log x`` when ``y_i`` are independent
    with standard errors ``se_i`` (delta method: ``sd(log y_i) ~ se_i / y_i``)."""
    u = np.log(np.asarray(x, float))
    c = (u - u.mean()) / ((u - u.mean()) ** 2).sum()
    return float(np.sqrt(((c * np.asarray(se) / np.asarray(y)) ** 2).sum()))


def plot_sweep(eps, msd, se, v_T: float, slope: float) -> None:
    """``E|X^eps_T - Xhat_T|^2`` against ``eps`` (log-log, with 2 standard errors) and the CLT
    prediction ``eps v(T)``."""
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    ax[0].errorbar(eps, msd, yerr=2 * se, fmt="o", label=f"two-scale paths (fitted slope {slope:.3f})")
    ax[0].loglog(eps, v_T * np.asarray(eps), "k--", label=r"$\varepsilon\,v(T)$ (CLT, scipy)")
    ax[0].set(
        xlabel=r"$\varepsilon$", ylabel=r"$E|X^\varepsilon_T-\hat X_T|^2$", title="mean-square deviation"
    )
    ax[0].legend()
    ax[1].errorbar(eps, np.asarray(msd) / eps, yerr=2 * np.asarray(se) / eps, fmt="o")
    ax[1].axhline(v_T, color="k", ls="--", label=r"$v(T)$")
    ax[1].set_xscale("log")
    ax[1].set(
        xlabel=r"$\varepsilon$", ylabel=r"$E|X^\varepsilon_T-\hat X_T|^2/\varepsilon$", title="rescaled"
    )
    ax[1].legend()
    for a in ax:
        a.xaxis.set_minor_locator(NullLocator())
        a.set_xticks(list(eps), [f"{e:g}" for e in eps])
    fig.tight_layout()


def plot_paths(
    grad: Callable,
    f_np: Callable,
    x0: float,
    gamma: float,
    eps: float,
    T: float,
    t_hat,
    x_hat,
    n_paths: int,
    generator: torch.Generator,
    ratio: float = 0.02,
) -> None:
    """A few slow paths ``X^eps`` against ``Xhat`` (left) and the fast cloud ``Y`` of 2000 paths at ``T``
    against the local Gibbs density ``rho(.; X_T)`` (right)."""
    dt = ratio * eps
    n_steps = max(1, int(round(T / dt)))  # the explorer: any eps on the slider, T up to one step
    x = torch.full((2000, 1), float(x0))
    tr = two_scale(
        x,
        x,
        gamma,
        eps,
        dt,
        n_steps,
        grad=grad,
        generator=generator,
        progress=False,
        record_every=max(1, n_steps // 200),
    )
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    t = tr.times.numpy()
    ax[0].plot(t, tr.X[:, :n_paths, 0].numpy(), lw=0.8, alpha=0.8)
    ax[0].plot(t_hat, x_hat, "k--", lw=2, label=r"$\hat X$ (averaged system)")
    ax[0].scatter(t[::4], tr.Y[::4, 0, 0].numpy(), s=4, c="gray", label="fast $Y$ of path 1")
    ax[0].set(xlabel="t", ylabel="x", title=rf"slow paths, $\varepsilon={eps:g}$")
    ax[0].legend(loc="best")
    yT = tr.final[1][:, 0].numpy()
    ax[1].hist(yT, bins=60, density=True, alpha=0.5, label=r"$Y_T$, 2000 paths")
    yy = np.linspace(yT.min() - 0.5, yT.max() + 0.5, 400)
    xT = float(tr.last[:, 0].mean())
    w = np.exp(-(f_np(yy) + 0.5 * gamma * (yy - xT) ** 2))
    ax[1].plot(yy, w / np.trapezoid(w, yy), "k", label=r"$\rho(\cdot;\,\bar X_T)$")
    ax[1].set(xlabel="y", ylabel="density", title="fast variable at T")
    ax[1].legend()
    fig.tight_layout()
