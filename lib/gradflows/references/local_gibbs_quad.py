"""Local entropy, moments of the local Gibbs measure and the ergodic variance of (E), in one dimension.

For a loss ``f`` on the line, ``gamma > 0`` and a point ``x``, with ``V(y) = f(y) + gamma (x - y)^2 / 2``:

* ``F(x, gamma) = log int exp(-V(y)) dy`` and the mean, variance and third cumulant of
  ``rho(dy; x) = exp(-V(y)) dy / Z`` by adaptive quadrature (``scipy.integrate.quad`` on
  pieces of length at most 1/2 of ``[lo, hi]``, the integrand scaled by its largest value so nothing
  overflows): the independent reference for the uniform rule of :mod:`gradflows.local_entropy`;
* the asymptotic variance of the time average of the fast process
  ``dY = -V'(Y) dt + sqrt(2) dW`` (E): ``T Var((1/T) int_0^T Y dt) -> sigma_as^2 = 2 int u'(y)^2 rho(y) dy``,
  where ``u`` solves the Poisson equation ``-(u'' - V' u') = y - <y>``; in one dimension
  ``rho u' = -int_{-inf}^y (z - <y>) rho(z) dz``, so ``sigma_as^2 = 2 int G(y)^2 / rho(y) dy`` with
  ``G(y) = int_{-inf}^y (z - <y>) rho(z) dz`` (trapezoid sums on a fine grid, ``G`` accumulated from
  the nearer end so that rounding does not blow up in the tails), and ``u(x)``, the limit of
  ``E_x int_0^T (Y_t - <y>) dt``.

Nothing here imports the library's kernels. Notebook ``04-global/02-local-entropy``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import cumulative_trapezoid, quad

from .._validation import check_int, check_positive

__all__ = ["local_entropy_quad", "gibbs_moments_quad", "ergodic_variance"]

Fn = Callable[[np.ndarray], np.ndarray]
_TIGHT = dict(epsabs=1e-14, epsrel=1e-13, limit=200)


def _potential(f: Fn, x: float, gamma: float) -> Fn:
    gamma = check_positive("gamma", gamma)
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"x must be finite, got {x!r}")
    return lambda y: np.asarray(f(y), dtype=float) + 0.5 * gamma * (x - y) ** 2


def _integrals(f: Fn, x: float, gamma: float, powers, lo: float, hi: float) -> tuple[float, list[float]]:
    """``(V_min, [int y^p exp(-(V - V_min)) dy for p in powers])`` over ``[lo, hi]``, piece by piece."""
    V = _potential(f, x, gamma)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got lo={lo!r}, hi={hi!r}")
    grid = np.linspace(lo, hi, 20001)
    v_min = float(np.min(V(grid)))
    if float(np.exp(v_min - min(V(np.array([lo, hi]))))) > 1e-15:
        raise ValueError(f"exp(-V) is not negligible at the ends of [{lo:g}, {hi:g}]: widen them")
    edges = np.linspace(lo, hi, int(math.ceil((hi - lo) / 0.5)) + 1)
    out = []
    for p in powers:
        total = 0.0
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            total += quad(lambda y, p=p: y**p * math.exp(v_min - float(V(y))), a, b, **_TIGHT)[0]
        out.append(total)
    return v_min, out


def local_entropy_quad(f: Fn, x: float, gamma: float, lo: float = -30.0, hi: float = 30.0) -> float:
    """``F(x, gamma) = log int exp(-f(y) - gamma (x - y)^2 / 2) dy`` by ``quad`` (absolute error ~1e-13)."""
    v_min, (z,) = _integrals(f, x, gamma, (0,), lo, hi)
    return math.log(z) - v_min


def gibbs_moments_quad(
    f: Fn, x: float, gamma: float, lo: float = -30.0, hi: float = 30.0
) -> tuple[float, float, float]:
    """Mean, variance and third cumulant of the local Gibbs measure ``rho(.; x)``, by ``quad``.

    They give the derivatives of ``F``: ``F' = gamma (<y> - x)``, ``F'' = -gamma + gamma^2 Var``,
    ``F''' = gamma^3 kappa_3``.
    """
    _, (z, m1, m2, m3) = _integrals(f, x, gamma, (0, 1, 2, 3), lo, hi)
    mean = m1 / z
    var = m2 / z - mean**2
    k3 = m3 / z - 3 * mean * m2 / z + 2 * mean**3
    return mean, var, k3


def ergodic_variance(
    f: Fn, x: float, gamma: float, lo: float = -8.0, hi: float = 8.0, n_points: int = 400_001
) -> tuple[float, float, float]:
    """``(<y>_x, sigma_as^2, u(x))`` for the fast process (E) at ``x`` (see the module), on a grid.

    ``sigma_as^2`` is the limit of ``T E[((1/T) int_0^T Y_t dt - <y>_x)^2]`` (any start), and
    ``u(x) = lim E_{Y_0 = x} int_0^T (Y_t - <y>_x) dt``, the solution of the Poisson equation with
    ``int u rho = 0`` (the O(1/T) bias of a time average started at ``Y_0 = x``).
    """
    n_points = check_int("n_points", n_points, minimum=1001)
    V = _potential(f, x, gamma)
    y = np.linspace(float(lo), float(hi), n_points)
    v = V(y)
    if float(np.exp(v.min() - min(v[0], v[-1]))) > 1e-15:
        raise ValueError(f"exp(-V) is not negligible at the ends of [{lo:g}, {hi:g}]: widen them")
    rho = np.exp(-(v - v.min()))
    rho /= np.trapezoid(rho, y)
    mean = float(np.trapezoid(y * rho, y))
    g = (y - mean) * rho
    left = cumulative_trapezoid(g, y, initial=0.0)
    right = -cumulative_trapezoid(g[::-1], -y[::-1], initial=0.0)[::-1]  # = -int_y^hi g
    G = np.where(y < mean, left, right)
    keep = rho > 1e-280
    du = np.zeros_like(y)
    du[keep] = -G[keep] / rho[keep]  # u' = -G / rho
    sigma2 = 2.0 * float(np.trapezoid(du**2 * rho, y))
    u = cumulative_trapezoid(du, y, initial=0.0)
    u -= np.trapezoid(u * rho, y)
    return mean, sigma2, float(np.interp(float(x), y, u))
