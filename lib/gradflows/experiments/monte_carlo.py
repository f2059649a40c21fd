"""Monte Carlo error studies: errors of block means against an exact value, as the sample size grows.

Two experiments of notebook ``03-mfld/01-networks-as-measures`` measure the ``N^{-1/2}`` law of a
Monte Carlo average: prices of a basket option from ``N`` paths (:func:`recorded_mc_price`,
:func:`block_rmse`) and the mean-field output ``f_N(z)`` of ``N`` i.i.d. neurons
(:func:`lln_output_rmse`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import torch
from scipy.stats import chi2

from .._validation import as_tensor, check_finite, check_int, check_ndim
from ..mean_field import mf_output
from ..pricing import mc_price
from ..rates import loglog_slope

__all__ = [
    "block_rmse",
    "recorded_mc_price",
    "lln_output_rmse",
    "basket_rmse_sweep",
    "print_basket_claims",
    "plot_basket_rmse",
    "plot_lln_rmse",
]


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


def basket_rmse_sweep(
    payoff: Callable[[torch.Tensor], torch.Tensor],
    dims,
    S0: float,
    r: float,
    sigma_of_d: Callable[[int], torch.Tensor],
    T: float,
    n_total: int,
    sizes,
    exact_price: dict,
    law: dict,
    generator: torch.Generator | None,
) -> SimpleNamespace:
    """Block RMSE of Monte Carlo basket prices against the closed form, for each dimension, and its table.

    For each ``d``: ``n_total`` payoffs in float32 by :func:`recorded_mc_price` (chunks of 1000),
    discounted in float64; the price ``mc[d] = (price, stderr, mean of the payoffs)``, the sample sd
    and kurtosis of the payoffs, the block RMSE ``rmse[d]`` at each ``N`` in ``sizes`` (:func:`block_rmse`),
    its slope where every point rests on >= 16 blocks, ``sqrt(N) RMSE / sd`` with its two-sided
    chi-square band (level ``1e-4`` over all tests), the pooled ``sqrt(N)`` RMSE, and the standard errors
    that claim MFLD-2 uses. ``law[d] = (price, sd, s)`` of the payoff (exact).
    Used in notebooks/03-mfld/01 (claim MFLD-2).
    """
    n_total, sizes = check_int("n_total", n_total), np.asarray(sizes)
    if sizes.ndim != 1 or np.any(sizes < 1) or np.any(sizes > n_total):
        raise ValueError(f"sizes must be a 1-D array of block sizes in [1, n_total], got {sizes}")
    disc = np.exp(-r * T)
    b = SimpleNamespace(dims=list(dims), sizes=sizes, n_total=n_total, blocks=n_total // sizes)
    b.fit = b.blocks >= 16
    b.mc, b.rmse, b.sd_sample, b.kurt, b.sd = {}, {}, {}, {}, {d: law[d][1] for d in dims}
    for d in dims:
        price, stderr, recorded = recorded_mc_price(
            payoff, torch.full((d,), S0, dtype=torch.float32), r, sigma_of_d(d).float(), T, n_total,
            generator=generator, chunk=1000,
        )  # fmt: skip
        payoffs = disc * recorded.double()
        b.mc[d] = (price, stderr, float(payoffs.mean()))
        b.sd_sample[d] = float(payoffs.std())
        b.kurt[d] = float(((payoffs - payoffs.mean()) ** 4).mean() / payoffs.var() ** 2)
        b.rmse[d] = block_rmse(payoffs, exact_price[d], sizes)
    b.mc_slope = {d: loglog_slope(sizes[b.fit], b.rmse[d][b.fit]) for d in dims}
    alpha_band = 1e-4 / (len(b.dims) * len(sizes))
    b.chi_ratio = {d: np.sqrt(sizes) * b.rmse[d] / b.sd[d] for d in dims}
    b.chi_band = np.sqrt(chi2.ppf([[alpha_band / 2], [1 - alpha_band / 2]], b.blocks) / b.blocks)
    b.mc_const = {d: np.sqrt((b.blocks * sizes * b.rmse[d] ** 2).sum() / b.blocks.sum()) for d in dims}
    for d in dims:
        print(
            f"d = {d:3d}: RMSE "
            + " ".join(f"{e:.2e}" for e in b.rmse[d])
            + f"  slope (N <= 1e5) {b.mc_slope[d]:.3f}"
        )
        print(
            f"{'':9s}sqrt(N) RMSE / sd "
            + " ".join(f"{e:.3f}" for e in b.chi_ratio[d])
            + ";  sample sd of all "
            f"payoffs / exact sd {b.sd_sample[d] / b.sd[d]:.4f}"
        )
        print(
            f"{'':9s}sqrt(N) RMSE pooled {b.mc_const[d]:.3f} vs exact sd {b.sd[d]:.3f};  mc_price with all "
            f"{n_total:.0e} paths: {b.mc[d][0]:.4f} +- {b.mc[d][1]:.4f} (closed form {exact_price[d]:.4f})"
        )
    xc = np.log(sizes[b.fit]) - np.log(sizes[b.fit]).mean()
    b.slope_se = (
        np.sqrt((xc**2 / (2 * b.blocks[b.fit])).sum()) / (xc**2).sum()
    )  # var(log RMSE_N) = 1 / (2 B_N)
    lo, hi = b.chi_band
    b.band_use = {
        d: np.max(np.where(c >= 1, (c - 1) / (hi - 1), (1 - c) / (1 - lo))) for d, c in b.chi_ratio.items()
    }  # deviation from 1 in units of the band on its side
    b.sd_se = {
        d: np.sqrt((b.kurt[d] - 1) / (4 * n_total)) for d in dims
    }  # relative standard error of a sample sd
    b.pool_se = (
        np.sqrt(2 * b.blocks).sum() / b.blocks.sum() / 2
    )  # bound on the relative sd of the pooled constant
    b.sd_exact = np.array([b.sd[d] for d in dims])
    return b


def print_basket_claims(b: SimpleNamespace, law: dict, exact_price: dict) -> None:
    """Prints, per dimension, the quantities of claim MFLD-2 and their standard errors.

    ``b`` is the result of :func:`basket_rmse_sweep`.

    Used in notebooks/03-mfld/01.
    """
    for d in b.dims:
        mc = b.mc[d]
        print(
            f"d = {d:3d}: slope {b.mc_slope[d]:.3f} (standard error {b.slope_se:.3f}); "
            f"band used {b.band_use[d]:.2f}; "
            f"sample sd / exact sd {b.sd_sample[d] / law[d][1]:.4f} (+- {b.sd_se[d]:.4f}); "
            "pooled constant / exact sd "
            f"{b.mc_const[d] / law[d][1]:.4f} (+- {b.pool_se:.4f} at most); "
            f"(price - exact) / stderr {(mc[0] - exact_price[d]) / mc[1]:+.2f}; closed forms differ by "
            f"{abs(law[d][0] - exact_price[d]):.1e}; "
            f"mc_price vs mean of the recorded payoffs {abs(mc[0] - mc[2]) / mc[2]:.1e} (relative)"
        )
    sd_exact = b.sd_exact
    print(
        "exact sd of the payoff:", np.round(sd_exact, 3), f" max/min = {sd_exact.max() / sd_exact.min():.3f}"
    )


def plot_basket_rmse(b: SimpleNamespace) -> None:
    """Block RMSE against the number of paths for each dimension, with the prediction ``sd / sqrt(N)``.

    ``b`` is the result of :func:`basket_rmse_sweep`. Used in notebooks/03-mfld/01.
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, d in enumerate(b.dims):
        label = f"$d = {d}$ (slope on $N \\leq 10^5$: {b.mc_slope[d]:.2f})"
        ax.loglog(b.sizes, b.rmse[d], "o-", color=f"C{k}", label=label)
        ax.loglog(b.sizes, b.sd[d] / np.sqrt(b.sizes), ":", color=f"C{k}", lw=1)
    ax.plot([], [], "k:", lw=1, label="exact sd $/\\sqrt{N}$")
    ax.set(
        xlabel="number of paths $N$", ylabel="RMSE of the price", title="Monte Carlo for the geometric basket"
    )
    ax.legend()
    plt.show()


def plot_lln_rmse(sizes, rmse: np.ndarray, z, var: np.ndarray, slopes: np.ndarray) -> None:
    """RMSE of the output ``f_N(z)`` against the number of neurons, per input, with ``sd / sqrt(N)``.

    ``rmse`` from :func:`lln_output_rmse`, ``var`` the variances of ``phi_hat`` (quadrature), ``slopes``
    the fitted slopes. Used in notebooks/03-mfld/01 (law of large numbers for the output).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for k, zk in enumerate(z):
        ax.loglog(sizes, rmse[:, k], "o-", color=f"C{k}", label=f"$z = {zk}$ (slope {slopes[k]:.2f})")
        ax.loglog(sizes, np.sqrt(var[k] / np.asarray(sizes)), ":", color=f"C{k}", lw=1)
    ax.plot([], [], "k:", lw=1, label="$\\mathrm{sd}_m(\\hat\\varphi)/\\sqrt{N}$ (quadrature)")
    ax.set(
        xlabel="number of neurons $N$", ylabel="RMSE of $f_N(z)$", title="law of large numbers for the output"
    )
    ax.legend(fontsize=8)
    plt.show()
