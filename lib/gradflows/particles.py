"""Langevin dynamics of particles: independent paths, and the neurons of a mean-field network.

Two objects, one time stepper:

* the overdamped Langevin SDE ``dX = -grad f(X) dt + sigma dW`` for a batch of independent
  paths, whose invariant density is ``exp(-2 f / sigma^2) / Z``, and its Euler-Maruyama scheme
  ``X_{k+1} = X_k - dt grad f(X_k) + sigma sqrt(dt) xi_k`` (:func:`langevin`; notebook
  ``03-mfld/02-langevin-gibbs``);
* the mean-field Langevin dynamics of a two-layer network in mean-field scaling
  ``f_X(z) = (1/N) sum_i c_i phi(a_i . z) = int phi_hat(x, z) m^N(dx)``: the neurons
  ``x_i = (c_i, a_i)`` are particles that interact through their empirical measure ``m^N``
  (:func:`mean_field_langevin`, with the network and its drift from :mod:`gradflows.mean_field`;
  notebook ``03-mfld/03-mean-field-langevin``).

Both write one private Euler-Maruyama step (one copy of the state updated in place, the Gaussian
increments of many steps drawn per generator call) and run it in the library's stepping loop
(``gradflows._stepping.run``: NaN/inf checked only when recording, full states or a user
statistic recorded); both return a :class:`~gradflows.Trajectory` with the state ``X``.
Later chapters (deep relaxation, Entropy-SGD) call :func:`langevin`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from ._errors import DivergenceError
from ._stepping import Trajectory, run
from ._validation import (
    as_real_tensor,
    as_tensor,
    check_callable,
    check_finite,
    check_generator,
    check_int,
    check_memory,
    check_nonnegative,
    check_positive,
    check_real,
)
from .mean_field import _check_net, _drift
from .ode_optimizers import one_gradient

__all__ = ["langevin", "mean_field_langevin", "time_averaged_histogram"]

Tensor = torch.Tensor

#: Gaussian numbers drawn per call of the generator when ``noise_chunk`` is not given (2^22).
NOISE_CHUNK_NUMBERS = 1 << 22


def _euler_maruyama(
    x0: Tensor,
    field: Callable[[Tensor, int], Tensor],
    coef: float,
    sigma: float,
    dt: float,
    n_steps: int,
    record_every: int | None,
    stats,
    generator,
    noise_chunk: int | None,
    noise: Tensor | None,
    progress,
    desc: str,
) -> Trajectory:
    """``X_{k+1} = X_k + coef field(X_k, k) + sigma sqrt(dt) xi_k`` for ``k < n_steps``, in place.

    ``xi_k`` is ``noise[k]`` when given, else drawn ``chunk`` steps at a time (already scaled by
    ``sigma sqrt(dt)``). The loop, records and finiteness checks are ``gradflows._stepping.run``.
    """
    s = sigma * math.sqrt(dt)
    increment = gaussian_increments(x0, s, n_steps, generator, noise_chunk, noise)

    def step(k: int, state):
        (x,) = state
        xi = increment(k)  # drawn before the field is evaluated: the order of the random draws
        x.add_(field(x, k), alpha=coef)
        if xi is not None:
            x.add_(xi)
        return (x,)

    traj = run(
        step,
        (x0,),
        n_steps,
        names=("X",),
        dt=dt,
        record_every=record_every,
        stats=None if stats is None else (lambda y: stats(y[0])),
        progress=progress,
        desc=desc,
        advice=f"try a smaller dt (now {dt:g})",
        inplace=True,
    )
    return _finite_stats(traj, desc)


def _finite_stats(traj: Trajectory, desc: str, what: str = "stats(X)", state: str = "X") -> Trajectory:
    """``traj``, or :class:`~gradflows.DivergenceError` if a recorded ``stats(...)`` is not finite.

    The stepping loop checks the state at every record, not what ``stats`` made of it: a statistic
    of a finite state can still overflow (e.g. the mean of entries near the largest float). Shared
    with :func:`gradflows.deep_relaxation.two_scale`."""
    if traj.stats is not None:
        bad = ~torch.isfinite(traj.stats).reshape(len(traj.stats), -1).all(1)
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise DivergenceError(
                f"{desc}: {what} has non-finite values at record {i} (t = {float(traj.times[i]):g}) "
                f"although {state} is finite there: the statistic overflows"
            )
    return traj


def gaussian_increments(
    like: Tensor,
    scale: float,
    n_steps: int,
    generator: torch.Generator | None,
    chunk: int | None = None,
    noise: Tensor | None = None,
) -> Callable[[int], Tensor | None]:
    """``k -> scale * xi_k``, the Gaussian increment of step ``k`` (like ``like``; None if ``scale == 0``).

    ``xi_k`` is ``noise[k]`` when given; otherwise the increments of ``chunk`` steps are drawn per
    generator call (default: ``2^22`` numbers per call) into one reused buffer, so call it once per
    step, in order. Shared by the Langevin loops and the two-scale system of
    :mod:`gradflows.deep_relaxation`.
    """
    if scale == 0 or n_steps == 0:
        return lambda k: None
    if noise is not None:
        return lambda k: noise[k] * scale
    chunk = chunk or max(1, min(n_steps, NOISE_CHUNK_NUMBERS // max(like.numel(), 1)))
    buf = torch.empty((min(chunk, n_steps), *like.shape), dtype=like.dtype, device=like.device)

    def increment(k: int) -> Tensor:
        j = k % chunk
        if j == 0:
            buf[: min(chunk, n_steps - k)].normal_(0.0, scale, generator=generator)
        return buf[j]

    return increment


def _check_loop_args(sigma, dt, n_steps, record_every, stats, noise_chunk):
    sigma = check_nonnegative("sigma", sigma)
    dt = check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, minimum=0)
    if record_every is not None:
        record_every = check_int("record_every", record_every)
    if stats is not None:
        check_callable("stats", stats)
        if record_every is None:
            raise ValueError(
                "stats must be a callable X -> tensor, recorded every record_every steps: "
                "give record_every too"
            )
    if noise_chunk is not None:
        noise_chunk = check_int("noise_chunk", noise_chunk)
    return sigma, dt, n_steps, record_every, noise_chunk


def langevin(
    x0: Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    *,
    f: Callable[[Tensor], Tensor] | None = None,
    grad: Callable[[Tensor], Tensor] | None = None,
    record_every: int | None = None,
    stats: Callable[[Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
    noise_chunk: int | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Euler-Maruyama for the overdamped Langevin SDE ``dX = -grad f(X) dt + sigma dW``.

    ``X_{k+1} = X_k - dt grad f(X_k) + sigma sqrt(dt) xi_k`` with ``xi_k ~ N(0, I)`` i.i.d., for
    ``n`` independent paths at once. Its invariant density is ``exp(-2 f / sigma^2) / Z``;
    ``sigma = 0`` gives explicit Euler (gradient descent) for the gradient flow.
    Notebook ``03-mfld/02-langevin-gibbs``.

    Parameters
    ----------
    x0:
        Initial positions, shape ``(n, d)``; not modified.
    sigma, dt, n_steps:
        Noise level ``>= 0``, time step ``> 0``, number of steps ``>= 0``.
    f, grad:
        Exactly one: the potential ``(n, d) -> (n,)`` (gradient of ``f(X).sum()`` by autograd)
        or its gradient ``(n, d) -> (n, d)``.
    record_every:
        Record at steps ``0, r, 2r, ...`` and at the last step; None records nothing.
    stats:
        With ``record_every``: record ``stats(X)`` (any tensor) instead of the full state.
    generator:
        Random generator on the device of ``x0``; None uses torch's global one.
    noise_chunk:
        Steps whose Gaussian increments are drawn per generator call (default: ``2^22`` numbers).

    Returns
    -------
    Trajectory
        ``last``: the final state ``(n, d)``; ``times``: the recorded times ``k dt``; ``X``: the
        recorded states ``(n_rec, n, d)`` (``states`` is None with ``stats`` or without
        ``record_every``); ``stats``: the recorded ``stats(X)``, ``(n_rec, ...)``, or None.

    Raises
    ------
    gradflows.DivergenceError
        When the state is not finite at a recording time or at the end, or a recorded ``stats(X)``
        is not finite.
    """
    sigma, dt, n_steps, record_every, noise_chunk = _check_loop_args(
        sigma, dt, n_steps, record_every, stats, noise_chunk
    )
    g = one_gradient(f, grad)
    x0 = as_real_tensor("x0", x0, ndim=2)
    check_generator(generator, x0.device, "the particles")

    def field(x: Tensor, _k: int) -> Tensor:
        d = g(x)
        if not isinstance(d, Tensor) or d.shape != x.shape:
            got = tuple(d.shape) if isinstance(d, Tensor) else type(d).__name__
            raise ValueError(f"the gradient must have the shape {tuple(x.shape)} of the particles, got {got}")
        return d

    return _euler_maruyama(
        x0,
        field,
        -dt,
        sigma,
        dt,
        n_steps,
        record_every,
        stats,
        generator,
        noise_chunk,
        None,
        progress,
        "langevin",
    )


# --- mean-field two-layer network -------------------------------------------------------------


def mean_field_langevin(
    X0: Tensor,
    Z: Tensor,
    Y: Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    *,
    activation: str = "tanh",
    minibatch: int | None = None,
    chunk: int | None = None,
    record_every: int | None = None,
    stats: Callable[[Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Noisy regularized gradient descent on the neurons: mean-field Langevin dynamics.

    ``X_{k+1} = X_k + dt (-D_m F(m^N_k, X_k) - (sigma^2/2) grad U(X_k)) + sigma sqrt(dt) xi_k``
    with ``U(x) = |x|^2/2`` (Gibbs reference ``N(0, I)``), the Euler-Maruyama scheme of
    ``dX^i = (-D_m F(m^N_t, X^i) - (sigma^2/2) grad U(X^i)) dt + sigma dW^i``, whose mean-field
    limit is the Wasserstein gradient flow of ``F(m) + (sigma^2/2) KL(m | N(0, I))``. See
    :func:`~gradflows.mean_field.mf_drift` for ``D_m F``.
    Notebook ``03-mfld/03-mean-field-langevin``.

    Parameters
    ----------
    X0:
        Initial neurons ``(c_i, a_i)``, shape ``(N, 1 + D)``; not modified.
    Z, Y:
        Data, shapes ``(M, D)`` and ``(M,)`` (see :func:`~gradflows.mean_field.with_bias`).
    sigma, dt, n_steps:
        Noise level ``>= 0``, time step ``> 0``, number of steps.
    minibatch:
        Each step uses ``minibatch`` rows drawn uniformly with replacement (SGD); None: all data.
    noise:
        Optional ``xi_k``, shape ``(n_steps, N, 1 + D)``; otherwise drawn from ``generator`` as in
        :func:`langevin`, which also explains ``record_every``, ``stats`` and the result.
    """
    sigma, dt, n_steps, record_every, _ = _check_loop_args(sigma, dt, n_steps, record_every, stats, None)
    X0, Z, Y, chunk = _check_net(X0, Z, Y, activation, chunk, x_name="X0")
    check_generator(generator, X0.device, "the particles")
    M = Z.shape[0]
    if minibatch is not None:
        minibatch = check_int("minibatch", minibatch)
        check_memory(f"minibatch={minibatch} rows", float(minibatch) * (Z.shape[1] + 3), Z.dtype)
    if noise is not None:
        noise = check_finite("noise", as_tensor("noise", noise, X0.dtype))
        if noise.shape != (n_steps, *X0.shape) or noise.device != X0.device:
            raise ValueError(
                f"noise must have shape {(n_steps, *X0.shape)} on {X0.device}, got {tuple(noise.shape)}"
            )
    try:
        shrink = -0.5 * sigma**2
    except OverflowError:
        raise ValueError(f"sigma={sigma!r} is too large: sigma**2 overflows") from None

    def field(x: Tensor, _k: int) -> Tensor:
        if minibatch is None:
            d = _drift(x, Z, Y, activation, chunk)
        else:
            idx = torch.randint(M, (minibatch,), generator=generator, device=x.device)
            d = _drift(x, Z[idx], Y[idx], activation, chunk)
        return d.add_(x, alpha=shrink) if shrink else d

    return _euler_maruyama(
        X0,
        field,
        dt,
        sigma,
        dt,
        n_steps,
        record_every,
        stats,
        generator,
        None,
        noise,
        progress,
        "mean-field Langevin",
    )


def time_averaged_histogram(
    x0: Tensor,
    sigma: float,
    dt: float,
    T_burn: float,
    T_avg: float,
    grad: Callable[[Tensor], Tensor],
    bins: int,
    lo: float,
    hi: float,
    *,
    every: float = 0.5,
    n_batches: int = 4,
    generator: torch.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bin probabilities of :func:`langevin` particles averaged over time, and their standard errors.

    Runs ``round((T_burn + T_avg) / dt)`` steps from ``x0`` ``(n, 1)``, records the histogram of the
    ``n`` particles (``bins`` bins on ``[lo, hi]``) every ``every`` time units, and averages the records
    after ``T_burn``. Per-bin standard errors from ``n_batches`` batch means of consecutive records.
    Returns ``(p_avg, se)``, each ``(bins,)``. Used in notebooks/03-mfld/02 (the O(dt) bias of the scheme).
    """
    x0 = as_real_tensor("x0", x0, ndim=2)
    if x0.shape[1] != 1:
        raise ValueError(f"x0 must have shape (n, 1) (particles on the line), got {tuple(x0.shape)}")
    dt = check_positive("dt", dt)
    T_burn, T_avg = check_nonnegative("T_burn", T_burn), check_positive("T_avg", T_avg)
    every = check_positive("every", every)
    bins, n_batches = check_int("bins", bins), check_int("n_batches", n_batches, minimum=2)
    lo, hi = check_real("lo", lo), check_real("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo must be smaller than hi, got lo={lo!r}, hi={hi!r}")
    steps = (T_burn + T_avg) / dt
    if not math.isfinite(steps):
        raise ValueError(f"(T_burn + T_avg) / dt overflows: dt={dt!r} is too small for T_burn + T_avg")
    if every > T_burn + T_avg:
        raise ValueError(f"every={every!r} must not exceed T_burn + T_avg = {T_burn + T_avg!r}")
    n_steps, record_every = int(round(steps)), int(round(every / dt))
    if n_steps < 1 or record_every < 1:
        raise ValueError(
            f"dt={dt!r} must not exceed every={every!r} (nor T_burn + T_avg): "
            f"every / dt rounds to {record_every}"
        )
    check_memory(f"{bins} bins at every record", (n_steps // record_every + 2.0) * bins, x0.dtype)
    run = langevin(
        x0, sigma, dt, n_steps, grad=grad, record_every=record_every,
        stats=lambda X: torch.histc(X, bins, lo, hi), generator=generator, progress=False,
    )  # fmt: skip
    recs = run.stats[run.times > T_burn].double().cpu().numpy() / x0.shape[0]
    if len(recs) % n_batches:
        raise ValueError(
            f"n_batches={n_batches}: the {len(recs)} records after T_burn do not split into "
            "n_batches equal batches"
        )
    se = recs.reshape(n_batches, -1, bins).mean(1).std(0, ddof=1) / math.sqrt(n_batches)
    return recs.mean(0), se
