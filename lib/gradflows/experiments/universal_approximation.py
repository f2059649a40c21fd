"""The universal-approximation experiment: error against width of random features, staircase, trained nets.

The sweeps, tables and figures of notebook ``03-mfld/01-networks-as-measures`` (claim MFLD-1), built on
the fits of :mod:`gradflows.experiments.approximation`: the sup and RMS errors of random features and the
staircase of the proof as the width doubles (:func:`width_sweep`), fully trained networks at a few widths
(:func:`train_sweep`), the table of the claim (:func:`print_width_findings`) and the figures
(:func:`plot_width_errors`, :func:`plot_rf_fit`).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import torch

from .._validation import check_int
from ..rates import loglog_slope
from .approximation import (
    Target,
    jackknife_slope_se,
    random_feature_errors,
    rf_fit,
    staircase,
    staircase_bound,
    train_tanh_nets,
)

__all__ = ["width_sweep", "train_sweep", "print_width_findings", "plot_width_errors", "plot_rf_fit"]


def width_sweep(
    targets: dict[str, Target],
    modulus: dict[str, Callable[[float], float]],
    holder: dict[str, float],
    widths,
    scale: float,
    n_draws: int,
    generator: torch.Generator | None,
    z_fit: np.ndarray,
    z_sup: np.ndarray,
    kappa: float = 10.0,
) -> SimpleNamespace:
    """Errors of random features and of the staircase of the proof as the width doubles, with their table.

    Per target (draws target by target, width by width, as :func:`~.random_feature_errors`): sup and RMS
    errors ``rf_sup``, ``rf_rms`` ``(widths, draws)``, their mean ``rf_err``, the log-log slope
    ``rf_slope`` and its jackknife standard error ``rf_slope_se``, the staircase errors ``stair_err``
    and the bound of the proof ``stair_bound``. Prints two lines per target.
    Used in notebooks/03-mfld/01 (Theorem "Universal approximation", claim MFLD-1).
    """
    widths = np.asarray(widths)
    if widths.ndim != 1 or len(widths) < 2 or np.any(widths < 1):
        raise ValueError(f"widths must be a 1-D array of >= 2 positive widths, got {widths}")
    r = SimpleNamespace(targets=targets, holder=holder, widths=widths, n_draws=check_int("n_draws", n_draws))
    r.rf_sup, r.rf_rms = {}, {}
    for name, g in targets.items():
        r.rf_sup[name], r.rf_rms[name] = random_feature_errors(
            g, widths, scale, n_draws, generator, z_fit, z_sup
        )
    r.rf_err = {name: e.mean(1) for name, e in r.rf_sup.items()}
    r.stair_err = {
        name: np.array([np.abs(staircase(g, n, z_sup, kappa) - g(z_sup)).max() for n in widths])
        for name, g in targets.items()
    }
    r.stair_bound = {
        name: np.array([staircase_bound(modulus[name], n, kappa) for n in widths]) for name in targets
    }
    r.rf_slope = {name: loglog_slope(widths, r.rf_err[name]) for name in targets}
    r.rf_slope_se = {name: jackknife_slope_se(widths, e) for name, e in r.rf_sup.items()}
    for name in targets:
        print(
            f"{name:8s} random features: "
            + " ".join(f"{e:.4f}" for e in r.rf_err[name])
            + f"   slope {r.rf_slope[name]:.3f} +- {r.rf_slope_se[name]:.3f} (Hölder exponent {holder[name]})"
        )
        print(
            f"{'':8s} staircase      : "
            + " ".join(f"{e:.4f}" for e in r.stair_err[name])
            + f"   max error/bound {np.max(r.stair_err[name] / r.stair_bound[name]):.3f}"
        )
    return r


def train_sweep(
    r: SimpleNamespace,
    train_widths,
    n_starts: int,
    scale: float,
    generator: torch.Generator | None,
    z_fit: np.ndarray,
    z_sup: np.ndarray,
    iters: int = 100,
) -> SimpleNamespace:
    """Adds to the result ``r`` of :func:`width_sweep` the fully trained networks, and prints the comparison.

    ``n_starts`` Levenberg-Marquardt runs per width and target (:func:`~.train_tanh_nets`): ``train_rms``,
    ``train_sup`` ``(train widths, starts)``, their median ``tr_med`` and best ``tr_best``, the median
    random-feature RMS error at the same widths ``rf_med`` (indices ``at``) and ``gain = rf_med / tr_med``.
    Used in notebooks/03-mfld/01 (claim MFLD-1).
    """
    train_widths, at = np.asarray(train_widths), np.searchsorted(r.widths, train_widths)
    if not np.array_equal(r.widths[np.minimum(at, len(r.widths) - 1)], train_widths):
        raise ValueError(f"train_widths {train_widths} must be among the widths {r.widths}")
    r.train_widths, r.n_starts, r.at = train_widths, check_int("n_starts", n_starts), at
    r.train_rms, r.train_sup = {}, {}
    for name, g in r.targets.items():
        runs = [
            train_tanh_nets(g, n, n_starts, scale, generator, z_fit, z_sup, iters) for n in r.train_widths
        ]
        r.train_rms[name], r.train_sup[name] = np.array([a for a, _ in runs]), np.array([s for _, s in runs])
    r.tr_med = {k: np.median(v, 1) for k, v in r.train_rms.items()}
    r.tr_best = {k: v.min(1) for k, v in r.train_rms.items()}
    r.rf_med = {k: np.median(r.rf_rms[k][r.at], 1) for k in r.targets}
    r.gain = {k: r.rf_med[k] / r.tr_med[k] for k in r.targets}
    for name in r.targets:
        med, best, rf = r.tr_med[name], r.tr_best[name], r.rf_med[name]
        print(f"{name}: RMS error on the fitting points (median over runs or draws)")
        for j, n in enumerate(r.train_widths):
            print(
                f"  n = {n:2d}: random features {rf[j]:.2e}, trained {med[j]:.2e} (best {best[j]:.2e}, "
                f"worst {r.train_rms[name][j].max():.2e}); trained / random features {med[j] / rf[j]:.2f};  "
                f"sup errors: trained {np.median(r.train_sup[name][j]):.4f}, "
                f"random features {np.median(r.rf_sup[name][r.at[j]]):.4f}"
            )
    return r


def print_width_findings(r: SimpleNamespace) -> dict[str, np.ndarray]:
    """Prints the table behind claim MFLD-1 and returns the ratios of mean sup errors at each doubling.

    ``r`` is the result of :func:`width_sweep` then :func:`train_sweep`; ``z`` is the log-gain over its
    standard error (the log of a median of ``k`` samples: ``1.2533 sd / sqrt(k)``).
    Used in notebooks/03-mfld/01.
    """
    t, rf_err = r.targets, r.rf_err
    ratios = {k: rf_err[k][1:] / rf_err[k][:-1] for k in t}
    se_rf = {k: 1.2533 * np.log(r.rf_rms[k][r.at]).std(1, ddof=1) / np.sqrt(r.n_draws) for k in t}
    se_tr = {k: 1.2533 * np.log(r.train_rms[k]).std(1, ddof=1) / np.sqrt(r.n_starts) for k in t}
    z_gain = {k: (np.log(r.rf_med[k]) - np.log(r.tr_med[k])) / np.hypot(se_rf[k], se_tr[k]) for k in t}
    worse = {k: float(np.mean(r.train_rms[k][1] > r.tr_best[k][0])) for k in t}
    print(
        "ratios of mean sup errors at each doubling:", {k: np.round(v, 3).tolist() for k, v in ratios.items()}
    )
    print(
        "slopes:",
        {k: f"{r.rf_slope[k]:.3f} +- {r.rf_slope_se[k]:.3f}" for k in t},
        f" sup error at n = 128 for |x|: {rf_err['|x|'][-1]:.5f}",
    )
    print(
        "staircase error / bound, max over n:",
        {k: round(float(np.max(r.stair_err[k] / r.stair_bound[k])), 3) for k in t},
    )
    print(
        "median trained / median random features (RMS):",
        {k: np.round(r.tr_med[k] / r.rf_med[k], 3).tolist() for k in t},
        " z = log-gain / standard error:",
        {k: np.round(v, 1).tolist() for k, v in z_gain.items()},
    )
    print(
        "best run, n = 8 / n = 4:",
        {k: round(float(r.tr_best[k][1] / r.tr_best[k][0]), 3) for k in t},
        " fraction of n = 8 runs worse than the best n = 4 run:",
        worse,
    )
    print(
        "finding at n = 16 (optimizer): best run n = 16 / n = 8:",
        {k: round(float(r.tr_best[k][2] / r.tr_best[k][1]), 3) for k in t},
        " median trained / median random features:",
        {k: round(float(r.tr_med[k][2] / r.rf_med[k][2]), 3) for k in t},
    )
    return ratios


def plot_width_errors(r: SimpleNamespace) -> None:
    """Errors against the width, one panel per target: random features, staircase, bound, trained nets.

    ``r`` is the result of :func:`width_sweep` then :func:`train_sweep`. Used in notebooks/03-mfld/01.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, name in zip(axes, r.targets, strict=True):
        med, best = r.tr_med[name], r.tr_best[name]
        ax.loglog(
            r.widths, r.rf_err[name], "o-", label=f"random features, sup (slope {r.rf_slope[name]:.2f})"
        )
        ax.loglog(r.widths, r.stair_err[name], "s-", label="staircase of the proof, sup")
        ax.loglog(r.widths, r.stair_bound[name], "k--", lw=1, label="bound of the proof")
        ax.loglog(r.widths, np.median(r.rf_rms[name], 1), "o:", mfc="none", color="C0",
                  label="random features, RMS (median)")  # fmt: skip
        yerr = [med - best, r.train_rms[name].max(1) - med]
        ax.errorbar(r.train_widths, med, yerr=yerr, fmt="^-", color="C3", capsize=3,
                    label="trained, RMS (median; best to worst run)")  # fmt: skip
        ax.set(xlabel="width $n$", ylabel="error on $[-1, 1]$", title=f"target {name}")
        ax.set_xticks(r.widths, [str(n) for n in r.widths])
        ax.minorticks_off()
        ax.legend(fontsize=7)
    plt.show()


def plot_rf_fit(g: Target, n: int, scale: float, generator: torch.Generator | None, z_fit, z_sup) -> None:
    """One random-feature fit of width ``n`` (:func:`~.rf_fit`) against its target, and its pointwise error.

    Used by the explorer of notebooks/03-mfld/01.
    """
    import matplotlib.pyplot as plt

    fit, _ = rf_fit(g, n, scale, generator, z_fit, z_sup)
    err = np.abs(fit - g(z_sup))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8), constrained_layout=True)
    ax1.plot(z_sup, g(z_sup), "k", lw=1, label="target")
    ax1.plot(z_sup, fit, "C0", label=f"random features, $n = {n}$")
    ax1.set(xlabel="$z$", ylabel="value", title=f"sup error {err.max():.4f}")
    ax1.legend()
    ax2.semilogy(z_sup, np.maximum(err, 1e-12), "C3", lw=1)
    ax2.set(xlabel="$z$", ylabel="$|f_n - g|$", title="pointwise error")
    plt.show()
