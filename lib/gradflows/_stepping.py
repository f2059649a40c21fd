"""The one stepping loop of the library, its deterministic schemes and its result type.

Every discrete dynamics of :mod:`gradflows` writes only its step ``state -> state`` and hands it to
:func:`run`: the optimizer ODEs (:func:`gradflows.ode_optimizers.integrate`), Adam
(:func:`gradflows.adam.adam`), random batch splitting
(:func:`gradflows.batches.random_batch_splitting`), Langevin and mean-field Langevin particles
(:mod:`gradflows.particles`) and the controlled ResNet ODE (:func:`gradflows.control.flow`).
The loop owns the rest: the progress bar, the recording schedule (step 0, every ``record_every``
steps, and the last step), statistics recorded instead of states, the finiteness check with one
:class:`~gradflows.DivergenceError` that names the step and the state variable, and the packaging
into a :class:`Trajectory`.

States are tuples of tensors (``(W,)``, ``(W, Z, D)``, ``(X,)``). A step may update its tensors in
place (the particle and Adam loops do, for speed; they say so with ``inplace=True``, and the loop
then records copies).

The deterministic schemes for ``y' = f(y)`` on such tuples (:data:`SCHEMES`) are shared by the
optimizer ODEs of chapter 1 and the controlled ResNet ODE of chapter 2.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ._errors import DivergenceError
from ._validation import all_finite, as_real_tensor
from .device import show_progress

State = tuple[torch.Tensor, ...]
Field = Callable[[State], State]

__all__ = ["SCHEMES", "State", "Trajectory", "run", "scheme"]


def _axpy(y: State, a: float, k: State) -> State:
    return tuple(yi + a * ki for yi, ki in zip(y, k, strict=True))


def _euler(f: Field, y: State, dt: float) -> State:
    return _axpy(y, dt, f(y))


def _midpoint(f: Field, y: State, dt: float) -> State:
    return _axpy(y, dt, f(_axpy(y, dt / 2, f(y))))


def _heun(f: Field, y: State, dt: float) -> State:
    k1 = f(y)
    k2 = f(_axpy(y, dt, k1))
    return tuple(yi + dt / 2 * (a + b) for yi, a, b in zip(y, k1, k2, strict=True))


def _rk4(f: Field, y: State, dt: float) -> State:
    k1 = f(y)
    k2 = f(_axpy(y, dt / 2, k1))
    k3 = f(_axpy(y, dt / 2, k2))
    k4 = f(_axpy(y, dt, k3))
    return tuple(
        yi + dt / 6 * (a + 2 * b + 2 * c + d) for yi, a, b, c, d in zip(y, k1, k2, k3, k4, strict=True)
    )


#: One step of size ``dt`` of ``y' = f(y)``: explicit Euler (order 1), the explicit midpoint rule
#: and Heun's method (order 2), classical Runge--Kutta (order 4). Out of place, so differentiable.
SCHEMES: dict[str, Callable[[Field, State, float], State]] = {
    "euler": _euler,
    "midpoint": _midpoint,
    "heun": _heun,
    "rk4": _rk4,
}


def scheme(method: str, allowed: Sequence[str] | None = None) -> Callable[[Field, State, float], State]:
    """The step of the scheme ``method``; ``ValueError`` naming the choices if it is not one of them."""
    allowed = tuple(SCHEMES) if allowed is None else tuple(allowed)
    if not isinstance(method, str):
        raise TypeError(f"method must be one of {allowed}, got {method!r} ({type(method).__name__})")
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    return SCHEMES[method]


@dataclass(frozen=True)
class Trajectory:
    """What every dynamics of ``gradflows`` returns.

    ``times`` ``(m,)``: the recorded times. ``states``: one tensor ``(m, ...)`` per state variable,
    in the order of ``names`` (``None`` when statistics were recorded instead, or nothing was
    recorded); each variable is also an attribute (``traj.W``, ``traj.Z``, ``traj.X``, ...).
    ``stats``: the recorded statistics ``(m, ...)``, or ``None``. ``final``: the state after the
    last step (always kept); ``last`` is its first variable.
    """

    times: torch.Tensor
    states: tuple[torch.Tensor, ...] | None
    stats: torch.Tensor | None
    final: tuple[torch.Tensor, ...]
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        names, final, states, stats = self.names, self.final, self.states, self.stats
        if not isinstance(names, tuple) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"names must be a tuple of strings (the state variables), got {names!r}")
        times = as_real_tensor("times", self.times, ndim=1, nonempty=False)
        m, k = times.shape[0], len(names)
        for field, value in (("final", final), ("states", states)):
            if field == "states" and value is None:
                continue
            if not isinstance(value, tuple) or not all(isinstance(s, torch.Tensor) for s in value):
                raise TypeError(
                    f"{field} must be a tuple of tensors, one per name in {names}, got {type(value).__name__}"
                )
            if len(value) != k:
                raise ValueError(
                    f"{field} must hold {k} tensor(s), one per name in {names}, got {len(value)}"
                )
        if states is not None and any(s.shape[:1] != (m,) for s in states):
            raise ValueError(f"states must have one row per recorded time: shape ({m}, ...)")
        if stats is not None:
            if not isinstance(stats, torch.Tensor):
                raise TypeError(f"stats must be None or a tensor, got {type(stats).__name__}")
            if stats.shape[:1] != (m,):
                raise ValueError(f"stats must have one row per recorded time: shape ({m}, ...)")
        object.__setattr__(self, "times", times)

    def __getattr__(self, name: str) -> torch.Tensor:
        names = object.__getattribute__(self, "names")
        if name in names:
            states = object.__getattribute__(self, "states")
            if states is None:
                raise AttributeError(
                    f"this trajectory recorded no states (statistics or nothing); its final {name} "
                    "is in .final"
                )
            return states[names.index(name)]
        raise AttributeError(f"this trajectory has no {name!r} (its state variables are {names})")

    @property
    def last(self) -> torch.Tensor:
        """The first state variable after the last step."""
        return self.final[0]

    def evaluate(self, fn: Callable[[State], torch.Tensor]) -> torch.Tensor:
        """Apply ``fn`` (e.g. ``flow.energy``) to every recorded state at once."""
        if not callable(fn):
            raise TypeError(f"fn must be callable (a function of the state), got {type(fn).__name__}")
        if self.states is None:
            raise ValueError("this trajectory recorded no states to evaluate")
        return fn(self.states)


Trajectory.__module__ = "gradflows"  # documented and imported as gradflows.Trajectory


def _finite(state: State, watched) -> int | None:
    """Index of the first watched variable with a non-finite entry, or None."""
    for i in watched:
        if not all_finite(state[i]):
            return i
    return None


def run(
    step: Callable[[int, State], State],
    state0: State,
    n_steps: int,
    *,
    names: Sequence[str],
    dt: float | Callable[[int], float] = 1.0,
    t0: float = 0.0,
    record_every: int | None = 1,
    stats: Callable[[State], torch.Tensor] | None = None,
    progress: bool | None = None,
    desc: str = "steps",
    advice: str = "try a smaller dt",
    unit: str = "step",
    grad: bool = False,
    inplace: bool = False,
    check_records: bool = True,
    finite: Sequence[str] | None = None,
) -> Trajectory:
    """Apply ``state = step(k, state)`` for ``k = 0, ..., n_steps - 1`` and return the :class:`Trajectory`.

    ``dt``: the step size (a number, or ``k -> dt_k`` for variable steps), used only for the
    recorded times ``t0 + dt_0 + ... + dt_{k-1}``. ``record_every``: record states (or
    ``stats(state)``) at step 0, every ``record_every`` steps and at the last step; ``None``
    records nothing and keeps only the final state.

    The state is checked for finite values at every record and at the end (``check_records=False``:
    at the end only, for differentiable dynamics inside training loops, where a check per step
    would synchronize a GPU). The first non-finite state raises :class:`~gradflows.DivergenceError`
    naming ``desc``, the step (``unit``, e.g. ``"epoch"``), the time, the variable and the last
    step known finite, followed by ``advice``. ``finite`` names the variables checked (default:
    all of them).

    ``grad=False`` runs under ``torch.no_grad()``; ``grad=True`` keeps the graph (differentiable
    dynamics). ``inplace=True`` declares a step that updates its tensors in place: the loop then
    works on a copy of ``state0`` and records copies (an out-of-place step needs neither).
    """
    names = tuple(names)
    if not callable(dt) and not math.isfinite(float(t0) + n_steps * float(dt)):
        raise ValueError(f"{desc}: the horizon t0 + n_steps * dt is not a finite number")
    if len(names) != len(state0):
        raise ValueError(f"names {names} do not match a state of {len(state0)} tensor(s)")
    watched = range(len(names)) if finite is None else [names.index(v) for v in finite]
    times: list[float] = []
    recs: list = []
    t, checked = float(t0), 0

    def check(k: int, y: State) -> None:
        bad = _finite(y, watched)
        if bad is not None:
            raise DivergenceError(
                f"{desc} diverged: {names[bad]} has non-finite values at {unit} {k} (t = {t:g}; finite at "
                f"{unit} {checked}); {advice}"
            )

    def record(k: int, y: State) -> None:
        nonlocal checked
        if check_records:
            check(k, y)
            checked = k
        times.append(t)
        recs.append(_snapshot(y, stats, inplace))

    steps = range(n_steps)
    if show_progress(progress, n_steps):
        steps = tqdm(steps, desc=desc, leave=False)
    with contextlib.nullcontext() if grad else torch.no_grad():
        y = tuple(s.detach().clone() for s in state0) if inplace else state0
        if record_every is not None:
            record(0, y)
        for k in steps:
            y = step(k, y)
            t = t + dt(k) if callable(dt) else t0 + (k + 1) * dt  # a constant step: no accumulated rounding
            if record_every is not None and ((k + 1) % record_every == 0 or k + 1 == n_steps):
                record(k + 1, y)
        if record_every is None or n_steps == 0 or not check_records:
            check(n_steps, y)
    return _package(times, recs if record_every is not None else None, y, names, stats is not None)


def _snapshot(y: State, stats: Callable[[State], torch.Tensor] | None, inplace: bool):
    """What one record keeps: ``stats(y)`` (never a view of the state), or the state (copied if in place)."""
    if stats is None:
        return tuple(s.clone() for s in y) if inplace else y
    r = stats(y)
    if not isinstance(r, torch.Tensor):
        raise TypeError(f"stats must return a tensor, got {type(r).__name__}")
    if any(r.untyped_storage().data_ptr() == s.untyped_storage().data_ptr() for s in y):
        r = r.clone()  # a view of the state, which a step may update in place
    return r


def _package(times: list[float], recs: list | None, y: State, names: tuple, is_stats: bool) -> Trajectory:
    """The :class:`Trajectory` of recorded times and records (``None``: final state only)."""
    ref = y[0]
    tt = torch.tensor(times, dtype=ref.dtype if ref.is_floating_point() else torch.float64, device=ref.device)
    if recs is None:
        return Trajectory(tt, None, None, y, names)
    if is_stats:
        bad = next((k for k, r in enumerate(recs) if r.shape != recs[0].shape), None)
        if bad is not None:
            raise ValueError(
                f"stats must return tensors of one shape: {tuple(recs[0].shape)} at the first record, "
                f"{tuple(recs[bad].shape)} at record {bad}"
            )
        return Trajectory(tt, None, torch.stack(recs), y, names)
    return Trajectory(tt, tuple(torch.stack([r[i] for r in recs]) for i in range(len(names))), None, y, names)
