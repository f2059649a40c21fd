"""The scalar linear-quadratic turnpike ``lam e'' = e``, ``e(0) = e0``, ``e'(T) = 0``, by finite differences.

The optimality system of ``min int_0^T e^2 + lam u^2 dt``, ``e' = u``: second-order finite
differences on ``n`` cells, the Neumann condition by a ghost point, one banded solve. Independent
of the closed form ``e(t) = e0 cosh((T - t)/sqrt(lam)) / cosh(T/sqrt(lam))``. The discrete decay
rate differs from ``1/sqrt(lam)`` by a relative ``(dt^2 / lam) / 24``. Used by the hidden tests of
the exercise on the LQ turnpike, notebooks/02-turnpike/03.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_banded

from .._validation import check_int, check_positive

__all__ = ["lq_turnpike_fd"]


def lq_turnpike_fd(
    lam: float, T: float, e0: float = 1.0, n: int = 8000
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns the grid ``t`` (``n + 1`` points of ``[0, T]``), ``e`` on it and ``u = e'`` (second-order
    differences, ``u(T) = 0``)."""
    lam, T, n = check_positive("lam", lam), check_positive("T", T), check_int("n", n, 2)
    if not np.isfinite(e0):
        raise ValueError(f"e0 must be finite, got {e0!r}")
    dt = T / n
    t = np.linspace(0.0, T, n + 1)
    ab = np.zeros((3, n))  # unknowns e_1 .. e_n; rows: lam (e_(k-1) - 2 e_k + e_(k+1)) / dt^2 - e_k = 0
    ab[0, 1:] = 1.0
    ab[1, :] = -2.0 - dt**2 / lam
    ab[2, :-1] = 1.0
    ab[2, -2] = 2.0  # ghost point e_(n+1) = e_(n-1)
    rhs = np.zeros(n)
    rhs[0] = -e0
    e = np.concatenate([[e0], solve_banded((1, 1), ab, rhs)])
    u = np.gradient(e, dt, edge_order=2)
    u[-1] = 0.0  # e'(T) = 0
    return t, e, u
