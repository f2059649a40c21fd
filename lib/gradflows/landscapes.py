"""Test objectives ``J: (..., q) -> (...)`` used as loss landscapes in several chapters.

All are vectorized over leading dimensions so that many initial conditions or
particles are evaluated at once. Notebooks ``01-sgd/*`` (and later chapters).

Every objective (and gradient) checks its argument ``W`` (a real floating tensor, or a list of
numbers, with the expected last dimension) and its value: a value that is not finite (``W`` has
NaN or infinite entries, or entries so large that the value overflows) raises
:class:`~gradflows.DivergenceError`, since inside a dynamics it means the iteration diverged.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ._errors import DivergenceError
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_generator,
    check_instance,
    check_last_dim,
    check_nonempty,
    check_positive,
    check_real,
)

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


def _point(name: str, W, like: torch.Tensor | None = None, last: int | None = None) -> torch.Tensor:
    """The argument of an objective: a real floating tensor (lists converted), not empty, with last
    dimension ``last``. Its finiteness is checked on the value (:func:`_finite_value`)."""
    # tensors and arrays keep their dtype and device (no silent cast); lists take those of ``like``
    W = as_tensor(name, W) if isinstance(W, torch.Tensor | np.ndarray) else as_tensor(name, W, like=like)
    check_nonempty(name, W)
    if last is not None:
        check_last_dim(name, W, last)
    return W


def _finite_value(what: str, name: str, value: torch.Tensor) -> torch.Tensor:
    """``value``, or :class:`~gradflows.DivergenceError` if it has NaN or infinite entries."""
    if not all_finite(value):
        raise DivergenceError(
            f"{what} is not finite: {name} has NaN or infinite entries, or entries so large that the value "
            f"overflows; if {name} comes from an iteration, the iteration diverged: try a smaller step"
        )
    return value


def quadratic(A, W_star=None) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(W) = 1/2 <A (W - W*), W - W*>`` for a symmetric positive semi-definite ``A``.

    Its Hessian is ``A``: with eigenvalues in ``[alpha, beta]`` it satisfies (5.4). ``A`` must be
    symmetric positive semi-definite (up to round-off), ``W_star`` of shape ``(q,)`` (default 0);
    ``J`` maps ``(..., q) -> (...)``.
    """
    A = as_real_tensor("A", A, ndim=2)
    q = A.shape[0]
    if A.shape != (q, q) or not torch.allclose(A, A.T, atol=1e-12 * (1 + A.abs().max())):
        raise ValueError(f"A must be a symmetric square matrix, got shape {tuple(A.shape)}")
    scale = float(A.abs().max())
    tol = max(1e-12, 10 * q * torch.finfo(A.dtype).eps) * (1 + scale)
    if not math.isfinite(scale) or float(torch.linalg.eigvalsh(A).min()) < -tol:
        raise ValueError(
            "A must be positive semi-definite (a convex quadratic): it has a negative eigenvalue"
        )
    if W_star is None:
        Ws = torch.zeros(q, dtype=A.dtype)
    else:
        Ws = as_real_tensor("W_star", W_star, A.dtype)
    if Ws.shape != (q,):
        raise ValueError(f"W_star must have shape ({q},), got {tuple(Ws.shape)}")

    def J(W: torch.Tensor) -> torch.Tensor:
        W = _point("W", W, A, q)
        dtype = torch.promote_types(W.dtype, A.dtype)  # a float32 A (from a list) with float64 points
        E = W - Ws.to(W.device, dtype)
        return _finite_value("the quadratic J(W)", "W", 0.5 * ((E @ A.to(W.device, dtype).T) * E).sum(-1))

    return J


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(x, y) = (a - x)^2 + b (y - x^2)^2``; minimum 0 at ``(a, a^2)``; a curved narrow valley."""
    a = check_real("a", a)
    b = check_positive("b", b)

    def J(W: torch.Tensor) -> torch.Tensor:
        W = _point("W", W, last=2)
        x, y = W[..., 0], W[..., 1]
        return _finite_value("the Rosenbrock function J(W)", "W", (a - x) ** 2 + b * (y - x * x) ** 2)

    return J


def double_well(W: torch.Tensor) -> torch.Tensor:
    """``J(w) = sum_j (w_j^2 - 1)^2 / 4``: minima at ``w_j = +-1``, a saddle/maximum at 0."""
    W = _point("W", W)
    return _finite_value("the double well J(W)", "W", ((W * W - 1) ** 2).sum(-1) / 4)


def tilted_double_well(tilt: float = 0.3) -> Callable[[torch.Tensor], torch.Tensor]:
    """``J(w) = sum_j [(w_j^2 - 1)^2/4 + tilt * w_j]``: a shallow local and a deeper global minimum."""
    tilt = check_real("tilt", tilt)

    def J(W: torch.Tensor) -> torch.Tensor:
        W = _point("W", W)
        return _finite_value("the tilted double well J(W)", "W", ((W * W - 1) ** 2 / 4 + tilt * W).sum(-1))

    return J


def six_hump(W: torch.Tensor) -> torch.Tensor:
    """Six-hump camel function on ``R^2``: six local minima, two global ones (value ~ -1.0316)."""
    W = _point("W", W, last=2)
    x, y = W[..., 0], W[..., 1]
    return _finite_value(
        "the six-hump camel function J(W)",
        "W",
        (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2,
    )


def grad_six_hump(W: torch.Tensor) -> torch.Tensor:
    """Closed-form gradient of :func:`six_hump`, batched over leading dimensions.

    ``(8x - 8.4x^3 + 2x^5 + y, x - 8y + 16y^3)``. Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    W = _point("W", W, last=2)
    x, y = W[..., 0], W[..., 1]
    return _finite_value(
        "the gradient of the six-hump camel function",
        "W",
        torch.stack([8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3], -1),
    )


def rotated_quadratic(alpha: float, beta: float, theta: float = math.pi / 6) -> torch.Tensor:
    """Symmetric 2x2 matrix ``R diag(alpha, beta) R^T`` with ``R`` the rotation by ``theta``.

    The Hessian of the planar quadratic of notebook ``01-sgd/01-gradient-flow``: eigenvalues
    ``alpha`` and ``beta`` (the constants of (5.4)-(5.5)) along axes rotated by ``theta``. Default dtype.
    """
    alpha, beta = check_positive("alpha", alpha), check_positive("beta", beta)
    theta = check_real("theta", theta)
    c, s = math.cos(theta), math.sin(theta)
    R = torch.tensor([[c, -s], [s, c]])
    A = R @ torch.diag(torch.tensor([alpha, beta])) @ R.T
    if not all_finite(A):
        raise ValueError(f"alpha={alpha!r} and beta={beta!r} are too large: the matrix overflows")
    return A


def random_spd(eigenvalues, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """A random symmetric matrix ``A = Q diag(eigenvalues) Q^T`` and its orthogonal ``Q``.

    ``Q`` is the QR factor of a standard Gaussian matrix drawn from ``generator`` (one draw of
    ``q x q`` numbers); ``A`` is symmetrized exactly. The Hessian of the quadratic of notebook
    ``01-sgd/01-gradient-flow``, with spectrum in ``[alpha, beta]`` as in (5.4)-(5.5).
    """
    lam = as_real_tensor("eigenvalues", eigenvalues, ndim=1)
    check_generator(generator, lam.device, "eigenvalues")
    q = lam.shape[0]
    Q, _ = torch.linalg.qr(torch.randn(q, q, generator=generator, dtype=lam.dtype, device=lam.device))
    A = Q @ torch.diag(lam) @ Q.T
    A = (A + A.T) / 2
    if not all_finite(A):
        raise ValueError("eigenvalues are too large: the matrix Q diag(eigenvalues) Q^T overflows")
    return A, Q


def quartic(a) -> tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """``J(W) = sum_j a_j w_j^4 / 4`` and its gradient ``a_j w_j^3``: a minimum at 0 with zero curvature.

    Used in notebook ``01-sgd/02-momentum-and-adam`` (the slow manifold of the Adam ODE).
    """
    a = as_real_tensor("a", a, ndim=1)
    q = a.shape[0]

    def J(W: torch.Tensor) -> torch.Tensor:
        W = _point("W", W, a, q)
        return _finite_value("the quartic J(W)", "W", (a.to(W.device) * W**4).sum(-1) / 4)

    def grad(W: torch.Tensor) -> torch.Tensor:
        W = _point("W", W, a, q)
        return _finite_value("the gradient of the quartic", "W", a.to(W.device) * W**3)

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
    for name, well in (("wide", wide), ("narrow", narrow)):
        check_instance(name, well, (tuple, list))
        if len(well) != 3:
            raise ValueError(f"{name} must be a triple (centre, width, depth), got {well!r}")
        m, s, a = well
        m = check_real(f"the centre of the {name} valley ({name}[0])", m)
        wells.append(
            (
                m,
                check_positive(f"{name} width ({name}[1])", s),
                check_positive(f"{name} depth ({name}[2])", a),
            )
        )

    def f(y: torch.Tensor) -> torch.Tensor:
        y = _point("y", y)
        out = 0.5 * c * (y * y).sum(-1)
        for m, s, a in wells:
            shift = torch.zeros(y.shape[-1], dtype=y.dtype, device=y.device)
            shift[0] = m
            out = out - a * torch.exp(-((y - shift) ** 2).sum(-1) / (2 * s * s))
        return _finite_value("the wide/narrow landscape f(y)", "y", out)

    return f


def rough_quadratic(
    amplitude: float = 1.5, frequency: float = 2 * math.pi
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``f(y) = sum_j [y_j^2 + amplitude sin(frequency y_j)]``: a convex bowl under fast ripples.

    The rough example of the local-entropy slides (amplitude 1.5, frequency ``2 pi``): many local
    minima, a Hessian as large as ``2 + amplitude frequency^2``; local entropy smooths them away.
    Notebook ``04-global/02-local-entropy``.
    """
    a = check_real("amplitude", amplitude)
    k = check_positive("frequency", frequency)

    def f(y: torch.Tensor) -> torch.Tensor:
        y = _point("y", y)
        return _finite_value("the rough quadratic f(y)", "y", (y * y + a * torch.sin(k * y)).sum(-1))

    return f
