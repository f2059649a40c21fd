"""Independent reference for the averaged (entropic) gradient descent and its fluctuations.

For a loss ``f`` on ``R`` and a coupling ``gamma`` the local Gibbs measure is
``rho(dy; x) ∝ exp(-V(y, x)) dy`` with ``V(y, x) = f(y) + gamma (y - x)^2 / 2``, and the averaged
system (S) of the two-scale deep-relaxation system is ``x' = b(x) = -gamma (x - <y>_x)``.

* :func:`gibbs_mean_quad` -- ``<y>_x`` by adaptive quadrature (``scipy.integrate.quad``);
* :func:`averaged_path` -- (S) by ``scipy.integrate.solve_ivp`` with that Gibbs mean;
* :func:`quadratic_outer_step` -- one noise-free Entropy-SGD outer step for ``f(y) = a y^2 / 2`` in
  closed form (geometric sums, no loop);
* :func:`wide_narrow_np`, :func:`gibbs_mass_below` -- the wide/narrow loss written in numpy, and the
  mass ``int_{y < b} exp(-f) / int exp(-f)`` of the Gibbs law at unit temperature (``quad``);
* :func:`fluctuation_variance` -- the constant of the central limit theorem for averaging:
  ``(X^eps_t - Xhat_t) / sqrt(eps)`` tends to a Gaussian ``Z_t`` with ``Z_0 = 0`` and
  ``dZ = b'(Xhat) Z dt + gamma sqrt(2 D(Xhat)) dB``, so ``v(t) = E Z_t^2`` solves
  ``v' = 2 b'(Xhat) v + 2 gamma^2 D(Xhat)``, with ``b'(x) = -gamma (1 - gamma Var_x(y))`` and
  ``D(x) = int G(y)^2 / rho(y) dy``, ``G(y) = int_{-inf}^y (z - <y>_x) rho(z) dz`` (the integrated
  autocovariance of the fast process, from the Poisson equation of its generator).

Numpy and scipy only (no code shared with :mod:`gradflows.deep_relaxation`,
:mod:`gradflows.local_entropy` or :mod:`gradflows.entropy_sgd`; the quadrature of the Gibbs mean is
:mod:`gradflows.references.local_gibbs_quad`'s). Notebook ``04-global/03-deep-relaxation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import cumulative_trapezoid, quad, solve_ivp, trapezoid

from .._validation import check_int, check_positive
from .local_gibbs_quad import gibbs_moments_quad

__all__ = [
    "gibbs_mean_quad",
    "averaged_path",
    "gibbs_moments_grid",
    "fluctuation_variance",
    "quadratic_outer_step",
    "wide_narrow_np",
    "gibbs_mass_below",
]

Loss = Callable[[np.ndarray], np.ndarray]


def gibbs_mean_quad(f: Loss, x: float, gamma: float, lo: float = -10.0, hi: float = 10.0) -> float:
    """``<y>_x = int y exp(-V(y, x)) dy / int exp(-V(y, x)) dy`` by ``scipy.integrate.quad`` on ``[lo, hi]``.

    The mean of :func:`gradflows.references.local_gibbs_quad.gibbs_moments_quad` (adaptive quadrature
    piece by piece, the integrand scaled by its largest value): one copy of the quadrature in the library.
    """
    return gibbs_moments_quad(f, x, gamma, lo, hi)[0]


def averaged_path(
    f: Loss,
    x0: float,
    gamma: float,
    t_eval,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    lo: float = -10.0,
    hi: float = 10.0,
) -> np.ndarray:
    """``Xhat(t)`` at the times ``t_eval`` for ``x' = -gamma (x - <y>_x)``, ``x(0) = x0``, by ``solve_ivp``
    (DOP853) with :func:`gibbs_mean_quad`."""
    gamma = check_positive("gamma", gamma)
    t_eval = np.asarray(t_eval, dtype=float)
    if t_eval.ndim != 1 or t_eval.size == 0 or np.any(t_eval < 0) or np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be a non-empty increasing 1-D array of times >= 0")
    sol = solve_ivp(
        lambda t, x: [-gamma * (x[0] - gibbs_mean_quad(f, x[0], gamma, lo, hi))],
        (0.0, float(t_eval[-1])),
        [float(x0)],
        method="DOP853",
        t_eval=t_eval,
        rtol=rtol,
        atol=atol,
    )
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y[0]


def gibbs_moments_grid(f: Loss, x: float, gamma: float, lo: float = -10.0, hi: float = 10.0, n: int = 20001):
    """Mean, variance and the integrated autocovariance ``D(x)`` of the fast process, on a uniform grid.

    ``D = int G^2 / rho`` with ``G(y) = int_{-inf}^y (z - m) rho(z) dz`` (trapezoid rules); a smooth,
    fast-decaying integrand, so the grid error is far below the Monte Carlo errors it is compared with.
    """
    y = np.linspace(lo, hi, n)
    V = f(y) + 0.5 * gamma * (y - x) ** 2
    rho = np.exp(-(V - V.min()))
    rho /= trapezoid(rho, y)
    m = trapezoid(y * rho, y)
    var = trapezoid((y - m) ** 2 * rho, y)
    G = cumulative_trapezoid((y - m) * rho, y, initial=0.0)
    G = np.where(y < m, G, G - G[-1])  # each side from its own tail: no cancellation where rho is tiny
    keep = rho > 1e-30  # G^2 / rho ~ rho (z - m)^2 in the tails: what is dropped is below 1e-28
    D = trapezoid(np.where(keep, G**2 / np.where(keep, rho, 1.0), 0.0), y)
    return m, var, D


def fluctuation_variance(
    f: Loss, x0: float, gamma: float, T: float, *, rtol: float = 1e-8
) -> tuple[float, float]:
    """``(Xhat(T), v(T))``: the averaged path and the variance of the CLT limit ``Z_T`` (module docstring),
    by ``solve_ivp`` on the pair ``(Xhat, v)`` with the moments of :func:`gibbs_moments_grid`."""
    gamma, T = check_positive("gamma", gamma), check_positive("T", T)

    def rhs(t, s):
        x, v = s
        m, var, D = gibbs_moments_grid(f, x, gamma)
        return [-gamma * (x - m), -2 * gamma * (1 - gamma * var) * v + 2 * gamma**2 * D]

    sol = solve_ivp(rhs, (0.0, T), [float(x0), 0.0], method="DOP853", rtol=rtol, atol=1e-12)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return float(sol.y[0, -1]), float(sol.y[1, -1])


def quadratic_outer_step(x, a: float, gamma: float, inner_lr: float, lr: float, L: int, alpha: float):
    """One noise-free Entropy-SGD outer step for ``f(y) = a y^2 / 2`` from ``y_0 = mu_0 = x``, in closed form.

    The inner map ``y <- q y + inner_lr gamma x``, ``q = 1 - inner_lr (a + gamma)``, has the fixed point
    ``y* = gamma x / (a + gamma)``, so ``y_l = y* + q^l (x - y*)``; with ``r = 1 - alpha``,
    ``mu_L = r^L x + (1 - r^L) y* + alpha (x - y*) S``, ``S = sum_{l=1}^L r^(L-l) q^l
    = q (r^L - q^L) / (r - q)`` (``L q^L`` when ``q = r``), and ``x_new = x - lr gamma (x - mu_L)``.
    ``x`` may be a float or a numpy array.
    """
    a, gamma = check_positive("a", a), check_positive("gamma", gamma)
    inner_lr, lr = check_positive("inner_lr", inner_lr), check_positive("lr", lr)
    L = check_int("L", L)
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha must lie in (0, 1], got {alpha!r}")
    x = np.asarray(x, dtype=float)
    q, r = 1.0 - inner_lr * (a + gamma), 1.0 - alpha
    ys = gamma * x / (a + gamma)
    S = L * q**L if abs(q - r) < 1e-12 else q * (r**L - q**L) / (r - q)
    mu = r**L * x + (1 - r**L) * ys + alpha * (x - ys) * S
    return x - lr * gamma * (x - mu)


def wide_narrow_np(
    wide: tuple[float, float, float] = (-1.5, 0.8, 2.0),
    narrow: tuple[float, float, float] = (1.5, 0.15, 2.6),
    confinement: float = 0.2,
) -> Loss:
    """``f(y) = c y^2 / 2 - sum_j a_j exp(-(y - m_j)^2 / (2 s_j^2))`` for the wells ``(m_j, s_j, a_j)``, in
    numpy, written out here so that the references share no code with :mod:`gradflows.landscapes`."""

    def f(y):
        y = np.asarray(y, dtype=float)
        out = 0.5 * confinement * y * y
        for m, s, a in (wide, narrow):
            out = out - a * np.exp(-((y - m) ** 2) / (2 * s * s))
        return out

    return f


def gibbs_mass_below(f: Loss, b: float, lo: float = -20.0, hi: float = 20.0) -> float:
    """``int_lo^b exp(-f) dy / int_lo^hi exp(-f) dy`` by ``scipy.integrate.quad`` (each side separately,
    ``epsrel = 1e-12``): the mass that the Gibbs law ``exp(-f)`` puts left of ``b``."""
    if not lo < b < hi:
        raise ValueError(f"need lo < b < hi, got {lo!r}, {b!r}, {hi!r}")
    w = lambda y: math.exp(-float(f(y)))  # noqa: E731
    left = quad(w, lo, b, epsabs=0.0, epsrel=1e-12, limit=200)[0]
    right = quad(w, b, hi, epsabs=0.0, epsrel=1e-12, limit=200)[0]
    return left / (left + right)
