"""Discrete Adam as a time discretization of the Adam ODE (5.23).

With ``V = -Z`` (first moment), ``Vhat = D`` (second moment) and the
dictionary ``dt = alpha``, ``beta1 = 1 - dt/eps1``, ``beta2 = 1 - dt/eps2``
(Remark 5.2.7), explicit Euler on (5.23) is the scheme (5.25). Adam
(Kingma and Ba) differs from (5.25) in three places, each one a switch of
:func:`adam`:

* ``bias_correction``: ``"none"`` as in (5.25)/(5.26); ``"standard"`` divides
  *copies* of the moments by ``1 - beta**(n+1)`` (what Adam and ``torch.optim.Adam`` do);
  ``"recursive"`` feeds the corrected moments back into the recursion, as (5.27)
  is printed (with the exponent shifted from ``n`` to ``n+1``, otherwise the first
  step divides by zero).
* ``use_new_moments``: Adam moves ``W`` with the moments just updated
  (``n+1``); (5.25)-(5.27) as printed use the old ones (``n``).
* ``eps``: Adam adds ``eps`` to ``sqrt(D)``; the ODE has ``eps = 0`` and
  needs ``D > 0``.

Notebook ``01-sgd/02-momentum-and-adam``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ._stepping import Trajectory, run
from ._validation import (
    as_tensor,
    check_bool,
    check_callable,
    check_choice,
    check_finite,
    check_int,
    check_nonempty,
    check_nonnegative,
    check_positive,
    check_prob,
)

__all__ = ["adam", "adam_to_ode", "ode_to_adam"]

_CORRECTIONS = ("standard", "none", "recursive")


def adam_to_ode(lr: float, beta1: float, beta2: float) -> tuple[float, float, float]:
    """Map Adam's ``(lr, beta1, beta2)`` to the ODE's ``(dt, eps1, eps2)`` (Remark 5.2.7).

    ``dt = lr``, ``eps1 = lr / (1 - beta1)``, ``eps2 = lr / (1 - beta2)``. The
    defaults ``(1e-3, 0.9, 0.999)`` give ``eps1 = 0.01`` and ``eps2 = 1``.
    """
    lr = check_positive("lr", lr)
    beta1, beta2 = check_prob("beta1", beta1), check_prob("beta2", beta2)
    eps1, eps2 = lr / (1 - beta1), lr / (1 - beta2)
    if not (math.isfinite(eps1) and math.isfinite(eps2)):
        raise ValueError(
            f"lr={lr!r} is too large: eps1 = lr / (1 - beta1) or eps2 = lr / (1 - beta2) overflows"
        )
    return lr, eps1, eps2


def ode_to_adam(dt: float, eps1: float, eps2: float) -> tuple[float, float, float]:
    """Inverse of :func:`adam_to_ode`: ``(lr, beta1, beta2)`` from ``(dt, eps1, eps2)``.

    Needs ``dt <= eps1`` and ``dt <= eps2`` so that the betas lie in ``[0, 1)``.
    """
    dt = check_positive("dt", dt)
    eps1 = check_positive("eps1", eps1)
    eps2 = check_positive("eps2", eps2)
    if dt > eps1 or dt > eps2:
        raise ValueError(f"dt must not exceed eps1 and eps2 (got dt={dt}, eps1={eps1}, eps2={eps2})")
    return dt, 1 - dt / eps1, 1 - dt / eps2


def _broadcasts_to(shape, target) -> bool:
    """Whether a tensor of ``shape`` broadcasts to ``target`` (without enlarging it). By hand: the first
    call of ``torch.broadcast_shapes`` takes a second (it imports ``torch._refs``)."""
    return len(shape) <= len(target) and all(
        a in (1, b) for a, b in zip(reversed(shape), reversed(target), strict=False)
    )


def _initial_state(grad, W0, lr, betas, eps, bias_correction, use_new_moments, D0):
    """The checked arguments of :func:`adam`: ``(W, m, v, beta1, beta2, eps)`` (``m = -Z``, ``v = D``)."""
    check_callable("grad", grad)
    W = check_finite("W0", as_tensor("W0", W0)).clone()
    if W.ndim == 0:
        raise ValueError("W0 must have shape (..., q), got a scalar")
    check_nonempty("W0", W)
    check_positive("lr", lr)
    if not isinstance(betas, Sequence | torch.Tensor | np.ndarray) or isinstance(betas, str | bytes):
        raise TypeError(f"betas must be a pair (beta1, beta2) of numbers, got {type(betas).__name__}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    beta1, beta2 = check_prob("beta1 (betas[0])", betas[0]), check_prob("beta2 (betas[1])", betas[1])
    eps = check_nonnegative("eps", eps)
    check_choice("bias_correction", bias_correction, _CORRECTIONS)
    use_new_moments = check_bool("use_new_moments", use_new_moments)
    if isinstance(D0, bool | np.bool_):
        raise TypeError(f"D0 must be a number >= 0 or a tensor, got {D0!r}")
    check_finite("D0", as_tensor("D0", D0, like=W))  # the type rules; the value is converted below
    D0 = torch.as_tensor(D0, dtype=W.dtype, device=W.device)  # numbers exactly, not via the default dtype
    if not _broadcasts_to(D0.shape, W.shape):
        raise ValueError(
            f"D0 must be a number or broadcast to the shape {tuple(W.shape)} of W0, got {tuple(D0.shape)}"
        )
    # working buffers, updated in place as torch.optim.Adam does: m = -Z, v = D
    m = torch.zeros_like(W)
    v = torch.zeros_like(W) + D0
    if bool((v < 0).any()):
        raise ValueError("D0 must be >= 0")
    if eps == 0 and (not use_new_moments or bias_correction == "none") and not bool((v > 0).all()):
        raise ValueError(
            "with eps = 0 and moments that start at zero the first step divides 0 by 0; "
            "pass D0 > 0 (the ODE (5.23) needs D(0) > 0)"
        )

    return W, m, v, beta1, beta2, eps


def adam(
    grad: Callable[[torch.Tensor], torch.Tensor],
    W0: torch.Tensor,
    n_steps: int,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    *,
    bias_correction: str = "standard",
    use_new_moments: bool = True,
    D0: float | torch.Tensor = 0.0,
    record_every: int = 1,
    progress: bool | None = None,
) -> Trajectory:
    """Run Adam-type iterations on ``grad`` from ``W0``; return the whole trajectory.

    With the defaults this is Adam exactly as ``torch.optim.Adam`` computes it
    (claim SGD-8): in ODE variables ``Z = -m`` and ``D = v``,

    ``Z <- Z + (dt/eps1)(-g - Z)``, ``D <- D + (dt/eps2)(g**2 - D)``,
    ``W <- W + dt * Zc / (sqrt(Dc) + eps)``

    with ``Zc = Z/(1 - beta1**(n+1))``, ``Dc = D/(1 - beta2**(n+1))``. With
    ``bias_correction="none", use_new_moments=False, eps=0`` it is explicit Euler
    on (5.23), i.e. (5.25), which needs ``D0 > 0``. ``W0`` may carry leading batch
    dimensions ``(..., q)``; ``grad`` maps ``(..., q) -> (..., q)``.

    The returned :class:`~gradflows.Trajectory` has states
    ``(W, Z, D)`` every ``record_every`` steps (and at the end), ``times = n * lr``.
    Raises :class:`~gradflows.DivergenceError` when ``W`` (or ``D``, except with
    ``bias_correction="recursive"``, whose ``D`` may overflow to infinity and freeze ``W``) stops
    being finite. Notebook ``01-sgd/02-momentum-and-adam``.
    """
    W, m, v, beta1, beta2, eps = _initial_state(
        grad, W0, lr, betas, eps, bias_correction, use_new_moments, D0
    )
    n_steps = check_int("n_steps", n_steps, minimum=0)
    record_every = check_int("record_every", record_every, minimum=1)
    lr = float(lr)

    def step(n: int, state):
        W, m, v = state  # m = -Z and v = D, updated in place as torch.optim.Adam does
        g = grad(W)
        if not isinstance(g, torch.Tensor):
            raise TypeError(f"grad must return a tensor of shape {tuple(W.shape)}, got {type(g).__name__}")
        if g.shape != W.shape:
            raise ValueError(f"grad returned shape {tuple(g.shape)}, expected {tuple(W.shape)}")
        if not use_new_moments:
            m_old, v_old = m.clone(), v.clone()
        # Z <- Z + (dt/eps1)(-g - Z) and D <- D + (dt/eps2)(g^2 - D), written for m = -Z, v = D
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        c1 = 1 - beta1 ** (n + 1)
        c2 = 1 - beta2 ** (n + 1)
        if bias_correction == "recursive":
            m.div_(c1)
            v.div_(c2)
        mu, vu = (m, v) if use_new_moments else (m_old, v_old)
        if bias_correction == "standard":
            # the same operations, in the same order, as torch.optim.Adam
            W.addcdiv_(mu, (vu.sqrt() / c2**0.5).add_(eps), value=-lr / c1)
        else:
            W.addcdiv_(mu, vu.sqrt().add_(eps), value=-lr)
        return W, m, v

    traj = run(
        step,
        (W, m, v),
        n_steps,
        names=("W", "m", "D"),
        dt=lr,
        record_every=record_every,
        progress=progress,
        desc="adam",
        advice="try a smaller lr",
        # the recursive correction (5.27) may overflow D to inf, which freezes W (the book shows it);
        # otherwise an infinite D means that grad(W)^2 overflowed
        finite=("W",) if bias_correction == "recursive" else ("W", "D"),
        inplace=True,
    )
    # the ODE's variables: Z = -m
    states = (traj.states[0], -traj.states[1], traj.states[2])
    final = (traj.final[0], -traj.final[1], traj.final[2])
    return Trajectory(traj.times, states, None, final, ("W", "Z", "D"))
