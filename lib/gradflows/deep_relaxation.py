"""Deep relaxation: the two-scale system, its controlled version, and its averaged limit.

With ``V(y, x) = f(y) + gamma |x - y|^2 / 2`` the deep-relaxation system of Chaudhari, Oberman,
Osher, Soatto and Carlier, with a learning-rate control ``u_t in [0, 1]`` (Bardi--Kouhkouh), is

``dX = -u_t grad_x V(Y, X) dt = -u_t gamma (X - Y) dt``                                   (CSe)
``dY = -(1/eps) grad_y V(Y, X) dt + sqrt(2/eps) dW``
``   = -(1/eps) (grad f(Y) + gamma (Y - X)) dt + sqrt(2/eps) dW``

(``u = 1``: the uncontrolled system (Se)). As ``eps -> 0`` the fast variable equilibrates to the
local Gibbs measure ``rho(.; X)`` (:mod:`gradflows.local_entropy`) and ``X`` follows the averaged
system, the *entropic gradient descent*

``X' = u_t grad_x F(X, gamma) = -u_t gamma (X - <y>_X)``                                   (S)

(Bardi--Kouhkouh, Theorem 1 for ``u = 1``; with ``u`` constant in ``y`` for the controlled case).

:func:`two_scale` integrates (CSe) for a batch of paths by the *staggered* Euler--Maruyama scheme

``Y_{k+1} = Y_k - (dt/eps) (grad f(Y_k) + gamma (Y_k - X_k)) + sqrt(2 dt/eps) xi_k``
``X_{k+1} = X_k - dt u_k gamma (X_k - Y_{k+1})``,  ``u_k = u(t_k, X_k, Y_{k+1})``

(the slow step sees the fresh fast state, as Entropy-SGD does: with one inner step and no
averaging, Entropy-SGD *is* this scheme, see :mod:`gradflows.entropy_sgd`; and so does a feedback
control, so that a bang-bang feedback ``u = 1{(X - Y) p > 0}`` selects exactly the fast states that
move ``X`` the chosen way, at the speed of the effective dynamics, without a lag of one fast step).
Both are first-order schemes with the same limit. :func:`entropic_descent` integrates (S) with
the Gibbs mean by quadrature. Notebooks ``04-global/03-deep-relaxation`` and ``04-global/04-homogenization``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._stepping import Trajectory, run, scheme
from ._validation import (
    as_tensor,
    check_bool,
    check_callable,
    check_finite,
    check_generator,
    check_int,
    check_ndim,
    check_positive,
    check_range,
)
from .local_entropy import gibbs_mean, quadrature_nodes
from .ode_optimizers import one_gradient
from .particles import _finite_stats, gaussian_increments

__all__ = ["two_scale", "entropic_descent"]

Tensor = torch.Tensor
Control = float | Callable[[float, Tensor, Tensor], Tensor] | None


def _control(control: Control, n: int) -> Callable[[float, Tensor, Tensor], Tensor | float]:
    """``(t, X, Y) -> u`` with values checked in ``[0, 1]``: a number, or ``(n,)``/``(n, 1)`` per path."""
    if control is None:
        return lambda t, x, y: 1.0
    if not callable(control):
        u = check_range("control", control, 0.0, 1.0)
        return lambda t, x, y: u

    def u(t: float, x: Tensor, y: Tensor) -> Tensor:
        raw = control(t, x, y)  # a number or a tensor; an indicator may come as a bool tensor
        if isinstance(raw, complex) or (isinstance(raw, Tensor) and raw.is_complex()):
            raise TypeError("control(t, X, Y) must return real values, got complex ones")
        try:
            v = torch.as_tensor(raw, dtype=x.dtype, device=x.device)
        except (TypeError, ValueError, RuntimeError) as err:
            raise TypeError(f"control(t, X, Y) must return a number or a tensor: {err}") from None
        if v.ndim == 1 and v.shape[0] == n:
            v = v[:, None]
        if v.ndim not in (0, 2) or (v.ndim == 2 and v.shape not in ((n, 1), (1, 1))):
            raise ValueError(
                f"control(t, X, Y) must return a number or shape ({n},) or ({n}, 1), got {tuple(v.shape)}"
            )
        if not bool(((v >= 0) & (v <= 1)).all()):
            raise ValueError(f"control(t, X, Y) must take values in [0, 1] (at t = {t:g})")
        return v

    return u


def _stat(r) -> Tensor:
    """What ``stats(X, Y)`` returned, if it is a tensor (``TypeError`` otherwise)."""
    if not isinstance(r, Tensor):
        raise TypeError(f"stats(X, Y) must return a tensor, got {type(r).__name__}")
    return r


def _check_states(x0, y0, noise, n_steps: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """``x0`` ``(n, d)``, ``y0`` broadcast to it, ``noise`` ``(n_steps, n, d)`` or None: finite, one dtype."""
    x0 = check_finite("x0", check_ndim("x0", as_tensor("x0", x0), 2))
    y0 = as_tensor("y0", y0, x0.dtype).to(x0.device)
    y0 = check_finite("y0", y0.reshape(1, -1) if y0.ndim == 1 else check_ndim("y0", y0, 2))
    if y0.shape[1] != x0.shape[1] or y0.shape[0] not in (1, x0.shape[0]):
        raise ValueError(f"y0 must have shape {tuple(x0.shape)} or (1, {x0.shape[1]}), got {tuple(y0.shape)}")
    if noise is not None:
        noise = check_finite("noise", as_tensor("noise", noise, x0.dtype))
        if noise.shape != (n_steps, *x0.shape) or noise.device != x0.device:
            raise ValueError(
                f"noise must have shape {(n_steps, *x0.shape)} on {x0.device}, got {tuple(noise.shape)}"
            )
    return x0, y0.expand_as(x0), noise


def two_scale(
    x0,
    y0,
    gamma: float,
    eps: float,
    dt: float,
    n_steps: int,
    *,
    f: Callable[[Tensor], Tensor] | None = None,
    grad: Callable[[Tensor], Tensor] | None = None,
    control: Control = None,
    record_every: int | None = None,
    stats: Callable[[Tensor, Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    noise_chunk: int | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Staggered Euler--Maruyama for the (controlled) two-scale system (CSe) on ``n`` paths at once.

    Notebooks ``04-global/03-deep-relaxation`` and ``04-global/04-homogenization``.

    Parameters
    ----------
    x0, y0:
        Initial slow and fast states, shape ``(n, d)`` (``y0`` may be ``(1, d)`` or ``(d,)``: broadcast).
    gamma, eps, dt, n_steps:
        Coupling ``> 0``, scale separation ``> 0``, step ``> 0`` with ``dt/eps (gamma + Lip grad f) < 2``
        for stability (``dt gamma / eps >= 2`` is refused), number of steps.
    f, grad:
        Exactly one: the loss ``(n, d) -> (n,)`` (its gradient by autograd) or its gradient.
    control:
        The learning rate ``u``: None (``u = 1``, the system (Se)), a number in ``[0, 1]``, or a
        feedback ``(t, X, Y) -> u`` returning a number or one value per path, in ``[0, 1]``; it is
        evaluated at ``(t_k, X_k, Y_{k+1})``, the fast state that the slow step uses.
    record_every, stats:
        Record every ``record_every`` steps the states ``X, Y``, or ``stats(X, Y)`` (any tensor)
        when ``stats`` is given.
    generator, noise, noise_chunk:
        The random generator (on the device of ``x0``), or the standard Gaussian increments
        ``noise`` ``(n_steps, n, d)`` themselves (e.g. to compare with Entropy-SGD on the same
        noise); ``noise_chunk`` steps of increments are drawn per generator call.

    Returns
    -------
    Trajectory
        State variables ``X`` and ``Y``; ``last`` is ``X`` after the last step.

    Raises
    ------
    gradflows.DivergenceError
        When ``X`` or ``Y`` is not finite at a recording time or at the end, or a recorded
        ``stats(X, Y)`` is not finite.
    """
    gamma, eps, dt = check_positive("gamma", gamma), check_positive("eps", eps), check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, minimum=0)
    if not math.isfinite(n_steps * dt):
        raise ValueError(f"the horizon n_steps * dt = {n_steps} * {dt:g} is not a finite number")
    if dt * gamma / eps >= 2:
        raise ValueError(
            f"dt * gamma / eps = {dt * gamma / eps:.3g} >= 2: the fast Euler step is unstable; "
            "take dt < eps / gamma"
        )
    g = one_gradient(f, grad, "the loss")
    x0, y0, noise = _check_states(x0, y0, noise, n_steps)
    check_generator(generator, x0.device, "the paths")
    if record_every is not None:
        record_every = check_int("record_every", record_every)
    if stats is not None:
        check_callable("stats", stats)
        if record_every is None:
            raise ValueError("stats are recorded every record_every steps: give record_every too")
    if noise_chunk is not None:
        noise_chunk = check_int("noise_chunk", noise_chunk)
    if progress is not None:
        check_bool("progress", progress)
    u = _control(control, x0.shape[0])
    increment = gaussian_increments(x0, math.sqrt(2 * dt / eps), n_steps, generator, noise_chunk, noise)
    fast = dt / eps

    def step(k: int, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        x, y = state
        xi = increment(k)
        y_new = y - fast * (g(y) + gamma * (y - x))
        if xi is not None:
            y_new = y_new + xi
        return x - (dt * gamma) * u(k * dt, x, y_new) * (x - y_new), y_new

    traj = run(
        step,
        (x0, y0.clone()),
        n_steps,
        names=("X", "Y"),
        dt=dt,
        record_every=record_every,
        stats=None if stats is None else (lambda s: _stat(stats(*s))),
        progress=progress,
        desc="two-scale system",
        advice=f"try a smaller dt (now {dt:g}, dt/eps = {fast:g})",
    )
    return _finite_stats(traj, "two-scale system", "stats(X, Y)", "the state (X, Y)")


def entropic_descent(
    x0,
    gamma: float,
    T: float,
    n_steps: int,
    *,
    f: Callable[[Tensor], Tensor],
    control: Callable[[float, Tensor], Tensor] | float | None = None,
    method: str = "rk4",
    record_every: int | None = 1,
    lo: float = -6.0,
    hi: float = 6.0,
    n_points: int = 801,
    progress: bool | None = None,
) -> Trajectory:
    """The averaged system (S), ``X' = u(t, X) grad_x F(X, gamma) = -u gamma (X - <y>_X)``, for ``n`` points.

    ``x0`` ``(n, d)``; the Gibbs mean ``<y>_X`` by quadrature on ``[lo, hi]^d``
    (:func:`gradflows.local_entropy.gibbs_mean`); ``control`` None (``u = 1``), a number in
    ``[0, 1]`` or ``(t, X) -> u`` (a number or one value per point, in ``[0, 1]``); ``method`` one
    of the schemes of the stepping core over ``n_steps`` steps of ``T / n_steps`` (a time-dependent
    control is evaluated at the time of each stage). The trajectory's variables are ``X`` and the
    time ``t``.
    Notebooks ``04-global/03-deep-relaxation`` and ``04-global/04-homogenization``.
    """
    T = check_positive("T", T)
    n_steps = check_int("n_steps", n_steps)
    gamma = check_positive("gamma", gamma)
    check_callable("f", f)
    x0 = check_finite("x0", check_ndim("x0", as_tensor("x0", x0), 2))
    if record_every is not None:
        record_every = check_int("record_every", record_every)
    if progress is not None:
        check_bool("progress", progress)
    if control is not None and not callable(control):
        control = check_range("control", control, 0.0, 1.0)
    quadrature_nodes(x0.shape[1], lo, hi, n_points, dtype=x0.dtype)  # checks lo, hi and n_points now
    u = _control(
        None if control is None else (control if not callable(control) else (lambda t, x, y: control(t, x))),
        x0.shape[0],
    )
    stepper = scheme(method)
    dt = T / n_steps

    def field(s: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        x, t = s  # the time rides along as a state variable, so each stage sees its own time
        mean = gibbs_mean(f, x, gamma, lo=lo, hi=hi, n_points=n_points)
        return -gamma * u(float(t), x, x) * (x - mean), torch.ones_like(t)

    def step(k: int, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        return stepper(field, state, dt)

    return run(
        step,
        (x0, torch.zeros((), dtype=x0.dtype, device=x0.device)),
        n_steps,
        names=("X", "t"),
        dt=dt,
        record_every=record_every,
        progress=progress,
        desc="entropic gradient descent",
        advice=f"try more steps (now {n_steps})",
    )
