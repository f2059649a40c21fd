"""Independent references for the Adam ODE (5.23) and Adam itself (notebook ``01-sgd/02-momentum-and-adam``).

In NumPy/SciPy (and ``torch.optim.Adam``), sharing no code with :mod:`gradflows.adam` or
:mod:`gradflows.ode_optimizers`: the right-hand side of (5.23) on ``(W, Z, D)``, its DOP853
solution for a batch of starts and its energy (5.24), the non-autonomous limit of bias-corrected
Adam and its solution from a small time ``t0 > 0``, and the time scales of the moment buffers of
``torch.optim.Adam``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.integrate import solve_ivp
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from . import momentum_odes
from .momentum_odes import grad_six_hump, six_hump

__all__ = [
    "torch_adam_iterates",
    "adam_rhs",
    "adam_batch",
    "adam_energy",
    "adam_limit_rhs",
    "bias_corrected_limit",
    "torch_adam_time_scales",
    "quartic_relative_gap",
]


def _positive(**kw: float) -> None:
    for name, v in kw.items():
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")


def adam_rhs(e1: float, e2: float, grad: Callable) -> Callable:
    """Right-hand side of (5.23) ``W' = Z/sqrt(D), e1 Z' = -(g + Z), e2 D' = g^2 - D`` on ``y = (W, Z,
    D)``."""
    _positive(e1=e1, e2=e2)

    def rhs(t, y):
        W, Z, D = np.split(y, 3)
        g = grad(W)
        return np.concatenate([Z / np.sqrt(D), -(g + Z) / e1, (g * g - D) / e2])

    return rhs


def adam_batch(W0, e1: float, e2: float, t_eval, rtol: float = 1e-10) -> np.ndarray:
    """DOP853 for (5.23) on the six-hump function from ``Z = 0, D = 1``, all starts (columns of ``W0``) at
    once.

    ``W0`` has shape ``(2, starts)``; ``atol = 1e-2 rtol``. Returns shape ``(times, 3, 2, starts)``.
    """
    _positive(e1=e1, e2=e2, rtol=rtol)
    W0 = np.asarray(W0, dtype=float)
    t_eval = np.asarray(t_eval, dtype=float)
    if W0.ndim != 2 or W0.shape[0] != 2:
        raise ValueError(f"W0 must have shape (2, starts), got {W0.shape}")

    def rhs(t, y):
        W, Z, D = y.reshape(3, 2, -1)
        g = grad_six_hump(W)
        return np.concatenate([Z / np.sqrt(D), -(g + Z) / e1, (g * g - D) / e2], axis=None)

    y0 = np.stack([W0, 0 * W0, 1 + 0 * W0]).ravel()
    sol = solve_ivp(rhs, (0.0, t_eval[-1]), y0, method="DOP853", rtol=rtol, atol=1e-2 * rtol, t_eval=t_eval)
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol.y.T.reshape(len(t_eval), 3, 2, -1)


def adam_energy(Y: np.ndarray, e1: float) -> np.ndarray:
    """Energy (5.24) ``J(W) + (e1/2) <D^{-1/2} Z, Z>`` of states of shape ``(times, 3, 2, starts)``."""
    _positive(e1=e1)
    Y = np.asarray(Y)
    if Y.ndim != 4 or Y.shape[1:3] != (3, 2):
        raise ValueError(f"Y must have shape (times, 3, 2, starts), got {Y.shape}")
    return six_hump(np.moveaxis(Y[:, 0], 1, 0)) + 0.5 * e1 * (Y[:, 1] ** 2 / np.sqrt(Y[:, 2])).sum(1)


def adam_limit_rhs(e1: float, e2: float, eps: float, bias_corrected: bool, grad: Callable = grad_six_hump):
    """``W' = (Z/c1)/(sqrt(D/c2) + eps)``, ``e1 Z' = -(g + Z)``, ``e2 D' = g^2 - D``.

    ``c_k = 1 - exp(-t/e_k)`` (the limit of bias-corrected Adam) or ``c_k = 1`` (of Adam without
    correction, i.e. (5.23) with ``eps``).
    """
    _positive(e1=e1, e2=e2)

    def rhs(t, y):
        W, Z, D = np.split(y, 3)
        g = grad(W)
        c1, c2 = (-np.expm1(-t / e1), -np.expm1(-t / e2)) if bias_corrected else (1.0, 1.0)
        return np.concatenate([(Z / c1) / (np.sqrt(D / c2) + eps), -(g + Z) / e1, (g * g - D) / e2])

    return rhs


def bias_corrected_limit(W0, e1: float, e2: float, eps: float, T: float, t0: float) -> np.ndarray:
    """``W(T)`` of the bias-corrected limit on the six-hump function, by DOP853 (rtol 1e-10) from ``t0 > 0``.

    ``t = 0`` is a 0/0 point: the solve starts at ``t0`` from the small-``t`` expansion
    ``W = W0 - t0 g0/(|g0| + eps)``, ``Z = g0 expm1(-t0/e1)``, ``D = -g0^2 expm1(-t0/e2)``.
    """
    _positive(T=T, t0=t0)
    W0 = np.asarray(W0, dtype=float)
    g0 = grad_six_hump(W0)
    y0 = np.r_[W0 - t0 * g0 / (np.abs(g0) + eps), g0 * np.expm1(-t0 / e1), -(g0**2) * np.expm1(-t0 / e2)]
    sol = solve_ivp(adam_limit_rhs(e1, e2, eps, True), (t0, T), y0, method="DOP853", rtol=1e-10, atol=1e-12)
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol.y[:2, -1]


def torch_adam_time_scales(n_steps: int = 10, lr: float = 1e-3) -> tuple[float, float]:
    """Time scales ``-n lr / log(1 - buffer)`` of the two moment buffers of ``torch.optim.Adam`` (defaults).

    With ``J(theta) = theta`` (gradient 1) the buffers fill like ``1 - beta^n``; the ODE from
    ``Z = D = 0`` fills like ``1 - exp(-t/eps)`` at ``t = n lr``.
    """
    if int(n_steps) < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps!r}")
    _positive(lr=lr)
    theta = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([theta], lr=lr)
    for _ in range(int(n_steps)):
        opt.zero_grad()
        theta.sum().backward()
        opt.step()
    m, v = float(opt.state[theta]["exp_avg"][0]), float(opt.state[theta]["exp_avg_sq"][0])
    return -n_steps * lr / np.log(1 - m), -n_steps * lr / np.log(1 - v)


def quartic_relative_gap(a, W0, e1: float, e2: float, t) -> np.ndarray:
    """``|E - L| / (e1/2 |g|_1)`` along (5.23) for ``J = sum_j a_j w_j^4 / 4`` from ``(W0, 0, 1)``, at the
    times ``t > 0``.

    ``E`` is the energy (5.24), ``L = J + (e1/2)|grad J|_1`` the functional (5.28); DOP853
    (rtol 1e-10). The relative distance of the Adam ODE to the slow manifold.
    """
    _positive(e1=e1, e2=e2)
    a, W0 = np.asarray(a, dtype=float), np.asarray(W0, dtype=float)
    q = W0.shape[0]
    Y = momentum_odes.dop853(
        adam_rhs(e1, e2, lambda w: a * w**3), np.r_[W0, np.zeros(q), np.ones(q)], np.r_[0.0, t]
    )[1:]
    g = a * Y[:, :q] ** 3
    h = e1 / 2
    return np.abs(h * ((Y[:, q : 2 * q] ** 2 / np.sqrt(Y[:, 2 * q :])).sum(1) - np.abs(g).sum(1))) / (
        h * np.abs(g).sum(1)
    )


def torch_adam_iterates(
    net: torch.nn.Module, theta0: torch.Tensor, x: torch.Tensor, y: torch.Tensor, n_steps: int, **kwargs
) -> torch.Tensor:
    """Discrete Adam by ``torch.optim.Adam(**kwargs)``: the flat parameters of ``net`` after
    ``0, 1, ..., n_steps`` steps (the independent reference for :func:`gradflows.adam.adam`).

    The loss is the mean squared error on ``(x, y)``; the network starts from ``theta0``.
    Shape ``(n_steps + 1, len(theta0))``. Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    if not isinstance(net, torch.nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    theta0 = torch.as_tensor(theta0)
    if not torch.isfinite(theta0).all():
        raise ValueError("theta0 must be finite")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")
    vector_to_parameters(theta0.clone(), net.parameters())
    opt = torch.optim.Adam(net.parameters(), **kwargs)
    out = [theta0.clone()]
    for _ in range(n_steps):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        opt.step()
        out.append(parameters_to_vector(net.parameters()).detach().clone())
    return torch.stack(out)
