"""Minimal-norm interpolants of a ResNet and the branch of regularized minimizers that leaves them.

For the data ``(x0, y)`` and (nODE_2) with ``tanh`` on ``n_layers`` cells, the controls are the
flat vector ``theta = (vec w, vec b)``. The problem (SL1) with the squared loss,
``J_T(theta; lam) = phi(x(T)) + lam h |theta|^2``, is solved to high accuracy by trust-region
Newton steps (``scipy.optimize.minimize`` with ``trust-exact``, gradient and Hessian by torch
autograd); the interpolation problem ``min h |theta|^2`` subject to ``P x_i(T) = y_i`` by SLSQP,
with its second-order certificate. Along the branch ``lam -> 0`` the minimizers expand as
``theta = theta* + lam theta_1 + O(lam^2)`` and ``phi = C lam^2 (1 + kappa lam + ...)``.
Used in notebooks/02-turnpike/02 (claims TURN-3 and TURN-4).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from .. import training
from .._validation import check_int, check_nonnegative, check_positive
from ..control import Controls, flow, training_error
from ..training import Fit, objective

__all__ = [
    "to_vec",
    "to_controls",
    "newton",
    "newton_polish",
    "residual",
    "min_norm_interpolant",
    "first_order",
    "branch",
]


def to_vec(c: Controls) -> torch.Tensor:
    """The flat vector ``theta = (vec w, vec b)`` of controls with a bias."""
    if c.b is None:
        raise ValueError("the controls must have a bias")
    return torch.cat([c.w.reshape(-1), c.b.reshape(-1)])


def to_controls(theta, T: float, n_layers: int, d: int = 2) -> Controls:
    """The controls on ``[0, T]`` with ``n_layers`` cells in ``R^d`` from the flat vector ``theta``."""
    theta = torch.as_tensor(theta)
    n_layers, d = check_int("n_layers", n_layers), check_int("d", d)
    if theta.shape != (n_layers * (d * d + d),):
        raise ValueError(f"theta must have shape ({n_layers * (d * d + d)},), got {tuple(theta.shape)}")
    k = d * d * n_layers
    return Controls(theta[:k].reshape(n_layers, d, d), theta[k:].reshape(n_layers, d), check_positive("T", T))


def newton(theta0, T: float, lam: float, x0: torch.Tensor, y: torch.Tensor, n_layers: int):
    """Trust-region Newton (scipy's ``trust-exact``) on ``J_T / lam`` over ``theta`` on ``[0, T]``, from
    ``theta0``; ``J_T / lam`` has the minimizers of ``J_T`` and values of order one. Returns scipy's
    result."""
    lam = check_positive("lam", lam)
    d = x0.shape[1]

    def J(theta):
        return objective(to_controls(theta, T, n_layers, d), x0, y, lam=lam)[0] / lam

    return minimize(
        lambda th: float(J(torch.from_numpy(th))),
        np.asarray(theta0),
        method="trust-exact",
        jac=lambda th: torch.autograd.functional.jacobian(J, torch.from_numpy(th)).numpy(),
        hess=lambda th: torch.autograd.functional.hessian(J, torch.from_numpy(th), vectorize=True).numpy(),
        options=dict(gtol=1e-10),
    )


def newton_polish(
    fit: training.Fit, lam: float, x0: torch.Tensor, y: torch.Tensor
) -> tuple[training.Fit, int]:
    """:func:`newton` from an L-BFGS fit: the polished :class:`~gradflows.training.Fit`, the Newton steps."""
    c0 = fit.controls
    res = newton(to_vec(c0).numpy(), c0.T, lam, x0, y, c0.n_layers)
    c = to_controls(res.x, c0.T, c0.n_layers, c0.d)
    value, states = objective(c, x0, y, lam=lam)
    return Fit(c, states, float(training_error(states[-1], y)), float(value), fit.history), res.nit


def residual(theta, T: float, x0: torch.Tensor, y: torch.Tensor, n_layers: int) -> torch.Tensor:
    """``r_i = P x_i(T) - y_i`` for the controls ``theta`` on ``[0, T]``."""
    return flow(to_controls(theta, T, n_layers, x0.shape[1]), x0, record=False).last[:, 0] - y


def _constraint_jacobian(theta, T, x0, y, n_layers) -> np.ndarray:
    f = lambda th: residual(th, T, x0, y, n_layers)  # noqa: E731
    return torch.autograd.functional.jacobian(f, torch.as_tensor(theta), vectorize=True).numpy()


def min_norm_interpolant(
    start, x0: torch.Tensor, y: torch.Tensor, n_layers: int, T: float = 1.0, maxiter: int = 200
) -> dict:
    """SLSQP on ``min ||u||^2_{L^2(0,T)}`` s.t. ``P x_i(T) = y_i``, from ``start``, with its certificate.

    Returns a dict: ``theta, T, h, norm, nit``; the multipliers ``nu`` of ``2 h theta + J^T nu = 0``
    (least squares) and ``kkt``, the relative residual of that equation; ``J`` (constraint
    Jacobian), ``sv`` (its singular values), ``feas`` (largest ``|r_i|``), ``HL`` (Hessian of the
    Lagrangian ``2 h I + sum_i nu_i Hess r_i``), ``red`` (its eigenvalues on ``ker J``) and
    ``certified`` (SLSQP success, ``kkt < 1e-6``, ``feas < 1e-12``, ``red > 0``: a strict local minimizer).
    """
    T = check_positive("T", T)
    N = x0.shape[0]
    h = T / n_layers
    res = minimize(
        lambda th: h * th @ th,
        start,
        jac=lambda th: 2 * h * th,
        method="SLSQP",
        constraints=[
            dict(
                type="eq",
                fun=lambda th: residual(torch.from_numpy(th), T, x0, y, n_layers).numpy(),
                jac=lambda th: _constraint_jacobian(th, T, x0, y, n_layers),
            )
        ],
        options=dict(maxiter=maxiter, ftol=1e-14),
    )
    theta = res.x
    J = _constraint_jacobian(theta, T, x0, y, n_layers)
    nu = -np.linalg.lstsq(J.T, 2 * h * theta, rcond=None)[0]
    nu_t = torch.from_numpy(nu)
    HL = torch.autograd.functional.hessian(
        lambda th: h * th @ th + nu_t @ residual(th, T, x0, y, n_layers),
        torch.from_numpy(theta),
        vectorize=True,
    ).numpy()
    Z = np.linalg.svd(J)[2][N:].T  # orthonormal basis of ker J
    s = dict(theta=theta, T=T, h=h, norm=h * theta @ theta, nit=res.nit, nu=nu, J=J, HL=HL,
             kkt=np.linalg.norm(2 * h * theta + J.T @ nu) / np.linalg.norm(2 * h * theta),
             feas=np.abs(residual(torch.from_numpy(theta), T, x0, y, n_layers).numpy()).max(),
             red=np.linalg.eigvalsh(Z.T @ HL @ Z), sv=np.linalg.svd(J, compute_uv=False))  # fmt: skip
    s["certified"] = bool(res.success and s["kkt"] < 1e-6 and s["feas"] < 1e-12 and s["red"].min() > 0)
    return s


def first_order(s: dict) -> tuple[np.ndarray, float]:
    """``theta_1`` and ``kappa`` at the interpolant ``s`` of :func:`min_norm_interpolant`, from the linear
    system ``[H_L J^T; J 0] (theta_1, mu) = (0, N nu / 2)`` and ``kappa = 2 nu.mu / |nu|^2``."""
    n, N = len(s["theta"]), len(s["nu"])
    K = np.block([[s["HL"], s["J"].T], [s["J"], np.zeros((N, N))]])
    sol = np.linalg.solve(K, np.concatenate([np.zeros(n), N * s["nu"] / 2]))
    return sol[:n], 2 * s["nu"] @ sol[n:] / (s["nu"] @ s["nu"])


def branch(s: dict, theta1: np.ndarray, lams, x0: torch.Tensor, y: torch.Tensor, n_layers: int) -> dict:
    """Minimizers of ``J_T(.; lam)`` along the branch that leaves the interpolant ``s`` as ``lam`` grows
    from 0 (on the horizon ``s["T"]``).

    Newton continuation in increasing ``lam``, with the tangent predictor
    ``d theta / d lam = -H^{-1} 2 h theta`` (``H`` the Hessian of ``J_T``), which is ``theta_1`` at
    ``lam = 0``. A point is flagged as a jump when the Newton correction exceeds the step, when the
    norm does not decrease, or when ``H`` is not positive definite. Returns ``{lam: dict(theta, phi,
    norm, J, eig, on_branch, minimizer)}`` with ``eig`` the smallest eigenvalue of ``H`` over ``lam``.
    """
    T, N = s["T"], x0.shape[0]
    theta, slope, lam_prev, out, broken = s["theta"], theta1, 0.0, {}, False
    for lm in lams:
        check_nonnegative("lam", lm)
        pred = theta + (lm - lam_prev) * slope
        new = newton(pred, T, lm, x0, y, n_layers).x
        H = torch.autograd.functional.hessian(
            lambda th, lm=lm: objective(to_controls(th, T, n_layers, x0.shape[1]), x0, y, lam=lm)[0],
            torch.from_numpy(new),
            vectorize=True,
        ).numpy()
        eig = np.linalg.eigvalsh(H).min() / lm
        norm = s["h"] * new @ new
        jump = (np.linalg.norm(new - pred) > np.linalg.norm(new - theta) or eig <= 0
                or norm >= (s["norm"] if not out else out[lam_prev]["norm"]))  # fmt: skip
        broken = broken or jump
        r = residual(torch.from_numpy(new), T, x0, y, n_layers).numpy()
        out[lm] = dict(theta=new, phi=r @ r / N, norm=norm, J=r @ r / N + lm * norm, eig=eig,
                       on_branch=not broken, minimizer=eig > 0)  # fmt: skip
        theta, slope, lam_prev = new, -np.linalg.solve(H, 2 * s["h"] * new), lm
    return out
