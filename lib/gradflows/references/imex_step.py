"""The implicit–explicit (IMEX) step of a 1-D pricing equation, computed independently.

* :func:`critical_step`: the sufficient stability bound ``h (beta^2 - a^2 - 2 a r) <= 2 a`` of the
  frozen-coefficient Black–Scholes step in ``log S`` (``a = sigma^2 / 2``, ``beta = sigma^2 - r``),
  its root found by ``scipy.optimize.brentq``;
* :func:`imex_lu_steps`: the steps ``((1 + h r) M + h S) U^k = M U^{k-1} - h B U^{k-1}`` by a sparse LU;
* :func:`step_energy_grad` and :func:`step_energy_hvp`: the gradient and Hessian-vector products of
  ``I_h(u) = (u - U)^T M (u - U) / 2 + h (u^T S u / 2 + r u^T M u / 2 + u^T B U)`` by torch autograd
  of that formula (dense matrices).

The matrices come from the caller. Used by the exercises of notebooks/05-tdgf/01.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize as so
import scipy.sparse.linalg as spla
import torch

from .._validation import check_int, check_positive

__all__ = ["critical_step", "imex_lu_steps", "step_energy_grad", "step_energy_hvp"]


def critical_step(sigma: float, r: float) -> float:
    """The step ``h`` with ``h (beta^2 - a^2 - 2 a r) = 2 a`` (brentq); ``inf`` if every step is stable."""
    sigma = check_positive("sigma", sigma)
    if not np.isfinite(r):
        raise ValueError(f"r must be finite, got {r!r}")
    a, b = sigma**2 / 2, sigma**2 - r

    def f(h: float) -> float:
        return h * (b**2 - a**2 - 2 * a * r) - 2 * a

    return so.brentq(f, 1e-12, 1e3, xtol=1e-15) if f(1e3) > 0 else np.inf


def imex_lu_steps(M, S, B, U0: np.ndarray, h: float, r: float, n_steps: int) -> np.ndarray:
    """``U^{n_steps}`` of ``((1 + h r) M + h S) U^k = M U^{k-1} - h B U^{k-1}``, ``U^0 = U0`` (sparse LU)."""
    h, n_steps = check_positive("h", h), check_int("n_steps", n_steps)
    U = np.asarray(U0, float)
    if U.shape != (M.shape[0],):
        raise ValueError(f"U0 must be a vector of length {M.shape[0]}, got shape {U.shape}")
    lu = spla.splu(((1 + h * r) * M + h * S).tocsc())
    for _ in range(n_steps):
        U = lu.solve(M @ U - h * (B @ U))
    return U


def _energy(u: torch.Tensor, M, S, B, U0: torch.Tensor, h: float, r: float) -> torch.Tensor:
    d = u - U0
    return 0.5 * d @ M @ d + h * (0.5 * u @ S @ u + 0.5 * r * u @ M @ u + u @ B @ U0)


def _dense(M, S, B, U0) -> tuple[torch.Tensor, ...]:
    mats = [
        torch.as_tensor(m.toarray() if hasattr(m, "toarray") else np.asarray(m, float)) for m in (M, S, B)
    ]
    U0 = torch.as_tensor(np.asarray(U0, float))
    if any(m.shape != (U0.numel(), U0.numel()) for m in mats):
        raise ValueError(f"M, S, B must be square of the size of U0 ({U0.numel()})")
    return (*mats, U0)


def step_energy_grad(u, M, S, B, U0, h: float, r: float) -> torch.Tensor:
    """``grad I_h(u)`` by autograd of the formula of ``I_h``."""
    Mt, St, Bt, U0t = _dense(M, S, B, U0)
    ut = torch.as_tensor(np.asarray(u, dtype=float)).clone().requires_grad_(True)
    return torch.autograd.grad(_energy(ut, Mt, St, Bt, U0t, check_positive("h", h), r), ut)[0]


def step_energy_hvp(vs: torch.Tensor, M, S, B, U0, h: float, r: float) -> torch.Tensor:
    """Hessian-vector products ``H v`` of ``I_h`` (rows of ``vs``) by double backward at ``u = U0``."""
    Mt, St, Bt, U0t = _dense(M, S, B, U0)
    u = U0t.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(_energy(u, Mt, St, Bt, U0t, check_positive("h", h), r), u, create_graph=True)
    return torch.stack([torch.autograd.grad(g @ v, u, retain_graph=True)[0] for v in vs])
