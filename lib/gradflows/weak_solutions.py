"""Gradient flows of non-smooth functions: weak (Kruzkov-type) solutions.

For ``J(w) = |w|`` the ODE ``w' = -sign(w)`` (5.34) has no classical solution
through ``w = 0``; its weak solution (Definition 5.6.2, Lemma 5.6.7) is
``w(t) = sign(w0) (|w0| - t)_+``. It is the limit of the smooth flows of
``J_eps(w) = sqrt(w^2 + eps^2)``, and it is characterised by the family of
inequalities (5.44), which :func:`kruzkov_functional` evaluates by quadrature.
Notebook ``01-sgd/04-regularity``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._errors import DivergenceError
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_finite,
    check_int,
    check_ndim,
    check_positive,
    check_real,
)

# the largest ``trailing``: a tensor has at most 64 dimensions in torch
_MAX_DIMS = 64


def _broadcast(w0: torch.Tensor, t: torch.Tensor) -> None:
    # by hand: the first call of torch.broadcast_shapes takes a second (it imports torch._refs)
    for a, b in zip(reversed(w0.shape), reversed(t.shape), strict=False):
        if a != b and a != 1 and b != 1:
            raise ValueError(
                "w0 and t must broadcast against each other, "
                f"got shapes {tuple(w0.shape)} and {tuple(t.shape)}"
            )


def _argument(name: str, w, like: torch.Tensor | None = None) -> torch.Tensor:
    """The argument of an objective: tensors and arrays keep their dtype and device, lists take ``like``'s."""
    return as_tensor(name, w) if isinstance(w, torch.Tensor | np.ndarray) else as_tensor(name, w, like=like)


def _finite_value(what: str, name: str, value: torch.Tensor) -> torch.Tensor:
    """``value``, or :class:`~gradflows.DivergenceError` if it has NaN or infinite entries (inside a
    dynamics: the iteration diverged)."""
    if not all_finite(value):
        raise DivergenceError(
            f"{what} is not finite: {name} has NaN or infinite entries, or entries so large that the value "
            f"overflows; if {name} comes from an iteration, the iteration diverged: try a smaller step"
        )
    return value


__all__ = [
    "weak_solution_abs",
    "smoothed_abs",
    "smoothed_abs_flow",
    "kruzkov_functional",
    "smoothed_abs_rows",
]


def weak_solution_abs(w0, t) -> torch.Tensor:
    """The weak solution (5.43) ``sign(w0) (|w0| - t)_+`` of ``w' = -sign(w)``.

    Broadcasts ``w0`` against ``t`` (``t >= 0``).
    """
    w0 = check_finite("w0", as_tensor("w0", w0))
    t = check_finite("t", as_tensor("t", t, w0.dtype))
    if bool((t < 0).any()):
        raise ValueError("t must be >= 0")
    _broadcast(w0, t)
    return torch.sign(w0) * torch.clamp(w0.abs() - t, min=0)


def smoothed_abs(eps: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J_eps(w) = sum_j sqrt(w_j^2 + eps^2)``: a smooth convex approximation of ``|w|_1``."""
    eps = check_positive("eps", eps)

    def J(w: torch.Tensor) -> torch.Tensor:
        w = _argument("w", w)
        return _finite_value("the smoothed |w|, J_eps(w),", "w", torch.sqrt(w * w + eps * eps).sum(-1))

    return J


def smoothed_abs_flow(w0, t, eps: float) -> torch.Tensor:
    """Exact solution of the smoothed flow ``w' = -w / sqrt(w^2 + eps^2)`` in 1-D.

    Along the flow ``G(w) = sqrt(w^2+eps^2) + eps log(|w| / (eps + sqrt(w^2+eps^2)))``
    decreases at unit speed, ``G(w(t)) = G(w0) - t``; ``G`` is increasing in ``|w|``
    on ``(0, inf)`` and the equation is inverted by bisection (60 halvings, to
    round-off). Broadcasts ``w0`` against ``t``. Used as a closed-form reference
    for the numerical smoothed flows in notebook ``01-sgd/04-regularity``.
    """
    eps = check_positive("eps", eps)
    w0 = check_finite("w0", as_tensor("w0", w0))
    t = check_finite("t", as_tensor("t", t, w0.dtype))
    if bool((t < 0).any()):
        raise ValueError("t must be >= 0")
    _broadcast(w0, t)
    w0, t = torch.broadcast_tensors(w0, t)

    def G(a):
        r = torch.sqrt(a * a + eps * eps)
        return r + eps * torch.log(a / (eps + r))

    a0 = w0.abs()
    target = G(a0.clamp_min(torch.finfo(a0.dtype).tiny)) - t
    lo = torch.zeros_like(a0)
    hi = a0.clone()
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = G(mid.clamp_min(torch.finfo(a0.dtype).tiny)) < target
        lo = torch.where(below, mid, lo)
        hi = torch.where(below, hi, mid)
    return torch.sign(w0) * 0.5 * (lo + hi)


def kruzkov_functional(
    w: torch.Tensor,
    t: torch.Tensor,
    w0: float,
    y: torch.Tensor,
    phi: torch.Tensor,
    dphi: torch.Tensor,
) -> torch.Tensor:
    """Left-hand side of the weak formulation (5.44) for ``J = |.|`` by trapezoidal quadrature.

    ``int_0^T [ (w - y)^2/2 phi' + (|y| - |w|) phi ] dt + (w0 - y)^2/2 phi(0)``

    ``w`` and the test functions are sampled on the grid ``t`` (shape ``(m,)``,
    starting at 0; ``phi`` must vanish at ``t[-1]``). ``phi`` and ``dphi`` have
    shape ``(k, m)`` (a family of test functions) or ``(m,)``; ``y`` has shape
    ``(p,)``. Returns shape ``(k, p)``. A function ``w`` is a weak solution when
    the result is ``>= 0`` for every admissible ``phi >= 0`` and every ``y``.
    """
    t = check_ndim("t", check_finite("t", as_tensor("t", t)), 1)
    w = check_ndim("w", check_finite("w", as_tensor("w", w, t.dtype)), 1)
    y = check_ndim("y", check_finite("y", as_tensor("y", y, t.dtype)), 1)
    phi = check_finite("phi", as_tensor("phi", phi, t.dtype))
    dphi = check_finite("dphi", as_tensor("dphi", dphi, t.dtype))
    w0 = check_real("w0", w0)
    if phi.ndim == 1:
        phi, dphi = phi[None], dphi[None]
    if w.shape != t.shape or phi.shape[-1] != t.shape[0] or dphi.shape != phi.shape:
        raise ValueError("w, phi and dphi must be sampled on the grid t (same last dimension)")
    if bool((phi < 0).any()):
        raise ValueError("test functions phi must be non-negative")
    wy = w[None, :] - y[:, None]  # (p, m)
    integrand = (0.5 * wy**2)[None] * dphi[:, None, :] + (y.abs()[:, None] - w.abs()[None, :])[None] * phi[
        :, None, :
    ]  # (k, p, m)
    integral = torch.trapezoid(integrand, t, dim=-1)
    out = integral + (0.5 * (w0 - y) ** 2)[None, :] * phi[:, :1]
    if not all_finite(out):
        raise ValueError("the Kruzkov functional overflows: w, w0, y, phi or dphi have entries too large")
    return out


def smoothed_abs_rows(eps, trailing: int = 1) -> tuple[Callable, Callable]:
    """``J(W) = sum_j sqrt(w_j^2 + eps_i^2)`` with a different ``eps_i`` on each row ``i`` of ``W``, and
    its gradient.

    ``W`` has shape ``(len(eps), ..., q)`` with ``trailing`` dimensions after the first (the last
    one summed); row ``i`` equals :func:`smoothed_abs` with ``eps[i]``. Many smoothings integrated
    as one system in notebook ``01-sgd/04-regularity``.
    """
    E = as_real_tensor("eps", eps, ndim=1)
    if bool((E <= 0).any()):
        raise ValueError("every eps must be > 0")
    trailing = check_int("trailing", trailing, maximum=_MAX_DIMS - 1)
    R = E.shape[0]
    E = E.reshape(-1, *([1] * trailing))

    def _rows(W) -> torch.Tensor:
        W = _argument("W", W, E)
        if W.ndim < 1 + trailing or W.shape[-1 - trailing] not in (1, R):
            raise ValueError(
                f"W must have shape (len(eps)={R} or 1, ...) with {trailing} dimension(s) after the first, "
                f"got shape {tuple(W.shape)}"
            )
        return W

    def J(W: torch.Tensor) -> torch.Tensor:
        W = _rows(W)
        return _finite_value("the smoothed |W|, J(W),", "W", torch.sqrt(W * W + E * E).sum(-1))

    def grad(W: torch.Tensor) -> torch.Tensor:
        W = _rows(W)
        return _finite_value("the gradient of the smoothed |W|", "W", W / torch.sqrt(W * W + E * E))

    return J, grad
