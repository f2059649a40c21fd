"""Optimality of ``L^1``-regularized controls with a bound ``|u(t)| <= M`` (bang-off controls).

For (SL*) with the penalty ``lam int |u(t)| dt`` and ``|u(t)| <= M``, the discrete Pontryagin
principle says, cell by cell, that ``-g_k`` (``g_k`` the gradient of the running cost with respect
to ``u_k``) lies in the subdifferential of ``lam h |u_k| +`` the indicator of the ball. The
switching function ``|s_k| = |g_k| / h`` is ``>= lam`` on bang cells (``|u_k| = M``), ``<= lam`` on
off cells (``u_k = 0``) and ``= lam`` in between. Used in notebooks/02-turnpike/03 (claim TURN-6).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import as_tensor, check_int, check_nonnegative, check_positive
from ..control import Controls, l1_norm
from ..training import Fit, fit_controls, objective

__all__ = ["smooth_gradient", "kkt_violation", "residual_gradient", "fit_l1_stages", "plot_bang_off"]


def _data(x0, y) -> tuple[torch.Tensor, torch.Tensor]:
    x0, y = as_tensor("x0", x0), as_tensor("y", y)
    if x0.ndim != 2 or y.shape != (x0.shape[0],):
        raise ValueError(
            f"x0 must have shape (N, d) and y shape (N,), got {tuple(x0.shape)}, {tuple(y.shape)}"
        )
    return x0, y


def smooth_gradient(c: Controls, x0: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``g_k = d(running cost) / du_k`` by autograd, one row ``(vec w_k, b_k)`` per cell; ``|g_k| / h`` is
    the discrete switching function ``|B^T p|`` (notebooks/02-turnpike/03)."""
    x0, y = _data(x0, y)
    if c.b is None:
        raise ValueError("the controls must have a bias")
    w_ = c.w.clone().requires_grad_(True)
    b_ = c.b.clone().requires_grad_(True)
    smooth, _ = objective(Controls(w_, b_, c.T), x0, y, lam=0.0, running=True)
    smooth.backward()
    return torch.cat([w_.grad.reshape(c.n_layers, -1), b_.grad], 1)


def kkt_violation(c: Controls, x0: torch.Tensor, y: torch.Tensor, lam: float, M: float) -> torch.Tensor:
    """``dist(-g_k, subdifferential of lam h |u_k| + indicator(|u_k| <= M)) / (lam h)``, cell by cell:
    0 at a minimizer of the discrete ``L^1`` problem (claim TURN-6, notebooks/02-turnpike/03)."""
    lam, M = check_positive("lam", lam), check_positive("M", M)
    g, u = smooth_gradient(c, x0, y), c.stacked()
    r = u.norm(dim=1, keepdim=True)
    e = u / r.clamp_min(1e-300)
    q = (
        -g - lam * c.h * e
    )  # on a bang cell q must point outwards (a normal of the ball), on a switching cell q = 0
    radial = (q * e).sum(1, keepdim=True)
    bang = (q - radial * e).norm(dim=1) + (-radial[:, 0]).clamp_min(0)
    off = (g.norm(dim=1) - lam * c.h).clamp_min(0)
    v = torch.where(r[:, 0] == 0, off, torch.where(r[:, 0] >= M * (1 - 1e-9), bang, q.norm(dim=1)))
    return v / (lam * c.h)


def residual_gradient(fit: Fit, y: torch.Tensor) -> float:
    """``|B(x)^T grad phi(x)|`` at the final state, in NumPy from the residuals ``r_i = P x_i - y_i``:
    only ``w_1.`` and ``b_1`` see the first coordinate, with gradients ``(2/N) sum_i r_i tanh(x_i)``
    and ``(2/N) sum_i r_i`` (claim TURN-6, notebooks/02-turnpike/03)."""
    x = fit.states[-1].numpy()
    r = x[:, 0] - as_tensor("y", y).numpy()
    if r.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},)")
    return float(
        np.linalg.norm(2 / len(r) * (np.hstack([np.tanh(x), np.ones((len(r), 1))]) * r[:, None]).sum(0))
    )


def fit_l1_stages(
    x0: torch.Tensor,
    y: torch.Tensor,
    T: float,
    n_cells: int,
    *,
    lam: float,
    M: float,
    n_stage: int,
    max_stages: int,
    tol: float = 5e-3,
    generator: torch.Generator | None = None,
    verbose: bool = True,
) -> tuple[Fit, int]:
    """Train the bounded ``L^1`` problem (SL*) by stages of ``n_stage`` proximal-gradient iterations,
    each started from the last, until the largest :func:`kkt_violation` is below ``tol``.

    Prints the objective, ``|u_k| / M`` on the switching cells, the violation and ``T* = |u|_L1 / M``
    after each stage (``verbose``). Returns the fit and the number of stages. Used in
    notebooks/02-turnpike/03 (claim TURN-6).
    """
    x0, y = _data(x0, y)
    n_stage, max_stages = check_int("n_stage", n_stage), check_int("max_stages", max_stages)
    tol, M = check_nonnegative("tol", tol), check_positive("M", M)
    fit = None
    for stage in range(max_stages):
        fit = fit_controls(
            x0,
            y,
            T,
            n_cells,
            lam=lam,
            reg="L1",
            bound=M,
            running=True,
            iters=n_stage,
            init=None if fit is None else fit.controls,
            generator=generator,
            progress=False,
        )
        un = fit.controls.pointwise_norm()
        layer = (un / M)[(un > 0) & (un < M * (1 - 1e-9))]
        viol = float(kkt_violation(fit.controls, x0, y, lam, M).max())
        if verbose:
            T_star = float(l1_norm(fit.controls)) / M
            print(
                f"after {(stage + 1) * n_stage:5d} iterations: objective {fit.objective:.10f};  "
                f"|u_k|/M on the switching cells {np.round(layer.numpy(), 4)};  "
                f"largest KKT violation / (lam h) {viol:.1e};  T* = {T_star:.4f}"
            )
        if viol <= tol:
            break
    return fit, stage + 1


def plot_bang_off(
    axs, c: Controls, y: torch.Tensor, states: torch.Tensor, switch: torch.Tensor, lam: float, M: float
):
    """Three panels of a trained ``L^1`` control: ``|u(t)| / M`` (bang-off), the error ``phi(x(t))`` along the
    layers and the switching function ``|s_k| / lam`` against 1, with ``T* = ||u||_L1 / M`` marked
    (claim TURN-6, notebooks/02-turnpike/03)."""
    from ..control import training_error

    T_star = float(l1_norm(c)) / M
    axs[0].stairs(c.pointwise_norm() / M, c.edges, color="C0", lw=2)
    axs[0].set(xlabel="t", ylabel=r"$\|u(t)\| / M$", title="bang-off control")
    axs[1].semilogy(c.edges, training_error(states, y), "o-", ms=3, color="C1")
    axs[1].set(xlabel="t", ylabel=r"$\phi(x(t))$", title="training error")
    axs[2].plot(c.edges[:-1] + c.h / 2, switch / lam, "s-", ms=3, color="C2", label=r"$|s_k| / \lambda$")
    axs[2].axhline(1.0, color="k", lw=0.8)
    axs[2].set(xlabel="t", ylabel=r"$|s(t)| / \lambda$", title="switching function", ylim=(0, 3))
    for ax in axs:
        ax.axvline(T_star, color="gray", ls=":", label=r"$T^* = \|u\|_{L^1}/M$" if ax is axs[0] else None)
    axs[0].legend()
    axs[2].legend()
