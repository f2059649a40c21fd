"""The one-dimensional Fokker-Planck equation and the Euler-Maruyama chain on a grid of cells.

``d_t m = d_x(m f' + (sigma^2/2) d_x m)`` is discretised by finite volumes on cells of width
``h`` with the Scharfetter-Gummel-type fluxes that make ``rho~ = exp(-2 f / sigma^2)`` exactly
stationary; the operator is symmetrised by ``sqrt(rho~)`` into a tridiagonal matrix and solved
spectrally (``scipy.linalg.eigh_tridiagonal``): ``m_t = sqrt(rho~) V exp(Lambda t) V^T (m_0 / sqrt(rho~))``
(:func:`fokker_planck_modes`, :func:`fokker_planck_solution`). The law of the Euler-Maruyama chain
``X_{k+1} = X_k - dt f'(X_k) + sigma sqrt(dt) xi_k`` restricted to the cells is propagated by its
Gaussian transition matrix (:func:`em_kernel`, :func:`em_stationary`, :func:`em_laws`).
NumPy/SciPy only: independent of :mod:`gradflows.particles`. Used in notebooks/03-mfld/02.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse import csr_matrix
from scipy.stats import norm

from .._validation import check_int, check_positive

__all__ = ["fokker_planck_modes", "fokker_planck_solution", "em_kernel", "em_stationary", "em_laws"]

Modes = tuple[np.ndarray, np.ndarray, np.ndarray]


def _values(name: str, v, n: int | None = None) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.ndim != 1 or (n is not None and v.shape[0] != n) or not np.all(np.isfinite(v)):
        raise ValueError(
            f"{name} must be a finite 1-D array{'' if n is None else f' of length {n}'}, got {v.shape}"
        )
    return v


def fokker_planck_modes(f_values, sigma: float, h: float) -> Modes:
    """Eigenpairs of the symmetrised finite-volume Fokker-Planck operator, and ``sqrt(rho~)`` on the cells.

    ``f_values`` the potential at the cell centres (spacing ``h``). Eigenvalues ascending (the last
    is 0: mass is conserved); ``rho~ = exp(-2 (f - min f) / sigma^2)``. Used in notebooks/03-mfld/02.
    """
    f = _values("f_values", f_values)
    sigma, h = check_positive("sigma", sigma), check_positive("h", h)
    r = np.exp(-np.diff(f) / sigma**2)  # sqrt(rho~_{i+1} / rho~_i)
    a = 0.5 * sigma**2 / h**2
    lam, vec = eigh_tridiagonal(-a * (np.r_[r, 0.0] + np.r_[0.0, 1 / r]), np.full(len(f) - 1, a))
    return lam, vec, np.exp(-(f - f.min()) / sigma**2)


def fokker_planck_solution(m0, times, modes: Modes) -> np.ndarray:
    """Cell values of ``m_t = sqrt(rho~) V exp(Lambda t) V^T (m_0 / sqrt(rho~))``, one row per time.

    Round-off negatives (~1e-17) are set to 0. Used in notebooks/03-mfld/02.
    """
    lam, vec, sqrt_g = modes
    m0 = _values("m0", m0, len(sqrt_g))
    c = vec.T @ (m0 / sqrt_g)
    return np.clip(np.array([sqrt_g * (vec @ (np.exp(lam * t) * c)) for t in times]), 0.0, None)


def em_kernel(x, grad_values, sigma: float, dt: float) -> csr_matrix:
    """Transition matrix of the Euler-Maruyama chain restricted to the cell centres ``x``, column-stochastic.

    ``P[i, j] = P(j -> i)``: the Gaussian density of ``N(x_j - dt f'(x_j), sigma^2 dt)`` at ``x_i``,
    normalised per column; entries below 1e-17 are dropped (sparse). Used in notebooks/03-mfld/02.
    """
    x = _values("x", x)
    g = _values("grad_values", grad_values, len(x))
    sigma, dt = check_positive("sigma", sigma), check_positive("dt", dt)
    P = norm.pdf(x[:, None], (x - dt * g)[None, :], sigma * np.sqrt(dt))
    P /= P.sum(0, keepdims=True)
    return csr_matrix(np.where(P > 1e-17, P, 0.0))


def em_stationary(x, grad_values, sigma: float, dt: float, h: float, start, T: float = 8.0) -> np.ndarray:
    """Invariant density of the Euler-Maruyama chain on the cells: ``round(T / dt)`` steps of its kernel.

    ``h`` the cell width, ``start`` the initial density on the cells (e.g. the Gibbs density, whose
    correction relaxes at the rate ``lambda_2``). Returns a density (cell probabilities over ``h``).
    Used in notebooks/03-mfld/02.
    """
    h = check_positive("h", h)
    P = em_kernel(x, grad_values, sigma, dt)
    m = _values("start", start, len(x)) * h
    for _ in range(int(round(check_positive("T", T) / dt))):
        m = P @ m
    return m / h


def em_laws(P: csr_matrix, m0, n_steps: int, record_every: int) -> np.ndarray:
    """Cell probabilities of the Euler-Maruyama chain at the steps ``0, r, 2r, ... <= n_steps``, from ``m0``.

    ``P`` from :func:`em_kernel`, ``m0`` cell probabilities. Used in notebooks/03-mfld/02.
    """
    n_steps, record_every = check_int("n_steps", n_steps, minimum=0), check_int("record_every", record_every)
    m, path = _values("m0", m0, P.shape[0]), []
    for k in range(n_steps + 1):
        if k % record_every == 0:
            path.append(m)
        m = P @ m
    return np.array(path)
