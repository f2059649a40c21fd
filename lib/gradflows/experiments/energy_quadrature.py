"""Quadrature of the TDGF step energy in dimension d: midpoint grid against Monte Carlo.

The test integrand is the energy ``I^2`` of the second step, with ``U^1 = u(h, .)`` and the candidate
``u(2 h, .)`` both the closed-form prices of the model (a smooth integrand); the reference value is a
tensor Gauss–Legendre rule. The grid error falls like ``N^(-2/d)``, the Monte Carlo error like
``N^(-1/2)`` in any dimension. Notebook ``05-tdgf/03-dimension`` (check TDGF-quad).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_int, check_positive
from ..tdgf import tdgf_energy, value_and_grad

__all__ = [
    "closed_form_step_energy",
    "tensor_gauss_legendre",
    "quadrature_errors",
    "mc_spread",
    "quadrature_table",
]


def closed_form_step_energy(model, x: torch.Tensor, w: torch.Tensor, h: float) -> float:
    """Quadrature ``sum_q w_q (...)`` of ``I^2(u(2h))`` with ``U^1 = u(h)``, both closed-form prices."""
    h = check_positive("h", h)
    if x.ndim != 2 or w.shape != (x.shape[0],):
        raise ValueError(f"x must be (n, d) and w (n,), got {tuple(x.shape)} and {tuple(w.shape)}")
    u, g = value_and_grad(lambda z: model.reference(z, 2 * h), x)
    u1, g1 = value_and_grad(lambda z: model.reference(z, h), x)
    return tdgf_energy(u, g, u1, (model.b(x) * g1).sum(1), model.A(x), w, h, model.r).item()


def tensor_gauss_legendre(model, m: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Tensor Gauss–Legendre rule with ``m`` nodes per axis on the model's (cubic) box."""
    z, wz = np.polynomial.legendre.leggauss(check_int("m", m))
    lo, hi = model.lo[0], model.hi[0]
    nodes, wts = torch.as_tensor(lo + (z + 1) * (hi - lo) / 2), torch.as_tensor(wz * (hi - lo) / 2)
    x = torch.cartesian_prod(*[nodes] * model.dim).reshape(-1, model.dim)
    w = torch.cartesian_prod(*[wts] * model.dim).reshape(-1, model.dim).prod(1)
    return x, w


def quadrature_errors(model, n_axis, m_gl: int, reps: int, generator: torch.Generator, h: float) -> dict:
    """Absolute errors of :func:`closed_form_step_energy` with the midpoint grid of ``n`` points per axis and
    the rms error of ``reps`` Monte Carlo estimates with as many points, for each ``n`` of ``n_axis``.

    Reference: Gauss–Legendre with ``m_gl`` nodes per axis; ``ref_move`` is its change with ``m_gl // 2``.
    Returns ``dict(I_ref, N, grid_abs, mc_abs, ref_move)``. Used in notebooks/05-tdgf/03.
    """
    reps = check_int("reps", reps)
    I_ref = closed_form_step_energy(model, *tensor_gauss_legendre(model, m_gl), h)
    I_half = closed_form_step_energy(model, *tensor_gauss_legendre(model, m_gl // 2), h)
    N = np.array(n_axis) ** model.dim
    grid_err = np.array([abs(closed_form_step_energy(model, *model.grid(n), h) - I_ref) for n in n_axis])
    mc_rms = []
    for k in N:
        est = [closed_form_step_energy(model, *model.sample(int(k), generator), h) for _ in range(reps)]
        mc_rms.append(np.sqrt(np.mean([(e - I_ref) ** 2 for e in est])))
    return dict(I_ref=I_ref, N=N, grid_abs=grid_err, mc_abs=np.array(mc_rms), ref_move=abs(I_half - I_ref))


def mc_spread(model, Ns, reps: int, generator: torch.Generator, h: float) -> np.ndarray:
    """``reps`` Monte Carlo estimates of :func:`closed_form_step_energy` for each number of points in
    ``Ns``, shape ``(len(Ns), reps)`` (drawn in this order). Used in notebooks/05-tdgf/03."""
    reps = check_int("reps", reps)
    return np.array(
        [
            [closed_form_step_energy(model, *model.sample(int(k), generator), h) for _ in range(reps)]
            for k in Ns
        ]
    )


def quadrature_table(models: dict, cases, reps: int, generator: torch.Generator, h: float) -> dict:
    """:func:`quadrature_errors` for each ``(d, n_axis, m_gl)`` of ``cases``; prints the table.

    Returns ``{d: dict(N, grid, mc, ref_move)}`` with the errors relative to the reference value ``I^2``.
    Used in notebooks/05-tdgf/03.
    """
    quad = {}
    for d, n_axis, m_gl in cases:
        q = quadrature_errors(models[d], n_axis, m_gl, reps, generator, h)
        I_ref = q["I_ref"]
        quad[d] = dict(N=q["N"], grid=q["grid_abs"] / I_ref, mc=q["mc_abs"] / I_ref, ref_move=q["ref_move"])
        print(
            f"d = {d}: I^2 = {I_ref:.10f} (Gauss-Legendre {m_gl}^{d}; with half the nodes it moves by "
            f"{q['ref_move']:.1e}); absolute errors, relative in brackets"
        )
        for k, eg, em in zip(q["N"], q["grid_abs"], q["mc_abs"], strict=True):
            print(
                f"   N = {k:5d}: midpoint {eg:.2e} ({eg / I_ref:.1e} relative)   "
                f"Monte Carlo (rms of {reps}) {em:.2e} ({em / I_ref:.1e} relative)"
            )
    return quad
