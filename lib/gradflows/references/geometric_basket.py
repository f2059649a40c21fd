"""Law of the discounted payoff of a geometric basket call, from lognormal moments (closed form).

Under Black-Scholes with ``d`` assets, volatility matrix ``sigma`` ``(d, d')`` and equal weights,
the geometric mean ``G_T = (prod_i X^i_T)^(1/d)`` is lognormal: ``log G_T ~ N(m, s^2 T)`` with
``m = log S0 + (r - a_bar/2) T``, ``a_bar = mean_i |sigma_i|^2`` and ``s = |mean_i sigma_i|``. The
moments ``E[G^k 1_{G > K}] = exp(k m + k^2 s^2 T / 2) Phi((m + k s^2 T - log K) / (s sqrt T))``
give the mean and the standard deviation of ``e^{-rT} (G_T - K)^+`` (NumPy and ``scipy.stats.norm``,
independent of :mod:`gradflows.pricing`). Used in notebooks/03-mfld/01.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .._validation import check_positive

__all__ = ["geometric_basket_payoff_law"]


def geometric_basket_payoff_law(S0: float, K: float, r: float, sigma, T: float) -> tuple[float, float, float]:
    """Mean (the price), standard deviation of ``e^{-rT} (G_T - K)^+`` and ``s = |mean_i sigma_i|``.

    ``S0`` the common spot, ``sigma`` the ``(d, d')`` volatility matrix (array or tensor).
    Used in notebooks/03-mfld/01 (the constant of the Monte Carlo error).
    """
    S0, K, T = check_positive("S0", S0), check_positive("K", K), check_positive("T", T)
    sig = np.asarray(sigma.detach().cpu() if hasattr(sigma, "detach") else sigma, dtype=float)
    if sig.ndim != 2 or not np.all(np.isfinite(sig)) or not np.isfinite(r):
        raise ValueError(f"sigma must be a finite (d, d') matrix and r finite, got shape {sig.shape}")
    disc = np.exp(-r * T)
    a_bar, s2 = (sig**2).sum(1).mean(), (sig.mean(0) ** 2).sum()
    m = np.log(S0) + (r - a_bar / 2) * T

    def moment(k):  # E[G^k 1_{G > K}]
        return np.exp(k * m + k * k * s2 * T / 2) * norm.cdf((m + k * s2 * T - np.log(K)) / np.sqrt(s2 * T))

    first = moment(1) - K * moment(0)
    second = moment(2) - 2 * K * moment(1) + K**2 * moment(0)
    return disc * first, disc * np.sqrt(second - first**2), np.sqrt(s2)
