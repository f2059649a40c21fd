"""Monte Carlo error studies: errors of block means against an exact value, as the sample size grows.

Two experiments of notebook ``03-mfld/01-networks-as-measures`` measure the ``N^{-1/2}`` law of a
Monte Carlo average: prices of a basket option from ``N`` paths (:func:`recorded_mc_price`,
:func:`block_rmse`) and the mean-field output ``f_N(z)`` of ``N`` i.i.d. neurons
(:func:`lln_output_rmse`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._validation import as_tensor, check_finite, check_int, check_ndim
from ..mean_field import mf_output
from ..pricing import mc_price

__all__ = ["block_rmse", "recorded_mc_price", "lln_output_rmse"]


def block_rmse(samples: torch.Tensor, exact: float, sizes) -> np.ndarray:
    """RMS error ``(mean_b (bar Y_b - exact)^2)^(1/2)`` of the means of disjoint blocks of ``N`` samples.

    For each ``N`` in ``sizes`` the first ``(n // N) N`` samples are split into ``n // N`` blocks,
    each an independent estimate from ``N`` samples. Returns shape ``(len(sizes),)``.
    Used in notebooks/03-mfld/01.
    """
    samples = check_finite("samples", check_ndim("samples", as_tensor("samples", samples), 1))
    n = samples.shape[0]
    errs = []
    for N in sizes:
        N = check_int("N", int(N))
        if N > n:
            raise ValueError(f"block size {N} exceeds the {n} samples")
        blocks = samples[: (n // N) * N].view(-1, N).mean(1)
        errs.append(float(((blocks - exact) ** 2).mean().sqrt()))
    return np.array(errs)


def recorded_mc_price(
    payoff: Callable[[torch.Tensor], torch.Tensor],
    S0: torch.Tensor,
    r: float,
    sigma: torch.Tensor,
    T: float,
    n_paths: int,
    *,
    generator: torch.Generator | None = None,
    chunk: int = 1000,
) -> tuple[float, float, torch.Tensor]:
    """:func:`gradflows.pricing.mc_price` that also returns every payoff it computed, undiscounted, in order.

    Returns ``(price, standard error, payoffs)``; the payoffs are recorded as ``mc_price`` computes
    them (one chunk of paths at a time). Used in notebooks/03-mfld/01.
    """
    recorded = []

    def payoff_recorder(X):
        p = payoff(X)
        recorded.append(p)
        return p

    price, stderr = mc_price(
        payoff_recorder, S0, r, sigma, T, n_paths, generator=generator, chunk=chunk, progress=False
    )
    return float(price), float(stderr), torch.cat(recorded)


def lln_output_rmse(
    law_mean: torch.Tensor,
    Z: torch.Tensor,
    exact: np.ndarray,
    sizes,
    reps: int,
    generator: torch.Generator | None,
) -> np.ndarray:
    """RMS error of the mean-field output ``f_N(z)`` against ``exact``, neurons i.i.d. ``N(law_mean, I)``.

    For each ``N`` in ``sizes``, ``reps`` networks are drawn (one ``randn(N, 1 + D)`` each) and
    ``(mean_reps (f_N(z) - exact(z))^2)^(1/2)`` is returned, shape ``(len(sizes), len(Z))``.
    Used in notebooks/03-mfld/01 (law of large numbers for the output).
    """
    reps = check_int("reps", reps)
    law_mean = check_finite("law_mean", check_ndim("law_mean", as_tensor("law_mean", law_mean), 1))
    exact = np.asarray(exact, dtype=float)
    if exact.shape != (Z.shape[0],):
        raise ValueError(f"exact must have shape ({Z.shape[0]},), got {exact.shape}")
    sq_err = np.zeros((len(sizes), len(exact)))
    for j, N in enumerate(sizes):
        for _ in range(reps):
            X = law_mean + torch.randn(
                int(N), len(law_mean), generator=generator, dtype=law_mean.dtype, device=law_mean.device
            )
            sq_err[j] += (mf_output(X, Z).cpu().numpy() - exact) ** 2
    return np.sqrt(sq_err / reps)
