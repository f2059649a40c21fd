"""Independent references for the momentum ODEs and their energies (notebook ``01-sgd/02-momentum-and-adam``).

Everything in NumPy/SciPy on the six-hump camel function, typed without
:mod:`gradflows.ode_optimizers`: the loss and its gradient, SciPy's DOP853 as reference solver,
the right-hand side, energy and dissipation rate of the heavy ball (5.16), Nesterov (5.20),
friction (5.21) and relaxation (5.22) systems on the state ``y = (W, Z)`` of shape ``(4, ...)``,
the two tests of an energy identity (central differences of ``E`` against the rate, and
``E(T) - E(0)`` against the quadrature of the rate), the closed form of the explicit Euler energy
of the heavy ball on a quadratic, and the semi-implicit heavy ball written out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import quad, solve_ivp

__all__ = [
    "six_hump",
    "grad_six_hump",
    "dop853",
    "heavy_ball_system",
    "nesterov_system",
    "friction_system",
    "relaxation_system",
    "energy_rate_errors",
    "energy_balance",
    "heavy_ball_euler_energy",
    "semi_implicit_heavy_ball",
]

System = tuple[Callable, Callable, Callable]


def six_hump(w: np.ndarray) -> np.ndarray:
    """Six-hump camel function in NumPy; ``w`` has shape ``(2, ...)``."""
    x, y = w[0], w[1]
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def grad_six_hump(w: np.ndarray) -> np.ndarray:
    """Gradient of :func:`six_hump`, shape ``(2, ...)``."""
    x, y = w[0], w[1]
    return np.array([8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3])


def dop853(rhs: Callable, y0, t_eval, rtol: float = 1e-10, atol: float = 1e-12) -> np.ndarray:
    """SciPy's DOP853 for ``y' = rhs(t, y)`` on ``[0, t_eval[-1]]``; the states at ``t_eval``, shape
    ``(times, n)``."""
    t_eval = np.asarray(t_eval, dtype=float)
    y0 = np.asarray(y0, dtype=float)
    if t_eval.ndim != 1 or y0.ndim != 1 or not (np.all(np.isfinite(t_eval)) and np.all(np.isfinite(y0))):
        raise ValueError("t_eval and y0 must be finite 1-d arrays")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"rtol and atol must be > 0, got {rtol!r}, {atol!r}")
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), y0, method="DOP853", rtol=rtol, atol=atol, t_eval=t_eval)
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol.y.T


def heavy_ball_system() -> System:
    """Heavy ball (5.16) ``W' = Z, Z' = -grad J(W)``: ``(rhs, energy, rate)``, ``E = J + |Z|^2/2``, rate 0."""
    return (
        lambda t, y: np.r_[y[2:], -grad_six_hump(y[:2])],
        lambda y: six_hump(y[:2]) + 0.5 * (y[2:] ** 2).sum(0),
        lambda y: 0.0 * y[0],
    )


def nesterov_system(nu: float) -> System:
    """Nesterov (5.20) ``Z' = -grad J(W + nu Z)``: ``E = J(W + nu Z) + |Z|^2/2``, rate ``-nu |grad J(W + nu
    Z)|^2``."""
    if not nu > 0:
        raise ValueError(f"nu must be > 0, got {nu!r}")
    return (
        lambda t, y: np.r_[y[2:], -grad_six_hump(y[:2] + nu * y[2:])],
        lambda y: six_hump(y[:2] + nu * y[2:]) + 0.5 * (y[2:] ** 2).sum(0),
        lambda y: -nu * (grad_six_hump(y[:2] + nu * y[2:]) ** 2).sum(0),
    )


def friction_system(nu: float, eps: float) -> System:
    """Friction (5.21) ``Z' = -grad J - nu Z / sqrt(|Z|^2 + eps)``: rate ``-nu |Z|^2 / sqrt(|Z|^2 + eps)``."""
    if not (nu > 0 and eps > 0):
        raise ValueError(f"nu and eps must be > 0, got {nu!r}, {eps!r}")
    return (
        lambda t, y: np.r_[y[2:], -grad_six_hump(y[:2]) - nu * y[2:] / np.sqrt(y[2:] @ y[2:] + eps)],
        lambda y: six_hump(y[:2]) + 0.5 * (y[2:] ** 2).sum(0),
        lambda y: -nu * (y[2:] ** 2).sum(0) / np.sqrt((y[2:] ** 2).sum(0) + eps),
    )


def relaxation_system(eps: float) -> System:
    """Relaxation (5.22) ``eps Z' = -(grad J + Z)``: ``E = J + eps |Z|^2 / 2``, rate ``-|Z|^2``."""
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    return (
        lambda t, y: np.r_[y[2:], -(grad_six_hump(y[:2]) + y[2:]) / eps],
        lambda y: six_hump(y[:2]) + 0.5 * eps * (y[2:] ** 2).sum(0),
        lambda y: -(y[2:] ** 2).sum(0),
    )


def energy_rate_errors(
    system: System, y0, dt: float = 1e-3, T: float = 1.0, ks: Sequence[int] = (1, 2, 4)
) -> tuple[np.ndarray, np.ndarray, list[float], float]:
    """The energy identity on the DOP853 solution: central differences of ``E`` against the rate.

    Returns ``(t, Y, errs, taylor)``: the times ``k dt``, the states (shape ``(n, times)``), the
    largest ``|(E(t + h) - E(t - h)) / 2h - rate(t)|`` for ``h = k dt``, ``k`` in ``ks``, and the
    Taylor term ``dt^2 max|E'''| / 6`` of the smallest ``h`` (with ``E''' = rate''``).
    """
    if not (dt > 0 and T > dt):
        raise ValueError(f"need 0 < dt < T, got dt = {dt!r}, T = {T!r}")
    rhs, energy, rate = system
    t = dt * np.arange(round(T / dt) + 1)
    Y = dop853(rhs, y0, t).T
    E, R = energy(Y), rate(Y)
    errs = [np.abs((E[2 * k :] - E[: -2 * k]) / (2 * k * dt) - R[k:-k]).max() for k in ks]
    taylor = dt**2 / 6 * np.abs(np.diff(R, 2)).max() / dt**2  # h^2 max|E^(3)| / 6, with E^(3) = R''
    return t, Y, errs, taylor


def energy_balance(system: System, y0, T: float = 5.0) -> tuple[float, float]:
    """``E(T) - E(0)`` on DOP853 (rtol 1e-10) and the integral of the rate along its dense output
    (``quad``)."""
    if not T > 0:
        raise ValueError(f"T must be > 0, got {T!r}")
    rhs, energy, rate = system
    y0 = np.asarray(y0, dtype=float)
    sol = solve_ivp(rhs, (0.0, T), y0, method="DOP853", rtol=1e-10, atol=1e-12, dense_output=True)
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    dE = energy(sol.y[:, -1]) - energy(y0)
    integral, _ = quad(lambda s: rate(sol.sol(s)), 0.0, T, limit=1000, epsabs=1e-13, epsrel=1e-13)
    return float(dE), float(integral)


def heavy_ball_euler_energy(A, W0, Z0, dt: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed form of the explicit Euler (5.17) energy on ``J = <AW, W>/2``: each mode times ``1 + dt^2
    lambda``.

    Returns the eigenvalues of ``A`` (``numpy.linalg.eigh``) and ``E^n`` for ``n = 0..n_steps``.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not dt > 0 or n_steps < 1:
        raise ValueError("A must be square, dt > 0 and n_steps >= 1")
    lam, U = np.linalg.eigh(A)
    w_modes, z_modes = U.T @ np.asarray(W0), U.T @ np.asarray(Z0)
    E_modes0 = 0.5 * lam * w_modes**2 + 0.5 * z_modes**2
    return lam, ((1 + dt**2 * lam)[None, :] ** np.arange(n_steps + 1)[:, None] * E_modes0).sum(1)


def semi_implicit_heavy_ball(grad: Callable, W0, dt: float, n_steps: int) -> np.ndarray:
    """``Z <- Z - dt grad(W)``, then ``W <- W + dt Z``, from ``(W0, 0)``; the positions, shape ``(n_steps +
    1, q)``."""
    if not dt > 0 or n_steps < 1:
        raise ValueError(f"dt must be > 0 and n_steps >= 1, got {dt!r}, {n_steps!r}")
    W = np.array(W0, dtype=float)
    Z, out = np.zeros_like(W), [W.copy()]
    for _ in range(n_steps):
        Z = Z - dt * grad(W)
        W = W + dt * Z
        out.append(W)
    return np.array(out)
