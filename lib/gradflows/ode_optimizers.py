"""Optimizers as ordinary differential equations, with their Lyapunov energies.

Chapter 1 (notebooks ``01-sgd/01-gradient-flow`` and ``01-sgd/02-momentum-and-adam``)
reads every optimizer as a time discretization of an ODE for the parameters
``W`` and, for momentum methods, a moment ``Z`` (and for Adam a diagonal ``D``).
Each ODE comes here as a :class:`Flow`: its vector field, its energy ``E`` and
the rate ``dE/dt`` that the corresponding lemma predicts, so that a notebook can
check the lemma along a numerical solution.

Conventions
-----------
* A state is a tuple of tensors ``(W,)``, ``(W, Z)`` or ``(W, Z, D)``; each has
  shape ``(..., q)``: the leading dimensions are independent copies (many
  initial conditions integrated at once), ``q`` is the number of parameters.
* ``J`` maps ``(..., q) -> (...)``. Its gradient is taken by autograd unless
  ``grad`` is given.
* :func:`integrate` with ``method="euler"`` *is* the discrete optimizer:
  gradient descent (5.2) for :func:`gradient_flow`, the explicit heavy ball
  (5.17) for :func:`heavy_ball`, the scheme (5.25) for :func:`adam_ode`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._stepping import Trajectory, run, scheme
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_bool,
    check_callable,
    check_finite,
    check_instance,
    check_int,
    check_nonnegative,
    check_positive,
)

__all__ = [
    "Flow",
    "autograd_gradient",
    "one_gradient",
    "gradient_flow",
    "heavy_ball",
    "nesterov",
    "friction",
    "relaxation",
    "adam_ode",
    "adam_asymptotic_energy",
    "integrate",
]

State = tuple[torch.Tensor, ...]
Objective = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Flow:
    """An autonomous ODE ``y' = rhs(y)`` on a state tuple, with a Lyapunov energy.

    Attributes
    ----------
    name:
        Short name used in plots and messages.
    equation:
        The equation number in the chapter-1 source (e.g. ``"(5.16)"``).
    n_vars:
        Number of tensors in the state (1 for ``(W,)``, 2 for ``(W, Z)``, ...).
    rhs:
        The vector field.
    energy:
        The energy ``E(y)`` of the lemma attached to the flow, shape ``(...)``.
    energy_rate:
        The value of ``dE/dt`` that the lemma predicts at ``y`` (an identity or
        an upper bound; see each constructor), shape ``(...)``.
    """

    name: str
    equation: str
    n_vars: int
    rhs: Callable[[State], State]
    energy: Callable[[State], torch.Tensor]
    energy_rate: Callable[[State], torch.Tensor]
    check_state: Callable[[State], None] | None = None

    def __post_init__(self) -> None:
        check_instance("name", self.name, str)
        check_instance("equation", self.equation, str)
        check_int("n_vars", self.n_vars)
        for field in ("rhs", "energy", "energy_rate"):
            check_callable(field, getattr(self, field))
        if self.check_state is not None:
            check_callable("check_state", self.check_state)


def autograd_gradient(J: Objective) -> Callable[[torch.Tensor], torch.Tensor]:
    """Return ``W -> grad J(W)`` computed by autograd, batched over leading dims.

    ``TypeError`` if ``J`` is not callable; the returned function raises ``ValueError`` if ``J`` does
    not map ``(..., q)`` to a tensor of shape ``(...)``.
    """
    check_callable("J", J)

    def grad(W: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            w = W.detach().requires_grad_(True)
            value = J(w)
            if not isinstance(value, torch.Tensor) or value.shape != w.shape[:-1]:
                got = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
                raise ValueError(f"J must map shape (..., q) to (...): got {got} for input {tuple(w.shape)}")
            (g,) = torch.autograd.grad(value.sum(), w)
        return g

    return grad


def one_gradient(
    f: Objective | None, grad: Callable | None, what: str = "the potential"
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``grad``, or ``grad f`` by autograd: exactly one of the two must be given (``ValueError`` otherwise;
    ``TypeError`` if the one given is not callable).

    The argument pair ``f=`` / ``grad=`` of the stochastic dynamics (:func:`gradflows.particles.langevin`,
    :func:`gradflows.deep_relaxation.two_scale`, :mod:`gradflows.fast_langevin`).
    """
    check_instance("what", what, str)
    if (f is None) == (grad is None):
        raise ValueError(f"give exactly one of f ({what}) and grad (its gradient)")
    if grad is not None:
        return check_callable("grad", grad)
    check_callable("f", f)
    return autograd_gradient(f)


def _grad(J: Objective, grad: Callable | None) -> Callable[[torch.Tensor], torch.Tensor]:
    check_callable("J", J)
    if grad is None:
        return autograd_gradient(J)
    return check_callable("grad", grad)


def _sq(x: torch.Tensor) -> torch.Tensor:
    return (x * x).sum(-1)


def gradient_flow(J: Objective, grad: Callable | None = None) -> Flow:
    """Gradient flow ``W' = -grad J(W)`` (5.3); ``dJ/dt = -|grad J|^2``.

    Its explicit Euler scheme is gradient descent (5.2). Notebook
    ``01-sgd/01-gradient-flow``.
    """
    g = _grad(J, grad)
    return Flow(
        name="gradient flow",
        equation="(5.3)",
        n_vars=1,
        rhs=lambda s: (-g(s[0]),),
        energy=lambda s: J(s[0]),
        energy_rate=lambda s: -_sq(g(s[0])),
    )


def heavy_ball(J: Objective, grad: Callable | None = None) -> Flow:
    """Heavy-ball ODE ``W' = Z, Z' = -grad J(W)`` (5.16).

    Energy ``J(W) + |Z|^2/2`` is conserved (Lemma 5.2.1): ``energy_rate`` is 0.
    Explicit Euler gives the discrete momentum method (5.17), which does not
    conserve it. Notebook ``01-sgd/02-momentum-and-adam``.
    """
    g = _grad(J, grad)
    return Flow(
        name="heavy ball",
        equation="(5.16)",
        n_vars=2,
        rhs=lambda s: (s[1], -g(s[0])),
        energy=lambda s: J(s[0]) + 0.5 * _sq(s[1]),
        energy_rate=lambda s: torch.zeros_like(s[0][..., 0]),
    )


def nesterov(J: Objective, nu: float, grad: Callable | None = None) -> Flow:
    """Nesterov ODE ``W' = Z, Z' = -grad J(W + nu Z)`` (5.19).

    Energy ``J(W + nu Z) + |Z|^2/2`` with
    ``dE/dt = -nu |grad J(W + nu Z)|^2`` (Lemma 5.2.3, identity (5.20)).
    Notebook ``01-sgd/02-momentum-and-adam``.
    """
    nu = check_nonnegative("nu", nu)
    g = _grad(J, grad)
    return Flow(
        name=f"Nesterov (nu={nu:g})",
        equation="(5.19)",
        n_vars=2,
        rhs=lambda s: (s[1], -g(s[0] + nu * s[1])),
        energy=lambda s: J(s[0] + nu * s[1]) + 0.5 * _sq(s[1]),
        energy_rate=lambda s: -nu * _sq(g(s[0] + nu * s[1])),
    )


def friction(J: Objective, nu: float, eps: float, grad: Callable | None = None) -> Flow:
    """Friction ODE ``W' = Z, Z' = -grad J(W) - nu Z / sqrt(|Z|^2 + eps)`` (5.21).

    Energy ``J(W) + |Z|^2/2`` with ``dE/dt = -nu |Z|^2 / sqrt(|Z|^2 + eps)``.
    Notebook ``01-sgd/02-momentum-and-adam``.
    """
    nu = check_positive("nu", nu)
    eps = check_positive("eps", eps)
    g = _grad(J, grad)

    def rhs(s: State) -> State:
        W, Z = s
        return Z, -g(W) - nu * Z / torch.sqrt(_sq(Z) + eps).unsqueeze(-1)

    return Flow(
        name=f"friction (nu={nu:g})",
        equation="(5.21)",
        n_vars=2,
        rhs=rhs,
        energy=lambda s: J(s[0]) + 0.5 * _sq(s[1]),
        energy_rate=lambda s: -nu * _sq(s[1]) / torch.sqrt(_sq(s[1]) + eps),
    )


def relaxation(J: Objective, eps: float, grad: Callable | None = None) -> Flow:
    """Relaxation ODE ``W' = Z, Z' = -(grad J(W) + Z) / eps`` (5.22).

    Energy ``J(W) + (eps/2)|Z|^2`` with ``dE/dt = -|Z|^2`` (Lemma 5.2.4). As
    ``eps -> 0`` it relaxes to the gradient flow. Notebook ``01-sgd/02-momentum-and-adam``.
    """
    eps = check_positive("eps", eps)
    g = _grad(J, grad)
    return Flow(
        name=f"relaxation (eps={eps:g})",
        equation="(5.22)",
        n_vars=2,
        rhs=lambda s: (s[1], -(g(s[0]) + s[1]) / eps),
        energy=lambda s: J(s[0]) + 0.5 * eps * _sq(s[1]),
        energy_rate=lambda s: -_sq(s[1]),
    )


def adam_ode(J: Objective, eps1: float, eps2: float, grad: Callable | None = None) -> Flow:
    """Continuous Adam (5.23) for the state ``(W, Z, D)``; ``D`` is the diagonal of a matrix.

    ``W' = D^{-1/2} Z``, ``Z' = -(grad J + Z)/eps1``, ``D' = (grad J ** 2 - D)/eps2``.

    Energy (5.24) ``E = J(W) + (eps1/2) <D^{-1/2} Z, Z>``. ``energy_rate`` is the
    exact ``dE/dt`` computed in the proof of Lemma 5.2.6,
    ``-(1 - eps1/(4 eps2)) <D^{-1/2}Z, Z> - eps1/(4 eps2) <D^{-3/2} g^2 Z, Z>``,
    which is ``<= 0`` when ``eps1 <= 4 eps2``. ``D`` must stay positive
    (Lemma 5.2.5): the initial ``D`` is checked. Notebook ``01-sgd/02-momentum-and-adam``.
    """
    eps1 = check_positive("eps1", eps1)
    eps2 = check_positive("eps2", eps2)
    g = _grad(J, grad)
    c = eps1 / (4.0 * eps2)

    def rhs(s: State) -> State:
        W, Z, D = s
        gw = g(W)
        return Z / torch.sqrt(D), -(gw + Z) / eps1, (gw * gw - D) / eps2

    def energy(s: State) -> torch.Tensor:
        W, Z, D = s
        return J(W) + 0.5 * eps1 * (Z * Z / torch.sqrt(D)).sum(-1)

    def rate(s: State) -> torch.Tensor:
        W, Z, D = s
        gw = g(W)
        return -(1 - c) * (Z * Z / torch.sqrt(D)).sum(-1) - c * (gw * gw * Z * Z / D**1.5).sum(-1)

    def check(s: State) -> None:
        if not bool((s[2] > 0).all()):
            raise ValueError("adam_ode needs a positive initial D (Lemma 5.2.5 assumes D(0) > 0)")

    return Flow(
        name=f"Adam ODE (eps1={eps1:g}, eps2={eps2:g})",
        equation="(5.23)",
        n_vars=3,
        rhs=rhs,
        energy=energy,
        energy_rate=rate,
        check_state=check,
    )


def adam_asymptotic_energy(
    J: Objective, W: torch.Tensor, eps1: float, grad: Callable | None = None
) -> torch.Tensor:
    """The LASSO-like functional (5.28) ``J(W) + (eps1/2) |grad J(W)|_1``.

    On the slow manifold ``Z = -grad J``, ``D = grad J ** 2`` the Adam energy
    (5.24) equals it exactly. ``W`` ``(..., q)``. Raises ``ValueError`` if the result is not finite
    (``J`` or its gradient overflows at ``W``). Notebook ``01-sgd/02-momentum-and-adam``.
    """
    eps1 = check_positive("eps1", eps1)
    g = _grad(J, grad)
    W = as_real_tensor("W", W)
    if W.ndim == 0:
        raise ValueError("W must have shape (..., q) with q >= 1, got a scalar")
    out = J(W) + 0.5 * eps1 * g(W).abs().sum(-1)
    if not all_finite(out):
        raise ValueError("J(W) + (eps1/2) |grad J(W)|_1 is not finite: J or its gradient overflows at W")
    return out


def _prepare_state(flow: Flow, state0) -> State:
    if isinstance(state0, torch.Tensor) or (
        flow.n_vars == 1 and isinstance(state0, list) and not any(isinstance(s, torch.Tensor) for s in state0)
    ):
        state0 = (state0,)  # one tensor (or a list of numbers) for a flow of one variable
    if not isinstance(state0, tuple | list):
        raise TypeError(
            f"state0 must be a tensor or a tuple of {flow.n_vars} tensor(s), got {type(state0).__name__}"
        )
    state = tuple(as_tensor(f"state0[{i}]", s) for i, s in enumerate(state0))
    if len(state) != flow.n_vars:
        raise ValueError(f"{flow.name} needs a state of {flow.n_vars} tensor(s), got {len(state)}")
    shape = state[0].shape
    if state[0].ndim == 0:
        raise ValueError("state tensors must have shape (..., q) with q >= 1, got a scalar")
    if state[0].numel() == 0:
        raise ValueError(f"state0 is empty (shape {tuple(shape)}): give at least one parameter")
    for i, s in enumerate(state):
        if s.shape != shape:
            raise ValueError(
                f"all state tensors must have the same shape; state0[0] has {tuple(shape)}, "
                f"state0[{i}] has {tuple(s.shape)}"
            )
        check_finite(f"state0[{i}]", s)
    if flow.check_state is not None:
        flow.check_state(state)
    return state


METHODS = ("euler", "midpoint", "heun", "rk4")


def integrate(
    flow: Flow,
    state0: torch.Tensor | State,
    dt: float,
    n_steps: int,
    method: str = "rk4",
    record_every: int = 1,
    progress: bool | None = None,
) -> Trajectory:
    """Integrate ``flow`` from ``state0`` with ``n_steps`` fixed steps of size ``dt``.

    ``method`` is ``"euler"`` (explicit Euler: this *is* the discrete optimizer,
    e.g. gradient descent (5.2) or the momentum scheme (5.17)), ``"midpoint"`` or
    ``"heun"`` (order 2), or ``"rk4"`` (classical Runge-Kutta, the accurate reference for
    energy checks); the schemes are those of ``gradflows._stepping``, shared with the
    controlled ResNet ODE. States are recorded every ``record_every`` steps (and at the end).

    Raises :class:`~gradflows.DivergenceError` when the iterates stop being finite.
    Notebooks ``01-sgd/01-gradient-flow`` and ``01-sgd/02-momentum-and-adam``.
    """
    check_instance("flow", flow, Flow)
    dt = check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, minimum=0)
    if not math.isfinite(n_steps * dt):
        raise ValueError(f"the horizon n_steps * dt = {n_steps} * {dt:g} is not a finite number")
    record_every = check_int("record_every", record_every, minimum=1)
    if progress is not None:
        check_bool("progress", progress)
    step = scheme(method, METHODS)
    y = _prepare_state(flow, state0)
    names = ("W", "Z", "D")[: flow.n_vars] + tuple(f"y{i}" for i in range(3, flow.n_vars))
    return run(
        lambda k, y: step(flow.rhs, y, dt),
        y,
        n_steps,
        names=names,
        dt=dt,
        record_every=record_every,
        progress=progress,
        desc=f"{flow.name} with {method}",
    )
