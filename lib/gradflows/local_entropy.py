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

from ._validation import as_tensor, check_finite, check_int, check_ndim, check_positive

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
    and a boolean mask of the nodes on the boundary of the box.
    """
    d = check_int("d", d)
    n_points = check_int("n_points", n_points, minimum=3)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"the quadrature box needs finite lo < hi, got lo={lo!r}, hi={hi!r}")
    if n_points**d > 1 << 24:
        raise ValueError(f"{n_points}^{d} quadrature nodes are too many: lower n_points (or d <= 2)")
    axis = torch.linspace(lo, hi, n_points, dtype=dtype or torch.get_default_dtype(), device=device)
    grids = torch.meshgrid(*([axis] * d), indexing="ij")
    nodes = torch.stack([g.reshape(-1) for g in grids], -1)
    edge = ((nodes == lo) | (nodes == hi)).any(-1)
    return nodes, d * math.log((hi - lo) / (n_points - 1)), edge


def _check_args(f, x, gamma) -> tuple[Tensor, float]:
    if not callable(f):
        raise ValueError(
            f"f must be a callable y -> f(y) on tensors of shape (..., d), got {type(f).__name__}"
        )
    x = as_tensor("x", x)
    if x.ndim == 1:
        x = x[:, None]
    x = check_finite("x", check_ndim("x", x, 2))
    return x, check_positive("gamma", gamma)


def _log_integrand_chunks(f, x: Tensor, gamma: float, lo: float, hi: float, n_points: int):
    """Yield ``(rows, L)`` with ``L[i, j] = -f(y_j) - gamma |x_i - y_j|^2 / 2`` over the nodes ``y_j``."""
    nodes, log_cell, edge = quadrature_nodes(x.shape[1], lo, hi, n_points, dtype=x.dtype, device=x.device)
    fy = f(nodes)
    if fy.shape != nodes.shape[:1]:
        raise ValueError(f"f must map shape (n, d) to (n,): got {tuple(fy.shape)} for {tuple(nodes.shape)}")
    if not bool(torch.isfinite(fy).all()):
        raise ValueError("f is not finite on the quadrature box: choose lo and hi inside its domain")
    rows = max(1, _PAIRS // nodes.shape[0])
    for start in range(0, x.shape[0], rows):
        xi = x[start : start + rows]
        L = -fy - 0.5 * gamma * torch.cdist(xi, nodes).square()
        top = L.max(1).values
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
    return -gamma * (x - gibbs_mean(f, x, gamma, lo=lo, hi=hi, n_points=n_points))


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
    return -gamma * eye + gamma**2 * cov
