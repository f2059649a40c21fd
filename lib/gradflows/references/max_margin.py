"""The regularized logistic loss on separable data and its slow convergence to the max-margin direction.

For points ``z_i = y_i x_i`` separable through the origin, the minimizer of
``sum_i log(1 + exp(-z_i . w)) + lam |w|^2`` is ``w(lam) = s w* + v(s) + o(1)``, with ``w*`` the
hard-margin SVM direction and ``s e^s = 1 / (2 lam)``; its angle to ``w*`` decays only like
``1 / log(1/lam)``. This module computes the regularized path by L-BFGS continuation and the
all-order prediction of the angle from the reduced equation on the support vectors. Used in
notebooks/02-turnpike/02 (claim TURN-8).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_int, check_positive

__all__ = [
    "signed_angle",
    "logistic_path",
    "reduced_angle",
    "far_angle",
    "mean_logistic",
    "mean_logistic_grad",
]


def _Z(Z) -> np.ndarray:
    Z = np.asarray(Z, dtype=float)
    if Z.ndim != 2 or not np.isfinite(Z).all():
        raise ValueError(f"Z must be a finite array of shape (N, d), got shape {Z.shape}")
    return Z


def signed_angle(W, w_svm) -> np.ndarray:
    """The signed angle of each row of ``W`` (shape ``(n, 2)``) to ``w_svm``, positive towards ``w_svm``
    turned by 90 degrees."""
    w_svm = np.asarray(w_svm, dtype=float)
    if w_svm.shape != (2,):
        raise ValueError(f"w_svm must be a vector of R^2, got shape {w_svm.shape}")
    e_svm = w_svm / np.linalg.norm(w_svm)
    e_perp = np.array([-e_svm[1], e_svm[0]])
    return np.arctan2(np.asarray(W) @ e_perp, np.asarray(W) @ e_svm)


def logistic_path(Z, lams) -> tuple[np.ndarray, list[float]]:
    """Minimizers of ``sum_i softplus(-z_i . w) + lam |w|^2`` for each ``lam`` in ``lams``, by L-BFGS
    (strong Wolfe, 500 iterations) started at the previous solution (``w = 0`` first). Returns the
    path (one row per ``lam``) and ``|grad| / |2 lam w|`` at each solution (stationarity)."""
    Zt = torch.from_numpy(_Z(Z))
    w = torch.zeros(Zt.shape[1], requires_grad=True)
    w_path, grad_path = [], []
    for lm in lams:  # continuation: each solve starts at the previous solution
        check_positive("lam", lm)
        opt = torch.optim.LBFGS([w], lr=1.0, max_iter=500, tolerance_grad=1e-300, tolerance_change=1e-300,
                                history_size=20, line_search_fn="strong_wolfe")  # fmt: skip

        def closure(lm=lm, opt=opt):
            opt.zero_grad()
            v = torch.nn.functional.softplus(-Zt @ w).sum() + lm * (w @ w)
            v.backward()
            return v

        opt.step(closure)
        closure()
        w_path.append(w.detach().numpy().copy())
        grad_path.append(float(w.grad.norm()) / (2 * lm * float(w.detach().norm())))
    return np.array(w_path), grad_path


def reduced_angle(s: float, Z_S, alpha, w_svm, iters: int = 60) -> float:
    """``theta(s)``: the signed angle of ``s w* + v(s)`` to ``w*``, where ``v`` solves the reduced equation
    on the support vectors ``Z_S v = -log(alpha + Z_S^{-T} v / s)`` (fixed point from
    ``w~ = -Z_S^{-1} log alpha``). Raises ``ValueError`` if the iteration does not converge."""
    s, iters = check_positive("s", s), check_int("iters", iters)
    Z_S, alpha, w_svm = _Z(Z_S), np.asarray(alpha, dtype=float), np.asarray(w_svm, dtype=float)
    w_tilde = np.linalg.solve(Z_S, -np.log(alpha))
    v = w_tilde.copy()
    for _ in range(iters):
        v, v_old = np.linalg.solve(Z_S, -np.log(alpha + np.linalg.solve(Z_S.T, v) / s)), v
    if not np.linalg.norm(v - v_old) < 1e-10 * np.linalg.norm(v):
        raise ValueError("the fixed-point iteration has not converged")
    e_svm = w_svm / np.linalg.norm(w_svm)
    e_perp = np.array([-e_svm[1], e_svm[0]])
    w_s = s * w_svm + v
    return float(np.arctan2(w_s @ e_perp, w_s @ e_svm))


def far_angle(w, lam: float, s: float, Z_off, Z_S, alpha, w_svm) -> float:
    """Size of the angle change caused by the points off the margin (rows of ``Z_off``), to first order.

    Their force ``sum_j z_j sigmoid(-z_j . w)``, divided by ``e^(-s) = 2 lam s``, perturbs the reduced
    equation ``sum_S z_i e^(-z_i . v) = w* + v / s`` by ``p``; the offset ``v`` moves by
    ``(Z_S^T diag(alpha) Z_S + I / s)^{-1} p`` and the angle of ``s w* + v`` by at most that over ``s |w*|``.
    """
    lam, s = check_positive("lam", lam), check_positive("s", s)
    Z_off, Z_S, alpha = _Z(Z_off), _Z(Z_S), np.asarray(alpha, dtype=float)
    p = (Z_off * np.exp(-np.logaddexp(0.0, Z_off @ w))[:, None]).sum(0) / (2 * lam * s)  # sigmoid(-z.w)
    n = np.linalg.norm(np.linalg.solve(Z_S.T @ np.diag(alpha) @ Z_S + np.eye(len(alpha)) / s, p))
    return n / (s * np.linalg.norm(w_svm))


def mean_logistic(W: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    """The mean logistic loss ``(1/N) sum_i softplus(-z_i . w)`` for each row ``w`` of ``W``."""
    return torch.nn.functional.softplus(-W @ Z.T).mean(-1)


def mean_logistic_grad(W: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    """The gradient of :func:`mean_logistic`, ``-(1/N) sum_i sigmoid(-z_i . w) z_i``, row by row."""
    return -torch.sigmoid(-W @ Z.T) @ Z / Z.shape[0]
