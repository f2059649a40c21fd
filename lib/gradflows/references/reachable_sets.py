"""Values of one-dimensional minimum-time-free control problems from their reachable intervals (scipy).

For ``x' in [-a(x), b(x)]`` with ``a, b > 0`` (every velocity between, including 0) the set reachable
from ``x`` within time ``s`` is the interval ``[x_-(s), x_+(s)]`` with ``x_-' = -a(x_-)``,
``x_+' = b(x_+)``, ``x_+-(0) = x``, and the value ``min f(X_s)`` over the controls is
``min { f(z) : x_-(s) <= z <= x_+(s) }`` (a point once reached can be held). For the one-sided system
``x' = u c(x)``, ``u in [0, 1]`` the reachable set is the arc of ``x' = c(x)`` from ``x`` up to time
``s``, in 1-D the interval between ``x`` and that end point. :func:`interval_ends` integrates the
ODEs for all starting points at once (``solve_ivp``, DOP853, tight tolerances);
:func:`min_on_intervals` minimises ``f`` over intervals (a fine sampling, then ``minimize_scalar``
around the best sample); :func:`hitting_time` is the time a one-sided motion needs to reach a
point (``quad``). Only NumPy and SciPy. Notebook ``04-global/04-homogenization``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.optimize import minimize_scalar

from .._validation import check_int, check_nonnegative

__all__ = [
    "interval_ends",
    "min_on_intervals",
    "extended_control_value",
    "constant_control_value",
    "hitting_time",
]

Fn = Callable[[np.ndarray], np.ndarray]


def _x(x) -> np.ndarray:
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x must be a finite 1-D array")
    return x


def interval_ends(velocity: Fn, x, s: float) -> np.ndarray:
    """The solutions at time ``s`` of ``z' = velocity(z)``, ``z(0) = x``, for every ``x`` at once."""
    x, s = _x(x), check_nonnegative("s", s)
    if s == 0:
        return x.copy()
    sol = solve_ivp(lambda t, z: velocity(z), (0.0, s), x, method="DOP853", rtol=1e-11, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[:, -1]


def min_on_intervals(f: Fn, lo, hi, n_samples: int = 2001) -> np.ndarray:
    """``min f`` on each ``[lo_i, hi_i]``: the best of ``n_samples`` points refined by ``minimize_scalar``."""
    lo, hi = _x(lo), _x(hi)
    n_samples = check_int("n_samples", n_samples, minimum=3)
    if lo.shape != hi.shape or np.any(lo > hi):
        raise ValueError("need intervals with lo <= hi of the same shape")
    out = np.empty_like(lo)
    for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
        z = np.linspace(a, b, n_samples)
        fz = f(z)
        j = int(np.argmin(fz))
        best = fz[j]
        if b > a:
            r = minimize_scalar(
                lambda t: float(f(np.array([t]))[0]),
                bounds=(z[max(j - 1, 0)], z[min(j + 1, n_samples - 1)]),
                method="bounded",
                options={"xatol": 1e-10},
            )
            best = min(best, r.fun)
        out[i] = best
    return out


def extended_control_value(
    f: Fn, speed_left: Fn, speed_right: Fn, x, s: float
) -> tuple[np.ndarray, np.ndarray]:
    """``min f`` over the reachable interval of ``x' in [-speed_left(x), speed_right(x)]`` in time ``s``,
    and the interval ends ``(2, len(x))``."""
    x = _x(x)
    ends = np.stack([interval_ends(lambda z: -speed_left(z), x, s), interval_ends(speed_right, x, s)])
    return min_on_intervals(f, ends[0], ends[1]), ends


def constant_control_value(f: Fn, velocity: Fn, x, s: float) -> tuple[np.ndarray, np.ndarray]:
    """``min f`` over the arc of ``x' = velocity(x)`` from ``x`` up to time ``s``, and the arc's ends."""
    x = _x(x)
    end = interval_ends(velocity, x, s)
    return min_on_intervals(f, np.minimum(x, end), np.maximum(x, end)), end


def hitting_time(speed: Fn, x: float, z: float) -> float:
    """The time ``int_x^z dw / speed(w)`` that ``w' = speed(w) > 0`` (``z >= x``) or ``w' = -speed(w)``
    (``z < x``) needs from ``x`` to ``z``, by ``scipy.integrate.quad``; ``speed`` must be positive between."""
    x, z = float(x), float(z)
    if not (np.isfinite(x) and np.isfinite(z)):
        raise ValueError(f"x and z must be finite, got {x!r}, {z!r}")
    lo, hi = min(x, z), max(x, z)
    if lo == hi:
        return 0.0
    if np.min(speed(np.linspace(lo, hi, 201))) <= 0:
        raise ValueError("the speed must be positive between x and z")
    return float(quad(lambda w: 1.0 / float(speed(np.array([w]))[0]), lo, hi, epsabs=1e-12, epsrel=1e-11)[0])
