"""Finite elements: the exact minimizers of the TDGF step energy over piecewise-linear functions.

The implicit–explicit steps of :mod:`gradflows.tdgf` with a P1 finite-element space in place of
a network: the reference for the time discretization (claim TDGF-2), sharing no code with the
networks it checks. One-dimensional models (:func:`fem_imex_1d`; notebooks
``05-tdgf/01-pdes-and-energies`` and ``05-tdgf/04-why-training-converges``) and the Heston model
with tensor-product elements (:func:`fem_imex_heston`; notebook ``05-tdgf/02-tdgf-vs-dgm``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from scipy.interpolate import RegularGridInterpolator

from ._validation import check_int, check_positive
from .pricing_pdes import Heston, PricingPDE, check_model

__all__ = [
    "fem_matrices",
    "fem_imex_1d",
    "TensorFEM",
    "fem_imex_heston",
    "fem_interpolate",
    "in_window",
    "window_max_error",
    "imex_error_table",
    "imex_error_over_steps",
]


def fem_matrices(model: PricingPDE, nodes: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """P1 finite elements on ``nodes`` (1-D model): mass ``M``, stiffness ``S_ij = int A phi_i' phi_j'``
    and transport ``B_ij = int b phi_j' phi_i``, by 2-point Gauss quadrature per element.

    The discrete step energy is
    ``I(u) = (u - U)^T M (u - U) / 2 + h (u^T S u / 2 + r u^T M u / 2 + u^T B U)``.
    """
    model = check_model(model)
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
    model = check_model(model)
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


def _p1_matrices(nodes: np.ndarray, weight) -> dict[str, sp.csr_matrix]:
    """1-D P1 matrices with a weight ``w`` (2-point Gauss rule per element): mass ``int w phi_i phi_j``,
    stiffness ``int w phi_i' phi_j'``, advection ``int w phi_i phi_j'``."""
    n, dx = nodes.size, np.diff(nodes)
    idx = np.arange(n - 1)
    rows, cols, vals = [], [], {"mass": [], "stiff": [], "adv": []}
    for g in (-1 / np.sqrt(3), 1 / np.sqrt(3)):
        xq = (nodes[:-1] + nodes[1:]) / 2 + g * dx / 2
        wq = dx / 2 * weight(xq)
        phi, dphi = ((nodes[1:] - xq) / dx, (xq - nodes[:-1]) / dx), (-1 / dx, 1 / dx)
        for a in range(2):
            for c in range(2):
                rows.append(idx + a)
                cols.append(idx + c)
                vals["mass"].append(wq * phi[a] * phi[c])
                vals["stiff"].append(wq * dphi[a] * dphi[c])
                vals["adv"].append(wq * phi[a] * dphi[c])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    return {k: sp.csr_matrix((np.concatenate(v), (rows, cols)), shape=(n, n)) for k, v in vals.items()}


class TensorFEM(NamedTuple):
    """Finite-element steps on a tensor grid: nodes ``S`` ``(n_S,)``, ``V`` ``(n_V,)`` and the
    nodal values ``U`` ``(n_steps + 1, n_S, n_V)`` (``U[0]`` the payoff)."""

    S: np.ndarray
    V: np.ndarray
    U: np.ndarray


def fem_imex_heston(model: Heston, T: float, n_steps: int, n_S: int = 301, n_V: int = 41) -> TensorFEM:
    """IMEX Euler steps ``(M(1 + h r) + h K) U^k = M U^{k-1} - h B U^{k-1}`` with tensor-product P1 elements.

    Every coefficient of the (tapered) Heston operator in divergence form is a power of ``S`` times
    a function of ``V`` (``A_SS = S^2 V / 2``, ``A_SV = S rho eta V chi / 2``, ``A_VV``,
    ``b_S = S g(V)``, ``b_V = q(V)``), so every matrix is a Kronecker product of 1-D matrices. The
    ``V``-profiles are read from ``model.A`` and ``model.b`` at ``S = 1``; the powers of ``S`` are
    the Heston structure. Natural boundary conditions, as in the energy. Claims TDGF-2 and TDGF-5.
    """
    if not isinstance(model, Heston):
        raise ValueError(
            f"fem_imex_heston needs a gradflows.pricing_pdes.Heston model, got {type(model).__name__}"
        )
    T, n_steps = check_positive("T", T), check_int("n_steps", n_steps)
    S = np.linspace(model.lo[0], model.hi[0], check_int("n_S", n_S, minimum=3))
    V = np.linspace(model.lo[1], model.hi[1], check_int("n_V", n_V, minimum=3))

    def profile(f):  # a coefficient as a function of V at S = 1
        return lambda v: f(torch.stack([torch.ones(v.size), torch.as_tensor(v)], 1)).numpy()

    mS = {p: _p1_matrices(S, lambda s, p=p: s**p) for p in (0, 1, 2)}
    aSS, aSV, aVV = (
        _p1_matrices(V, profile(lambda x, i=i, j=j: model.A(x)[:, i, j])) for i, j in ((0, 0), (0, 1), (1, 1))
    )
    bS, bV = (_p1_matrices(V, profile(lambda x, i=i: model.b(x)[:, i])) for i in (0, 1))
    mV = _p1_matrices(V, np.ones_like)["mass"]
    M = sp.kron(mS[0]["mass"], mV)
    K = (
        sp.kron(mS[2]["stiff"], aSS["mass"])  # A_SS = S^2 (V / 2)
        + sp.kron(mS[0]["mass"], aVV["stiff"])  # A_VV
        + sp.kron(mS[1]["adv"].T, aSV["adv"])  # A_SV = S (rho eta V chi / 2), both orders
        + sp.kron(mS[1]["adv"], aSV["adv"].T)
    )
    B = sp.kron(mS[1]["adv"], bS["mass"]) + sp.kron(mS[0]["mass"], bV["adv"])  # b_S = S g(V), b_V = q(V)
    h = T / n_steps
    lu = spla.splu(((1 + h * model.r) * M + h * K).tocsc())
    U = [np.repeat(np.maximum(S - model.K, 0.0), V.size)]
    for _ in range(n_steps):
        U.append(lu.solve(M @ U[-1] - h * (B @ U[-1])))
    return TensorFEM(S, V, np.array(U).reshape(n_steps + 1, S.size, V.size))


def fem_interpolate(fem: TensorFEM, k: int, x: torch.Tensor) -> torch.Tensor:
    """Bilinear interpolation of the step ``U^k`` of :func:`fem_imex_heston` at the rows ``(S, V)``
    of ``x``."""
    S, V, U = fem
    return torch.as_tensor(RegularGridInterpolator((S, V), U[k])(torch.as_tensor(x).numpy()))


def in_window(x: np.ndarray, lo: float = 0.8, hi: float = 1.2) -> np.ndarray:
    """Boolean mask of the nodes ``lo <= x <= hi`` (the error window of the chapter)."""
    x = np.asarray(x)
    return (x >= lo) & (x <= hi)


def window_max_error(
    model: PricingPDE, x: np.ndarray, U: np.ndarray, tau: float, lo: float = 0.8, hi: float = 1.2
) -> float:
    """Largest ``|U - model.reference|`` at time to maturity ``tau`` over the nodes ``lo <= x <= hi``
    (1-D model). Used in notebooks/05-tdgf/01."""
    x, U = np.asarray(x, float), np.asarray(U, float)
    if x.shape != U.shape or x.ndim != 1:
        raise ValueError(f"x and U must be 1-D arrays of the same shape, got {x.shape} and {U.shape}")
    sel = in_window(x, lo, hi)
    if not sel.any():
        raise ValueError(f"no node lies in the window [{lo}, {hi}]")
    return np.abs(U[sel] - model.reference(torch.as_tensor(x[sel])[:, None], tau).numpy()).max()


def imex_error_table(
    runs: dict, T: float, steps_list: tuple[int, ...], lo: float = 0.8, hi: float = 1.2
) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[np.ndarray, np.ndarray]]]]:
    """The TDGF-2 experiment: :func:`fem_imex_1d` for every ``name: (model, nodes)`` of ``runs`` and every
    number of steps, scored by :func:`window_max_error` at ``tau = T``.

    Returns ``(errors[name], final[name])``: the errors as an array over ``steps_list`` and the pairs
    ``(nodes, U^N)``. Used in notebooks/05-tdgf/01.
    """
    T = check_positive("T", T)
    err: dict[str, np.ndarray] = {}
    final: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name, (model, nodes) in runs.items():
        errs, final[name] = [], []
        for n in steps_list:
            x, U = fem_imex_1d(model, T, n, nodes)
            errs.append(window_max_error(model, x, U[-1], T, lo, hi))
            final[name].append((x, U[-1]))
        err[name] = np.array(errs)
    return err, final


def imex_error_over_steps(
    model: PricingPDE,
    T: float,
    steps_list: tuple[int, ...],
    nodes: int = 3001,
    window: tuple[float, float] = (0.8, 1.2),
    band: tuple[float, float] = (0.5, 2.0),
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """The error of :func:`fem_imex_1d` maximized over the steps ``k = 1..N``, for each ``N``.

    Two norms against ``model.reference(., k T / N)``: the sup norm over ``window`` and the L2 norm
    (trapezoidal rule) over ``band``. Returns ``(sup errors, L2 errors, [(k of the sup maximum, k of the
    L2 maximum)])``; remark on the kinked payoff in notebooks/05-tdgf/01.
    """
    T = check_positive("T", T)
    first_sup, first_l2, worst_k = [], [], []
    for n in steps_list:
        x, U = fem_imex_1d(model, T, n, nodes)
        sel, sel_band = in_window(x, *window), in_window(x, *band)
        sup_k, l2_k = [], []
        for k in range(1, n + 1):
            e_k = U[k] - model.reference(torch.as_tensor(x)[:, None], k * T / n).numpy()
            sup_k.append(np.abs(e_k[sel]).max())
            l2_k.append(np.sqrt(np.trapezoid(e_k[sel_band] ** 2, x[sel_band])))
        first_sup.append(max(sup_k))
        first_l2.append(max(l2_k))
        worst_k.append((int(np.argmax(sup_k)) + 1, int(np.argmax(l2_k)) + 1))
    return np.array(first_sup), np.array(first_l2), worst_k
