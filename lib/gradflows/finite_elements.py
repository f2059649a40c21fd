"""Finite elements: the exact minimizers of the TDGF step energy over piecewise-linear functions.

The implicit–explicit steps of :mod:`gradflows.tdgf` with a P1 finite-element space in place of
a network: the reference for the time discretization (claim TDGF-2), sharing no code with the
networks it checks. One-dimensional models (:func:`fem_imex_1d`; notebooks
``05-tdgf/01-pdes-and-energies`` and ``05-tdgf/04-why-training-converges``) and the Heston model
with tensor-product elements (:func:`fem_imex_heston`; notebook ``05-tdgf/02-tdgf-vs-dgm``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch
from scipy.interpolate import RegularGridInterpolator

from ._errors import DivergenceError
from ._validation import check_int, check_memory, check_nonnegative, check_positive, check_real
from .pricing_pdes import Heston, PricingPDE, _real_array, check_model

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
    model = _check_1d(model)
    x = _real_array("nodes", nodes, ndim=1, nonempty=False)
    if x.size < 3 or not np.all(np.diff(x) > 0):
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
    if not all(np.isfinite(m.data).all() for m in mats):
        raise ValueError(
            "the finite-element matrices overflow: the nodes are too large or too close together"
        )
    return mats[0], mats[1], mats[2]


def _check_1d(model) -> PricingPDE:
    model = check_model(model)
    if model.dim != 1:
        raise ValueError(f"finite elements are implemented for 1-D models only, got d={model.dim}")
    return model


def _check_steps(what: str, U: np.ndarray, k: int) -> None:
    """Raise :class:`~gradflows.DivergenceError` if step ``k`` of ``what`` is not finite."""
    if not np.isfinite(U).all():
        raise DivergenceError(
            f"{what} diverged: U became NaN/inf at step {k}; use a smaller T / n_steps or finer nodes"
        )


def _window(name: str, lo, hi) -> tuple[float, float]:
    lo, hi = (
        check_real(f"{name} lower end" if name else "lo", lo),
        check_real(f"{name} upper end" if name else "hi", hi),
    )
    if lo > hi:
        raise ValueError(f"{name or 'the window'} must have lo <= hi, got [{lo}, {hi}]")
    return lo, hi


def _pair(name: str, value) -> tuple[float, float]:
    """A window ``(lo, hi)`` given as a pair of numbers."""
    if not isinstance(value, Sequence | np.ndarray) or isinstance(value, str | bytes) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (lo, hi) of numbers, got {value!r}")
    return _window(name, value[0], value[1])


def _steps_list(steps_list) -> list[int]:
    if not isinstance(steps_list, Sequence | np.ndarray) or isinstance(steps_list, str | bytes):
        raise TypeError(f"steps_list must be a sequence of numbers of steps, got {steps_list!r}")
    if len(steps_list) == 0:
        raise ValueError("steps_list must not be empty")
    return [check_int(f"steps_list[{i}]", n) for i, n in enumerate(steps_list)]


def fem_imex_1d(
    model: PricingPDE, T: float = 1.0, n_steps: int = 10, nodes: int | np.ndarray = 3001
) -> tuple[np.ndarray, np.ndarray]:
    """The implicit–explicit steps ``(M(1 + h r) + h S) U^k = M U^{k-1} - h B U^{k-1}`` with P1 elements.

    This is the exact minimizer of the step energy over piecewise-linear functions (natural
    boundary conditions), i.e. the TDGF time stepping with a finite-element space instead of a
    network. Returns ``(nodes, U)`` with ``U`` of shape ``(n_steps + 1, n)``. Claim TDGF-2.
    """
    model = _check_1d(model)
    T = check_positive("T", T)
    n_steps = check_int("n_steps", n_steps)
    if np.ndim(nodes) == 0:
        n_nodes = check_int("nodes", nodes, minimum=3)
        check_memory(f"U for n_steps={n_steps} and {n_nodes} nodes", (n_steps + 1) * n_nodes)
        x = np.linspace(model.lo[0], model.hi[0], n_nodes)
    else:
        x = _real_array("nodes", nodes, ndim=1, nonempty=False)
        check_memory(f"U for n_steps={n_steps} and {x.size} nodes", (n_steps + 1) * x.size)
    M, S, B = fem_matrices(model, x)
    h = T / n_steps
    lu = _splu("fem_imex_1d", (1 + h * model.r) * M + h * S)
    U = np.empty((n_steps + 1, x.size))
    U[0] = model.payoff(torch.as_tensor(x)[:, None]).numpy()
    for k in range(1, n_steps + 1):
        U[k] = lu.solve(M @ U[k - 1] - h * (B @ U[k - 1]))
        _check_steps("fem_imex_1d", U[k], k)
    return x, U


def _splu(what: str, matrix: sp.spmatrix):
    """The sparse LU factors of the step matrix; a clear error if they cannot be computed."""
    if not np.isfinite(matrix.data).all():
        raise DivergenceError(f"{what}: the step matrix overflows; use a smaller T / n_steps")
    try:
        return spla.splu(matrix.tocsc())
    except RuntimeError as err:  # "Factor is exactly singular"
        raise DivergenceError(
            f"{what}: the step matrix is singular ({err}); use a smaller T / n_steps"
        ) from None


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


class _TensorFEM(NamedTuple):
    S: np.ndarray
    V: np.ndarray
    U: np.ndarray


class TensorFEM(_TensorFEM):
    """Finite-element steps on a tensor grid: nodes ``S`` ``(n_S,)``, ``V`` ``(n_V,)`` and the
    nodal values ``U`` ``(n_steps + 1, n_S, n_V)`` (``U[0]`` the payoff).

    The constructor checks the shapes (nodes increasing, at least 2 of each) and converts lists
    and tensors to float64 NumPy arrays."""

    __slots__ = ()

    def __new__(cls, S: np.ndarray, V: np.ndarray, U: np.ndarray) -> TensorFEM:
        S, V = (_real_array(name, v, ndim=1, nonempty=False) for name, v in (("S", S), ("V", V)))
        for name, v in (("S", S), ("V", V)):
            if v.size < 2 or not np.all(np.diff(v) > 0):
                raise ValueError(f"{name} must be an increasing 1-D array of at least 2 nodes, got {v.size}")
        U = _real_array("U", U, ndim=3, nonempty=False)
        if U.shape[0] < 1 or U.shape[1:] != (S.size, V.size):
            raise ValueError(f"U must have shape (n_steps + 1, {S.size}, {V.size}), got {U.shape}")
        return super().__new__(cls, S, V, U)


def fem_imex_heston(model: Heston, T: float, n_steps: int, n_S: int = 301, n_V: int = 41) -> TensorFEM:
    """IMEX Euler steps ``(M(1 + h r) + h K) U^k = M U^{k-1} - h B U^{k-1}`` with tensor-product P1 elements.

    Every coefficient of the (tapered) Heston operator in divergence form is a power of ``S`` times
    a function of ``V`` (``A_SS = S^2 V / 2``, ``A_SV = S rho eta V chi / 2``, ``A_VV``,
    ``b_S = S g(V)``, ``b_V = q(V)``), so every matrix is a Kronecker product of 1-D matrices. The
    ``V``-profiles are read from ``model.A`` and ``model.b`` at ``S = 1``; the powers of ``S`` are
    the Heston structure. Natural boundary conditions, as in the energy. Claims TDGF-2 and TDGF-5.
    """
    if not isinstance(model, Heston):
        raise TypeError(
            f"fem_imex_heston needs a gradflows.pricing_pdes.Heston model, got {type(model).__name__}"
        )
    T, n_steps = check_positive("T", T), check_int("n_steps", n_steps)
    n_S, n_V = check_int("n_S", n_S, minimum=3), check_int("n_V", n_V, minimum=3)
    check_memory(f"a grid of n_S x n_V = {n_S} x {n_V} nodes", 40 * n_S * n_V)  # the Kronecker products
    check_memory(f"U for n_steps={n_steps} on {n_S} x {n_V} nodes", (n_steps + 1) * n_S * n_V)
    S = np.linspace(model.lo[0], model.hi[0], n_S)
    V = np.linspace(model.lo[1], model.hi[1], n_V)

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
    lu = _splu("fem_imex_heston", ((1 + h * model.r) * M + h * K).tocsc())
    U = [np.repeat(np.maximum(S - model.K, 0.0), V.size)]
    for k in range(1, n_steps + 1):
        U.append(lu.solve(M @ U[-1] - h * (B @ U[-1])))
        _check_steps("fem_imex_heston", U[-1], k)
    return TensorFEM(S, V, np.array(U).reshape(n_steps + 1, S.size, V.size))


def fem_interpolate(fem: TensorFEM, k: int, x: torch.Tensor) -> torch.Tensor:
    """Bilinear interpolation of the step ``U^k`` of :func:`fem_imex_heston` at the rows ``(S, V)``
    of ``x`` (inside the grid)."""
    if not isinstance(fem, TensorFEM):
        if not isinstance(fem, tuple | list) or len(fem) != 3:
            raise TypeError(
                f"fem must be a TensorFEM (the result of fem_imex_heston), got {type(fem).__name__}"
            )
        fem = TensorFEM(*fem)
    S, V, U = fem
    k = check_int("k", k, minimum=0, maximum=U.shape[0] - 1)
    pts = _real_array("x", x, ndim=2, nonempty=False)
    if pts.shape[1] != 2:
        raise ValueError(f"x must have shape (n, 2) (rows (S, V)), got {pts.shape}")
    inside = (pts[:, 0] >= S[0]) & (pts[:, 0] <= S[-1]) & (pts[:, 1] >= V[0]) & (pts[:, 1] <= V[-1])
    if not inside.all():
        raise ValueError(f"x must lie in the grid [{S[0]:g}, {S[-1]:g}] x [{V[0]:g}, {V[-1]:g}]")
    return torch.as_tensor(RegularGridInterpolator((S, V), U[k])(pts))


def in_window(x: np.ndarray, lo: float = 0.8, hi: float = 1.2) -> np.ndarray:
    """Boolean mask of the nodes ``lo <= x <= hi`` (the error window of the chapter)."""
    lo, hi = _window("", lo, hi)
    x = _real_array("x", x, ndim=range(33), nonempty=False)
    return (x >= lo) & (x <= hi)


def window_max_error(
    model: PricingPDE, x: np.ndarray, U: np.ndarray, tau: float, lo: float = 0.8, hi: float = 1.2
) -> float:
    """Largest ``|U - model.reference|`` at time to maturity ``tau`` over the nodes ``lo <= x <= hi``
    (1-D model). Used in notebooks/05-tdgf/01."""
    model = _check_1d(model)
    x, U = _real_array("x", x, ndim=1), _real_array("U", U, ndim=1)
    if x.shape != U.shape:
        raise ValueError(f"x and U must be 1-D arrays of the same shape, got {x.shape} and {U.shape}")
    check_nonnegative("tau", tau)
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
    steps_list = _steps_list(steps_list)
    _window("", lo, hi)
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(f"runs must be a non-empty dict {{name: (model, nodes)}}, got {runs!r}")
    for name, run in runs.items():
        if not isinstance(run, Sequence) or isinstance(run, str | bytes) or len(run) != 2:
            raise TypeError(f"runs[{name!r}] must be a pair (model, nodes), got {run!r}")
        _check_1d(run[0])
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
    model = _check_1d(model)
    T = check_positive("T", T)
    steps_list = _steps_list(steps_list)
    window, band = _pair("window", window), _pair("band", band)
    first_sup, first_l2, worst_k = [], [], []
    for n in steps_list:
        x, U = fem_imex_1d(model, T, n, nodes)
        sel, sel_band = in_window(x, *window), in_window(x, *band)
        if not sel.any() or sel_band.sum() < 2:
            raise ValueError(
                f"window {window} must hold a node and band {band} at least two of the {x.size} nodes"
            )
        sup_k, l2_k = [], []
        for k in range(1, n + 1):
            e_k = U[k] - model.reference(torch.as_tensor(x)[:, None], k * T / n).numpy()
            sup_k.append(np.abs(e_k[sel]).max())
            l2_k.append(np.sqrt(np.trapezoid(e_k[sel_band] ** 2, x[sel_band])))
        first_sup.append(max(sup_k))
        first_l2.append(max(l2_k))
        worst_k.append((int(np.argmax(sup_k)) + 1, int(np.argmax(l2_k)) + 1))
    return np.array(first_sup), np.array(first_l2), worst_k
