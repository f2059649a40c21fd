"""The fast Langevin process (E) of local entropy and its ergodic time averages.

For a loss ``f`` on ``R^d``, a coupling ``gamma > 0`` and a frozen point ``x``, the *fast process*

``dY = -grad_y (f(Y) + gamma |x - Y|^2 / 2) dt + sqrt(2) dW``                                  (E)

is the overdamped Langevin dynamics (``sigma = sqrt(2)``) of the potential ``f + gamma |x - .|^2 / 2``;
its invariant law is the local Gibbs measure ``rho(dy; x)`` of :mod:`gradflows.local_entropy`. By
the ergodic theorem the time average ``A_T = (1/T) int_0^T Y_t dt`` tends to the Gibbs mean
``<y>_x`` (and ``-gamma (x - A_T)`` to the entropic gradient) for every start, with a root-mean-square
error ``~ sigma_as / sqrt(T)``.

:func:`ergodic_average` runs the Euler--Maruyama scheme of (E),

``Y_{k+1} = Y_k - dt (grad f(Y_k) + gamma (Y_k - x)) + sqrt(2 dt) xi_k``,  ``S_{k+1} = S_k + dt Y_k``,

for a batch of points ``x`` and independent replicas at once, after an optional burn-in, and
records ``A = S / T`` (the left rectangle rule for the time integral). Its invariant law differs
from ``rho`` by ``O(dt)``. The step is run by the library's stepping loop. Notebook
``04-global/02-local-entropy``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._stepping import Trajectory, run
from ._validation import (
    as_tensor,
    check_bool,
    check_finite,
    check_generator,
    check_int,
    check_memory,
    check_ndim,
    check_positive,
)
from .ode_optimizers import one_gradient
from .particles import gaussian_increments

__all__ = ["ergodic_average"]

Tensor = torch.Tensor


def _em_steps(
    y: Tensor, n: int, record_every: int | None, *, xr, g, gamma, dt, generator, noise_chunk, progress
) -> Trajectory:
    """``n`` Euler--Maruyama steps of (E) from ``y`` (in place on a copy); with ``record_every`` the running
    integral ``S = dt sum_k Y_k`` is accumulated and recorded (a burn-in passes None)."""
    increment = gaussian_increments(y, math.sqrt(2 * dt), n, generator, noise_chunk)
    accumulate = record_every is not None

    def step(k: int, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        yk, s = state
        xi = increment(k)
        if accumulate:
            s.add_(yk, alpha=dt)
        yk.sub_(dt * (g(yk) + gamma * (yk - xr)))
        if xi is not None:
            yk.add_(xi)
        return yk, s

    return run(
        step,
        (y, torch.zeros_like(y)),
        n,
        names=("Y", "S"),
        dt=dt,
        record_every=record_every,
        stats=(lambda state: state[1].clone()) if accumulate else None,
        progress=progress,
        desc="fast process (E)",
        advice=f"try a smaller dt (now {dt:g})",
        inplace=True,
        finite=("Y", "S") if accumulate else ("Y",),
    )


def ergodic_average(
    x,
    gamma: float,
    dt: float,
    n_steps: int,
    *,
    f: Callable[[Tensor], Tensor] | None = None,
    grad: Callable[[Tensor], Tensor] | None = None,
    replicas: int = 1,
    y0=None,
    n_burn: int = 0,
    record_every: int | None = None,
    generator: torch.Generator | None = None,
    noise_chunk: int | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Time averages ``A_T = (1/T) int Y_t dt`` of the fast process (E), by Euler--Maruyama.

    Parameters
    ----------
    x:
        The frozen points, shape ``(m, d)`` or ``(m,)`` (then ``d = 1``).
    gamma, dt, n_steps:
        Coupling ``> 0``; time step ``> 0`` with ``dt gamma < 2`` (checked); number of averaged steps
        ``>= 1``. Stability needs more, ``dt max |V''| < 2`` with ``V = f + gamma |x - .|^2 / 2`` (for a
        stiff ``f`` this is the binding condition). It is not checked, since ``f''`` is not known here:
        a step that violates it shows up as a DivergenceError or, below the threshold of blow-up, as
        a large ``O(dt)`` bias of the invariant law.
    f, grad:
        Exactly one: the loss ``(n, d) -> (n,)`` (gradient by autograd) or its gradient ``(n, d) -> (n, d)``.
    replicas:
        Independent copies of the process per point.
    y0:
        Start ``(m, d)`` (one per point, shared by its replicas); None starts at ``Y_0 = x``.
    n_burn:
        Steps run before the averaging starts (not averaged).
    record_every:
        Record ``A_T`` every ``record_every`` averaged steps and at the last one; None: only the last.
    generator, noise_chunk, progress:
        As in :func:`gradflows.particles.langevin`.

    Returns
    -------
    Trajectory
        ``times``: the averaging horizons ``T = k dt`` (``k >= 1``); ``stats``: ``A_T`` at those
        horizons, shape ``(n_rec, replicas, m, d)``; ``final``: ``(Y, A)`` after the last step, each
        ``(replicas, m, d)``.

    Raises
    ------
    gradflows.DivergenceError
        When ``Y`` is not finite at a recording time or at the end (try a smaller ``dt``).
    """
    gamma, dt = check_positive("gamma", gamma), check_positive("dt", dt)
    n_steps, n_burn = check_int("n_steps", n_steps), check_int("n_burn", n_burn, minimum=0)
    replicas = check_int("replicas", replicas)
    if dt * gamma >= 2:
        raise ValueError(
            f"dt * gamma = {dt * gamma:.3g} >= 2: the Euler step of (E) is unstable; take dt < 2/gamma"
        )
    g = one_gradient(f, grad, "the loss")
    x = as_tensor("x", x)
    x = check_finite("x", check_ndim("x", x[:, None] if x.ndim == 1 else x, 2))
    m, d = x.shape
    start = x if y0 is None else check_finite("y0", as_tensor("y0", y0, x.dtype).to(x.device))
    if start.shape != x.shape:
        raise ValueError(f"y0 must have the shape of x, {tuple(x.shape)}, got {tuple(start.shape)}")
    check_generator(generator, x.device, "the points x")
    record_every = n_steps if record_every is None else check_int("record_every", record_every)
    if noise_chunk is not None:
        noise_chunk = check_int("noise_chunk", noise_chunk)
    if progress is not None:
        check_bool("progress", progress)
    # the paths Y, the integral S, the increments and the recorded averages
    check_memory(
        f"{replicas} replicas of {m} points", replicas * m * d * (4 + n_steps // record_every), x.dtype
    )

    loop = dict(
        xr=x.repeat(replicas, 1),
        g=g,
        gamma=gamma,
        dt=dt,
        generator=generator,
        noise_chunk=noise_chunk,
        progress=progress,
    )  # path r * m + i sits at the point x_i
    y = start.repeat(replicas, 1)
    if n_burn:
        y = _em_steps(y, n_burn, None, **loop).last
    traj = _em_steps(y, n_steps, record_every, **loop)
    T, S = traj.times[1:], traj.stats[1:]
    A = (S / T.reshape(-1, 1, 1)).reshape(len(T), replicas, m, d)
    y_last = traj.final[0]
    return Trajectory(T, None, A, (y_last.reshape(replicas, m, d), A[-1]), ("Y", "A"))
