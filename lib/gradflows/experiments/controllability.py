"""How large must the weights be that steer or separate data? Lower bounds for interpolating
weights and constant controls of ``x' = w sigma(x)`` (the block-diagonal system ``diag(w)``).

Used in notebooks/02-turnpike/03 (claims TURN-7 and TURN-9); :func:`gradflows.control.steer`
and :func:`gradflows.control.interpolation_weight_bound` are the kernels.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from .._validation import as_tensor, check_finite, check_positive
from ..control import Controls, flow, steer

__all__ = [
    "data_bound",
    "endpoint_jacobian",
    "min_norm_constant_control",
    "plot_weight_scaling",
    "tolerance_sweep",
]


def data_bound(x0: torch.Tensor, y: torch.Tensor, lip: float, residuals: torch.Tensor | None = None) -> float:
    """``max log_+(gap_ij / |x_i - x_j|) / Lip(sigma)`` over pairs of opposite labels (claim TURN-7).

    Without ``residuals`` the gap is ``2``, the distance of the level sets ``{Px = -1}`` and
    ``{Px = +1}`` (the data-only bound for an exact interpolant); with the residuals ``|r_i|`` of a
    trained network it is ``2 - |r_i| - |r_j|``, a bound that holds for that network interpolating
    or not. Every control with these endpoints has ``int ||w(t)|| dt >=`` the value.
    Used in notebooks/02-turnpike/03.
    """
    x0, y = as_tensor("x0", x0), as_tensor("y", y)
    if x0.ndim != 2 or y.shape != (x0.shape[0],):
        raise ValueError(
            f"x0 must have shape (N, d) and y shape (N,), got {tuple(x0.shape)}, {tuple(y.shape)}"
        )
    lip = check_positive("lip", lip)
    diff = y[:, None] != y[None, :]
    if not bool(diff.any()):
        raise ValueError("y must contain two different labels")
    if residuals is None:
        gap = torch.full_like(diff, 2.0, dtype=x0.dtype)
    else:
        r_abs = check_finite("residuals", as_tensor("residuals", residuals)).abs()
        gap = (2.0 - r_abs[:, None] - r_abs[None, :]).clamp_min(1e-300)
    return float(torch.log(gap[diff] / torch.cdist(x0, x0)[diff]).clamp_min(0.0).max()) / lip


def endpoint_jacobian(x0: torch.Tensor, T: float = 1.0, substeps: int = 8) -> torch.Tensor:
    """Jacobian at ``w = 0`` of the endpoint map ``w -> x(T; w)`` of ``x' = w tanh(x)`` with a constant
    ``w in R^{d x d}``, by autograd through the RK4 flow; shape ``(N d, d^2)``. Its rank is ``N d``
    exactly when ``tanh(x_i)`` are linearly independent (claim TURN-9, notebooks/02-turnpike/03)."""
    x0 = check_finite("x0", as_tensor("x0", x0))
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (N, d), got {tuple(x0.shape)}")
    T = check_positive("T", T)
    n, d = x0.shape

    def endpoint(wvec):
        return flow(
            Controls(wvec.reshape(1, d, d), None, T), x0, "outer", "tanh", "rk4", substeps, record=False
        ).last.reshape(-1)

    return torch.autograd.functional.jacobian(endpoint, torch.zeros(d * d, dtype=x0.dtype, device=x0.device))


def min_norm_constant_control(
    x0: torch.Tensor, x1: torch.Tensor, T: float, starts: np.ndarray, substeps: int = 32
) -> list[float]:
    """The smallest ``|w|`` (Frobenius) of a constant control with ``x(T; w) = x1`` for
    ``x' = w tanh(x)``, by SLSQP from each row of ``starts`` (shape ``(n_starts, d^2)``); NaN where
    SLSQP fails. Endpoints by the RK4 flow, constraint Jacobian by autograd (claim TURN-9,
    notebooks/02-turnpike/03)."""
    x0, x1 = as_tensor("x0", x0), as_tensor("x1", x1)
    if x0.shape != x1.shape or x0.ndim != 2:
        raise ValueError(f"x0 and x1 must both have shape (N, d), got {tuple(x0.shape)}, {tuple(x1.shape)}")
    T = check_positive("T", T)
    d = x0.shape[1]
    starts = np.asarray(starts, dtype=float)
    if starts.ndim != 2 or starts.shape[1] != d * d or not np.isfinite(starts).all():
        raise ValueError(f"starts must be a finite array of shape (n_starts, {d * d}), got {starts.shape}")

    def endpoint(wvec):
        c = Controls(wvec.reshape(1, d, d), None, T)
        return (flow(c, x0, "outer", "tanh", "rk4", substeps, record=False).last - x1).reshape(-1)

    out = []
    for start in starts:
        res = minimize(
            lambda w: (w @ w, 2 * w),
            start,
            jac=True,
            method="SLSQP",
            options=dict(maxiter=200, ftol=1e-14),
            constraints=[
                dict(
                    type="eq",
                    fun=lambda w: endpoint(torch.tensor(w)).numpy(),
                    jac=lambda w: torch.autograd.functional.jacobian(endpoint, torch.tensor(w)).numpy(),
                )
            ],
        )
        out.append(float(np.linalg.norm(res.x)) if res.success else np.nan)
    return out


def plot_weight_scaling(axes, panels) -> None:
    """Log-log panels of the size ``|w|`` of steering controls against a parameter, with a dashed prediction:
    ``panels`` holds one ``(x, w_sizes, predictions, label, xlabel, title)`` per axis; ticks at the ``x``
    values (claim TURN-9, notebooks/02-turnpike/03)."""
    for ax, (x, w, pred, label, xlabel, title) in zip(axes, panels, strict=True):
        ax.loglog(x, w, "o-", label=label)
        ax.loglog(x, pred, "k--", label=r"$C_0\, r / T$")
        ax.set(xlabel=xlabel, ylabel=r"$\|w\|$", title=title)
        ax.minorticks_off()
        ax.set_xticks(x, labels=[f"{v:g}" for v in x])
        ax.legend()


def tolerance_sweep(x0: torch.Tensor, x1: torch.Tensor, T: float, tols, s_end, substeps: int = 64) -> dict:
    """Steer ``x0`` to ``x1`` (:func:`gradflows.control.steer`) with each stopping tolerance in ``tols``, for
    a target that two points cannot reach (``sigma(x1_2) = -sigma(x1_1)``: their sum ``s`` stays away
    from 0).

    ``s_end(w)`` returns ``s(T)`` for the constant weight ``w`` (a reference solution). Prints and returns
    ``{tol: dict(w, w_op, s, log)}``: the Frobenius and operator norms of ``w``, ``|s(T)|`` and
    ``log(|s(0)| / |s(T)|)``, which the invariance argument bounds by ``|w|_op T`` (claim TURN-9,
    notebooks/02-turnpike/03)."""
    x0 = check_finite("x0", as_tensor("x0", x0))
    s0 = float(np.linalg.norm(x0.sum(0).numpy()))
    out = {}
    for tol in tols:
        c = steer(x0, x1, T, substeps=substeps, tol=check_positive("tol", tol))
        v = out[tol] = dict(
            w=float(c.w.norm()),
            w_op=float(torch.linalg.matrix_norm(c.w[0], 2)),
            s=float(np.linalg.norm(s_end(c.w[0].numpy()))),
        )
        v["log"] = np.log(s0 / v["s"])
        print(
            f"  tol = {tol:.0e}: |w| = {v['w']:6.2f}, |s(T)| = {v['s']:.2e} (solve_ivp), "
            f"log(|s(0)|/|s(T)|) = {v['log']:6.3f}, |w| / log = {v['w'] / v['log']:.4f}"
        )
    return out
