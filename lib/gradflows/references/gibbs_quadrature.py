"""Gibbs densities and free energies in one dimension by adaptive quadrature (``scipy.integrate.quad``).

For a potential ``f`` on the line and ``sigma > 0`` the Gibbs density is ``m* = exp(-2 f / sigma^2) / Z``
and the free energy ``V(m) = int f m + (sigma^2/2) int m log m``, with ``V(m*) = -(sigma^2/2) log Z``
and ``V(m) - V(m*) = (sigma^2/2) H(m | m*)``. These functions compute ``Z``, bin probabilities of
``m*`` and ``V``, ``H`` of densities given by their logarithm, without any grid: the independent
reference for the grid functions of :mod:`gradflows.energies`. Used in notebooks/03-mfld/02.
:func:`gibbs_moments` gives ``E f``, ``E X`` and ``Var X`` under ``m*`` restricted to an interval
(one well: the metastable law of the paths that have not crossed the barrier); notebook
``04-global/01-noise-as-exploration``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import quad
from scipy.stats import norm

from .._validation import check_positive

__all__ = [
    "gibbs_partition",
    "gibbs_bin_probabilities",
    "free_energy_quad",
    "gaussian_free_energy_quad",
    "gaussian_fisher_quad",
    "competitor_free_energies",
    "gibbs_moments",
]

Fn = Callable[[float], float]
_TIGHT = dict(epsabs=1e-14, epsrel=1e-13, limit=200)


def gibbs_partition(f: Fn, sigma: float) -> float:
    """``Z = int exp(-2 f(x) / sigma^2) dx`` over the line by ``quad``. Used in notebooks/03-mfld/02."""
    sigma = check_positive("sigma", sigma)
    return quad(lambda x: np.exp(-2 * f(x) / sigma**2), -np.inf, np.inf)[0]


def gibbs_bin_probabilities(f: Fn, sigma: float, edges, Z: float | None = None) -> np.ndarray:
    """Probabilities ``int_{e_b}^{e_{b+1}} exp(-2 f / sigma^2) / Z`` of the bins between the ``edges``.

    ``Z`` by :func:`gibbs_partition` when not given. Used in notebooks/03-mfld/02.
    """
    sigma = check_positive("sigma", sigma)
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError(f"edges must be an increasing 1-D array of >= 2 points, got shape {edges.shape}")
    Z = gibbs_partition(f, sigma) if Z is None else check_positive("Z", Z)
    return np.array(
        [
            quad(lambda x: np.exp(-2 * f(x) / sigma**2) / Z, a, b)[0]
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )


def free_energy_quad(log_w: Fn, f: Fn, sigma: float, a: float, b: float, log_Z: float) -> tuple[float, float]:
    """``V(m)`` and ``H(m | m*)`` by ``quad`` for ``m = exp(log_w) / C`` on ``[a, b]``.

    ``log m* = -2 f / sigma^2 - log_Z`` written out; ``C`` by ``quad`` too (epsabs 1e-14, epsrel 1e-13).
    Used in notebooks/03-mfld/02.
    """
    sigma = check_positive("sigma", sigma)
    if not (np.isfinite(a) and np.isfinite(b) and a < b):
        raise ValueError(f"need finite a < b, got {a}, {b}")
    C = quad(lambda x: np.exp(log_w(x)), a, b, **_TIGHT)[0]

    def log_m(x):
        return log_w(x) - np.log(C)

    V = quad(lambda x: np.exp(log_m(x)) * (f(x) + 0.5 * sigma**2 * log_m(x)), a, b, **_TIGHT)[0]
    H = quad(lambda x: np.exp(log_m(x)) * (log_m(x) + 2 * f(x) / sigma**2 + log_Z), a, b, **_TIGHT)[0]
    return V, H


def gaussian_free_energy_quad(mu: float, s2: float, sigma: float) -> float:
    """``V(N(mu, s2)) = int (x^2/2) m + (sigma^2/2) int m log m`` (Ornstein-Uhlenbeck potential), by ``quad``.

    Integrated over ``mu +- 14 sd``. Used in notebooks/03-mfld/02 (exercise on the OU process).
    """
    s = np.sqrt(check_positive("s2", s2))
    sigma = check_positive("sigma", sigma)

    def g(x):
        return norm.pdf(x, mu, s) * (0.5 * x**2 + 0.5 * sigma**2 * norm.logpdf(x, mu, s))

    return quad(g, mu - 14 * s, mu + 14 * s, **_TIGHT)[0]


def gaussian_fisher_quad(mu: float, s2: float, sigma: float) -> float:
    """``int |f'(x) + (sigma^2/2) d/dx log m(x)|^2 m(x) dx``, ``f = x^2/2``, ``m = N(mu, s2)``, by ``quad``.

    The dissipation of the free energy along the Ornstein-Uhlenbeck flow; over ``mu +- 12 sd``.
    Used in notebooks/03-mfld/02.
    """
    s = np.sqrt(check_positive("s2", s2))
    sigma = check_positive("sigma", sigma)
    return quad(
        lambda x: (x - 0.5 * sigma**2 * (x - mu) / s2) ** 2 * norm.pdf(x, mu, s), mu - 12 * s, mu + 12 * s
    )[0]


def competitor_free_energies(
    f: Fn, sigma: float, Z: float, var_star: float
) -> dict[str, tuple[float, float]]:
    """``(V(m), H(m | m*))`` by :func:`free_energy_quad` for seven competitors of the Gibbs density ``m*``.

    ``m* = exp(-2 f / sigma^2) / Z``; the competitors, from their log-densities in closed form on
    ``[-6, 6]``: ``m* e^{x/2}``, ``m*(x - 0.3)``, ``m*(x / 1.3)``, ``m*(x / 0.8)``,
    ``0.7 m* + 0.3 N(0, 0.5^2)``, ``m*`` on ``[-6, 0]``, and ``N(0, var_star)`` truncated to ``[-4, 4]``
    (each normalised by quad).
    Used in notebooks/03-mfld/02 (claim MFLD-5), against the same competitors on a grid.
    """
    check_positive("sigma", sigma)
    check_positive("Z", Z)
    check_positive("var_star", var_star)

    def log_f2(x):  # 2 f / sigma^2
        return 2 * f(x) / sigma**2

    def gibbs(x):
        return np.exp(-2 * f(x) / sigma**2) / Z

    specs = {  # name: (log of the unnormalised density, support)
        "tilted, theta = 0.5": (lambda x: -log_f2(x) + 0.5 * x, -6, 6),
        "shifted, a = 0.3": (lambda x: -log_f2(x - 0.3), -6, 6),
        "widened, s = 1.3": (lambda x: -log_f2(x / 1.3), -6, 6),
        "narrowed, s = 0.8": (lambda x: -log_f2(x / 0.8), -6, 6),
        "mixture, eps = 0.3": (lambda x: np.log(0.7 * gibbs(x) + 0.3 * norm.pdf(x, 0.0, 0.5)), -6, 6),
        "left well only": (lambda x: -log_f2(x), -6, 0),
        "Gaussian, same variance": (lambda x: -x * x / (2 * var_star), -4, 4),
    }
    return {name: free_energy_quad(log_w, f, sigma, a, b, np.log(Z)) for name, (log_w, a, b) in specs.items()}


def gibbs_moments(
    f: Callable[[float], float], sigma: float, lo: float, hi: float, points: tuple[float, ...] = ()
) -> dict[str, float]:
    """``{"mean_f", "mean_x", "var_x"}`` of the density ``exp(-2 f / sigma^2) / Z`` on ``(lo, hi)``.

    ``points``: where the density peaks (the minima), passed to ``quad``; ``lo < hi`` finite.
    Notebook ``04-global/01-noise-as-exploration``.
    """
    sigma = check_positive("sigma", sigma)
    if not callable(f):
        raise ValueError("f must be a callable float -> float")
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"need finite lo < hi, got ({lo}, {hi})")
    f_ref = min(f(float(x)) for x in np.linspace(lo, hi, 201))
    beta = 2.0 / sigma**2
    pts = [p for p in points if lo < p < hi] or None

    def moment(g: Callable[[float], float]) -> float:
        return quad(lambda x: g(x) * math.exp(-beta * (f(x) - f_ref)), lo, hi, points=pts, limit=200,
                    epsabs=0.0, epsrel=1e-11)[0]  # fmt: skip

    z = moment(lambda x: 1.0)
    mean_x = moment(lambda x: x) / z
    return {
        "mean_f": moment(f) / z,
        "mean_x": mean_x,
        "var_x": moment(lambda x: (x - mean_x) ** 2) / z,
    }
