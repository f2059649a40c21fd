"""First exit times of Langevin paths from a region, batched over paths and noise levels.

For the overdamped Langevin SDE ``dX = -grad f(X) dt + sigma dW`` and its Euler--Maruyama scheme
``X_{k+1} = X_k - dt grad f(X_k) + sigma sqrt(dt) xi_k`` (as in :func:`gradflows.particles.langevin`),
the exit time of a path is ``tau = dt * min{k : X_k in E}`` for an exit set ``E`` given as a predicate
``exited(X) -> bool``. :func:`exit_times` runs many paths at once, each with its own noise level if
asked, keeps the first exit step of every path and drops exited paths from the batch every
``chunk`` steps (they are frozen: their time no longer changes), so that the work is proportional
to the sum of the exit times, not to ``n`` times the largest.
The steps run in the library's stepping loop (``gradflows._stepping.run``, one call per chunk), which
checks the states for NaN/inf. Notebook ``04-global/01-noise-as-exploration``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from ._stepping import run
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_bool,
    check_callable,
    check_finite,
    check_generator,
    check_int,
    check_ndim,
    check_positive,
)
from .device import show_progress

__all__ = ["ExitTimes", "exit_times"]

Tensor = torch.Tensor


@dataclass(frozen=True)
class ExitTimes:
    """What :func:`exit_times` returns.

    ``times`` ``(n,)``: the exit time of each path, ``inf`` where it had not exited by the horizon
    ``T = n_steps * dt``; ``exited`` ``(n,)``: whether it had. Checked on construction: ``times`` real,
    in ``[0, T]`` where ``exited`` and ``inf`` elsewhere; ``exited`` booleans of the same shape.
    """

    times: Tensor
    exited: Tensor
    T: float

    def __post_init__(self) -> None:
        T = check_positive("T", self.T)
        times = as_tensor("times", self.times)
        if isinstance(self.exited, Tensor) and self.exited.dtype == torch.bool:
            exited = self.exited
        else:
            try:
                exited = torch.as_tensor(self.exited)
            except (TypeError, ValueError, RuntimeError):
                exited = None
            if exited is None or exited.dtype != torch.bool:
                got = f"dtype {exited.dtype}" if exited is not None else type(self.exited).__name__
                raise TypeError(f"exited must be a bool tensor, got {got}")
        exited = exited.to(times.device)
        if times.ndim != 1 or exited.shape != times.shape:
            raise ValueError(
                f"times and exited must be two tensors of shape (n,), got {tuple(times.shape)} and "
                f"{tuple(exited.shape)}"
            )
        if bool(torch.isnan(times).any() | (torch.isfinite(times) != exited).any() | (times < 0).any()):
            raise ValueError(
                "times must be >= 0 and finite exactly where exited is True (inf where a path did not exit)"
            )
        t = times[exited]
        if bool((t < 0).any()) or bool((t > T * (1 + 1e-6)).any()):
            raise ValueError(f"the exit times must lie in [0, T] = [0, {T:g}]")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "exited", exited)
        object.__setattr__(self, "T", T)

    @property
    def fraction(self) -> float:
        """The fraction of paths that exited by ``T``."""
        return float(self.exited.double().mean())

    def mean(self, groups: int = 1) -> Tensor:
        """Mean exit time of each of ``groups`` consecutive equal blocks of paths (``(groups,)``).

        Raises ``ValueError`` if a path has not exited: the mean would be censored."""
        return self._blocks(groups).mean(1)

    def stderr(self, groups: int = 1) -> Tensor:
        """Standard error of :meth:`mean`: the sample standard deviation over ``sqrt(paths per block)``
        (at least two paths per block)."""
        t = self._blocks(groups)
        if t.shape[1] < 2:
            raise ValueError(f"a standard error needs at least 2 paths per group, got {t.shape[1]}")
        return t.std(1) / math.sqrt(t.shape[1])

    def _blocks(self, groups: int) -> Tensor:
        groups = check_int("groups", groups)
        if self.times.numel() == 0:
            raise ValueError("there are no paths to average")
        if self.times.numel() % groups:
            raise ValueError(f"{self.times.numel()} paths do not split into {groups} equal groups")
        if not bool(self.exited.all()):
            raise ValueError(
                f"only {self.fraction:.4%} of the paths exited by T = {self.T:g}: the mean is censored; "
                "run longer (n_steps)"
            )
        return self.times.reshape(groups, -1)


def _check(x0, sigma, dt, n_steps, chunk, exited, grad, generator):
    x0 = check_finite("x0", check_ndim("x0", as_tensor("x0", x0), 2))
    dt = check_positive("dt", dt)
    n_steps, chunk = check_int("n_steps", n_steps), check_int("chunk", chunk)
    if not math.isfinite(n_steps * dt):
        raise ValueError(f"the horizon n_steps * dt = {n_steps} * {dt:g} is not a finite number")
    check_callable("grad", grad)
    check_callable("exited", exited)
    if not isinstance(sigma, Tensor | np.ndarray | list | tuple):
        sigma = check_positive("sigma", sigma)  # a number: refuse bools, strings, None, complex
    s = as_real_tensor("sigma", sigma, x0.dtype, ndim=(0, 1)).to(x0.device)
    if s.ndim == 0:
        s = s.expand(x0.shape[0])
    if s.shape != (x0.shape[0],) or not all_finite(s) or bool((s <= 0).any()):
        raise ValueError(
            f"sigma must be a positive number or a tensor of {x0.shape[0]} positive numbers (one per path), "
            f"got {sigma!r}"
        )
    check_generator(generator, x0.device, "the paths")
    return x0, s[:, None].clone(), dt, n_steps, chunk


def _check_callables(x0: Tensor, grad, exited) -> Tensor:
    """``grad(x0)`` must have the shape of ``x0``, ``exited(x0)`` be booleans ``(n,)``; returns the latter."""
    g = grad(x0)
    if not isinstance(g, Tensor) or g.shape != x0.shape:
        got = tuple(g.shape) if isinstance(g, Tensor) else type(g).__name__
        raise ValueError(
            f"grad must map x of shape {tuple(x0.shape)} to a tensor of the same shape, got {got}"
        )
    e = exited(x0)
    if not isinstance(e, Tensor) or e.shape != (x0.shape[0],) or e.dtype != torch.bool:
        got = f"{tuple(e.shape)} {e.dtype}" if isinstance(e, Tensor) else type(e).__name__
        raise ValueError(
            f"exited must map x of shape (n, d) to booleans of shape ({x0.shape[0]},), got {got}"
        )
    return e


def exit_times(
    x0: Tensor,
    sigma: float | Tensor,
    dt: float,
    n_steps: int,
    *,
    grad: Callable[[Tensor], Tensor],
    exited: Callable[[Tensor], Tensor],
    chunk: int = 100,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> ExitTimes:
    """Exit times of Euler--Maruyama Langevin paths ``X_{k+1} = X_k - dt grad(X_k) + sigma sqrt(dt) xi_k``.

    Parameters
    ----------
    x0:
        Starting points ``(n, d)``, one per path; none of them may already lie in the exit set.
    sigma:
        Noise level ``> 0``: a number, or a tensor ``(n,)`` with one level per path (a sweep over noise
        levels in one batch).
    dt, n_steps:
        Time step ``> 0`` and the largest number of steps (horizon ``T = n_steps * dt``); the loop
        stops earlier once every path has exited.
    grad:
        ``grad f``, ``(m, d) -> (m, d)``.
    exited:
        The exit set, ``(m, d) -> (m,)`` booleans: ``True`` where a path has left.
    chunk:
        Exited paths are dropped (and the progress bar advanced) every ``chunk`` steps.

    Returns
    -------
    ExitTimes
        ``times`` (``inf`` where a path did not exit by ``T``), ``exited``, ``T``, and ``fraction``.

    Raises
    ------
    ValueError
        On bad arguments, or if a starting point lies in the exit set.
    gradflows.DivergenceError
        When a path becomes NaN/inf (the time step is too large for ``grad``).
    """
    x0, s, dt, n_steps, chunk = _check(x0, sigma, dt, n_steps, chunk, exited, grad, generator)
    if progress is not None:
        check_bool("progress", progress)
    if bool(_check_callables(x0, grad, exited).any()):
        raise ValueError("some starting points already lie in the exit set")
    n = x0.shape[0]
    times = torch.full((n,), math.inf, dtype=x0.dtype, device=x0.device)
    idx = torch.arange(n, device=x0.device)
    x, done = x0.clone(), 0
    bar = (
        tqdm(total=n, desc="exit times", unit="path", leave=False)
        if show_progress(progress, n_steps)
        else None
    )
    while done < n_steps and idx.numel():
        m = min(chunk, n_steps - done)
        traj = _run_chunk(x, s[idx], dt, m, grad, exited, generator)
        x, hit = traj.final
        out = hit >= 0
        times[idx[out]] = (done + hit[out]).to(x0.dtype) * dt
        idx, x, done = idx[~out], x[~out], done + m
        if bar is not None:
            bar.update(int(out.sum()))
    if bar is not None:
        bar.close()
    return ExitTimes(times, torch.isfinite(times), n_steps * dt)


def _run_chunk(x, s, dt, m, grad, exited, generator):
    """``m`` steps of the active paths; ``hit``: the step (from 1) at which each first lies in the exit set,
    ``-1`` if none. The increments of the chunk are drawn in one call and scaled once; a path's exit step
    is kept from its first hit on (the caller drops it at the end of the chunk)."""
    noise = torch.empty((m, *x.shape), dtype=x.dtype, device=x.device).normal_(generator=generator)
    noise.mul_(s * math.sqrt(dt))
    hit = torch.full((x.shape[0],), -1, dtype=torch.long, device=x.device)

    def step(k: int, state):
        y, h = state
        g = grad(y)
        y.add_(noise[k]).add_(g, alpha=-dt)
        h.masked_fill_(exited(y) & (h < 0), k + 1)
        return (y, h)

    return run(
        step, (x, hit), m, names=("X", "hit"), dt=dt, record_every=None, progress=False,
        desc="exit times", advice=f"try a smaller dt (now {dt:g})", inplace=True, finite=("X",),
    )  # fmt: skip
