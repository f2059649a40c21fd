"""Neural ODEs solved by SciPy's DOP853, with right-hand sides written in NumPy.

The reference for :func:`gradflows.control.flow`: it shares no code with the library. The
two controlled systems of chapter 2 are ``kind="inner"``, ``x_i' = sigma(w(t) x_i + b(t))``
(nODE), and ``kind="outer"``, ``x_i' = w(t) sigma(x_i) + b(t)`` (nODE_2), for the ``N``
points ``x_i`` of ``x0`` moved together as one stacked state.

Used in notebooks/02-turnpike/01 (claims TURN-1, TURN-2) and notebooks/02-turnpike/03
(claims TURN-7, TURN-9).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from .._validation import check_positive

__all__ = [
    "ACTIVATIONS_NP",
    "smooth_controls",
    "time_rescaled",
    "solve_neural_ode",
    "solve_layers",
    "pair_sum_endpoint",
    "max_log_distance_ratio",
]

#: Activations in NumPy, independent of :data:`gradflows.nets.ACTIVATIONS`.
ACTIVATIONS_NP: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}

ArrayFn = Callable[[float], np.ndarray]


def smooth_controls(A: np.ndarray, B: np.ndarray, T: float) -> tuple[ArrayFn, ArrayFn]:
    """The smooth controls of claim TURN-1, ``w(t) = A0 + A1 sin(om t) + A2 cos(2 om t)`` and
    ``b(t) = B0 + B1 cos(om t) + B2 sin(2 om t)``, ``om = 2 pi / T``; returns ``(w, b)``.

    ``A`` has shape ``(3, d, d)`` and ``B`` shape ``(3, d)``. Used in notebooks/02-turnpike/01.
    """
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    if A.ndim != 3 or A.shape[0] != 3 or A.shape[1] != A.shape[2] or B.shape != (3, A.shape[1]):
        raise ValueError(f"A must have shape (3, d, d) and B shape (3, d), got {A.shape} and {B.shape}")
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("A and B must be finite")
    om = 2 * np.pi / check_positive("T", T)
    return (
        lambda t: A[0] + A[1] * np.sin(om * t) + A[2] * np.cos(2 * om * t),
        lambda t: B[0] + B[1] * np.cos(om * t) + B[2] * np.sin(2 * om * t),
    )


def time_rescaled(w: ArrayFn, b: ArrayFn, T: float) -> tuple[ArrayFn, ArrayFn]:
    """The controls ``u^1(s) = T u^T(sT)`` on ``[0, 1]`` of the time-scaling identity (claim TURN-2,
    notebooks/02-turnpike/01); returns ``(s -> T w(sT), s -> T b(sT))``."""
    T = check_positive("T", T)
    return (lambda s: T * w(s * T)), (lambda s: T * b(s * T))


def _x0(x0) -> np.ndarray:
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (N, d), got {x0.shape}")
    if not np.isfinite(x0).all():
        raise ValueError("x0 contains NaN or infinite values")
    return x0


def _check(kind: str, activation: str) -> Callable[[np.ndarray], np.ndarray]:
    if kind not in ("inner", "outer"):
        raise ValueError(f"kind must be 'inner' or 'outer', got {kind!r}")
    if activation not in ACTIVATIONS_NP:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS_NP)}, got {activation!r}")
    return ACTIVATIONS_NP[activation]


def solve_neural_ode(
    w: ArrayFn,
    b: ArrayFn,
    kind: str,
    activation: str,
    x0,
    T: float,
    t_eval: np.ndarray | None = None,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> np.ndarray:
    """DOP853 solution of (nODE) or (nODE_2) with controls ``w(t)``, ``b(t)`` on ``[0, T]``.

    Returns ``x(T)``, shape ``(N, d)``, or the states at ``t_eval``, shape ``(len(t_eval), N, d)``.
    Raises ``ValueError`` if the integrator fails.
    """
    x0 = _x0(x0)
    sig = _check(kind, activation)
    T = check_positive("T", T)
    N, d = x0.shape

    def rhs(t, y):
        X = y.reshape(N, d)
        return (sig(X) @ w(t).T + b(t) if kind == "outer" else sig(X @ w(t).T + b(t))).ravel()

    sol = solve_ivp(rhs, (0.0, T), x0.ravel(), method="DOP853", rtol=rtol, atol=atol, t_eval=t_eval)
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol.y[:, -1].reshape(N, d) if t_eval is None else sol.y.T.reshape(-1, N, d)


def solve_layers(
    w: np.ndarray,
    b: np.ndarray | None,
    h: float,
    kind: str,
    activation: str,
    x0,
    rtol: float = 1e-12,
    atol: float = 1e-12,
) -> np.ndarray:
    """The ODE with piecewise-constant controls ``w[k]``, ``b[k]`` on cells of width ``h``,
    by DOP853 run cell by cell; returns ``x(L h)``, shape ``(N, d)``.

    ``w`` has shape ``(L, d, d)``, ``b`` shape ``(L, d)`` or ``None`` (no bias). Used in
    notebooks/02-turnpike/01 (RK4 per cell, TURN-1) and 03 (endpoints, TURN-7 and TURN-9).
    """
    X = _x0(x0)
    w = np.asarray(w, dtype=float)
    if w.ndim != 3 or w.shape[1:] != (X.shape[1], X.shape[1]):
        raise ValueError(f"w must have shape (L, d, d) with d = {X.shape[1]}, got {w.shape}")
    b = np.zeros(w.shape[:2]) if b is None else np.asarray(b, dtype=float)
    if b.shape != w.shape[:2]:
        raise ValueError(f"b must have shape {w.shape[:2]}, got {b.shape}")
    for wk, bk in zip(w, b, strict=True):
        X = solve_neural_ode(
            lambda t, wk=wk: wk, lambda t, bk=bk: bk, kind, activation, X, h, rtol=rtol, atol=atol
        )
    return X


def pair_sum_endpoint(w: np.ndarray, x0, T: float = 1.0) -> np.ndarray:
    """``s(T) = x_1(T) + x_2(T)`` for two points under ``x' = w tanh(x)``, without cancellation.

    Integrates ``(x_1, s)`` with ``s' = w sinh(s) / (cosh(x_1) cosh(s - x_1))`` (the identity
    ``tanh a + tanh c = sinh(a + c) / (cosh a cosh c)``) by DOP853, ``rtol = 1e-12``, so that
    ``s`` is accurate even when ``x_2(T) = -x_1(T)`` nearly holds (claim TURN-9, notebooks/02-turnpike/03).
    """
    x0 = _x0(x0)
    w = np.asarray(w, dtype=float)
    if x0.shape[0] != 2 or w.shape != (x0.shape[1], x0.shape[1]):
        raise ValueError(f"x0 must hold two points of R^d and w have shape (d, d), got {x0.shape}, {w.shape}")
    T = check_positive("T", T)

    def rhs(t, z):
        a, s = z[: x0.shape[1]], z[x0.shape[1] :]
        return np.concatenate([w @ np.tanh(a), w @ (np.sinh(s) / (np.cosh(a) * np.cosh(s - a)))])

    z0 = np.concatenate([x0[0], x0[0] + x0[1]])
    return solve_ivp(rhs, (0.0, T), z0, method="DOP853", rtol=1e-12, atol=1e-300).y[x0.shape[1] :, -1]


def max_log_distance_ratio(x0, x1) -> float:
    """``max_{i < j} |log(|x1_i - x1_j| / |x0_i - x0_j|)|`` in NumPy: the factor by which a flow
    stretched or shrank the pairwise distances (reference for claim TURN-7, notebooks/02-turnpike/03)."""
    x0, x1 = _x0(x0), _x0(x1)
    if x0.shape != x1.shape:
        raise ValueError(f"x0 and x1 must have the same shape, got {x0.shape} and {x1.shape}")
    d0 = np.linalg.norm(x0[:, None] - x0[None], axis=-1)
    d1 = np.linalg.norm(x1[:, None] - x1[None], axis=-1)
    iu = np.triu_indices(len(x0), 1)
    return float(np.abs(np.log(d1[iu] / d0[iu])).max())
