"""A monotone finite-difference solver for one-dimensional Hamilton--Jacobi(--Bellman) Cauchy problems.

The terminal-value problem

``-v_t + H(x, v_x) = 0`` on ``[0, T) x R``,   ``v(T, x) = f(x)``                           (HJ)

is solved backward in time on a uniform grid ``x_0 < ... < x_{N-1}`` (spacing ``dx``). With the
time to go ``s = T - t`` and ``w(s) = v(T - s)`` it reads ``w_s + H(x, w_x) = 0``, ``w(0) = f``, and a
monotone scheme in the sense of Crandall and Lions (1984) is

``w^{k+1}_i = w^k_i - ds * Hhat(x_i, D^- w^k_i, D^+ w^k_i)``

with the one-sided differences ``D^-w_i = (w_i - w_{i-1}) / dx``, ``D^+w_i = (w_{i+1} - w_i) / dx``
and a numerical Hamiltonian ``Hhat`` that is non-decreasing in ``D^-`` and non-increasing in ``D^+``.
Two are provided:

* ``speeds=(a, b)`` for ``H(x, p) = a(x) p^+ + b(x) p^-`` with ``a, b >= 0`` (the Hamiltonians of
  notebook ``04-global/04-homogenization``: the system moves left at speed up to ``a`` and right at
  speed up to ``b``): the Engquist--Osher flux ``Hhat = a (D^-w)^+ + b (D^+w)^-`` (an upwind flux;
  Godunov's would be ``max(a (D^-w)^+, b (D^+w)^-)``), monotone when
  ``ds max(a + b) <= dx`` (CFL);
* ``hamiltonian=H`` (a callable ``(x, p) -> H``, convex or not) with ``lipschitz >= sup |dH/dp|``:
  the Lax--Friedrichs flux ``Hhat = H(x, (D^- + D^+)/2) - lipschitz (D^+ - D^-) / 2``, monotone when
  ``ds lipschitz <= dx``.

Both converge to the viscosity solution with a sup error at most ``C sqrt(dx)`` (Crandall--Lions);
where the solution is smooth the error is first order, but near kinks of the solution the observed
rate can stay well below 1 on practical grids. The ends use constant extrapolation (no information
enters from outside): the solution is correct where the domain of dependence of ``(t, x)`` stays
inside the grid, i.e. at distance ``>= (max speed) (T - t)`` from the ends. The time loop is the
stepping core's (``gradflows._stepping.run``). Notebook ``04-global/04-homogenization``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._stepping import run
from ._validation import (
    as_real_tensor,
    as_tensor,
    check_bool,
    check_callable,
    check_finite,
    check_int,
    check_memory,
    check_ndim,
    check_positive,
    check_real,
)

__all__ = ["HJSolution", "solve_hj"]

Tensor = torch.Tensor


@dataclass(frozen=True)
class HJSolution:
    """The solution of (HJ) on the grid: ``x`` ``(N,)``, increasing ``times`` ``(m,)`` from 0 to ``T``,
    the values ``v`` ``(m, N)`` and the centred differences ``v_x`` ``(m, N)`` (one-sided at the ends).
    Checked on construction (``ValueError``/``TypeError``): a uniform increasing grid of ``N >= 2`` points,
    non-decreasing times, finite real values; ``times``, ``v`` and ``v_x`` take the dtype of ``x``.
    """

    x: Tensor
    times: Tensor
    v: Tensor
    v_x: Tensor

    def __post_init__(self) -> None:
        x = as_real_tensor("x", self.x, ndim=1)
        if x.numel() < 2:
            raise ValueError(f"the grid x needs at least 2 points, got {x.numel()}")
        dx = (x[-1] - x[0]) / (x.numel() - 1)
        if float(dx) <= 0 or not torch.allclose(x[1:] - x[:-1], dx.expand(x.numel() - 1), rtol=1e-8, atol=0):
            raise ValueError("the grid x must be uniform and increasing")
        times = as_real_tensor("times", self.times, like=x, ndim=1)
        if bool((times[1:] < times[:-1]).any()):
            raise ValueError("times must be non-decreasing")
        fields = {"x": x, "times": times}
        for name in ("v", "v_x"):
            t = as_real_tensor(name, getattr(self, name), like=x, ndim=2)
            if t.shape != (times.numel(), x.numel()):
                raise ValueError(
                    f"{name} must have shape (len(times), len(x)) = {(times.numel(), x.numel())}, "
                    f"got {tuple(t.shape)}"
                )
            fields[name] = t
        for name, t in fields.items():
            object.__setattr__(self, name, t)

    def _locate(self, t: float, X: Tensor) -> tuple[int, Tensor, Tensor]:
        k = (
            int(torch.searchsorted(self.times, torch.tensor(float(t), dtype=self.times.dtype), right=True))
            - 1
        )
        k = min(max(k, 0), self.times.numel() - 1)
        dx = float(self.x[1] - self.x[0])
        lo, hi = float(self.x[0]), float(self.x[-1])
        if bool(((X < lo - 1e-12 * dx) | (X > hi + 1e-12 * dx) | ~torch.isfinite(X)).any()):
            raise ValueError(f"X must be finite and lie in the grid [{lo:g}, {hi:g}] of the solution")
        s = ((X - self.x[0]) / dx).clamp(0, self.x.numel() - 1 - 1e-9)
        i = s.floor().long()
        return k, i, s - i

    def value(self, t: float, X) -> Tensor:
        """``v(t, X)``: linear interpolation in ``x`` at the last recorded time ``<= t`` (``t`` clamped to
        ``[0, T]``; ``X`` outside the grid raises ``ValueError``)."""
        t = check_real("t", t)
        X = as_tensor("X", X, self.x.dtype)
        k, i, r = self._locate(t, X)
        return (1 - r) * self.v[k, i] + r * self.v[k, i + 1]

    def gradient(self, t: float, X) -> Tensor:
        """``v_x(t, X)``, interpolated as :meth:`value` does (for feedback controls)."""
        t = check_real("t", t)
        X = as_tensor("X", X, self.x.dtype)
        k, i, r = self._locate(t, X)
        return (1 - r) * self.v_x[k, i] + r * self.v_x[k, i + 1]


def _grid(x) -> tuple[Tensor, float]:
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 1))
    if x.numel() < 3:
        raise ValueError(f"the grid x needs at least 3 points, got {x.numel()}")
    dx = (x[-1] - x[0]) / (x.numel() - 1)
    if float(dx) <= 0 or not torch.allclose(x[1:] - x[:-1], dx.expand(x.numel() - 1), rtol=1e-8, atol=0):
        raise ValueError("the grid x must be uniform and increasing")
    return x, float(dx)


def _flux(x: Tensor, speeds, hamiltonian, lipschitz) -> tuple[Callable[[Tensor, Tensor], Tensor], float]:
    """The numerical Hamiltonian ``(D^-, D^+) -> Hhat`` and the largest characteristic speed."""
    if (speeds is None) == (hamiltonian is None):
        raise ValueError("give exactly one of speeds=(a, b) and hamiltonian=H (with lipschitz)")
    if speeds is not None:
        if lipschitz is not None:
            raise ValueError("lipschitz goes with hamiltonian= (the Lax-Friedrichs flux), not with speeds=")
        if isinstance(speeds, str | bytes) or not hasattr(speeds, "__len__"):
            raise TypeError(
                f"speeds must be a pair (a, b) of tensors of the grid's shape, got {type(speeds).__name__}"
            )
        if len(speeds) != 2:
            raise ValueError(
                f"speeds must be a pair (a, b) of tensors of the grid's shape, got {len(speeds)} items"
            )
        a, b = speeds
        a, b = (check_finite(n, as_tensor(n, s, x.dtype).to(x.device)) for n, s in (("a", a), ("b", b)))
        if a.shape != x.shape or b.shape != x.shape or bool((a < 0).any() | (b < 0).any()):
            raise ValueError(f"speeds a and b must be non-negative tensors of shape {tuple(x.shape)}")
        return (lambda dm, dp: a * dm.clamp(min=0) + b * (-dp).clamp(min=0)), float((a + b).max())
    check_callable("hamiltonian", hamiltonian)
    theta = check_positive("lipschitz", lipschitz) if lipschitz is not None else None
    if theta is None:
        raise ValueError("the Lax-Friedrichs flux needs lipschitz >= sup |dH/dp|")
    h0 = hamiltonian(x, torch.zeros_like(x))
    try:
        ok = isinstance(h0, Tensor) and torch.broadcast_shapes(h0.shape, x.shape) == x.shape
    except RuntimeError:
        ok = False
    if not ok:
        got = tuple(h0.shape) if isinstance(h0, Tensor) else type(h0).__name__
        raise ValueError(
            f"hamiltonian(x, p) must return a tensor of the grid's shape {tuple(x.shape)}, got {got}"
        )
    return (lambda dm, dp: hamiltonian(x, (dm + dp) / 2) - theta * (dp - dm) / 2), theta


def solve_hj(
    x,
    terminal,
    T: float,
    *,
    speeds: tuple[Tensor, Tensor] | None = None,
    hamiltonian: Callable[[Tensor, Tensor], Tensor] | None = None,
    lipschitz: float | None = None,
    cfl: float = 0.9,
    n_steps: int | None = None,
    record_every: int = 1,
    progress: bool | None = None,
) -> HJSolution:
    """Solve ``-v_t + H(x, v_x) = 0``, ``v(T) = terminal`` (HJ) backward in time by a monotone scheme.

    Parameters
    ----------
    x, terminal:
        A uniform increasing grid ``(N,)`` and the terminal values ``f(x)`` on it (or a callable ``x -> f``).
    T:
        The horizon ``> 0``.
    speeds, hamiltonian, lipschitz:
        Exactly one of ``speeds=(a, b)`` (``H = a p^+ + b p^-``, Engquist--Osher flux) and ``hamiltonian=H``
        with ``lipschitz >= sup |dH/dp|`` (Lax--Friedrichs flux); see the module.
    cfl, n_steps:
        The time step is ``T / n_steps`` with ``n_steps = ceil(T * speed / (cfl * dx))`` by default
        (``speed``: ``max(a + b)`` or ``lipschitz``); a given ``n_steps`` that violates the CFL
        condition ``ds * speed <= dx`` raises ``ValueError``.
    record_every:
        Keep every ``record_every``-th time level (and the last, ``t = 0``).

    Returns
    -------
    HJSolution
        ``times`` increasing from 0 to ``T`` and ``v``, ``v_x`` at those times.

    Notebook ``04-global/04-homogenization``.
    """
    x, dx = _grid(x)
    T = check_positive("T", T)
    cfl = check_positive("cfl", cfl)
    if cfl > 1:
        raise ValueError(f"cfl must lie in (0, 1] for a monotone scheme, got {cfl}")
    record_every = check_int("record_every", record_every)
    if progress is not None:
        check_bool("progress", progress)
    w0 = terminal(x) if callable(terminal) else terminal
    w0 = check_finite("terminal", as_tensor("terminal", w0, x.dtype).to(x.device))
    if w0.shape != x.shape:
        raise ValueError(f"terminal must have the grid's shape {tuple(x.shape)}, got {tuple(w0.shape)}")
    flux, speed = _flux(x, speeds, hamiltonian, lipschitz)
    if not math.isfinite(T * speed / (cfl * dx)):
        raise ValueError(
            f"T * speed / (cfl * dx) = {T:g} * {speed:g} / ({cfl:g} * {dx:g}) time steps "
            "is not a finite number"
        )
    needed = max(1, math.ceil(T * speed / (cfl * dx)))
    if n_steps is None:
        n_steps = needed
    elif check_int("n_steps", n_steps) * dx < T * speed * (1 - 1e-12):
        raise ValueError(
            f"n_steps = {n_steps} violates the CFL condition ds * speed <= dx (speed {speed:.3g}, "
            f"dx {dx:.3g}): "
            f"take n_steps >= {math.ceil(T * speed / dx)}"
        )
    ds = T / n_steps
    # the recorded levels of v, and v_x
    check_memory(
        f"{n_steps} time steps on {x.numel()} points", 2 * (n_steps // record_every + 2) * x.numel(), x.dtype
    )

    def step(k: int, state: tuple[Tensor]) -> tuple[Tensor]:
        (w,) = state
        ext = torch.cat([w[:1], w, w[-1:]])  # constant extrapolation at the ends
        d = (ext[1:] - ext[:-1]) / dx
        return (w - ds * flux(d[:-1], d[1:]),)

    traj = run(
        step,
        (w0,),
        n_steps,
        names=("v",),
        dt=ds,
        record_every=record_every,
        progress=progress,
        desc="Hamilton-Jacobi solve",
        advice=f"check the CFL condition and the data (now {n_steps} steps)",
    )
    v = traj.v.flip(0)
    times = (T - traj.times).flip(0).clamp(min=0.0)
    v_x = torch.gradient(v, spacing=dx, dim=1)[0]
    return HJSolution(x, times, v, v_x)
