"""Independent references for the gradient flow and gradient descent (notebook ``01-sgd/01-gradient-flow``).

All in NumPy/SciPy, sharing no code with :mod:`gradflows.ode_optimizers`:

* the exact flow of a quadratic, ``W(t) - W_* = exp(-tA) (W(0) - W_*)``, by an eigen-decomposition;
* the loss ``J(w) = 1/2 <A(w - c), w - c> + sum log cosh(w)``: its gradient, Hessian and minimizer
  (Newton's method);
* the gradient flow of any NumPy gradient by SciPy's DOP853;
* gradient descent on the double well ``J(w) = sum (w^2 - 1)^2 / 4`` with its closed-form gradient,
  and the slack of the discrete energy inequality.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

__all__ = [
    "quadratic_flow",
    "logcosh_quadratic_grad",
    "logcosh_quadratic_hessian",
    "logcosh_quadratic_minimizer",
    "dop853_gradient_flow",
    "double_well_descent",
]


def _array(name: str, x, ndim: int | tuple[int, ...]) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim not in ((ndim,) if isinstance(ndim, int) else ndim):
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _square(A) -> np.ndarray:
    A = _array("A", A, 2)
    if A.shape[0] != A.shape[1] or not np.allclose(A, A.T, atol=1e-12 * (1 + np.abs(A).max())):
        raise ValueError(f"A must be a symmetric square matrix, got shape {A.shape}")
    return A


def quadratic_flow(A, E0, times) -> np.ndarray:
    """Exact gradient flow of ``J = 1/2 <A(W - W_*), W - W_*>``: ``exp(-tA) E0`` at every time.

    ``E0`` holds the initial errors ``W(0) - W_*``, shape ``(starts, q)``; ``exp(-tA)`` comes from
    ``numpy.linalg.eigh``. Returns ``W(t) - W_*``, shape ``(times, starts, q)`` (solution of (5.3)).
    """
    A = _square(A)
    E0 = _array("E0", E0, 2)
    t = _array("times", times, 1)
    if E0.shape[1] != A.shape[0]:
        raise ValueError(f"E0 must have shape (starts, {A.shape[0]}), got {E0.shape}")
    mu, V = np.linalg.eigh(A)
    return np.einsum("ij,tj,kj->tik", E0 @ V, np.exp(-np.outer(t, mu)), V)


def logcosh_quadratic_grad(w, A, c) -> np.ndarray:
    """Gradient ``A(w - c) + tanh(w)`` of ``1/2 <A(w - c), w - c> + sum log cosh(w)``; ``w``: ``(..., q)``."""
    return (np.asarray(w) - c) @ np.asarray(A) + np.tanh(w)


def logcosh_quadratic_hessian(w, A) -> np.ndarray:
    """Hessian ``A + diag(cosh(w)^-2)`` of the same loss at one point ``w`` of shape ``(q,)``."""
    return np.asarray(A) + np.diag(np.cosh(w) ** -2)


def logcosh_quadratic_minimizer(A, c, tol: float = 1e-12, max_iter: int = 50) -> tuple[np.ndarray, float]:
    """Minimizer of ``1/2 <A(w - c), w - c> + sum log cosh(w)`` by Newton's method from ``w = c``.

    Returns ``(w_*, max |grad J(w_*)|)``; raises ``ValueError`` if the gradient is not below
    ``tol`` after ``max_iter`` steps. The loss ``J_nl`` of claims SGD-1 and SGD-2.
    """
    A = _square(A)
    c = _array("c", c, 1)
    if c.shape[0] != A.shape[0] or tol <= 0 or max_iter < 1:
        raise ValueError(f"c must have length {A.shape[0]}, tol > 0 and max_iter >= 1")
    w = c.copy()
    for _ in range(max_iter):
        g = logcosh_quadratic_grad(w, A, c)
        if np.abs(g).max() < tol:
            break
        w = w - np.linalg.solve(logcosh_quadratic_hessian(w, A), g)
    if not np.abs(g).max() < tol:
        raise ValueError(f"Newton's method did not reach |grad| < {tol} in {max_iter} steps")
    return w, float(np.abs(g).max())


def dop853_gradient_flow(
    grad: Callable[[np.ndarray], np.ndarray], W0, times, rtol: float, T: float | None = None
) -> np.ndarray:
    """The gradient flow ``W' = -grad(W)`` from the rows of ``W0`` by SciPy's DOP853.

    ``grad`` maps ``(starts, q) -> (starts, q)``; all starts are integrated as one system on
    ``[0, T]`` (``T`` defaults to ``times[-1]``) with ``atol = 1e-2 rtol``. Returns the states at
    ``times``, shape ``(times, starts, q)``.
    """
    W0 = _array("W0", W0, 2)
    t = _array("times", times, 1)
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must lie in (0, 1), got {rtol!r}")
    starts, q = W0.shape
    T = float(t[-1]) if T is None else float(T)
    sol = solve_ivp(
        lambda s, y: -grad(y.reshape(-1, q)).ravel(),
        (0.0, T),
        W0.ravel(),
        method="DOP853",
        t_eval=t,
        rtol=rtol,
        atol=1e-2 * rtol,
    )
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol.y.T.reshape(len(t), starts, q)


def double_well_descent(W0, dt: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """GD on the double well with the closed-form gradient ``w (w^2 - 1)`` written out in NumPy.

    Returns the iterates, shape ``(n_steps + 1, ...)``, and the slack
    ``J(W^{n+1}) - J(W^n) + dt (1 - dt) |grad J(W^n)|^2`` of the discrete energy inequality
    with ``beta = 2`` (non-positive when it holds), shape ``(n_steps, ...)``.
    """
    W = _array("W0", W0, (1, 2))
    if not dt > 0 or int(n_steps) < 1:
        raise ValueError(f"dt must be > 0 and n_steps >= 1, got {dt!r}, {n_steps!r}")
    path, slack = [W], []
    for _ in range(int(n_steps)):
        g = W * (W**2 - 1)
        W1 = W - dt * g
        slack.append(
            ((W1**2 - 1) ** 2).sum(-1) / 4 - ((W**2 - 1) ** 2).sum(-1) / 4 + dt * (1 - dt) * (g**2).sum(-1)
        )
        path.append(W1)
        W = W1
    return np.stack(path), np.stack(slack)
