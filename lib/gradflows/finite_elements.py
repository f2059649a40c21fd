"""Finite elements: the exact minimizers of the TDGF step energy over piecewise-linear functions.

The implicit–explicit steps of :mod:`gradflows.tdgf` with a P1 finite-element space in place of
a network: the reference for the time discretization (claim TDGF-2), sharing no code with the
networks it checks. Notebooks ``05-tdgf/01-pdes-and-energies`` and ``05-tdgf/04-why-training-converges``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from ._validation import check_int, check_positive
from .pricing_pdes import PricingPDE

__all__ = ["fem_matrices", "fem_imex_1d"]


def _check_model(model) -> PricingPDE:
    if not isinstance(model, PricingPDE):
        raise ValueError(f"model must be a gradflows.pricing_pdes model, got {type(model).__name__}")
    return model


def fem_matrices(model: PricingPDE, nodes: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """P1 finite elements on ``nodes`` (1-D model): mass ``M``, stiffness ``S_ij = int A phi_i' phi_j'``
    and transport ``B_ij = int b phi_j' phi_i``, by 2-point Gauss quadrature per element.

    The discrete step energy is
    ``I(u) = (u - U)^T M (u - U) / 2 + h (u^T S u / 2 + r u^T M u / 2 + u^T B U)``.
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError(f"finite elements are implemented for 1-D models only, got d={model.dim}")
    x = np.asarray(nodes, dtype=float)
    if x.ndim != 1 or x.size < 3 or not np.all(np.diff(x) > 0):
        raise ValueError("nodes must be an increasing 1-D array of at least 3 points")
    n, dx = x.size, np.diff(x)
    idx = np.arange(n - 1)
    rows, cols, m_vals, s_vals, b_vals = [], [], [], [], []
    for g in (-1 / math.sqrt(3), 1 / math.sqrt(3)):
        xq = (x[:-1] + x[1:]) / 2 + g * dx / 2
        wq = dx / 2
        tq = torch.as_tensor(xq)[:, None]
        Aq = model.A(tq)[:, 0, 0].numpy()
        bq = model.b(tq)[:, 0].numpy()
        phi = ((x[1:] - xq) / dx, (xq - x[:-1]) / dx)
        dphi = (-1 / dx, 1 / dx)
        for a in range(2):
            for c in range(2):
                rows.append(idx + a)
                cols.append(idx + c)
                m_vals.append(wq * phi[a] * phi[c])
                s_vals.append(wq * Aq * dphi[a] * dphi[c])
                b_vals.append(wq * bq * dphi[c] * phi[a])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    mats = [sp.csr_matrix((np.concatenate(v), (rows, cols)), shape=(n, n)) for v in (m_vals, s_vals, b_vals)]
    return mats[0], mats[1], mats[2]


def fem_imex_1d(
    model: PricingPDE, T: float = 1.0, n_steps: int = 10, nodes: int | np.ndarray = 3001
) -> tuple[np.ndarray, np.ndarray]:
    """The implicit–explicit steps ``(M(1 + h r) + h S) U^k = M U^{k-1} - h B U^{k-1}`` with P1 elements.

    This is the exact minimizer of the step energy over piecewise-linear functions (natural
    boundary conditions), i.e. the TDGF time stepping with a finite-element space instead of a
    network. Returns ``(nodes, U)`` with ``U`` of shape ``(n_steps + 1, n)``. Claim TDGF-2.
    """
    model = _check_model(model)
    T = check_positive("T", T)
    n_steps = check_int("n_steps", n_steps)
    x = (
        np.linspace(model.lo[0], model.hi[0], check_int("nodes", nodes))
        if np.ndim(nodes) == 0
        else np.asarray(nodes, float)
    )
    M, S, B = fem_matrices(model, x)
    h = T / n_steps
    lu = spla.splu(((1 + h * model.r) * M + h * S).tocsc())
    U = np.empty((n_steps + 1, x.size))
    U[0] = model.payoff(torch.as_tensor(x)[:, None]).numpy()
    for k in range(1, n_steps + 1):
        U[k] = lu.solve(M @ U[k - 1] - h * (B @ U[k - 1]))
    return x, U
