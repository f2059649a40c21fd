"""Independent references for weighted least squares and its batch splittings (notebook
``01-sgd/03-batches-and-initialization``).

In NumPy/SciPy, sharing no code with :mod:`gradflows.batches`. For the loss
``J(W) = sum_i alpha_i |W x_i - y_i|^2 / 2`` with ``A = sum_i alpha_i x_i x_i^T`` and
``C = sum_i alpha_i y_i x_i^T`` the gradient flow is ``W' = -(W A - C)``:

* full-batch GD and the exact flow from ``W = 0`` (eigen-decomposition of ``A``);
* the fixed point of one epoch of batch sub-steps swept in a fixed order (exact sub-flows by
  ``scipy.linalg.expm`` or Euler sub-steps);
* the closed form of the leading O(dt) bias of reshuffled Euler sub-steps;
* ``exp(-tM)`` of a symmetric matrix, and the splitting errors of two batches (Lie-Trotter and
  its symmetrization, linear and affine).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg

__all__ = [
    "batch_matrices",
    "gd_from_zero",
    "flow_from_zero",
    "fixed_order_limit",
    "euler_bias_coefficient",
    "expm_sym",
    "splitting_errors",
    "affine_splitting_errors",
]


def _data(X, Y, alpha) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, Y, a = (np.asarray(v, dtype=float) for v in (X, Y, alpha))
    if X.ndim != 2 or Y.ndim != 2 or a.shape != (X.shape[0],) or Y.shape[0] != X.shape[0]:
        raise ValueError(f"need X (N, m), Y (N, n), alpha (N,), got {X.shape}, {Y.shape}, {a.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y)) and np.all(a > 0)):
        raise ValueError("X and Y must be finite and alpha positive")
    return X, Y, a


def batch_matrices(X, Y, alpha, idx=slice(None)) -> tuple[np.ndarray, np.ndarray]:
    """``A_r = sum_{i in idx} alpha_i x_i x_i^T`` (m x m) and ``C_r = sum_{i in idx} alpha_i y_i x_i^T`` (n
    x m)."""
    X, Y, a = _data(X, Y, alpha)
    return (a[idx, None] * X[idx]).T @ X[idx], (a[idx, None] * Y[idx]).T @ X[idx]


def gd_from_zero(A, C, dts: Sequence[float]) -> np.ndarray:
    """Full-batch GD ``W <- W - dt_k (W A - C)`` from ``W = 0`` with the steps ``dts``: shape ``(K + 1, n,
    m)``."""
    A, C = np.asarray(A, dtype=float), np.asarray(C, dtype=float)
    if A.ndim != 2 or C.ndim != 2 or C.shape[1] != A.shape[0]:
        raise ValueError(f"A must be (m, m) and C (n, m), got {A.shape}, {C.shape}")
    out = [np.zeros(C.shape)]
    for dt in dts:
        out.append(out[-1] - dt * (out[-1] @ A - C))
    return np.array(out)


def flow_from_zero(A, W_star, times) -> np.ndarray:
    """Exact flow ``W(T) = W_* - W_* exp(-A T)`` from ``W = 0`` at the times ``T``: shape ``(times, n,
    m)``."""
    A, W = np.asarray(A, dtype=float), np.asarray(W_star, dtype=float)
    if A.ndim != 2 or W.ndim != 2 or W.shape[1] != A.shape[0]:
        raise ValueError(f"A must be (m, m) and W_star (n, m), got {A.shape}, {W.shape}")
    mu, V = np.linalg.eigh(A)
    return np.array([W - (W @ V * np.exp(-mu * T)) @ V.T for T in np.asarray(times, dtype=float)])


def fixed_order_limit(X, Y, alpha, W_star, p: int, dt: float, exact: bool, order=None) -> float:
    """Distance to ``W_star`` of the fixed point of the epoch map with ``p`` batches swept in a fixed order.

    The batches are consecutive blocks of ``order`` (default ``0..N-1``). Exact sub-flows map
    ``Z -> Z E + C_r A_r^{-1} (I - E)``, ``E = exp(-A_r dt)`` (``scipy.linalg.expm``); Euler sub-steps
    ``Z -> Z (I - dt A_r) + dt C_r``. The epoch map ``Z -> Z M + B`` has the fixed point
    ``B (I - M)^{-1}``.
    """
    X, Y, a = _data(X, Y, alpha)
    if not dt > 0 or int(p) < 1:
        raise ValueError(f"dt must be > 0 and p >= 1, got {dt!r}, {p!r}")
    m = X.shape[1]
    idx_all = np.arange(X.shape[0]) if order is None else order
    M, B = np.eye(m), np.zeros((Y.shape[1], m))
    for idx in np.array_split(idx_all, p):
        Ar = (a[idx, None] * X[idx]).T @ X[idx]
        Cr = (a[idx, None] * Y[idx]).T @ X[idx]
        if exact:
            E = scipy.linalg.expm(-dt * Ar)
            P = np.linalg.solve(Ar, np.eye(m) - E)
        else:
            E, P = np.eye(m) - dt * Ar, dt * np.eye(m)
        M, B = M @ E, B @ E + Cr @ P
    W_dt = np.linalg.solve((np.eye(m) - M).T, B.T).T
    return float(np.linalg.norm(W_dt - np.asarray(W_star)))


def euler_bias_coefficient(X, Y, alpha, W_star, A, p: int) -> tuple[np.ndarray, float]:
    """Leading term ``c`` of the stationary mean error ``dt c`` of reshuffled Euler sub-steps, and ``q``.

    ``c = -(1/2)(1 - q) (sum_i g_i a_i) A^{-1}`` with ``g_i = alpha_i (W_* x_i - y_i) x_i^T``,
    ``a_i = alpha_i x_i x_i^T`` and ``q = (N/p - 1)/(N - 1)`` the probability that two given samples
    share a batch.
    """
    X, Y, a = _data(X, Y, alpha)
    N = X.shape[0]
    g_i = a[:, None, None] * (X @ np.asarray(W_star).T - Y)[:, :, None] * X[:, None, :]  # (N, n, m)
    a_i = a[:, None, None] * X[:, :, None] * X[:, None, :]  # (N, m, m)
    q_same = (N // p - 1) / (N - 1)
    return -0.5 * (1 - q_same) * np.einsum("inm,imk->nk", g_i, a_i) @ np.linalg.inv(np.asarray(A)), q_same


def expm_sym(M, t: float) -> np.ndarray:
    """``exp(-t M)`` of a symmetric matrix from ``numpy.linalg.eigh``."""
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be square, got {M.shape}")
    lam, V = np.linalg.eigh(M)
    return (V * np.exp(-t * lam)) @ V.T


def splitting_errors(A1, A2, hs: Sequence[float]) -> tuple[list[float], list[float], list[float]]:
    """Frobenius errors of ``e^{-A1 h} e^{-A2 h}`` and of the average of both orders against ``e^{-(A1 +
    A2) h}``.

    Returns ``(one, avg, ratio)`` over ``hs``, with ``ratio = one / (h^2/2 |[A1, A2]|)``.
    """
    comm_norm = np.linalg.norm(A1 @ A2 - A2 @ A1)
    one, avg, ratio = [], [], []
    for h in hs:
        F1, F2, F = expm_sym(A1, h), expm_sym(A2, h), expm_sym(A1 + A2, h)
        one.append(np.linalg.norm(F1 @ F2 - F))
        avg.append(np.linalg.norm(0.5 * (F1 @ F2 + F2 @ F1) - F))
        ratio.append(one[-1] / (0.5 * h**2 * comm_norm))
    return one, avg, ratio


def affine_splitting_errors(As, Cs, hs: Sequence[float]) -> list[float]:
    """One epoch of exact affine sub-flows ``W -> W_r + (W - W_r) e^{-A_r h}`` from ``W = 0`` minus the
    flow map.

    ``W_r = C_r A_r^{-1}``; the flow map is ``W -> W_* + (W - W_*) e^{-A h}`` with ``A = sum A_r``;
    Frobenius norms over ``hs``.
    """
    Ws = [np.linalg.solve(Ar, Cr.T).T for Ar, Cr in zip(As, Cs, strict=True)]
    A, C = sum(As), sum(Cs)
    W_full = np.linalg.solve(A, C.T).T
    out = []
    for h in hs:
        W_h = np.zeros(W_full.shape)
        for Ar, Wr in zip(As, Ws, strict=True):
            W_h = Wr + (W_h - Wr) @ expm_sym(Ar, h)
        out.append(np.linalg.norm(W_h - (W_full - W_full @ expm_sym(A, h))))
    return out
