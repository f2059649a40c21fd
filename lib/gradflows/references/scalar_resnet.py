"""Scalar ResNets ``x_(k+1) = x_k + h w_k tanh(x_k)`` without bias, written in NumPy and solved by SciPy.

References for the hidden tests of the exercises of notebooks/02-turnpike/02: the smallest constant
weight that steers one point to a target (root finding by ``brentq``) and the minimizer of the
regularized logistic loss of one point (BFGS with a hand-written adjoint gradient).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq, minimize

from .._validation import check_int, check_positive

__all__ = ["constant_steering_weight", "logistic_endpoint"]


def constant_steering_weight(n_layers: int, x_a: float = 0.5, x_b: float = 1.5, T: float = 2.0) -> float:
    """The constant weight ``w`` with which ``n_layers`` Euler steps of ``x' = w tanh(x)`` on ``[0, T]``
    move ``x_a`` to ``x_b`` (``brentq`` on ``[0, 5]``, ``xtol = 1e-14``)."""
    L, T = check_int("n_layers", n_layers), check_positive("T", T)

    def miss(w):  # Euler endpoint minus the target
        x = x_a
        for _ in range(L):
            x += T / L * w * np.tanh(x)
        return x - x_b

    return brentq(miss, 0.0, 5.0, xtol=1e-14)


def logistic_endpoint(lam: float, x0: float = 1.0, n_layers: int = 4, T: float = 1.0) -> float:
    """``x(T)`` at the minimizer of ``log(1 + e^(-x_L)) + lam h sum_k w_k^2`` for the scalar ResNet from
    ``x0`` (label +1), by BFGS on the objective over ``lam`` from ``w = log(1/lam)`` (``gtol = 1e-10``)."""
    lam, L, T = check_positive("lam", lam), check_int("n_layers", n_layers), check_positive("T", T)
    h = T / L

    def obj_over_lam(w):
        xs = [x0]
        for wk in w:
            xs.append(xs[-1] + h * wk * np.tanh(xs[-1]))
        a, g = (
            -1.0 / (1.0 + np.exp(xs[-1])),
            np.zeros(L),
        )  # adjoint d phi / d x_L, then back through the layers
        for k in range(L - 1, -1, -1):
            g[k] = a * h * np.tanh(xs[k])
            a *= 1.0 + h * w[k] / np.cosh(xs[k]) ** 2
        return np.logaddexp(0.0, -xs[-1]) / lam + h * (w @ w), g / lam + 2 * h * w

    w = minimize(
        obj_over_lam, np.full(L, np.log(1 / lam)), jac=True, method="BFGS", options={"gtol": 1e-10}
    ).x
    x = x0
    for wk in w:
        x += h * wk * np.tanh(x)
    return x
