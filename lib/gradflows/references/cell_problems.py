"""Dirichlet problems for the generator of a one-dimensional diffusion, by ``scipy.integrate.solve_bvp``.

For the fast process (E') ``dY = b(Y) dt + sqrt(2) dW`` with generator ``L u = b u' + u''``,
:func:`resolvent_bvp` solves the two-point boundary-value problem

``delta u - (b u' + u'') = s`` on ``(-n, n)``,   ``u(-n) = u(n) = g``                      (R)

as the first-order system ``(u, u')' = (u', delta u - b u' - s)`` with scipy's collocation solver
(tolerance ``tol`` on the residual, mesh refined adaptively). Two uses in the notebook:

* ``s = -h``, ``g = 0``: the truncated ``delta``-cell problem,
  ``u(y) = E[-int_0^{tau_n} h(Y_t) e^{-delta t} dt]``;
* ``s = 0``, ``g = 1``: the Laplace transform ``u(y) = E_y[e^{-delta tau_n}]`` of the exit time
  from ``(-n, n)``.

No code of the library is used. Notebook ``04-global/04-homogenization``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_bvp

from .._validation import check_int, check_positive

__all__ = ["resolvent_bvp"]

Fn = Callable[[np.ndarray], np.ndarray]


def resolvent_bvp(
    drift: Fn,
    source: Fn,
    delta: float,
    n: float,
    y,
    boundary: float = 0.0,
    tol: float = 1e-9,
    n_mesh: int = 2001,
) -> np.ndarray:
    """The solution ``u`` of (R) at the points ``y`` (inside ``[-n, n]``); ``drift`` and ``source`` are
    vectorized NumPy callables of ``y``. Raises ``RuntimeError`` when ``solve_bvp`` does not converge."""
    delta, n = check_positive("delta", delta), check_positive("n", n)
    tol, n_mesh = check_positive("tol", tol), check_int("n_mesh", n_mesh, minimum=11)
    y = np.asarray(y, dtype=float)
    g = float(boundary)
    if not (np.all(np.isfinite(y)) and np.all(np.abs(y) <= n) and np.isfinite(g)):
        raise ValueError(f"y must be finite points of [-{n:g}, {n:g}] and the boundary value finite")

    def rhs(z: np.ndarray, u: np.ndarray) -> np.ndarray:
        return np.vstack([u[1], delta * u[0] - drift(z) * u[1] - source(z)])

    mesh = np.linspace(-n, n, n_mesh)
    sol = solve_bvp(
        rhs,
        lambda ua, ub: np.array([ua[0] - g, ub[0] - g]),
        mesh,
        np.vstack([np.full_like(mesh, g), np.zeros_like(mesh)]),
        tol=tol,
        max_nodes=200_000,
    )
    if not sol.success:
        raise RuntimeError(f"solve_bvp failed: {sol.message}")
    return sol.sol(y)[0]
