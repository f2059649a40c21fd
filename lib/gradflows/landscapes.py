"""Test objectives ``J: (..., q) -> (...)`` used as loss landscapes in several chapters.

All are vectorized over leading dimensions so that many initial conditions or
particles are evaluated at once. Notebooks ``01-sgd/*`` (and later chapters).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._validation import as_tensor, check_finite, check_ndim, check_positive

__all__ = ["quadratic", "rosenbrock", "double_well", "tilted_double_well", "six_hump"]


def quadratic(A, W_star=None) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(W) = 1/2 <A (W - W*), W - W*>`` for a symmetric positive semi-definite ``A``.

    Its Hessian is ``A``: with eigenvalues in ``[alpha, beta]`` it satisfies (5.4).
    """
    A = check_finite("A", check_ndim("A", as_tensor("A", A), 2))
    q = A.shape[0]
    if A.shape != (q, q) or not torch.allclose(A, A.T, atol=1e-12 * (1 + A.abs().max())):
        raise ValueError(f"A must be a symmetric square matrix, got shape {tuple(A.shape)}")
    Ws = torch.zeros(q, dtype=A.dtype) if W_star is None else as_tensor("W_star", W_star, A.dtype)
    if Ws.shape != (q,):
        raise ValueError(f"W_star must have shape ({q},), got {tuple(Ws.shape)}")

    def J(W: torch.Tensor) -> torch.Tensor:
        E = W - Ws.to(W.device)
        return 0.5 * ((E @ A.to(W.device).T) * E).sum(-1)

    return J


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(x, y) = (a - x)^2 + b (y - x^2)^2``; minimum 0 at ``(a, a^2)``; a curved narrow valley."""
    a = float(a)
    b = check_positive("b", b)

    def J(W: torch.Tensor) -> torch.Tensor:
        x, y = W[..., 0], W[..., 1]
        return (a - x) ** 2 + b * (y - x * x) ** 2

    return J


def double_well(W: torch.Tensor) -> torch.Tensor:
    """``J(w) = sum_j (w_j^2 - 1)^2 / 4``: minima at ``w_j = +-1``, a saddle/maximum at 0."""
    return ((W * W - 1) ** 2).sum(-1) / 4


def tilted_double_well(tilt: float = 0.3) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(w) = sum_j [(w_j^2 - 1)^2/4 + tilt * w_j]``: a shallow local and a deeper global minimum."""
    tilt = float(tilt)
    return lambda W: ((W * W - 1) ** 2 / 4 + tilt * W).sum(-1)


def six_hump(W: torch.Tensor) -> torch.Tensor:
    """Six-hump camel function on ``R^2``: six local minima, two global ones (value ~ -1.0316)."""
    x, y = W[..., 0], W[..., 1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
