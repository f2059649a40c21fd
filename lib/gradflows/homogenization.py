"""Homogenization of the controlled deep-relaxation system: Hamiltonians, cell problems, feedback.

For the controlled two-scale system (CSe) of :mod:`gradflows.deep_relaxation` in one dimension,
``X' = -u gamma (X - Y)`` with ``u in [0, 1]`` and the fast process
``dY = (1/eps) b(X, Y) dt + sqrt(2/eps) dW``, ``b(x, y) = gamma (x - y) - f'(y)``, the Hamiltonian is

``H(x, y, p) = -min_u (-u gamma (x - y) p) = gamma max(0, (x - y) p)``.                     (H)

Its average against the invariant measure ``mu_x`` of the fast process (the local Gibbs measure of
:mod:`gradflows.local_entropy`) is the *effective Hamiltonian*

``Hbar(x, p) = int H(x, y, p) dmu_x(y) = gamma (p^+ A(x) + p^- B(x))``,
``A(x) = int (x - y)^+ dmu_x``, ``B(x) = int (y - x)^+ dmu_x``,                              (Hbar)

and with controls that do not depend on ``y`` it is replaced by the smaller
``H_c(x, p) = gamma max(0, (x - <y>_x) p)`` (Jensen). Here: these Hamiltonians by quadrature, the
speeds ``(gamma A, gamma B)`` and ``(gamma (x - <y>)^+, gamma (<y> - x)^+)`` that
:func:`gradflows.hamilton_jacobi.solve_hj` takes, the truncated ``delta``-cell problem

``delta w - (b w' + w'') = -h`` on ``(-n, n)``, ``w(+-n) = 0``, ``h(y) = H(xbar, y, pbar)``        (Cn)

by centred finite differences (a sparse solve), its exit-time representation
``w(y) = E[-int_0^{tau_n} h(Y_t) e^{-delta t} dt]`` by Monte Carlo, and the feedback
``u = 1{(X - Y) v_x(t, X) > 0}`` built from a solution of the effective HJ equation, or the
feedback ``u = 1{(Y - X)(z - X) > 0}`` that heads for a target ``z`` at full speed and holds it.
Notebook ``04-global/04-homogenization``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import spsolve

from ._stepping import run
from ._validation import (
    all_finite,
    as_tensor,
    check_bool,
    check_callable,
    check_finite,
    check_generator,
    check_instance,
    check_int,
    check_memory,
    check_ndim,
    check_nonnegative,
    check_positive,
    check_real,
)
from .hamilton_jacobi import HJSolution
from .local_entropy import local_gibbs_weights
from .ode_optimizers import autograd_gradient
from .particles import gaussian_increments

__all__ = [
    "hamiltonian",
    "one_sided_means",
    "effective_hamiltonian",
    "constant_control_hamiltonian",
    "extended_speeds",
    "constant_control_speeds",
    "truncated_cell_problem",
    "cell_problem_monte_carlo",
    "extended_feedback",
    "target_feedback",
]

Tensor = torch.Tensor
Loss = Callable[[Tensor], Tensor]
_QUAD = {"lo": -6.0, "hi": 6.0, "n_points": 801}
_MAX_STEPS = 10_000_000


def _quad(quad: dict) -> dict:
    unknown = set(quad) - set(_QUAD)
    if unknown:
        raise ValueError(
            f"unknown quadrature options {sorted(unknown)}: the allowed keys are {sorted(_QUAD)}"
        )
    return {**_QUAD, **quad}


def _finite_result(what: str, out: Tensor) -> Tensor:
    """``out``, or ``ValueError`` if it overflowed (arguments too large for the arithmetic)."""
    if not all_finite(out):
        raise ValueError(f"{what} is not finite: the arguments are too large for the arithmetic")
    return out


def _slopes(p, x: Tensor) -> Tensor:
    p = check_finite("p", as_tensor("p", p, x.dtype))
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.numel() == 1:
        return p.reshape(()).expand(x.shape)
    if p.shape != x.shape:
        raise ValueError(f"p must be a number or have the shape {tuple(x.shape)} of x, got {tuple(p.shape)}")
    return p


def _points(name: str, x) -> Tensor:
    x = check_finite(name, as_tensor(name, x))
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    return check_ndim(name, x.reshape(-1) if x.ndim == 0 else x, 1)


def hamiltonian(x, y, p, gamma: float) -> Tensor:
    """``H(x, y, p) = gamma max(0, (x - y) p)`` (H), broadcasting ``x``, ``y``, ``p``.

    Notebook ``04-global/04-homogenization``.
    """
    gamma = check_positive("gamma", gamma)
    x, y, p = (check_finite(n, as_tensor(n, v)) for n, v in (("x", x), ("y", y), ("p", p)))
    try:
        torch.broadcast_shapes(x.shape, y.shape, p.shape)
    except RuntimeError:
        raise ValueError(
            "x, y and p must broadcast together, got shapes "
            f"{tuple(x.shape)}, {tuple(y.shape)}, {tuple(p.shape)}"
        ) from None
    return _finite_result("H(x, y, p)", gamma * ((x - y) * p).clamp(min=0))


def _weights(f: Loss, x: Tensor, gamma: float, quad: dict) -> tuple[Tensor, Tensor]:
    nodes, w = local_gibbs_weights(f, x, gamma, **_quad(quad))
    return nodes[:, 0], w


def one_sided_means(f: Loss, x, gamma: float, **quad) -> tuple[Tensor, Tensor]:
    """``A(x) = int (x - y)^+ dmu_x`` and ``B(x) = int (y - x)^+ dmu_x`` for points ``x`` ``(m,)`` (Hbar).

    ``mu_x`` is the local Gibbs measure by the quadrature of
    :func:`gradflows.local_entropy.local_gibbs_weights` (``quad``: its ``lo``, ``hi``, ``n_points``).
    ``A - B = x - <y>_x``. Notebook ``04-global/04-homogenization``.
    """
    x = _points("x", x)
    y, w = _weights(f, x, check_positive("gamma", gamma), quad)
    d = x[:, None] - y[None, :]
    return _finite_result("A", (w * d.clamp(min=0)).sum(1)), _finite_result(
        "B", (w * (-d).clamp(min=0)).sum(1)
    )


def effective_hamiltonian(f: Loss, x, p, gamma: float, **quad) -> Tensor:
    """``Hbar(x, p) = int H(x, y, p) dmu_x(y)`` (Hbar) by quadrature of (H) against ``mu_x``.

    ``x`` ``(m,)``; ``p`` a number or ``(m,)``. Computed as the average of (H) itself, not by the
    closed form in ``A`` and ``B``. Notebook ``04-global/04-homogenization``.
    """
    gamma = check_positive("gamma", gamma)
    x = _points("x", x)
    p = _slopes(p, x)
    y, w = _weights(f, x, gamma, quad)
    return _finite_result("Hbar", (w * hamiltonian(x[:, None], y[None, :], p[:, None], gamma)).sum(1))


def constant_control_hamiltonian(f: Loss, x, p, gamma: float, **quad) -> Tensor:
    """``H_c(x, p) = -min_{u in [0,1]} u grad F(x) p = gamma max(0, (x - <y>_x) p) <= Hbar(x, p)``.

    The Hamiltonian of controlled entropic gradient descent ``X' = u grad_x F(X, gamma)``.
    Notebook ``04-global/04-homogenization``.
    """
    gamma = check_positive("gamma", gamma)
    x = _points("x", x)
    p = _slopes(p, x)
    y, w = _weights(f, x, gamma, quad)
    return _finite_result("H_c", gamma * ((x - w @ y) * p).clamp(min=0))


def extended_speeds(f: Loss, x, gamma: float, **quad) -> tuple[Tensor, Tensor]:
    """``(gamma A(x), gamma B(x))``: ``Hbar = a p^+ + b p^-``, the speeds to the left and right that
    extended controls reach; the ``speeds`` of :func:`gradflows.hamilton_jacobi.solve_hj`.
    Notebook ``04-global/04-homogenization``.
    """
    gamma = check_positive("gamma", gamma)
    A, B = one_sided_means(f, x, gamma, **quad)
    return _finite_result("gamma A", gamma * A), _finite_result("gamma B", gamma * B)


def constant_control_speeds(f: Loss, x, gamma: float, **quad) -> tuple[Tensor, Tensor]:
    """``(gamma (x - <y>_x)^+, gamma (<y>_x - x)^+)``: ``H_c = a p^+ + b p^-`` (controls constant in ``y``).
    Notebook ``04-global/04-homogenization``.
    """
    gamma = check_positive("gamma", gamma)
    A, B = one_sided_means(f, x, gamma, **quad)
    return (
        _finite_result("gamma (x - <y>)^+", gamma * (A - B).clamp(min=0)),
        _finite_result("gamma (<y> - x)^+", gamma * (B - A).clamp(min=0)),
    )


def _drift(f: Loss, xbar: float, gamma: float, grad: Loss | None = None) -> Callable[[Tensor], Tensor]:
    """``y -> b(xbar, y) = gamma (xbar - y) - f'(y)`` on tensors of any shape (autograd ``f'`` by default)."""
    if grad is None:
        grad = autograd_gradient(f)
    else:
        check_callable("grad", grad)
    return lambda y: gamma * (xbar - y) - grad(y.reshape(-1, 1)).reshape(y.shape)


def _cell_args(f, xbar, pbar, gamma, delta, n) -> tuple[float, float, float, float, float]:
    check_callable("f", f)
    xbar, pbar = check_real("xbar", xbar), check_real("pbar", pbar)
    return xbar, pbar, check_positive("gamma", gamma), check_positive("delta", delta), check_positive("n", n)


def truncated_cell_problem(
    f: Loss, xbar: float, pbar: float, gamma: float, delta: float, n: float, dx: float
) -> tuple[Tensor, Tensor]:
    """The truncated ``delta``-cell problem (Cn) by centred finite differences: the grid ``y`` and ``w``.

    On ``y_j = -n + j dx`` the scheme
    ``delta w_j - b_j (w_{j+1} - w_{j-1}) / (2 dx) - (w_{j+1} - 2 w_j + w_{j-1}) / dx^2 = -h_j``
    with ``w = 0`` at ``+-n`` is second order; its matrix is an M-matrix (discrete maximum
    principle) when ``|b_j| dx <= 2``, which is checked (``ValueError``: refine ``dx``). One sparse
    LU solve (scipy). ``2 n / dx`` must be an integer up to rounding. Float64.
    Notebook ``04-global/04-homogenization``.
    """
    xbar, pbar, gamma, delta, n = _cell_args(f, xbar, pbar, gamma, delta, n)
    dx = check_positive("dx", dx)
    if not math.isfinite(2 * n / dx):
        raise ValueError(f"2 n / dx = 2 * {n:g} / {dx:g} is not a finite number: lower n or raise dx")
    m = round(2 * n / dx)
    check_memory(f"a grid of 2 n / dx = {m} cells", 8 * m)  # the tridiagonal matrix and the vectors
    if m < 4 or abs(m * dx - 2 * n) > 1e-9 * n:
        raise ValueError(f"2 n / dx must be an integer >= 4, got {2 * n / dx:g}")
    y = torch.linspace(-n, n, m + 1, dtype=torch.float64)
    yi = y[1:-1]
    b = _drift(f, xbar, gamma)(yi)
    if not all_finite(b):
        raise ValueError("the drift b = gamma (xbar - y) - f'(y) is not finite on the grid")
    if float(b.abs().max()) * dx > 2:
        raise ValueError(
            f"|b| dx = {float(b.abs().max()) * dx:.3g} > 2: the centred scheme is not monotone; take dx <= "
            f"{2 / float(b.abs().max()):.3g}"
        )
    h = hamiltonian(xbar, yi, pbar, gamma)
    bn = b.numpy()
    main = np.full(m - 1, delta + 2 / dx**2)
    upper = -(1 / dx**2 + bn[:-1] / (2 * dx))
    lower = -(1 / dx**2 - bn[1:] / (2 * dx))
    M = sp.diags([lower, main, upper], [-1, 0, 1], format="csc")
    w = torch.zeros(m + 1, dtype=torch.float64)
    w[1:-1] = torch.from_numpy(spsolve(M, -h.numpy()))
    return y, check_finite("w", w)


def cell_problem_monte_carlo(
    f: Loss,
    xbar: float,
    pbar: float,
    gamma: float,
    delta: float,
    n: float,
    y0,
    *,
    n_paths: int,
    dt: float,
    horizon: float | None = None,
    grad: Loss | None = None,
    generator: torch.Generator | None = None,
    bridge: bool = True,
    progress: bool | None = None,
) -> tuple[Tensor, Tensor]:
    """``w(y) = E[-int_0^{tau_n} h(Y_t) e^{-delta t} dt]`` for the fast process (E')
    ``dY = b(xbar, Y) dt + sqrt(2) dW`` from each ``y`` in ``y0``: Monte Carlo means and standard errors.

    Euler--Maruyama with step ``dt`` for ``n_paths`` paths per starting point; the exit from
    ``(-n, n)`` is monitored between the steps by the Brownian-bridge survival probability
    ``(1 - exp(-(n - Y_k)(n - Y_{k+1}) / dt)) (1 - exp(-(n + Y_k)(n + Y_{k+1}) / dt))``, carried as
    a weight (weak error ``O(dt)`` instead of ``O(sqrt(dt))``), and the integral is cut at
    ``horizon`` (default ``20 / delta``: the neglected tail is at most ``max|h| e^{-delta horizon} / delta``,
    ``max|h| = gamma |pbar| (|xbar| + n)`` on the interval; more than 10^7 steps raise ``ValueError``).
    ``bridge=False`` monitors the exit only at the grid times (weak error ``O(sqrt(dt))``, for
    comparison; Gobet (2000): the bridge correction restores weak order 1). ``grad``: ``f'`` on
    ``(m, 1)`` tensors (default: autograd of ``f``, slower). Returns ``(w, stderr)``, each ``(len(y0),)``.
    Notebook ``04-global/04-homogenization``.
    """
    xbar, pbar, gamma, delta, n = _cell_args(f, xbar, pbar, gamma, delta, n)
    dt, n_paths = check_positive("dt", dt), check_int("n_paths", n_paths, minimum=2)
    y0 = _points("y0", y0).to(torch.float64)
    check_memory(f"{n_paths} paths from {y0.numel()} points", 8 * n_paths * y0.numel())  # states and buffers
    if bool((y0.abs() >= n).any()):
        raise ValueError(f"the starting points y0 must lie in (-{n:g}, {n:g})")
    check_generator(generator, y0.device, "the paths")
    horizon = 20 / delta if horizon is None else check_positive("horizon", horizon)
    if not math.isfinite(abs(pbar) * (abs(xbar) + n)) or not math.isfinite(
        horizon * gamma * abs(pbar) * (abs(xbar) + n)
    ):
        raise ValueError(
            "horizon * max|h| = horizon * gamma |pbar| (|xbar| + n) overflows: the arguments are too large"
        )
    if not math.isfinite(horizon / dt):
        raise ValueError(f"horizon / dt = {horizon:g} / {dt:g} is not a finite number of steps")
    n_steps = max(1, math.ceil(horizon / dt))
    if n_steps > _MAX_STEPS:
        raise ValueError(
            f"horizon / dt = {horizon / dt:.3g} steps is more than {_MAX_STEPS:.0e}: give a shorter horizon "
            f"(the default 20 / delta is long for small delta) or a larger dt"
        )
    bridge = check_bool("bridge", bridge)
    if progress is not None:
        check_bool("progress", progress)
    b = _drift(f, xbar, gamma, grad)
    Y0 = y0[None, :].repeat(n_paths, 1)
    increment = gaussian_increments(Y0, math.sqrt(2 * dt), n_steps, generator)

    def step(k: int, state: tuple[Tensor, Tensor, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        y, alive, acc = state
        acc = acc + (dt * math.exp(-delta * k * dt) * gamma) * alive * ((xbar - y) * pbar).clamp(min=0)
        y_new = y + dt * b(y) + increment(k)
        inside = (y_new.abs() < n).to(y.dtype)
        stay_right = 1 - torch.exp(-((n - y) * (n - y_new)).clamp(min=0) / dt)
        stay_left = 1 - torch.exp(-((n + y) * (n + y_new)).clamp(min=0) / dt)
        alive = alive * inside * (stay_right * stay_left if bridge else 1.0)
        return torch.where(alive > 0, y_new, y), alive, acc

    traj = run(
        step,
        (Y0, torch.ones_like(Y0), torch.zeros_like(Y0)),
        n_steps,
        names=("Y", "survival", "integral"),
        dt=dt,
        record_every=None,
        progress=progress,
        desc="cell-problem Monte Carlo",
        advice=f"try a smaller dt (now {dt:g})",
    )
    acc = traj.final[2]
    mean, stderr = -acc.mean(0), acc.std(0) / math.sqrt(n_paths)
    if not bool(torch.isfinite(mean).all() & torch.isfinite(stderr).all()):
        raise ValueError(
            "the Monte Carlo mean or its standard error overflows: pbar, xbar or gamma are too large"
        )
    return mean, stderr


def extended_feedback(solution: HJSolution, tol: float = 1e-8) -> Callable[[float, Tensor, Tensor], Tensor]:
    """The feedback ``u(t, X, Y) = 1{(X - Y) v_x(t, X) > 0}`` for (CSe) from a solution ``v`` of the
    effective HJ equation: move ``X`` toward ``Y`` exactly when that lowers ``v``; for
    :func:`gradflows.deep_relaxation.two_scale` (``control=``).

    ``|v_x| <= tol`` counts as ``v_x = 0`` (``u = 0``: where ``v`` is flat, every control is optimal
    and ``X`` waits; without the threshold the sign of rounding noise in ``v_x`` would steer it).
    Notebook ``04-global/04-homogenization``.
    """
    check_instance("solution", solution, HJSolution)
    tol = check_nonnegative("tol", tol)

    def u(t: float, X: Tensor, Y: Tensor) -> Tensor:
        vx = solution.gradient(t, X)
        return (((X - Y) * vx > 0) & (vx.abs() > tol)).to(X.dtype)

    return u


def target_feedback(target: float) -> Callable[[float, Tensor, Tensor], Tensor]:
    """The feedback ``u(t, X, Y) = 1{(Y - X)(target - X) > 0}`` for (CSe): follow ``Y`` exactly when it
    lies on the side of ``target``; for :func:`gradflows.deep_relaxation.two_scale` (``control=``).

    In the averaged system it moves ``X`` toward ``target`` at the largest speed, ``gamma B`` to the
    right or ``gamma A`` to the left (Hbar), and holds it there (the averaged velocity changes sign
    at ``target``). When ``target`` minimises ``f`` over the reachable interval of ``x0`` in time
    ``T``, it is an optimal extended control of the limit problem from ``x0`` that does not depend
    on a numerical ``v_x``. Notebook ``04-global/04-homogenization``.
    """
    z = check_real("target", target)

    def u(t: float, X: Tensor, Y: Tensor) -> Tensor:
        return ((Y - X) * (z - X) > 0).to(X.dtype)

    return u
