"""The geometric-basket call reduced to one dimension, computed independently of the solvers.

With ``d`` assets, ``C = sigma sigma^T``, ``a = mean_i C_ii``, ``s^2 = 1'C1 / d^2`` and the geometric
average ``G``, a price ``u(x) = W(G)`` satisfies (lemma of notebooks/05-tdgf/03)

    div(A grad u) = s^2 G^2 W'' / 2 + (1 + d) s^2 G W' / 2,   b . grad u = c_b G W',
    c_b = (a + d s^2) / 2 - r,

so the IMEX steps of the basket reduce to a 1-D recursion in ``y = log G``
(:func:`reduced_fd_steps`, central finite differences). :func:`hessian_trace_matrix` gives
``L^T D^2u L`` (``L L^T = A``) in closed form, :func:`probe_variances` the exact variances of the
Hutchinson probes, :func:`equicorrelated_geometric_call` the price and payoff deviation of the call
for an equicorrelated basket. NumPy, SciPy and autograd of the model's closed form only.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from scipy.stats import norm

from .._validation import check_int, check_positive

__all__ = [
    "lemma_coefficients",
    "lemma_deviation",
    "reduced_fd_steps",
    "reduced_at",
    "hessian_trace_matrix",
    "probe_variances",
    "equicorrelated_geometric_call",
]


def lemma_coefficients(model) -> tuple[float, float, float]:
    """``(a, s^2, c_b)``: ``a = mean C_ii``, ``s^2 = 1'C1 / d^2``, ``c_b = (a + d s^2) / 2 - r``."""
    C, d = model.C, model.dim
    a, s2 = C.diagonal().mean().item(), (C.sum() / d**2).item()
    return a, s2, 0.5 * (a + d * s2) - model.r


def lemma_deviation(model, generator: torch.Generator, n: int = 64, tau: float = 0.5) -> float:
    """Relative deviation of ``div(A grad u)`` and ``b . grad u`` (autograd of ``model.reference`` with the
    model's ``A``, ``div A``, ``b``) from the lemma's 1-D formulas, at ``n`` points ``exp(0.25 N(0, I))``."""
    n, tau = check_int("n", n), check_positive("tau", tau)
    d = model.dim
    a, s2, cb = lemma_coefficients(model)
    x = torch.exp(0.25 * torch.randn(n, d, generator=generator))  # around the money, inside the box

    def u(z):
        return model.reference(z, tau)

    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(u(xg).sum(), xg, create_graph=True)
    hess = torch.stack([torch.autograd.grad(g[:, j].sum(), xg, retain_graph=True)[0] for j in range(d)], 2)
    g = g.detach()
    lhs_sym = (model.A(x) * hess).sum((1, 2)) + (model.divA(x) * g).sum(1)
    lhs_b = (model.b(x) * g).sum(1)
    G = torch.exp(torch.log(x).mean(1)).requires_grad_(True)
    (W1,) = torch.autograd.grad(u(G[:, None].expand(n, d)).sum(), G, create_graph=True)
    (W2,) = torch.autograd.grad(W1.sum(), G)
    G, W1 = G.detach(), W1.detach()
    rhs_sym = 0.5 * s2 * G**2 * W2 + 0.5 * (1 + d) * s2 * G * W1
    rhs_b = cb * G * W1
    scale = lhs_sym.abs().max() + lhs_b.abs().max()
    return (((lhs_sym - rhs_sym).abs().max() + (lhs_b - rhs_b).abs().max()) / scale).item()


def reduced_fd_steps(
    model, T: float, n_steps: int, nodes: int = 8001, y_lo: float = -5.0, y_hi: float = 3.0
) -> tuple[np.ndarray, np.ndarray]:
    """IMEX steps of the reduced recursion in ``y = log G``, central differences, values frozen at both ends.

    Returns ``y`` and ``W`` with ``W[k]`` the step ``U^k`` as a function of ``y``.
    """
    T, n_steps, nodes = check_positive("T", T), check_int("n_steps", n_steps), check_int("nodes", nodes, 3)
    d = model.dim
    a, s2, cb = lemma_coefficients(model)
    y = np.linspace(y_lo, y_hi, nodes)
    dy = y[1] - y[0]
    one = np.ones(nodes - 1)
    D1 = sp.diags([-one, one], [-1, 1]) / (2 * dy)
    D2 = sp.diags([one, -2 * np.ones(nodes), one], [-1, 0, 1]) / dy**2
    h = T / n_steps
    M = ((1 + h * model.r) * sp.eye(nodes) - h * (0.5 * s2 * D2 + 0.5 * d * s2 * D1)).tolil()
    M[0, :], M[-1, :] = 0, 0
    M[0, 0], M[-1, -1] = 1, 1
    lu = spla.splu(M.tocsc())
    W = [np.maximum(np.exp(y) - model.K, 0)]
    for _ in range(n_steps):
        rhs = W[-1] - h * cb * (D1 @ W[-1])
        rhs[[0, -1]] = W[-1][[0, -1]]
        W.append(lu.solve(rhs))
    return y, np.array(W)


def reduced_at(y: np.ndarray, W: np.ndarray, k: int, x: torch.Tensor) -> torch.Tensor:
    """The step ``U^k`` of :func:`reduced_fd_steps` at the rows of ``x``, through ``G``."""
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, d), got {tuple(x.shape)}")
    return torch.as_tensor(np.interp(torch.log(x).mean(1).numpy(), y, W[k]))


def hessian_trace_matrix(x, C, r: float, K: float, tau: float) -> np.ndarray:
    """``L^T D^2u L`` at the point ``x`` in closed form, ``L L^T = A = diag(x) C diag(x) / 2`` (Cholesky).

    ``u = W(G)``, ``W`` the Black–Scholes call on ``G e^(-q tau)`` with volatility ``s``, ``q = (a - s^2)/2``:
    ``D^2u = W'' grad G grad G^T + W' D^2 G``.
    """
    x, C = np.asarray(x, float), np.asarray(C, float)
    d = x.size
    if C.shape != (d, d):
        raise ValueError(f"C must be ({d}, {d}), got {C.shape}")
    tau = check_positive("tau", tau)
    a, s2 = np.trace(C) / d, C.sum() / d**2
    y = 0.5 * (a - s2)
    G = np.exp(np.log(x).mean())
    F = G * np.exp(-y * tau)
    d1 = (np.log(F / K) + (r + 0.5 * s2) * tau) / np.sqrt(s2 * tau)
    W1 = np.exp(-y * tau) * norm.cdf(d1)  # dW/dG
    W2 = np.exp(-2 * y * tau) * norm.pdf(d1) / (F * np.sqrt(s2 * tau))  # d^2W/dG^2
    gG = G / (d * x)
    HG = G / (d**2 * np.outer(x, x)) - np.diag(G / (d * x**2))
    L = np.linalg.cholesky(0.5 * np.outer(x, x) * C)
    return L.T @ (W2 * np.outer(gG, gG) + W1 * HG) @ L


def probe_variances(M) -> tuple[float, float]:
    """Exact variances of one probe ``z^T M z``: Rademacher ``z`` (all ``2^d`` sign vectors) and Gaussian
    ``z`` (tensor Gauss–Hermite rule with 3 nodes per axis, exact up to degree 5)."""
    M = np.asarray(M, float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"M must be a square matrix, got shape {M.shape}")
    d = M.shape[0]
    z = np.array(list(itertools.product((-1.0, 1.0), repeat=d)))
    qz = np.einsum("ni,ij,nj->n", z, M, z)
    gh_z, gh_w = np.polynomial.hermite_e.hermegauss(3)
    zg = np.array(list(itertools.product(gh_z, repeat=d)))
    wg = np.prod(np.array(list(itertools.product(gh_w / np.sqrt(2 * np.pi), repeat=d))), 1)
    qg = np.einsum("ni,ij,nj->n", zg, M, zg)
    return (qz**2).mean() - qz.mean() ** 2, wg @ qg**2 - (wg @ qg) ** 2


def equicorrelated_geometric_call(
    S0, vol: float, rho: float, r: float, K: float, tau: float, n_paths: int = 1
) -> tuple[float, float]:
    """Price of the geometric-basket call (volatility ``vol``, correlation ``rho``, spots ``S0``) and the
    standard deviation of its discounted payoff divided by ``sqrt(n_paths)``, from lognormal moments of ``G``:
    ``s^2 = vol^2 (rho + (1 - rho) / d)``, ``log G_tau ~ N(mean log S0 + (r - vol^2 / 2) tau, s^2 tau)``."""
    S0 = np.asarray(S0, float).ravel()
    vol, K, tau = check_positive("vol", vol), check_positive("K", K), check_positive("tau", tau)
    s2 = vol**2 * (rho + (1 - rho) / S0.size) * tau
    m = np.log(S0).mean() + (r - vol**2 / 2) * tau  # mean of log G_tau
    k = (np.log(K) - m) / np.sqrt(s2)
    p = np.arange(3)
    E0, E1, E2 = np.exp(p * m + 0.5 * p**2 * s2) * norm.sf(k - p * np.sqrt(s2))  # E[G^p; G > K]
    first, second = E1 - K * E0, E2 - 2 * K * E1 + K**2 * E0
    disc = np.exp(-r * tau)
    return disc * first, disc * np.sqrt(second - first**2) / np.sqrt(check_int("n_paths", n_paths))
