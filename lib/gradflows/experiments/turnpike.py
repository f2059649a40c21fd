"""Measurements of the turnpike of trained ResNets: error profiles along the layers, the modal
rates of the linearization at the turnpike, Pontryagin's Hamiltonian identity, the optimality
conditions of the ``L^1`` problem and the lower bounds for interpolating weights.

A trained control comes as a :class:`gradflows.training.Fit` of (SL*) or (SL1) for the system
(nODE_2) with ``tanh`` (``kind="outer"``), ``P`` the first coordinate and the squared loss.
Used in notebooks/02-turnpike/03 (claims TURN-5, TURN-6, TURN-7, TURN-9).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validation import as_tensor, check_positive
from ..control import Controls, training_error
from ..rates import semilog_slope
from ..training import Fit

__all__ = [
    "profile",
    "modal_rates",
    "turnpike_modes",
    "window_slopes",
    "hamiltonian_ratio",
    "output_rank",
    "zero_padded",
    "plot_profiles",
    "plot_decay",
    "hamiltonian_deviation",
    "plot_hamiltonian",
    "plot_final_errors",
    "print_profile_values",
]


def _check_fit(fit: Fit, y: torch.Tensor) -> torch.Tensor:
    if not isinstance(fit, Fit):
        raise ValueError(f"fit must be a gradflows.training.Fit, got {type(fit).__name__}")
    y = as_tensor("y", y)
    if y.ndim != 1 or y.shape[0] != fit.states.shape[1]:
        raise ValueError(f"y must have shape ({fit.states.shape[1]},), got {tuple(y.shape)}")
    return y


def profile(fit: Fit, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The turnpike profile of a trained control: the cell edges ``t_k``, the error
    ``phi(x(t_k))`` at every layer, the cell midpoints and ``|u_k|`` on each cell.

    Used in notebooks/02-turnpike/03 (figures and claim TURN-5).
    """
    y = _check_fit(fit, y)
    c = fit.controls
    t = c.edges
    return t, training_error(fit.states, y), t[:-1] + c.h / 2, c.pointwise_norm()


def _G(x: np.ndarray) -> np.ndarray:  # [sigma(x_i)^T, 1]: the output velocities are linear in (w_1., b_1)
    return np.hstack([np.tanh(x), np.ones((len(x), 1))])


def modal_rates(fit: Fit, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The linearization at the turnpike ``x(T)``: ``e' = G v`` with ``G = [sigma(x_i(T))^T, 1]``,
    modal rates ``mu_k = s_k(G) / sqrt(N lam)`` and the rates ``arccosh(1 + (h mu_k)^2 / 2) / h`` of
    the Euler ResNet with the trapezoidal running cost (claim TURN-5, notebooks/02-turnpike/03).

    Returns the left singular vectors (columns, slowest mode first) and the discrete rates.
    """
    lam = check_positive("lam", lam)
    xT = fit.states[-1].numpy()
    U, s, _ = np.linalg.svd(_G(xT))
    order = np.argsort(s)
    h = fit.controls.h
    return U[:, order], np.arccosh(1 + (h * s[order] / np.sqrt(len(xT) * lam)) ** 2 / 2) / h


def turnpike_modes(fit: Fit, y: torch.Tensor, lam: float, lo: float, hi: float) -> dict:
    """The profile of ``fit`` on the window where ``hi <= phi <= lo`` and ``t <= T - 3 / mu_1``,
    with the modal amplitudes ``a_k(t)`` of the error ``e(t) = P x(t) - y`` (claim TURN-5).

    Returns a dict with ``t, phi, tm, un`` (numpy, from :func:`profile`), ``mu`` (discrete
    modal rates), ``W`` (boolean mask of the window on the edges), ``a`` (amplitudes, one
    column per mode) and ``drift`` (largest relative change of the smallest singular value of
    ``G(x(t))`` over the window, against its value at ``T``). Used in notebooks/02-turnpike/03.
    """
    lo, hi = check_positive("lo", lo), check_positive("hi", hi)
    U, mu = modal_rates(fit, lam)
    t, phi, tm, un = (v.numpy() for v in profile(fit, y))
    W = (phi <= lo) & (phi >= hi) & (t <= fit.controls.T - 3 / mu[0])
    smin = np.array([np.linalg.svd(_G(x), compute_uv=False).min() for x in fit.states.numpy()])
    a = (fit.states[:, :, 0] - y).numpy() @ U
    drift = np.abs(smin[W] / smin[-1] - 1).max()
    return dict(t=t, phi=phi, tm=tm, un=un, mu=mu, W=W, a=a, drift=drift)


def window_slopes(m: dict, h: float) -> dict:
    """Decay rates on the window of :func:`turnpike_modes` (claim TURN-5).

    ``rate_a``: fitted decay rates of the two slowest ``|a_k(t)|``; ``slope_phi``/``pred_phi``: the
    local slopes of ``phi`` from one layer to the next and their modal prediction
    ``-(1/h) log(sum_k rho_k^2 a_k^2 / sum_k a_k^2)``, ``rho_k = exp(-h mu_k)``; ``slope_u``: the
    local slopes of ``|u|``; ``weight1``: the share of the slowest mode in ``|e(t)|``.
    Used in notebooks/02-turnpike/03.
    """
    h = check_positive("h", h)
    W, a, mu, phi, un = m["W"], m["a"], m["mu"], m["phi"], m["un"]
    tW = torch.from_numpy(m["t"][W])
    rate_a = [-semilog_slope(tW, torch.from_numpy(np.abs(a[W, k]))) for k in (0, 1)]
    k_w = np.flatnonzero(W)[:-1]  # cells k -> k + 1 inside the window
    k_w = k_w[W[k_w + 1]]
    slope_phi = -np.log(phi[k_w + 1] / phi[k_w]) / h
    pred_phi = -np.log(((a[k_w] * np.exp(-mu * h)) ** 2).sum(1) / (a[k_w] ** 2).sum(1)) / h
    slope_u = -np.log(un[k_w[1:]] / un[k_w[1:] - 1]) / h  # |u| on the cells k - 1 and k
    weight1 = np.abs(a[W, 0]) / np.linalg.norm(a[W], axis=1)
    return dict(rate_a=rate_a, slope_phi=slope_phi, pred_phi=pred_phi, slope_u=slope_u, weight1=weight1)


def hamiltonian_ratio(fit: Fit, y: torch.Tensor, lam: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Pontryagin's identity for (SL*), ``lam |u(t)|^2 = phi(x(t)) - phi(x(T))``, cell by cell: the
    midpoints and ``lam |u_k|^2 / (phi_{k+1/2} - phi(x(T)))`` with the geometric mean
    ``phi_{k+1/2}`` of the two edges (1 at an optimum; claim TURN-5, notebooks/02-turnpike/03)."""
    lam = check_positive("lam", lam)
    t, phi, tm, un = profile(fit, y)
    return tm, lam * un**2 / (torch.sqrt(phi[:-1] * phi[1:]) - phi[-1])


def output_rank(fit: Fit) -> int:
    """Rank of the linearized output map ``(w_1., b_1) -> (w_1. sigma(x_i) + b_1)_i`` at the final
    states: ``N`` when the turnpike hypothesis holds (notebooks/02-turnpike/03)."""
    return int(np.linalg.matrix_rank(_G(fit.states[-1].numpy()), tol=1e-8))


def zero_padded(c: Controls, T: float) -> Controls:
    """The controls ``c`` followed by zero controls on cells of the same width up to ``T``: a
    start for a longer horizon (notebooks/02-turnpike/03)."""
    T = check_positive("T", T)
    n_add = round(T / c.h) - c.n_layers
    if n_add < 0 or abs((c.n_layers + n_add) * c.h - T) > 1e-9 * T:
        raise ValueError(f"T = {T} must be a multiple of the cell width {c.h} and >= {c.T}")
    w = torch.cat([c.w, torch.zeros(n_add, c.d, c.d, dtype=c.w.dtype, device=c.w.device)])
    b = None if c.b is None else torch.cat([c.b, torch.zeros(n_add, c.d, dtype=c.b.dtype, device=c.b.device)])
    return Controls(w, b, T)


def plot_profiles(
    ax_phi, ax_u, fits: dict, y: torch.Tensor, styles: dict, label: str = "T = {:g}", window=None
) -> None:
    """Plot the turnpike profiles of :func:`profile`, ``phi(x(t_k))`` on ``ax_phi`` and ``|u_k|`` on
    ``ax_u`` (log scale), one curve per horizon ``T`` of ``fits`` with the matplotlib keywords
    ``styles[T]``; ``window = (t_a, t_b)`` shades an interval. Used in notebooks/02-turnpike/03."""
    for T, f in fits.items():
        t, phi, tm, un = profile(f, y)
        ax_phi.semilogy(t, phi, label=label.format(T), **styles[T])
        ax_u.semilogy(tm, un, label=label.format(T), **styles[T])
    for ax in (ax_phi, ax_u):
        if window is not None:
            ax.axvspan(*window, color="0.92")
        ax.legend()


def plot_decay(fit: Fit, y: torch.Tensor, xlim: tuple[float, float] = (0, 12)) -> None:
    """The explorer of notebooks/02-turnpike/03: the error ``phi(x(t))`` and the size of the controls along
    the layers, with their exponential rates fitted on ``[1, T - 1]``."""
    import matplotlib.pyplot as plt

    T = fit.controls.T
    t, phi, tm, un = profile(fit, y)
    m, mm = (t >= 1) & (t <= T - 1), (tm >= 1) & (tm <= T - 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6), constrained_layout=True)
    ax1.semilogy(t, phi, "o-", ms=3)
    ax1.set(
        xlabel="t",
        ylabel=r"$\phi(x(t))$",
        title=f"error, fitted rate {semilog_slope(t[m], phi[m]):.2f}",
        xlim=xlim,
    )
    ax2.semilogy(tm, un, "s-", ms=3, color="C1")
    rate_u = semilog_slope(tm[mm], un[mm])
    ax2.set(xlabel="t", ylabel=r"$\|u(t)\|$", title=f"control, fitted rate {rate_u:.2f}", xlim=xlim)
    plt.show()


def hamiltonian_deviation(fit: Fit, y: torch.Tensor, lam: float, t_lo: float, t_hi: float) -> float:
    """Largest ``|ratio - 1|`` of :func:`hamiltonian_ratio` on the cells with midpoints in ``[t_lo, t_hi]``
    (claim TURN-5, notebooks/02-turnpike/03)."""
    tm, ratio = hamiltonian_ratio(fit, y, lam)
    sel = (tm >= t_lo) & (tm <= t_hi)
    if not bool(sel.any()):
        raise ValueError(f"no cell midpoint in [{t_lo}, {t_hi}]")
    return float((ratio[sel] - 1).abs().max())


def plot_hamiltonian(ax, fits: dict, y: torch.Tensor, lam: float, styles: dict) -> None:
    """The ratio of :func:`hamiltonian_ratio` along the layers for each horizon of ``fits`` (1 at an optimum,
    at most 2 by the time-shift bound; notebooks/02-turnpike/03)."""
    for T, f in fits.items():
        tm, ratio = hamiltonian_ratio(f, y, lam)
        ax.plot(tm, ratio, label=f"T = {T:g}", **styles[T])
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="t", ylabel=r"$\lambda|u_k|^2 / (\phi_{k+1/2} - \phi(x(T)))$",
           title="Hamiltonian identity (time-shift bound: ratio $\\leq 2$)", ylim=(0.8, 1.1))  # fmt: skip
    ax.legend()


def plot_final_errors(ax, Ts, errors, label: str) -> None:
    """The final training error against the horizon (log-log), with a guide of slope ``-1`` through the
    second point and ticks at the horizons (notebooks/02-turnpike/03)."""
    Ts, errors = np.asarray(Ts, dtype=float), np.asarray(errors, dtype=float)
    if Ts.shape != errors.shape or len(Ts) < 2:
        raise ValueError("Ts and errors must be 1-D of the same length >= 2")
    ax.loglog(Ts, errors, "ko-", label=label)
    ax.loglog(Ts, errors[1] * Ts[1] / Ts, "k:", label=r"slope $-1$")
    ax.set(xlabel="T", ylabel=r"$\phi(x(T))$", title="final error against the horizon")
    ax.minorticks_off()
    ax.set_xticks(Ts, labels=[f"{T:g}" for T in Ts])
    ax.legend()


def print_profile_values(fits: dict, y: torch.Tensor, name: str, times=(2.0, 4.0, 8.0)) -> None:
    """For each horizon ``T`` of ``fits``: ``phi(x(t))`` at the given times (the last one only when
    ``T >= times[-1]``), the final error and the last change of the training objective
    (notebooks/02-turnpike/03)."""
    t2, t4, t8 = times
    for T, f in fits.items():
        phi = profile(f, y)[1]
        k2, k4, k8 = (round(t / f.controls.h) for t in (t2, t4, t8))
        last = f", t = {t8:g}: {float(phi[k8]):.2e}" if T >= t8 else ""
        change = float(f.history[-2] - f.history[-1])
        print(
            f"{name}, T = {T:4.1f}: phi(x(t)) at t = {t2:g}: {float(phi[k2]):.2e}, t = {t4:g}: "
            f"{float(phi[k4]):.2e}{last};  phi(x(T)) = {f.error:.2e};  "
            f"last change of the objective {change:.1e}"
        )
