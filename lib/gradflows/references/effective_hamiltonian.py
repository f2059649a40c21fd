"""The effective Hamiltonian, the one-sided Gibbs means and the corrector of the cell problem, by scipy.

For ``f`` on ``R`` (a NumPy callable), ``gamma > 0`` and the local Gibbs density
``rho_x(y) = exp(-Phi_x(y)) / Z``, ``Phi_x(y) = f(y) + gamma (x - y)^2 / 2``:

* :func:`gibbs_moments_quad`: ``<y>_x``, ``A(x) = int (x - y)^+ rho_x``, ``B(x) = int (y - x)^+ rho_x``
  and ``rho_x(x)`` for many ``x`` at once by ``scipy.integrate.quad_vec`` (adaptive, vector valued);
* :func:`effective_hamiltonian_quad`: ``Hbar(x, p) = int gamma max(0, (x - y) p) rho_x(y) dy`` by
  ``scipy.integrate.quad``, one point at a time, with the kink ``y = x`` as a break point;
* :func:`speed_splines`: cubic splines of ``gamma A``, ``gamma B`` and ``-gamma (x - <y>_x)`` through
  those quadrature values, the right-hand sides of the reachable-set ODEs;
* :func:`corrector_oscillation`: the corrector ``chi`` of the cell problem
  ``-(b chi' + chi'') + h = Hbar``, ``b = -Phi'``, ``h(y) = gamma max(0, (xbar - y) pbar)``, from the
  exact first integral ``chi'(y) = e^{Phi(y)} int_{-inf}^y (h - Hbar) e^{-Phi}``, and returns
  ``chi(y) - int chi rho`` (the limit of ``(delta w_delta + Hbar) / delta``), by cumulative Simpson
  sums on a fine grid.

No code of the library is used. Notebook ``04-global/04-homogenization``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import cumulative_simpson, quad, quad_vec, simpson
from scipy.interpolate import CubicSpline

from .._validation import check_int, check_positive

__all__ = ["gibbs_moments_quad", "effective_hamiltonian_quad", "speed_splines", "corrector_oscillation"]

Fn = Callable[[np.ndarray], np.ndarray]


def _box(lo: float, hi: float) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got {lo!r}, {hi!r}")
    return lo, hi


def _phi_min(f: Fn, x: np.ndarray, gamma: float, lo: float, hi: float) -> np.ndarray:
    z = np.linspace(lo, hi, 4001)
    return (f(z)[None, :] + 0.5 * gamma * (x[:, None] - z[None, :]) ** 2).min(1)


def gibbs_moments_quad(
    f: Fn, x, gamma: float, lo: float = -8.0, hi: float = 8.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(<y>_x, A(x), B(x), rho_x(x))`` for the points ``x`` (1-D array), by ``quad_vec`` on ``[lo, hi]``
    (the last: the Gibbs density at ``y = x``, where ``(x - y)^+`` has its kink)."""
    gamma = check_positive("gamma", gamma)
    lo, hi = _box(lo, hi)
    x = np.atleast_1d(np.asarray(x, dtype=float))
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError("x must be a finite 1-D array")
    p0 = _phi_min(f, x, gamma, lo, hi)

    def integrand(y: float) -> np.ndarray:
        r = np.exp(-(f(np.array([y]))[0] + 0.5 * gamma * (x - y) ** 2 - p0))
        return np.concatenate([r, y * r, np.maximum(x - y, 0) * r, np.maximum(y - x, 0) * r])

    pts = np.unique(np.clip(np.r_[x, np.linspace(lo, hi, 33)], lo, hi))
    val, _ = quad_vec(
        integrand, lo, hi, epsabs=1e-14, epsrel=1e-12, points=pts[(pts > lo) & (pts < hi)], limit=20000
    )
    Z, M, A, B = val.reshape(4, -1)
    at_x = np.exp(-(f(x) - p0)) / Z
    return M / Z, A / Z, B / Z, at_x


def effective_hamiltonian_quad(
    f: Fn, x: float, p: float, gamma: float, lo: float = -8.0, hi: float = 8.0
) -> float:
    """``Hbar(x, p) = int gamma max(0, (x - y) p) rho_x(y) dy`` by ``scipy.integrate.quad`` (one point)."""
    gamma = check_positive("gamma", gamma)
    lo, hi = _box(lo, hi)
    x, p = float(x), float(p)
    p0 = float(_phi_min(f, np.array([x]), gamma, lo, hi)[0])

    def rho(y: float) -> float:
        return float(np.exp(-(f(np.array([y]))[0] + 0.5 * gamma * (x - y) ** 2 - p0)))

    kw = {"epsabs": 1e-14, "epsrel": 1e-12, "limit": 400}
    Z = quad(rho, lo, x, **kw)[0] + quad(rho, x, hi, **kw)[0]
    side = (lo, x) if p > 0 else (x, hi)  # where (x - y) p > 0
    num = quad(lambda y: gamma * (x - y) * p * rho(y), *side, **kw)[0]
    return num / Z


def speed_splines(
    f: Fn, gamma: float, lo: float, hi: float, n: int = 901, box: tuple[float, float] = (-10.0, 10.0)
) -> tuple[CubicSpline, CubicSpline, CubicSpline]:
    """Cubic splines on ``n`` nodes of ``[lo, hi]`` of ``gamma A``, ``gamma B`` and ``gamma (<y>_x - x)``
    (the extreme speeds to the left and right, and the velocity of entropic gradient descent)."""
    n = check_int("n", n, minimum=4)
    xs = np.linspace(*_box(lo, hi), n)
    mean, A, B, _ = gibbs_moments_quad(f, xs, gamma, *box)
    return CubicSpline(xs, gamma * A), CubicSpline(xs, gamma * B), CubicSpline(xs, gamma * (mean - xs))


def corrector_oscillation(
    f: Fn, xbar: float, pbar: float, gamma: float, y, lo: float = -6.0, hi: float = 6.0, n_grid: int = 60001
) -> np.ndarray:
    """``chi(y) - int chi drho`` for the corrector ``chi`` of the cell problem at ``(xbar, pbar)``."""
    gamma = check_positive("gamma", gamma)
    lo, hi = _box(lo, hi)
    n_grid = check_int("n_grid", n_grid, minimum=101)
    z = np.linspace(lo, hi, n_grid)
    phi = f(z) + 0.5 * gamma * (xbar - z) ** 2
    phi = phi - phi.min()
    if phi[0] < 40 or phi[-1] < 40:
        raise ValueError("the Gibbs density is not negligible at the ends: widen [lo, hi]")
    rho = np.exp(-phi)
    Z = simpson(rho, x=z)
    h = gamma * np.maximum((xbar - z) * pbar, 0.0)
    hbar = simpson(h * rho, x=z) / Z
    g = (h - hbar) * rho
    left = cumulative_simpson(g, x=z, initial=0.0)  # int_lo^z: accurate where z is left of the mode
    right = -cumulative_simpson(g[::-1], x=-z[::-1], initial=0.0)[::-1]  # -int_z^hi, summed from the right
    mode = int(np.argmin(phi))
    G = np.where(np.arange(n_grid) <= mode, left, right)
    chi = cumulative_simpson(G * np.exp(phi), x=z, initial=0.0)
    chi = chi - simpson(chi * rho, x=z) / Z
    return np.interp(np.asarray(y, dtype=float), z, chi)
