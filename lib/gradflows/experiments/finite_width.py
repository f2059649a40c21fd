"""The cost of a finite width at stationarity: ``N`` i.i.d. neurons and trained ``N``-particle systems.

Notebook ``03-mfld/03-mean-field-langevin`` (claim MFLD-11): ``N`` times the loss gap of ``N`` neurons
drawn i.i.d. from a stationary measure (:func:`print_iid_gaps`; the estimates are
:func:`gradflows.experiments.replicas.iid_loss_gap`), the time-averaged loss of trained systems of ``N``
neurons fitted by ``F_inf + C / N`` (:func:`width_fit`), and both against ``N`` (:func:`plot_width_cost`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import torch

from .replicas import weighted_affine_fit

__all__ = ["print_iid_gaps", "width_fit", "plot_width_cost"]


def print_iid_gaps(Ns: Sequence[int], iid: dict) -> None:
    """Prints ``N`` times the loss gap of ``N`` i.i.d. neurons, raw and with the control variate, with their
    standard errors (``iid`` from :func:`gradflows.experiments.replicas.iid_loss_gap`).
    Used in notebooks/03-mfld/03.
    """
    N = np.array(Ns)
    print("N                   :", list(Ns))
    for label, gap, se in (("raw        ", "gap_raw", "se_raw"), ("control var", "gap_cv", "se_cv")):
        print(
            f"N x gap, {label}:", np.round(N * iid[gap], 4).tolist(), "+-", np.round(N * iid[se], 4).tolist()
        )


def width_fit(
    stationary: Callable[[torch.Tensor, float], tuple],
    Ns: np.ndarray,
    R: int,
    sigma: float,
    var_nu: float,
    generator: torch.Generator | None,
) -> SimpleNamespace:
    """Time-averaged stationary loss of ``R`` trained systems of ``N`` neurons for each ``N``, fitted by
    ``F_inf + C / N`` (and, for comparison, ``F_inf + C' / sqrt(N)``) with weights ``1 / se^2``.

    Each width draws its ``R`` initial clouds ``N(0, 0.1^2 I)`` in order; ``stationary(X0, sigma)`` as in
    :func:`gradflows.experiments.stationary_measures.sigma_sweep`. Returns ``F_bar``, ``se_bar``, ``F_inf``,
    ``C_N``, ``se_C``, ``chi2_N``, ``chi2_alt`` and prints them against the i.i.d. constant ``var_nu / 2``.
    Used in notebooks/03-mfld/03 (claim MFLD-11).
    """
    Ns = np.asarray(Ns)
    if Ns.ndim != 1 or len(Ns) < 3 or R < 2:
        raise ValueError(f"need >= 3 widths and R >= 2 systems, got {Ns} and {R}")
    F_part = np.array(
        [stationary((0.1 * torch.randn(R, n, 2, generator=generator)).float(), sigma)[0] for n in Ns]
    )
    w = SimpleNamespace(F_bar=F_part.mean(1), se_bar=F_part.std(1, ddof=1) / math.sqrt(R))
    w.F_inf, w.C_N, w.se_C, w.chi2_N = weighted_affine_fit(1.0 / Ns, w.F_bar, w.se_bar)
    w.chi2_alt = weighted_affine_fit(1.0 / np.sqrt(Ns), w.F_bar, w.se_bar)[3]
    F_bar, se_bar = np.round(w.F_bar, 5).tolist(), np.round(w.se_bar, 5).tolist()
    print(f"trained systems, sigma = {sigma}: N =", Ns.tolist(), " time-averaged F:", F_bar, "+-", se_bar)
    print(
        f"fit F_inf + C/N: F_inf = {w.F_inf:.5f}, C = {w.C_N:.4f} +- {w.se_C:.4f}, chi2 = {w.chi2_N:.1f} "
        f"(2 degrees of freedom); F_inf + C'/sqrt(N): chi2 = {w.chi2_alt:.1f};  i.i.d. sampling constant "
        f"int Var/2 = {var_nu / 2:.3f}"
    )
    return w


def plot_width_cost(
    Ns, iid: dict, pred, ub_N, Ns_part, F_bar, se_bar, F_inf: float, C_N: float, var_nu: float
) -> None:
    """Left: the loss gap of ``N`` i.i.d. neurons (raw and control variate, ``iid`` from
    :func:`gradflows.experiments.replicas.iid_loss_gap`) against ``int Var / (2N)`` and the best-``N`` bound;
    right: the trained ``N``-particle systems against the fit ``F_inf + C/N``. Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    ax = axes[0]
    ax.errorbar(Ns, iid["gap_raw"], yerr=2 * iid["se_raw"], fmt="o", ms=4, capsize=3, label="raw estimate")
    ax.errorbar(
        Ns, iid["gap_cv"], yerr=2 * iid["se_cv"], fmt="s", ms=4, capsize=3, label="with control variate"
    )
    ax.loglog(Ns, pred, "k-", lw=1, label="$\\frac{1}{2N}\\int \\mathrm{Var}_{\\hat m}\\hat\\varphi\\,d\\nu$")
    ax.loglog(Ns, ub_N, "v:", color="C2", ms=4, label="best $N$ neurons: bound on $\\inf F^N-\\inf F$")
    ax.set(xscale="log", yscale="log", xlabel="$N$", ylabel="loss gap", title="cost of $N$ i.i.d. neurons")
    ax.legend(fontsize=8)
    ax = axes[1]
    ax.errorbar(Ns_part, F_bar - F_inf, yerr=2 * se_bar, fmt="o", ms=4, capsize=3,
                label="trained systems: $\\bar F_N - F_\\infty$")  # fmt: skip
    ax.loglog(Ns_part, C_N / Ns_part, "k-", lw=1, label="fit $C/N$")
    ax.loglog(
        Ns_part,
        var_nu / (2 * Ns_part),
        "k:",
        lw=1,
        label="i.i.d. cost $\\frac{1}{2N}\\int\\mathrm{Var}\\,d\\nu$",
    )
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="$N$",
        ylabel="loss gap",
        title="stationary $N$-particle system, $\\sigma=0.3$",
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
