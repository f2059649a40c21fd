"""The heat equation in one dimension by Crank--Nicolson, and local entropy through Hopf--Cole.

For a loss ``f`` on the line and ``gamma > 0``, the local entropy is a heat-equation transform of ``f``:

``exp F(x, gamma) = int exp(-f(y) - gamma (x - y)^2 / 2) dy = sqrt(2 pi / gamma) w(1 / gamma, x)``,

where ``w`` solves ``w_t = (1/2) w_xx`` with ``w(0, .) = exp(-f)`` (the Gaussian
``exp(-gamma z^2 / 2)`` is ``sqrt(2 pi / gamma)`` times the heat kernel of ``(1/2) d^2/dx^2`` at time
``1 / gamma``), so ``u = -log w`` solves the viscous Hamilton--Jacobi equation
``u_t = (1/2) u_xx - (1/2) u_x^2`` with ``u(0) = f``.

This module computes ``w`` by a finite-difference method that knows nothing of the quadrature of
:mod:`gradflows.local_entropy`: second-order central differences in space (node spacing ``h``) on
``[lo, hi]`` with ``w = 0`` at both ends, and the Crank--Nicolson rule in time (step ``dt``), one
sparse LU factorisation (scipy) reused for every step. Its error is ``O(h^2 + dt^2)`` for smooth
data; the difference between two grids, ``(h, dt)`` and ``(h/2, dt/2)``, is about three times the
error of the finer one. Notebook ``04-global/02-local-entropy``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.sparse import diags, identity
from scipy.sparse.linalg import splu

from .._validation import check_int, check_positive

__all__ = ["heat_crank_nicolson", "local_entropy_heat"]


def heat_crank_nicolson(w0, h: float, times, n_steps: int) -> np.ndarray:
    """Solve ``w_t = (1/2) w_xx`` on a uniform grid (spacing ``h``), ``w = 0`` outside, by Crank--Nicolson.

    ``w0``: initial values at the interior nodes, shape ``(n,)``. ``times``: increasing times ``> 0``;
    each time ``t`` is reached in ``n_steps * t / max(times)`` steps, which must be (close to) an integer.
    Returns ``(len(times), n)``: ``w`` at each time.
    """
    w = np.asarray(w0, dtype=float).copy()
    if w.ndim != 1 or w.size < 3 or not np.all(np.isfinite(w)):
        raise ValueError(f"w0 must be a finite 1-D array of >= 3 values, got shape {np.shape(w0)}")
    h = check_positive("h", h)
    n_steps = check_int("n_steps", n_steps)
    times = np.atleast_1d(np.asarray(times, dtype=float))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times <= 0) or np.any(np.diff(times) <= 0):
        raise ValueError(f"times must be increasing positive numbers, got {times!r}")
    dt = times[-1] / n_steps
    marks = times / dt
    if np.any(np.abs(marks - np.round(marks)) > 1e-8 * n_steps):
        raise ValueError(f"every time must be a multiple of the step {dt:g}: change n_steps or times")
    n = w.size
    lap = diags([np.ones(n - 1), -2 * np.ones(n), np.ones(n - 1)], [-1, 0, 1], format="csc") / h**2
    eye = identity(n, format="csc")
    lu = splu((eye - 0.25 * dt * lap).tocsc())
    explicit = (eye + 0.25 * dt * lap).tocsr()
    out, k = [], 0
    for target in np.round(marks).astype(int):
        while k < target:
            w = lu.solve(explicit @ w)
            k += 1
        out.append(w.copy())
    return np.array(out)


def local_entropy_heat(
    f: Callable[[np.ndarray], np.ndarray],
    gammas,
    *,
    lo: float = -20.0,
    hi: float = 20.0,
    h: float = 0.01,
    n_steps: int = 400,
) -> tuple[np.ndarray, np.ndarray]:
    """``F(x, gamma) = log w(1/gamma, x) + log(2 pi/gamma) / 2`` on the grid, by :func:`heat_crank_nicolson`.

    ``f`` is a numpy function of ``y``; ``gammas`` positive couplings (solved in one run up to the time
    ``1 / min(gammas)`` in ``n_steps`` steps). Returns the interior nodes ``x`` ``(n,)`` and ``F``
    ``(len(gammas), n)`` in the order of ``gammas``. Choose ``[lo, hi]`` so wide that ``exp(-f)`` is
    negligible at both ends, but not so wide that it underflows: ``w <= 0`` anywhere raises ValueError.
    """
    gammas = np.atleast_1d(np.asarray(gammas, dtype=float))
    if gammas.ndim != 1 or not np.all(np.isfinite(gammas)) or np.any(gammas <= 0):
        raise ValueError(f"gammas must be positive numbers, got {gammas!r}")
    h = check_positive("h", h)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and hi - lo > 4 * h):
        raise ValueError(f"need finite lo < hi with several nodes between, got lo={lo!r}, hi={hi!r}")
    n = int(round((hi - lo) / h)) - 1
    x = lo + h * np.arange(1, n + 1)
    order = np.argsort(1.0 / gammas)
    w = heat_crank_nicolson(np.exp(-np.asarray(f(x), dtype=float)), h, 1.0 / gammas[order], n_steps)
    if not np.all(w > 0):
        bad = x[np.any(w <= 0, axis=0)]
        raise ValueError(
            f"w <= 0 at {bad.size} nodes (x from {bad.min():g} to {bad.max():g}): exp(-f) underflows or the "
            "solve oscillates there; take a smaller h or dt, or a smaller box"
        )
    F = np.log(w) + 0.5 * np.log(2 * np.pi / gammas[order])[:, None]
    out = np.empty_like(F)
    out[order] = F
    return x, out
