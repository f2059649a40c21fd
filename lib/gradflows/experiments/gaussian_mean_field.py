"""Particle estimates for the solvable Gaussian mean-field model, and their exact sampling errors.

For ``F(m) = (1/2)(int x dm - a)^2 + (kappa/2) int x^2 dm`` on the line, the free energy
``V(m) = F(m) + (sigma^2/2) H(m | N(0, 1))`` of a cloud ``x`` is estimated by ``F`` of its empirical
measure plus the nearest-neighbour estimate :func:`~gradflows.energies.relative_entropy_to_gaussian`
(:func:`free_energy_estimate`). For i.i.d. samples of ``N(mu, v)`` the estimator is equivariant:
``x = mu + sqrt(v) z`` gives ``h_hat(x) = h_hat(z) + log sqrt(v)``, so a few standard normal samples
give its exact error distribution at every ``(mu, v)`` (:func:`iid_free_energy_sd`), against which
the particles of the mean-field Langevin dynamics are compared (:func:`largest_deviations`).
Used in notebooks/03-mfld/03.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._validation import check_int, check_nonnegative, check_positive
from ..energies import relative_entropy_to_gaussian

__all__ = ["free_energy_estimate", "iid_free_energy_sd", "largest_deviations"]


def free_energy_estimate(x: torch.Tensor, a: float, kappa: float, sigma: float, k: int = 3) -> float:
    """``F(empirical measure of x) + (sigma^2/2) H_hat(x | N(0, 1))`` for a 1-D cloud ``x`` ``(n,)``.

    Used in notebooks/03-mfld/03.
    """
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D cloud, got shape {tuple(x.shape)}")
    F_e = 0.5 * (x.mean() - a) ** 2 + 0.5 * kappa * x.square().mean()
    return (F_e + 0.5 * sigma**2 * relative_entropy_to_gaussian(x, k=k)).item()


def iid_free_energy_sd(
    n: int,
    reps: int,
    a: float,
    kappa: float,
    sigma: float,
    generator: torch.Generator | None = None,
    k: int = 3,
) -> Callable[[float, float], float]:
    """``sd(mu, v)``: the standard deviation of :func:`free_energy_estimate` for ``n`` i.i.d. ``N(mu, v)``.

    ``reps`` standard normal samples of size ``n`` are drawn once (one ``randn(reps, n)``); by
    equivariance they give the estimator's exact error distribution at every ``(mu, v)``.
    Used in notebooks/03-mfld/03.
    """
    n, reps = check_int("n", n, minimum=2), check_int("reps", reps, minimum=2)
    kappa, sigma = check_nonnegative("kappa", kappa), check_positive("sigma", sigma)
    Zc = torch.randn(reps, n, generator=generator)
    zbar, z2 = Zc.mean(1), Zc.square().mean(1)
    # = -(h_hat(z) - h(N(0, 1)))
    dh = torch.stack(
        [relative_entropy_to_gaussian(z, k=k) - 0.5 * (z2_i - 1) for z, z2_i in zip(Zc, z2, strict=True)]
    )

    def sd(mu: float, v: float) -> float:
        m1, m2 = mu + math.sqrt(v) * zbar, mu**2 + 2 * mu * math.sqrt(v) * zbar + v * z2
        h_hat = 0.5 * math.log(2 * math.pi * math.e * v) - dh
        V = (
            0.5 * (m1 - a) ** 2
            + 0.5 * kappa * m2
            + 0.5 * sigma**2 * (-h_hat + 0.5 * m2 + 0.5 * math.log(2 * math.pi))
        )
        return V.std().item()

    return sd


def largest_deviations(
    runs, n: int, sd_V: Callable[[float, float], float], V: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> dict[str, float]:
    """Largest deviations of particle mean, variance, free energy from the scheme's laws, in sampling sds.

    ``runs`` holds dicts with the particle ``mean``, ``var``, ``V_hat`` and the exact ``mu_em``,
    ``v_em`` at the recorded times; the sds are ``sqrt(v/n)``, ``v sqrt(2/n)`` and ``sd_V(mu, v)``.
    Used in notebooks/03-mfld/03.
    """
    n = check_int("n", n)
    z_g = {"mean": 0.0, "var": 0.0, "V_hat": 0.0}
    for r in runs:
        sd = np.array([sd_V(m, v) for m, v in zip(r["mu_em"], r["v_em"], strict=True)])
        z_g["mean"] = max(z_g["mean"], np.max(np.abs(r["mean"] - r["mu_em"]) / np.sqrt(r["v_em"] / n)))
        z_g["var"] = max(z_g["var"], np.max(np.abs(r["var"] - r["v_em"]) / (r["v_em"] * math.sqrt(2 / n))))
        z_g["V_hat"] = max(z_g["V_hat"], np.max(np.abs(r["V_hat"] - V(r["mu_em"], r["v_em"])) / sd))
    return z_g
