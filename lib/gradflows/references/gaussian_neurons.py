"""Mean and variance of a tanh feature under Gaussian neurons, by Gauss-Hermite quadrature.

For neurons ``x = (c, a)`` with ``c ~ N(c_mean, 1)`` and ``a ~ N(a_mean, I_2)`` independent, and an
input ``(z, 1)``, the feature ``phi_hat(x, (z, 1)) = c tanh(a_1 z + a_2)`` has mean
``int phi_hat dm`` and variance ``Var_m phi_hat``: the limit and the constant of the law of large
numbers for the mean-field output ``f_N(z) = (1/N) sum_i phi_hat(X_i, z)``. Computed by the
tensor-product probabilists' Gauss-Hermite rule (NumPy ``hermegauss``), without sampling.
Used in notebooks/03-mfld/01.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial import hermite_e

from .._validation import check_int

__all__ = ["tanh_feature_moments"]


def tanh_feature_moments(z, a_mean, n_nodes: int, c_mean: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``E_m[c tanh(a_1 z + a_2)]`` and ``Var_m[c tanh(a_1 z + a_2)]`` at each ``z``, each ``(len(z),)``.

    ``n_nodes`` nodes per axis of the 3-D Gauss-Hermite rule. Used in notebooks/03-mfld/01.
    """
    n_nodes = check_int("n_nodes", n_nodes)
    z, a_mean = np.atleast_1d(np.asarray(z, dtype=float)), np.asarray(a_mean, dtype=float)
    if a_mean.shape != (2,) or not (np.all(np.isfinite(z)) and np.all(np.isfinite(a_mean))):
        raise ValueError(f"a_mean must hold 2 finite numbers and z finite values, got {a_mean.shape}")
    u, w = hermite_e.hermegauss(n_nodes)
    w = w / np.sqrt(2 * np.pi)
    c = c_mean + u[:, None, None]
    a1, a2 = a_mean[0] + u[None, :, None], a_mean[1] + u[None, None, :]
    weights = w[:, None, None] * w[None, :, None] * w[None, None, :]
    mean, var = [], []
    for zk in z:
        vals = c * np.tanh(a1 * zk + a2)  # phi_hat((c, a), (z, 1))
        m1, m2 = (weights * vals).sum(), (weights * vals**2).sum()
        mean.append(m1)
        var.append(m2 - m1**2)
    return np.array(mean), np.array(var)
