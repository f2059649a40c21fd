"""Stationary measures of mean-field Langevin dynamics: first-order condition, small noise, finite width.

Notebook ``03-mfld/03-mean-field-langevin`` (claims MFLD-9 to MFLD-11): the spread of
``Psi = dF/dm + (sigma^2/2)(log m + U)`` on the bulk of a cloud (:func:`bulk_spread`) and its figure
(:func:`plot_first_order`); the stationary loss as the noise decreases (:func:`sigma_sweep`,
:func:`print_sigma_sweep`, :func:`plot_sigma_sweep`). The cost of a finite width is in
:mod:`gradflows.experiments.finite_width`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from types import SimpleNamespace

import numpy as np
import torch

from ..energies import kde_log_error_on_gaussian
from ..mean_field import (
    gibbs_form_covariance_errors,
    gibbs_log_weights,
    grid_moments,
    mf_flat_derivative,
    mf_output,
)

__all__ = [
    "bulk_spread",
    "gaussian_first_order",
    "network_first_order",
    "gibbs_form_check",
    "plot_first_order",
    "sigma_sweep",
    "print_sigma_sweep",
    "plot_sigma_sweep",
]


def bulk_spread(terms: Sequence[np.ndarray], log_m: np.ndarray, q: float = 0.1) -> tuple[list[float], float]:
    """Standard deviation of each term and of their sum on the points of highest density.

    The bulk is where ``log_m`` is above its ``q``-quantile; a sum that is constant there satisfies the
    first-order condition ``Psi = const`` on the bulk. Used in notebooks/03-mfld/03 (claim MFLD-9).
    """
    if not 0 <= q < 1:
        raise ValueError(f"q must be in [0, 1), got {q}")
    log_m = np.asarray(log_m)
    if any(np.shape(t) != log_m.shape for t in terms):
        raise ValueError(f"every term must have the shape of log_m {log_m.shape}")
    keep = log_m >= np.quantile(log_m, q)
    return [np.std(t[keep]) for t in terms], np.std(sum(terms)[keep])


def gaussian_first_order(
    x: np.ndarray, mu: float, v: float, a: float, kappa: float, sigma: float
) -> tuple[np.ndarray, list[np.ndarray], list[float], float, float]:
    """The three terms of ``Psi`` on a 1-D cloud ``x`` of the Gaussian model, with ``log m`` by a KDE.

    ``dF/dm = (mean(x) - a) x + (kappa/2) x^2``, ``(sigma^2/2) log m`` (scipy's ``gaussian_kde`` on the first
    ``2e4`` points, evaluated at the first 2000) and ``(sigma^2/2) U``; their spreads on the bulk
    (:func:`bulk_spread`) and the error of the KDE against the exact law ``N(mu, v)`` of the cloud,
    times ``sigma^2/2``. Prints one line; returns the evaluation points, the terms, their sds, the sd of
    their sum and the KDE error. Used in notebooks/03-mfld/03 (claim MFLD-9).
    """
    from scipy.stats import gaussian_kde

    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D cloud, got shape {x.shape}")
    x_eval = x[:2000]
    log_kde = gaussian_kde(x[:20_000]).logpdf(x_eval)  # 2e4 of the particles: enough for the bulk
    terms = [(x.mean() - a) * x_eval + 0.5 * kappa * x_eval**2, 0.5 * sigma**2 * log_kde,
             0.5 * sigma**2 * (0.5 * x_eval**2 + 0.5 * math.log(2 * math.pi))]  # fmt: skip
    sds, spread = bulk_spread(terms, log_kde)
    log_exact = -0.5 * (x_eval - mu) ** 2 / v - 0.5 * np.log(2 * np.pi * v)
    kde_err = 0.5 * sigma**2 * np.std((log_kde - log_exact)[log_kde >= np.quantile(log_kde, 0.1)])
    print(
        f"Gaussian, particles + KDE: sd of the three terms on the bulk {np.round(sds, 4)}, "
        f"of their sum {spread:.4f};  "
        f"error of the KDE against the exact density, times sigma^2/2: {kde_err:.4f}"
    )
    return x_eval, terms, sds, spread, kde_err


def network_first_order(
    X: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor, sigma: float, generator: torch.Generator | None
) -> SimpleNamespace:
    """The terms of ``Psi`` on a pooled stationary cloud ``X`` of neurons ``(c, a)``, with ``log m`` by a KDE.

    At 2000 points of ``X`` (one ``randperm`` draw): ``dF/dm(m, x) = -E_nu[(y - f_m(z)) phi_hat(x, z)]``,
    ``(sigma^2/2) log m`` (``gaussian_kde`` of ``X``) and ``(sigma^2/2) U``, ``U(x) = |x|^2/2 + log(2 pi)``;
    ``sds`` and ``spread`` on the bulk, ``sd_dF_U`` of ``dF/dm + (sigma^2/2) U``, the error ``kde_floor`` of
    the same procedure on a Gaussian cloud of the covariance of ``X`` (times ``sigma^2/2``), and
    ``spread_printed`` of the condition with the printed coefficient of ``U`` (``U`` instead of
    ``(sigma^2/2) U``). Prints one line. Used in notebooks/03-mfld/03 (claim MFLD-9).
    """
    from scipy.stats import gaussian_kde

    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {tuple(X.shape)}")

    def U_std(X: torch.Tensor) -> torch.Tensor:  # U(x) = |x|^2/2 + (d/2) log(2 pi), d = 2
        return 0.5 * X.square().sum(1) + math.log(2 * math.pi)

    n = SimpleNamespace(X_eval=X[torch.randperm(len(X), generator=generator)[:2000]])
    n.log_kde = log_kde = gaussian_kde(X.T.numpy()).logpdf(n.X_eval.T.numpy())
    U_eval = U_std(n.X_eval).numpy()
    n.terms = [
        mf_flat_derivative(X, Z, Y, n.X_eval).numpy(),
        0.5 * sigma**2 * log_kde,
        0.5 * sigma**2 * U_eval,
    ]
    n.sds, n.spread = bulk_spread(n.terms, log_kde)
    bulk = log_kde >= np.quantile(log_kde, 0.1)
    n.sd_dF_U = np.std((n.terms[0] + n.terms[2])[bulk])
    n.kde_floor = 0.5 * sigma**2 * kde_log_error_on_gaussian(torch.cov(X.T), len(X), 2000, 0.1, generator)
    n.spread_printed = np.std((n.terms[0] + n.terms[1] + U_eval)[bulk])
    print(
        f"network: sd on the bulk of dF/dm {n.sds[0]:.4f}, (s^2/2) log m {n.sds[1]:.4f}, "
        f"(s^2/2) U {n.sds[2]:.4f}, "
        f"dF/dm + (s^2/2) U {n.sd_dF_U:.4f};  of Psi {n.spread:.4f};  KDE error alone (Gaussian test cloud) "
        f"{n.kde_floor:.4f}"
    )
    return n


def gibbs_form_check(
    S: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor, sigma: float, grid: torch.Tensor
) -> SimpleNamespace:
    """Covariances of stationary clouds against those of the corrected and the printed Gibbs forms.

    ``S`` holds ``R`` systems ``(R, n, 2)`` of neurons ``(c, a)``. Per system, the relative difference of its
    covariance from that of its own corrected Gibbs form ``exp(-(2/sigma^2) dF/dm - U)`` (grid quadrature on
    ``grid x grid``, as ``(c11, sqrt(2) c12, c22)``): ``diff``, its mean ``d_mean``, the scatter ``s`` of one
    system and the norms ``err``. On all systems pooled (``X_all``): the log-weights ``log_corr``,
    ``log_print`` of both forms, the ratio ``var_ratio`` of total variances (particles / printed form) and
    the relative covariance error ``err_printed`` of the printed form. Prints five lines.
    Used in notebooks/03-mfld/03 (claim MFLD-9).
    """
    if S.ndim != 3 or S.shape[0] < 2 or S.shape[2] != 2:
        raise ValueError(f"S must have shape (R >= 2, n, 2), got {tuple(S.shape)}")
    Xg = torch.cartesian_prod(grid, grid)  # rows (c, a)
    g = SimpleNamespace(diff=gibbs_form_covariance_errors(S, Z, Y, sigma, Xg))
    g.d_mean = g.diff.mean(0)
    g.s = np.sqrt(((g.diff - g.d_mean) ** 2).sum() / (len(S) - 1))  # scatter of one system's difference
    g.err = np.linalg.norm(g.diff, axis=1)
    g.X_all = S.reshape(-1, 2)
    cov_all = torch.cov(g.X_all.T)
    g.log_corr, g.log_print = gibbs_log_weights(g.X_all, Z, Y, sigma, Xg)
    (mean_corr, cov_corr), (mean_print, cov_print) = (
        grid_moments(lw, Xg) for lw in (g.log_corr, g.log_print)
    )
    g.err_printed = (cov_print - cov_all).norm().item() / cov_all.norm().item()
    for label, (m, c) in {"covariance of the particles:": (g.X_all.mean(0), cov_all),
                          "corrected Gibbs form       :": (mean_corr, cov_corr),
                          "printed form               :": (mean_print, cov_print)}.items():  # fmt: skip
        print(label, np.round(c.numpy(), 3).tolist(), " mean", np.round(m.numpy(), 3).tolist())
    g.var_ratio = (
        torch.trace(cov_all) / torch.trace(cov_print)
    ).item()  # total variance: particles / printed
    per_direction = np.round((torch.diagonal(cov_all) / torch.diagonal(cov_print)).numpy(), 0).tolist()
    print(
        "total variance of the particles / that of the printed form: "
        f"{g.var_ratio:.0f} (standard deviations: "
        f"{math.sqrt(g.var_ratio):.1f});  per direction: {per_direction}"
    )
    print(
        f"relative covariance error of the corrected form, per system: {np.round(g.err, 3).tolist()};  mean "
        f"difference {np.linalg.norm(g.d_mean):.4f}, scatter of one system {g.s:.4f};  "
        f"printed form {g.err_printed:.3f}"
    )
    return g


def plot_first_order(
    x_g: np.ndarray,
    terms_g: Sequence[np.ndarray],
    terms_net: Sequence[np.ndarray],
    log_kde: np.ndarray,
    X: torch.Tensor,
    grid: torch.Tensor,
    log_corr: torch.Tensor,
    log_print: torch.Tensor,
    N: int,
) -> None:
    """The three terms of ``Psi`` (Gaussian case); ``(sigma^2/2) log m`` against ``-dF/dm - (sigma^2/2) U`` on
    the bulk of the network's cloud; the stationary cloud ``X`` with the corrected and the printed Gibbs forms
    (log-weights on the grid ``grid x grid``), systems of ``N`` neurons. Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    labels = (
        "$\\frac{\\delta F}{\\delta m}$",
        "$\\frac{\\sigma^2}{2}\\log \\hat m$ (KDE)",
        "$\\frac{\\sigma^2}{2}U$",
    )
    for term, lab in zip(terms_g, labels, strict=True):
        ax.plot(x_g, term - term.mean(), ".", ms=1.5, label=lab)
    ax.plot(x_g, sum(terms_g) - sum(terms_g).mean(), "k.", ms=1.5, label="sum $\\Psi$")
    ax.set(xlabel="$x$", title="Gaussian case: the three terms", ylim=(-0.6, 0.6))
    ax.legend(fontsize=8, markerscale=5)
    ax = axes[1]
    keep = log_kde >= np.quantile(log_kde, 0.1)
    lhs, rhs = terms_net[1][keep], -(terms_net[0] + terms_net[2])[keep]
    ax.plot(rhs, lhs, ".", ms=2)
    lim = np.array([rhs.min(), rhs.max()])
    ax.plot(lim, lim + np.mean(lhs - rhs), "k--", lw=1, label="slope 1")
    ax.set(
        xlabel="$-\\frac{\\delta F}{\\delta m}(\\hat m,x)-\\frac{\\sigma^2}{2}U(x)$",
        ylabel="$\\frac{\\sigma^2}{2}\\log\\hat m(x)$ (KDE)",
        title="network: first-order condition on the bulk",
    )
    ax.legend(fontsize=8)
    ax = axes[2]
    ax.plot(X[::12, 1], X[::12, 0], ".", ms=1, color="0.6", alpha=0.5)
    for log_w, col, lab in ((log_corr, "C3", "corrected"), (log_print, "C0", "printed")):
        dens = torch.exp(log_w - log_w.max()).reshape(len(grid), len(grid))
        ax.contour(
            grid.numpy(), grid.numpy(), dens.numpy(), levels=[0.05, 0.3, 0.7], colors=col
        )  # (a, c) = (col, row)
        ax.plot([], [], color=col, label=f"{lab} Gibbs form")
    ax.set(xlabel="inner weight $a$", ylabel="outer weight $c$", xlim=(-6, 6), ylim=(-6, 6),
           title=f"stationary cloud, $N={N}$")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def sigma_sweep(
    stationary: Callable[[torch.Tensor, float], tuple],
    sigmas: Sequence[float],
    X0: torch.Tensor,
    Z: torch.Tensor,
) -> SimpleNamespace:
    """Stationary loss of ``R`` independent systems (``X0`` of shape ``(R, N, 2)``) for each noise level.

    ``stationary(X0, sigma)`` returns per system the time-averaged loss, its averages over the two halves
    of the window and the final neurons (:func:`gradflows.experiments.replicas.stationary_losses`). Returns
    ``F_sw`` (mean over the systems), ``se_sw`` (its standard error), ``drift_sw`` (second half minus first,
    in standard errors), ``F_reps`` and the outputs ``out_sw`` of the first system on ``Z``.
    Used in notebooks/03-mfld/03 (claim MFLD-10).
    """
    if X0.ndim != 3 or X0.shape[0] < 2:
        raise ValueError(f"X0 must have shape (R >= 2, N, 2), got {tuple(X0.shape)}")
    R = X0.shape[0]
    sw = SimpleNamespace(F_reps={}, out_sw={})
    F_sw, se_sw, drift_sw = [], [], []
    for s in sigmas:
        sw.F_reps[s], first, second, X_end = stationary(X0, s)
        F_sw.append(sw.F_reps[s].mean())
        se_sw.append(sw.F_reps[s].std(ddof=1) / math.sqrt(R))
        d = second - first  # second half minus first half, per system
        drift_sw.append(d.mean() / (d.std(ddof=1) / math.sqrt(R)))
        sw.out_sw[s] = mf_output(X_end[0].double(), Z).numpy()
    sw.F_sw, sw.se_sw, sw.drift_sw = np.array(F_sw), np.array(se_sw), np.array(drift_sw)
    return sw


def print_sigma_sweep(
    sigmas: Sequence[float], sw: SimpleNamespace, F_zero: float, F_init: float, R: int, steps_z: np.ndarray
) -> None:
    """Prints the stationary losses of :func:`sigma_sweep` relative to ``F(0)``, their decrease and drift.

    Used in notebooks/03-mfld/03.
    """
    print("sigma        :", list(sigmas))
    print("F(m^sigma)/F0:", np.round(sw.F_sw / F_zero, 5).tolist(), f" (standard errors over {R} systems",
          np.round(sw.se_sw / F_zero, 5).tolist(), ")")  # fmt: skip
    print("decrease per step in standard errors:", np.round(steps_z, 1).tolist())
    print("drift: (mean over the second half of the window) - (first half), in standard errors:",
          np.round(sw.drift_sw, 1).tolist(), f";  F(m_0)/F0 = {F_init / F_zero:.3f}")  # fmt: skip


def plot_sigma_sweep(
    sigmas: Sequence[float],
    sw: SimpleNamespace,
    F_gd: float,
    F_zero: float,
    T: float,
    Z: torch.Tensor,
    Y: torch.Tensor,
) -> None:
    """Stationary loss against ``sigma`` (with noiseless GD), and the outputs at three noise levels.

    Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    axes[0].errorbar(sigmas, sw.F_sw / F_zero, yerr=2 * sw.se_sw / F_zero, fmt="o-", ms=4, capsize=3,
                     label="time-averaged $F$, MFLD")  # fmt: skip
    axes[0].axhline(F_gd / F_zero, color="C2", ls="--", lw=1, label=f"noiseless GD at $t={T:g}$")
    axes[0].set(
        xscale="log",
        yscale="log",
        xlabel="$\\sigma$",
        ylabel="$F/F(0)$",
        title="loss at stationarity (inf $F=0$)",
    )
    axes[0].legend(fontsize=8)
    z_np = Z[:, 0].numpy()
    for s in (0.6, 0.3, 0.1):
        axes[1].plot(z_np, sw.out_sw[s], label=f"$\\sigma={s}$")
    axes[1].plot(z_np, Y.numpy(), "k--", lw=1, label="target")
    axes[1].set(xlabel="$z$", title=f"network output at $t={T:g}$")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    plt.show()
