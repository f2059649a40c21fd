"""Rigorous bounds on the spectral gap of a symmetric double well, from the mean exit time through 0.

For an even potential ``f`` the slowest odd eigenfunction of the generator
``L u = (sigma^2/2) u'' - f' u'`` vanishes at 0, so the spectral gap ``lambda_1`` is the principal
eigenvalue of ``-L`` on ``(0, L]`` with ``u(0) = 0`` and no flux at ``L``. With ``tau`` the mean exit
time through 0 (``L tau = -1``, ``tau(0) = 0``, ``tau'(y) = (2/sigma^2) e^{E(y)} int_y^L e^{-E}``,
``E = 2 f / sigma^2``) and ``rho = e^{-E}``:
``1 / max tau <= lambda_1 <= int tau rho / int tau^2 rho`` (the Rayleigh quotient of ``tau``).
Integrals by the trapezoidal rule in log space on a fine grid (NumPy). Used in notebooks/03-mfld/02.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._validation import check_int, check_positive

__all__ = ["spectral_gap_bracket"]


def spectral_gap_bracket(
    f: Callable[[np.ndarray], np.ndarray], sigma: float, L: float, n: int = 35001
) -> tuple[float, float]:
    """Lower and upper bounds ``(1 / max tau, int tau rho / int tau^2 rho)`` on ``lambda_1`` (see the module).

    ``n`` grid points on ``[0, L]``. Used in notebooks/03-mfld/02 (exercise on Kramers' rate).
    """
    sigma, L, n = check_positive("sigma", sigma), check_positive("L", L), check_int("n", n, minimum=3)
    y = np.linspace(0.0, L, n)
    hy = y[1] - y[0]
    E = 2 * f(y) / sigma**2
    seg = np.log(hy / 2) + np.logaddexp(-E[:-1], -E[1:])  # log of the trapezoid pieces of int e^{-E}
    logG = np.r_[np.logaddexp.accumulate(seg[::-1])[::-1], -np.inf]  # log int_y^L rho
    dtau = 2 / sigma**2 * np.exp(E + logG)
    tau = np.r_[0.0, np.cumsum(hy / 2 * (dtau[1:] + dtau[:-1]))]
    rho = np.exp(-E)
    return 1 / tau[-1], np.trapezoid(tau * rho, y) / np.trapezoid(tau**2 * rho, y)
