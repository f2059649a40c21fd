"""The one-dimensional ``L^1`` control problem, solved over all piecewise-constant controls by SciPy.

``x' = u``, ``|u| <= M``, ``x(0) = D``, cost ``int_0^T loss(x(t)) dt + lam int_0^T |u(t)| dt`` on
cells of width about ``h`` (exact dynamics, exact running cost of the piecewise-linear path).
The squared loss gives a convex smooth problem after ``u = u+ - u-`` (L-BFGS-B with bounds); the
distance ``|x|`` a linear program (HiGHS). The reference for claim TURN-6 (notebooks/02-turnpike/03),
with the closed forms of the optimal stop ``delta* = x(T)``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog, minimize

from .._validation import check_positive

__all__ = ["solve_squared", "solve_distance", "stop_squared", "stop_distance"]


def _grid(T: float, h: float) -> tuple[int, float]:
    T, h = check_positive("T", T), check_positive("h", h)
    L = round(T / h)
    if L < 1:
        raise ValueError(f"h = {h} must be at most T = {T}")
    return L, T / L


def solve_squared(
    T: float, D: float = 1.0, M: float = 1.0, lam: float = 0.1, h: float = 0.005
) -> tuple[float, int]:
    """Squared loss: returns the optimal stop ``delta* = x(T)`` and the number of cells strictly
    between ``0`` and ``M`` in size (L-BFGS-B on ``(u+, u-)`` in ``[0, M]``)."""
    L, h = _grid(T, h)
    M, lam = check_positive("M", M), check_positive("lam", lam)

    def fg(z):  # cost / h and its gradient; z = (u+, u-)
        x = D + h * np.concatenate([[0.0], np.cumsum(z[:L] - z[L:])])
        a, b = x[:-1], x[1:]
        dx = np.zeros(L + 1)
        dx[:-1] += (2 * a + b) / 3
        dx[1:] += (a + 2 * b) / 3
        g = h * np.cumsum(dx[::-1])[::-1][1:]  # d/du_j = h sum_{k > j} d/dx_k
        return np.sum(a * a + a * b + b * b) / 3 + lam * z.sum(), np.concatenate([g + lam, -g + lam])

    z = minimize(
        fg,
        np.zeros(2 * L),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, M)] * (2 * L),
        options=dict(maxiter=20000, ftol=0.0, gtol=1e-13, maxcor=30),
    ).x
    u = z[:L] - z[L:]
    return D + h * u.sum(), int(((np.abs(u) > 1e-9) & (np.abs(u) < M - 1e-9)).sum())


def solve_distance(T: float, D: float = 1.0, M: float = 1.0, lam: float = 0.1, h: float = 0.005) -> float:
    """Distance loss ``|x|``: returns ``delta* = x(T)`` from the linear program in the variables
    ``(u_k, a_k >= |x_k|, v_k >= |u_k|)``, cost ``trapezoid(a) + lam h sum v``."""
    L, h = _grid(T, h)
    M, lam = check_positive("M", M), check_positive("lam", lam)
    A = np.tril(np.ones((L + 1, L)), -1) * h
    I1, I0, Z = np.eye(L + 1), np.eye(L), np.zeros
    A_ub = np.block(
        [
            [A, -I1, Z((L + 1, L))],
            [-A, -I1, Z((L + 1, L))],
            [I0, Z((L, L + 1)), -I0],
            [-I0, Z((L, L + 1)), -I0],
        ]
    )
    b_ub = np.concatenate([np.full(L + 1, -D), np.full(L + 1, D), Z(2 * L)])
    trap = np.full(L + 1, h)
    trap[[0, -1]] = h / 2
    cost = np.concatenate([Z(L), trap, np.full(L, lam * h)])
    res = linprog(
        cost, A_ub=A_ub, b_ub=b_ub, bounds=[(-M, M)] * L + [(0, None)] * (2 * L + 1), method="highs"
    )
    return D + h * res.x[:L].sum()


def stop_squared(T: float, D: float = 1.0, M: float = 1.0, lam: float = 0.1) -> float:
    """Closed form of the stop for the squared loss: the positive root of
    ``delta (T - D/M) + delta^2 / M = lam / 2``."""
    dT = check_positive("T", T) - D / check_positive("M", M)
    return M / 2 * (np.sqrt(dT**2 + 2 * lam / M) - dT)


def stop_distance(T: float, D: float = 1.0, M: float = 1.0, lam: float = 0.1) -> float:
    """Closed form of the stop for the distance loss: ``max(0, M (lam - T + D/M))``."""
    return max(0.0, check_positive("M", M) * (lam - check_positive("T", T) + D / M))
