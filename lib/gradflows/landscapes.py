"""Test objectives ``J: (..., q) -> (...)`` used as loss landscapes in several chapters.

All are vectorized over leading dimensions so that many initial conditions or
particles are evaluated at once. Notebooks ``01-sgd/*`` (and later chapters).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._validation import as_tensor, check_finite, check_ndim, check_positive

__all__ = [
    "quadratic",
    "rotated_quadratic",
    "random_spd",
    "rosenbrock",
    "double_well",
    "tilted_double_well",
    "six_hump",
    "grad_six_hump",
    "quartic",
    "wide_narrow",
    "rough_quadratic",
]


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


def grad_six_hump(W: torch.Tensor) -> torch.Tensor:
    """Closed-form gradient of :func:`six_hump`, batched over leading dimensions.

    ``(8x - 8.4x^3 + 2x^5 + y, x - 8y + 16y^3)``. Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    W = as_tensor("W", W)  # non-finite states are the stepping core's to report
    if W.ndim == 0 or W.shape[-1] != 2:
        raise ValueError(f"W must have last dimension 2, got shape {tuple(W.shape)}")
    x, y = W[..., 0], W[..., 1]
    return torch.stack([8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3], -1)


def rotated_quadratic(alpha: float, beta: float, theta: float = math.pi / 6) -> torch.Tensor:
    """Symmetric 2x2 matrix ``R diag(alpha, beta) R^T`` with ``R`` the rotation by ``theta``.

    The Hessian of the planar quadratic of notebook ``01-sgd/01-gradient-flow``: eigenvalues
    ``alpha`` and ``beta`` (the constants of (5.4)-(5.5)) along axes rotated by ``theta``. Default dtype.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    theta = float(theta)
    if not math.isfinite(theta):
        raise ValueError(f"theta must be finite, got {theta!r}")
    c, s = math.cos(theta), math.sin(theta)
    R = torch.tensor([[c, -s], [s, c]])
    return R @ torch.diag(torch.tensor([alpha, beta])) @ R.T


def random_spd(eigenvalues, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A random symmetric matrix ``A = Q diag(eigenvalues) Q^T`` and its orthogonal ``Q``.

    ``Q`` is the QR factor of a standard Gaussian matrix drawn from ``generator`` (one draw of
    ``q x q`` numbers); ``A`` is symmetrized exactly. The Hessian of the quadratic of notebook
    ``01-sgd/01-gradient-flow``, with spectrum in ``[alpha, beta]`` as in (5.4)-(5.5).
    """
    lam = check_finite("eigenvalues", check_ndim("eigenvalues", as_tensor("eigenvalues", eigenvalues), 1))
    q = lam.shape[0]
    Q, _ = torch.linalg.qr(torch.randn(q, q, generator=generator, dtype=lam.dtype, device=lam.device))
    A = Q @ torch.diag(lam) @ Q.T
    return (A + A.T) / 2, Q


def quartic(a) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """``J(W) = sum_j a_j w_j^4 / 4`` and its gradient ``a_j w_j^3``: a minimum at 0 with zero curvature.

    Used in notebook ``01-sgd/02-momentum-and-adam`` (the slow manifold of the Adam ODE).
    """
    a = check_finite("a", check_ndim("a", as_tensor("a", a), 1))

    def J(W: torch.Tensor) -> torch.Tensor:
        return (a * W**4).sum(-1) / 4

    def grad(W: torch.Tensor) -> torch.Tensor:
        return a * W**3

    return J, grad


def wide_narrow(
    wide: tuple[float, float, float] = (-1.5, 0.8, 2.0),
    narrow: tuple[float, float, float] = (1.5, 0.15, 2.6),
    confinement: float = 0.2,
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A wide shallow valley and a narrow deeper one, on ``R^d``:

    ``f(y) = c |y|^2 / 2 - a_w exp(-|y - m_w e_1|^2 / (2 s_w^2)) - a_n exp(-|y - m_n e_1|^2 / (2 s_n^2))``

    with ``wide = (m_w, s_w, a_w)``, ``narrow = (m_n, s_n, a_n)`` (centre on the first axis, width,
    depth) and ``c = confinement > 0``. With the defaults the narrow minimum is the lower one but
    the wide valley holds more Gibbs mass: local entropy prefers it for small ``gamma``.
    Notebooks ``04-global/02-local-entropy`` and ``04-global/03-deep-relaxation``.
    """
    c = check_positive("confinement", confinement)
    wells = []
    for name, (m, s, a) in (("wide", wide), ("narrow", narrow)):
        m = float(m)
        if not math.isfinite(m):
            raise ValueError(f"the centre of the {name} valley must be finite, got {m!r}")
        wells.append((m, check_positive(f"{name} width", s), check_positive(f"{name} depth", a)))

    def f(y: torch.Tensor) -> torch.Tensor:
        out = 0.5 * c * (y * y).sum(-1)
        for m, s, a in wells:
            shift = torch.zeros(y.shape[-1], dtype=y.dtype, device=y.device)
            shift[0] = m
            out = out - a * torch.exp(-((y - shift) ** 2).sum(-1) / (2 * s * s))
        return out

    return f


def rough_quadratic(
    amplitude: float = 1.5, frequency: float = 2 * math.pi
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``f(y) = sum_j [y_j^2 + amplitude sin(frequency y_j)]``: a convex bowl under fast ripples.

    The rough example of the local-entropy slides (amplitude 1.5, frequency ``2 pi``): many local
    minima, a Hessian as large as ``2 + amplitude frequency^2``; local entropy smooths them away.
    Notebook ``04-global/02-local-entropy``.
    """
    a = float(amplitude)
    if not math.isfinite(a):
        raise ValueError(f"amplitude must be finite, got {amplitude!r}")
    k = check_positive("frequency", frequency)
    return lambda y: (y * y + a * torch.sin(k * y)).sum(-1)
