"""The tangent kernel of one tanh neuron ``beta tanh(alpha x + c)`` with value and slope outputs, in NumPy.

* :func:`limit_kernel`: the limit kernel ``E[phi(x) . phi(y)]`` of the outputs ``(V(x), V'(x))`` for
  ``(alpha, c) ~ N(0, I_2)`` and ``E beta^2 = 1``, by a tensor Gauss–Hermite rule (the ``beta``
  factor is divided out of the value features, as in its expectation);
* :func:`outputs_jacobian`: the Jacobian of ``(V(x_j), V'(x_j))`` of ``V(x) = N^-delta sum_i beta_i
  tanh(alpha_i x + c_i)`` in ``(beta, alpha, c)``, written out by hand;
* :func:`mean_field_values`: ``V(x_j)`` itself.

No network code is used. Claim TDGF-7 and the exercises of notebooks/05-tdgf/04.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int

__all__ = ["limit_kernel", "outputs_jacobian", "mean_field_values"]


def _x(x) -> np.ndarray:
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("x must be a non-empty array of finite points")
    return x


def limit_kernel(x, n_gh: int = 64) -> np.ndarray:
    """The ``(2n, 2n)`` matrix of ``Z``, ``d_y Z``, ``d_x d_y Z`` at the points ``x`` (values first)."""
    x = _x(x).reshape(1, -1)
    z, wz = np.polynomial.hermite_e.hermegauss(check_int("n_gh", n_gh))
    wz = wz / np.sqrt(2 * np.pi)
    a, c = (v.reshape(-1, 1) for v in np.meshgrid(z, z, indexing="ij"))
    sqrt_w = np.sqrt(np.outer(wz, wz)).reshape(-1, 1)
    t = np.tanh(a * x + c)
    d1 = 1 - t**2  # psi'
    d2 = -2 * t * d1  # psi''
    val = [t, x * d1, d1]  # d/d(beta, alpha, c) of beta psi(alpha x + c), beta divided out
    der = [a * d1, d1 + a * x * d2, a * d2]  # d/d(beta, alpha, c) of beta alpha psi'(alpha x + c)
    feats = np.concatenate([np.concatenate([v, d], axis=1) * sqrt_w for v, d in zip(val, der, strict=True)])
    return feats.T @ feats


def _params(beta, alpha, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b, a, cc = (np.asarray(p, dtype=float).ravel() for p in (beta, alpha, c))
    if not b.shape == a.shape == cc.shape:
        raise ValueError(f"beta, alpha, c need one entry per neuron, got {b.shape}, {a.shape}, {cc.shape}")
    return b, a, cc


def outputs_jacobian(x, beta, alpha, c, delta: float) -> np.ndarray:
    """``(2n, 3N)`` Jacobian of ``(V(x_j))_j`` then ``(V'(x_j))_j`` in ``(beta, alpha, c)``."""
    x = _x(x)[:, None]
    b, a, cc = _params(beta, alpha, c)
    p0 = np.tanh(a * x + cc)
    p1 = 1 - p0**2
    p2 = -2 * p0 * p1
    J = np.concatenate(
        [
            np.concatenate([p0, b * x * p1, b * p1], 1),
            np.concatenate([a * p1, b * (p1 + a * x * p2), b * a * p2], 1),
        ]
    )
    return J * b.size ** (-float(delta))


def mean_field_values(x, beta, alpha, c, delta: float) -> np.ndarray:
    """``V(x_j) = N^-delta sum_i beta_i tanh(alpha_i x_j + c_i)``."""
    b, a, cc = _params(beta, alpha, c)
    return np.tanh(np.outer(_x(x), a) + cc) @ b * b.size ** (-float(delta))
