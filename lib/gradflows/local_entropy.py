"""Local entropy, its local Gibbs measure and the entropic gradient, by quadrature on a grid.

For a loss ``f`` on ``R^d`` and a coupling ``gamma > 0`` the *local entropy* is

``F(x, gamma) = log int exp(-f(y) - gamma |x - y|^2 / 2) dy``                         (LE)

the log-partition function of the *local Gibbs measure*

``rho(dy; x) = exp(-f(y) - gamma |x - y|^2 / 2) dy / Z(x)``,                           (G)

whose mean ``<y>_x`` gives the *entropic gradient* ``grad_x F(x, gamma) = -gamma (x - <y>_x)`` (EG):
no derivative of ``f`` is needed; one more derivative gives the Hessian
``D^2_x F = -gamma I + gamma^2 Cov_rho(y) >= -gamma I`` (LH).
``rho(.; x)`` is the invariant measure of the fast Langevin process
``dY = -grad_y (f(Y) + gamma |x - Y|^2 / 2) dt + sqrt(2) dW`` (E).

Everything here is computed for a batch of points ``x`` at once by a uniform tensor-product rule on
the box ``[lo, hi]^d`` (``n_points`` nodes per axis) in log-sum-exp form, so that neither ``exp(-f)``
nor ``Z`` overflows. For an integrand that is smooth and negligible on the boundary of the box the
uniform rule converges faster than any power of the node spacing; the functions check that the
integrand on the boundary of the box is below ``1e-10`` times its maximum and raise otherwise.
Notebooks ``04-global/02-local-entropy``, ``04-global/03-deep-relaxation`` and
``04-global/04-homogenization``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._validation import (
    all_finite,
    as_tensor,
    check_callable,
    check_finite,
    check_int,
    check_ndim,
    check_positive,
    check_real,
)

__all__ = [
    "local_entropy",
    "gibbs_mean",
    "entropic_gradient",
    "local_gibbs_weights",
    "quadrature_nodes",
    "local_entropy_hessian",
]

Tensor = torch.Tensor

#: Largest number of (point, node) pairs evaluated at once.
_PAIRS = 1 << 22
#: Largest ratio of the integrand on the boundary of the quadrature box to its maximum.
_BOUNDARY_MASS = 1e-10


def quadrature_nodes(
    d: int, lo: float = -6.0, hi: float = 6.0, n_points: int = 801, *, dtype=None, device=None
) -> tuple[Tensor, float, Tensor]:
    """The nodes ``(n_points^d, d)`` of the uniform rule on ``[lo, hi]^d``, ``log`` of the cell volume,
    and a boolean mask of the nodes on the boundary of the box. At most ``2^24`` nodes (``ValueError``).
    """
    d = check_int("d", d)
    n_points = check_int("n_points", n_points, minimum=3)
    lo, hi = check_real("lo", lo), check_real("hi", hi)
    if not lo < hi:
        raise ValueError(f"the quadrature box needs finite lo < hi, got lo={lo!r}, hi={hi!r}")
    if not math.isfinite((hi - lo) / (n_points - 1)):
        raise ValueError(f"the quadrature box [{lo:g}, {hi:g}] is too wide for floating point")
    if d * math.log2(n_points) > 24:  # n_points**d without computing it (d may be absurd)
        raise ValueError(f"{n_points}^{d} quadrature nodes are too many: lower n_points (or d <= 2)")
    dtype = _float_dtype(dtype)
    try:
        device = torch.device(device) if device is not None else None
    except (TypeError, RuntimeError) as err:
        raise ValueError(f"device must be a torch.device or a device name such as 'cpu': {err}") from None
    axis = torch.linspace(lo, hi, n_points, dtype=dtype or torch.get_default_dtype(), device=device)
    grids = torch.meshgrid(*([axis] * d), indexing="ij")
    nodes = torch.stack([g.reshape(-1) for g in grids], -1)
    edge = ((nodes == lo) | (nodes == hi)).any(-1)
    return nodes, d * math.log((hi - lo) / (n_points - 1)), edge


def _float_dtype(dtype):
    """``dtype`` if it is None, float32 or float64; ``TypeError`` otherwise."""
    if dtype is not None and dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32, torch.float64 or None, got {dtype!r}")
    return dtype


def _check_args(f, x, gamma) -> tuple[Tensor, float]:
    check_callable("f", f)
    x = as_tensor("x", x)
    if x.ndim == 1:
        x = x[:, None]
    x = check_finite("x", check_ndim("x", x, 2))
    return x, check_positive("gamma", gamma)


def _log_integrand_chunks(f, x: Tensor, gamma: float, lo: float, hi: float, n_points: int):
    """Yield ``(rows, L)`` with ``L[i, j] = -f(y_j) - gamma |x_i - y_j|^2 / 2`` over the nodes ``y_j``."""
    nodes, log_cell, edge = quadrature_nodes(x.shape[1], lo, hi, n_points, dtype=x.dtype, device=x.device)
    fy = f(nodes)
    if not isinstance(fy, Tensor) or fy.shape != nodes.shape[:1]:
        got = tuple(fy.shape) if isinstance(fy, Tensor) else type(fy).__name__
        raise ValueError(f"f must map shape (n, d) to (n,): got {got} for {tuple(nodes.shape)}")
    if not all_finite(fy):
        raise ValueError("f is not finite on the quadrature box: choose lo and hi inside its domain")
    rows = max(1, _PAIRS // nodes.shape[0])
    for start in range(0, x.shape[0], rows):
        xi = x[start : start + rows]
        L = -fy - 0.5 * gamma * torch.cdist(xi, nodes).square()
        top = L.max(1).values
        if not all_finite(top):
            raise ValueError(
                f"the local Gibbs measure vanishes at every node of the grid on [{lo:g}, {hi:g}]^d: put the "
                "points x inside the box, lower gamma or increase n_points"
            )
        if bool(((L[:, edge].max(1).values - top) > math.log(_BOUNDARY_MASS)).any()):
            raise ValueError(
                f"the local Gibbs measure is not negligible on the boundary of [{lo:g}, {hi:g}]^d: "
                "widen the box (lo, hi) or increase gamma"
            )
        yield slice(start, start + rows), L, nodes, log_cell


def local_entropy(
    f: Callable[[Tensor], Tensor], x, gamma: float, *, lo: float = -6.0, hi: float = 6.0, n_points: int = 801
) -> Tensor:
    """``F(x, gamma) = log int exp(-f(y) - gamma |x - y|^2 / 2) dy`` (LE) at points ``x``.

    ``x``: ``(m, d)``, or ``(m,)`` for ``m`` points on the line. Returns ``(m,)``. Quadrature on
    ``[lo, hi]^d`` with ``n_points`` nodes per axis (see the module).
    Notebook ``04-global/02-local-entropy``.
    """
    x, gamma = _check_args(f, x, gamma)
    out = torch.empty(x.shape[0], dtype=x.dtype, device=x.device)
    for rows, L, _, log_cell in _log_integrand_chunks(f, x, gamma, lo, hi, n_points):
        out[rows] = torch.logsumexp(L, 1) + log_cell
    return out


def local_gibbs_weights(
    f: Callable[[Tensor], Tensor], x, gamma: float, *, lo: float = -6.0, hi: float = 6.0, n_points: int = 801
) -> tuple[Tensor, Tensor]:
    """The quadrature nodes ``(N, d)`` and the weights ``(m, N)`` of the local Gibbs measures (G).

    Row ``i`` sums to one: ``int g(y) rho(dy; x_i) ~ weights[i] @ g(nodes)`` for any ``g``.
    Notebooks ``04-global/02-local-entropy`` and ``04-global/04-homogenization``.
    """
    x, gamma = _check_args(f, x, gamma)
    parts, grid = [], None
    for _, L, grid, _ in _log_integrand_chunks(f, x, gamma, lo, hi, n_points):  # noqa: B007 (the nodes)
        parts.append(torch.softmax(L, 1))
    return grid, torch.cat(parts)


def gibbs_mean(
    f: Callable[[Tensor], Tensor], x, gamma: float, *, lo: float = -6.0, hi: float = 6.0, n_points: int = 801
) -> Tensor:
    """The mean ``<y>_x = int y rho(dy; x)`` of the local Gibbs measure (G), shape ``(m, d)``.

    Notebooks ``04-global/02-local-entropy`` and ``04-global/03-deep-relaxation``.
    """
    x, gamma = _check_args(f, x, gamma)
    out = torch.empty_like(x)
    for rows, L, nodes, _ in _log_integrand_chunks(f, x, gamma, lo, hi, n_points):
        out[rows] = torch.softmax(L, 1) @ nodes
    return out


def entropic_gradient(
    f: Callable[[Tensor], Tensor], x, gamma: float, *, lo: float = -6.0, hi: float = 6.0, n_points: int = 801
) -> Tensor:
    """``grad_x F(x, gamma) = -gamma (x - <y>_x)`` (EG), shape ``(m, d)``: an average, no ``grad f``.

    Its flow ``x' = grad_x F`` is the *entropic gradient descent* (S) -- an ascent of ``F``, i.e. a
    descent of ``-F``. Notebooks ``04-global/02-local-entropy`` and ``04-global/03-deep-relaxation``.
    """
    x, gamma = _check_args(f, x, gamma)
    return _finite_result(
        "the entropic gradient", -gamma * (x - gibbs_mean(f, x, gamma, lo=lo, hi=hi, n_points=n_points))
    )


def local_entropy_hessian(
    f: Callable[[Tensor], Tensor], x, gamma: float, *, lo: float = -6.0, hi: float = 6.0, n_points: int = 801
) -> Tensor:
    """``D^2_x F(x, gamma) = -gamma I + gamma^2 Cov_rho(y)`` (LH), shape ``(m, d, d)``.

    Differentiating (EG) once more: ``d/dx <y>_x = gamma Cov_rho(y)``. The covariance is positive
    semi-definite, so ``D^2 F >= -gamma I`` whatever ``f`` is: ``-F(., gamma)`` is ``gamma``-semiconcave.
    Quadrature as in :func:`local_entropy`. Notebook ``04-global/02-local-entropy``.
    """
    x, gamma = _check_args(f, x, gamma)
    nodes, w = local_gibbs_weights(f, x, gamma, lo=lo, hi=hi, n_points=n_points)
    mean = w @ nodes
    cov = torch.empty(x.shape[0], x.shape[1], x.shape[1], dtype=w.dtype, device=w.device)
    rows = max(1, _PAIRS // nodes.shape[0])
    for i in range(0, x.shape[0], rows):  # centred at the mean: no cancellation when Cov ~ 1/gamma is small
        c = nodes[None, :, :] - mean[i : i + rows, None, :]
        cov[i : i + rows] = torch.einsum("mn,mni,mnj->mij", w[i : i + rows], c, c)
    eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
    try:
        gamma2 = gamma**2
    except OverflowError:
        raise ValueError(f"gamma = {gamma:g} is too large: gamma^2 overflows") from None
    return _finite_result("the Hessian", -gamma * eye + gamma2 * cov)


def _finite_result(what: str, out: Tensor) -> Tensor:
    """``out``, or ``ValueError`` if it overflowed (gamma or the points too large for the arithmetic)."""
    if not all_finite(out):
        raise ValueError(f"{what} is not finite: gamma or the points x are too large for the arithmetic")
    return out
