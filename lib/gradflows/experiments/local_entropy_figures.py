"""Local entropy in one dimension: the wide-vs-narrow switch, the ergodic-average study, figures.

Notebook ``04-global/02-local-entropy`` (claims GLOB-2, GLOB-3, GLOB-4). :func:`valley_bottoms`
and :func:`barrier_top` locate the minima of ``f`` and the barrier between them (scipy);
:func:`region_maxima` and :func:`switch_gamma` locate the best point of ``F(., gamma)`` in each region
and the coupling ``gamma*`` where the global maximiser jumps (bisection, library quadrature);
:func:`quad_region_max` redoes one maximisation with ``scipy`` only, for the check.
:func:`fd_gradient` and :func:`fd_hessian` give central differences of the ``quad`` local entropy at
two steps. :func:`ergodic_study` runs the fast process (E) for several points and replicas and fits
the decay of the root-mean-square error of its time averages; :func:`spectral_gap`,
:func:`em_ergodic` and :func:`slope_bias_bound` give the numbers of its error budget (grid
references). The rest draws the notebook's figures and its explorer.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import minimize_scalar
from scipy.sparse import identity
from scipy.sparse.linalg import spsolve

from .._validation import check_int, check_positive
from ..fast_langevin import ergodic_average
from ..local_entropy import local_entropy, local_gibbs_weights
from ..rates import loglog_slope
from ..references import fokker_planck as fp
from ..references import local_gibbs_quad as lq

__all__ = [
    "valley_bottoms",
    "barrier_top",
    "region_maxima",
    "switch_gamma",
    "quad_region_max",
    "fd_gradient",
    "fd_hessian",
    "spectral_gap",
    "em_ergodic",
    "slope_bias_bound",
    "ergodic_study",
    "plot_local_entropy",
    "plot_hessian",
    "plot_switch",
    "plot_ergodic",
    "plot_explorer",
]

Region = tuple[float, float]


def valley_bottoms(f_np, regions, h: float = 1e-4) -> list[tuple[float, float, float]]:
    """``(m, f(m), f''(m))`` of the minimum of ``f`` in each region: ``minimize_scalar`` (bounded) and a
    second central difference of step ``h``."""
    h = check_positive("h", h)
    out = []
    for a, b in regions:
        m = float(minimize_scalar(f_np, bounds=(a, b), method="bounded", options={"xatol": 1e-10}).x)
        f0 = float(f_np(m))
        out.append((m, f0, float((f_np(m + h) - 2 * f0 + f_np(m - h)) / h**2)))
    return out


def barrier_top(f_np, a: float, b: float) -> float:
    """The point of ``[a, b]`` where ``f`` is largest (the barrier between two valleys), by scipy."""
    return float(
        minimize_scalar(lambda y: -f_np(y), bounds=(a, b), method="bounded", options={"xatol": 1e-10}).x
    )


def region_maxima(f, gamma: float, regions, n_grid: int = 1201, **quad) -> list[tuple[float, float, bool]]:
    """``(x_hat, F(x_hat), at_edge)`` for the largest value of ``F(., gamma)`` in each region.

    Library quadrature on a grid of ``n_grid`` points and a parabola through the best three (its vertex
    kept within half a spacing of the best node). If the best node is an end of the region, ``F`` has
    no interior maximum there: the end and its value are returned with ``at_edge = True``. Since
    ``F'' >= -gamma``, the returned value is within ``gamma h^2 / 8`` of the maximum over the grid's
    cells (``h`` the spacing).
    """
    n_grid = check_int("n_grid", n_grid, minimum=3)
    out = []
    for a, b in regions:
        x = torch.linspace(a, b, n_grid, dtype=torch.float64)
        F = local_entropy(f, x[:, None], gamma, **quad)
        j = int(F.argmax())
        if j in (0, n_grid - 1):
            out.append((float(x[j]), float(F[j]), True))
            continue
        fm, f0, fp_ = (float(v) for v in F[j - 1 : j + 2])
        h, denom = float(x[1] - x[0]), fm - 2 * f0 + fp_
        s = min(max(0.5 * (fm - fp_) / denom, -0.5), 0.5) if denom < 0 else 0.0
        out.append((float(x[j]) + s * h, f0 - 0.25 * (fm - fp_) * s, False))
    return out


def switch_gamma(f, bracket: Region, regions, rtol: float = 1e-7, **quad) -> tuple[float, int]:
    """Bisection for the ``gamma*`` where ``max_{region 0} F - max_{region 1} F`` changes sign.

    Returns ``gamma*`` and the number of halvings. The difference must change sign on ``bracket`` and
    both maxima must be interior to their regions (else ValueError).
    """
    lo, hi = (check_positive("bracket", g) for g in bracket)
    rtol = check_positive("rtol", rtol)

    def diff(g):
        (_, a, ea), (_, b, eb) = region_maxima(f, g, regions, **quad)
        if ea or eb:
            raise ValueError(f"at gamma = {g:g} a maximum lies on the edge of its region: widen the regions")
        return a - b

    d_lo, d_hi = diff(lo), diff(hi)
    if d_lo * d_hi >= 0:
        raise ValueError(f"the difference of the maxima does not change sign on [{lo:g}, {hi:g}]")
    n = 0
    while hi - lo > rtol * hi:
        mid = 0.5 * (lo + hi)
        d = diff(mid)
        lo, hi, d_lo = (mid, hi, d) if d * d_lo > 0 else (lo, mid, d_lo)
        n += 1
    return 0.5 * (lo + hi), n


def quad_region_max(f_np, gamma: float, x_guess: float, width: float = 0.1, reach: float = 4.0) -> float:
    """``max F(., gamma)`` near ``x_guess`` with ``scipy`` only: ``minimize_scalar`` (bounded, on
    ``x_guess +- width``) of minus the ``quad`` local entropy integrated over ``x +- reach``."""
    width, reach = check_positive("width", width), check_positive("reach", reach)

    def neg(x):
        return -lq.local_entropy_quad(f_np, x, gamma, x - reach, x + reach)

    res = minimize_scalar(
        neg, bounds=(x_guess - width, x_guess + width), method="bounded", options={"xatol": 1e-9}
    )
    if not (x_guess - width < res.x < x_guess + width) or abs(res.x - x_guess) > 0.99 * width:
        raise ValueError(f"the maximum is not inside x_guess +- width (found {res.x:.4f})")
    return -float(res.fun)


def _quad_F(f_np, x: float, gamma: float, reach: float) -> float:
    return lq.local_entropy_quad(f_np, x, gamma, x - reach, x + reach)


def fd_gradient(f_np, xs, gamma: float, h: float, reach: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Central differences ``(F(x + s) - F(x - s)) / (2 s)`` of the ``quad`` local entropy, for ``s = h, 2h``
    (``quad`` on ``x +- reach``)."""
    h, reach = check_positive("h", h), check_positive("reach", reach)
    F = {s: np.array([_quad_F(f_np, x + s, gamma, reach) for x in xs]) for s in (h, -h, 2 * h, -2 * h)}
    return (F[h] - F[-h]) / (2 * h), (F[2 * h] - F[-2 * h]) / (4 * h)


def fd_hessian(f_np, xs, gamma: float, h: float, reach: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Second central differences ``(F(x + s) - 2 F(x) + F(x - s)) / s^2`` of the ``quad`` local entropy,
    for ``s = h, 2h``."""
    h, reach = check_positive("h", h), check_positive("reach", reach)
    F = {s: np.array([_quad_F(f_np, x + s, gamma, reach) for x in xs]) for s in (0.0, h, -h, 2 * h, -2 * h)}
    return (F[h] - 2 * F[0.0] + F[-h]) / h**2, (F[2 * h] - 2 * F[0.0] + F[-2 * h]) / (4 * h * h)


def _cells(x: float, half: float, h: float) -> np.ndarray:
    half, h = check_positive("half", half), check_positive("h", h)
    if h > half / 10:
        raise ValueError(f"need at least 20 cells: h = {h:g} is too large for half = {half:g}")
    return np.arange(x - half + h / 2, x + half, h)


def spectral_gap(f_np, x: float, gamma: float, half: float = 5.0, h: float = 0.01) -> float:
    """Grid estimate of ``lambda_1`` of the generator of (E) at ``x``: finite volumes on ``x +- half``
    (scipy eigensolver; relative error ``O(h^2)``)."""
    y = _cells(x, half, h)
    lam = fp.fokker_planck_modes(f_np(y) + 0.5 * gamma * (x - y) ** 2, math.sqrt(2.0), h)[0]
    return float(-lam[-2])


def _pinned(M, i: int):
    M = M.tolil()
    M[i, :] = 0.0
    M[i, i] = 1.0
    return M.tocsc()


def em_ergodic(f_np, df_np, x: float, gamma: float, dt: float, half: float = 5.0, h: float = 0.01):
    """``(b, sigma2_em)`` of the Euler--Maruyama chain of (E) at ``x``, on a grid of cells.

    ``b``: mean of its invariant law ``p`` minus the Gibbs mean (quadrature of ``rho`` on the same cells);
    ``sigma2_em = lim T Var(A_T) = dt (2 <g, u>_p - <g, g>_p)`` with ``g = y - <y>_p`` and ``u`` the
    solution of the discrete Poisson equation ``u - K u = g`` (``K`` the transition operator,
    :func:`gradflows.references.fokker_planck.em_kernel`). Sparse solves, one node pinned.
    """
    check_positive("gamma", gamma)
    check_positive("dt", dt)
    y = _cells(x, half, h)
    V = f_np(y) + 0.5 * gamma * (x - y) ** 2
    i0 = int(np.argmin(V))
    P = fp.em_kernel(y, df_np(y) + gamma * (y - x), math.sqrt(2.0), dt)
    eye = identity(len(y), format="csr")
    e = np.zeros(len(y))
    e[i0] = 1.0
    p = spsolve(_pinned(eye - P, i0), e)
    p /= p.sum()
    mean = float(p @ y)
    g = y - mean
    u = spsolve(_pinned(eye - P.T, i0), np.where(np.arange(len(y)) == i0, 0.0, g))
    rho = np.exp(-(V - V.min()))
    return mean - float(rho @ y / rho.sum()), dt * float(2 * p @ (g * u) - p @ (g * g))


def slope_bias_bound(horizons, lam1: float, rel_bias: float = 0.0) -> float:
    """Largest amount ``delta_sys`` by which the least-squares slope of ``log RMS`` on ``log T`` can exceed
    ``-1/2`` (see the notebook): ``sum_{c_j > 0} c_j (log(1 / (1 - 1/(lam1 T_1))) / 2 + rel_bias / 2)``,
    ``c_j`` the least-squares weights, ``rel_bias`` the relative bias ``b^2 T_J / sigma^2`` at the largest
    horizon."""
    T = np.asarray(horizons, dtype=float)
    lam1 = check_positive("lam1", lam1)
    if T.ndim != 1 or len(T) < 2 or np.any(np.diff(T) <= 0) or lam1 * T[0] <= 1:
        raise ValueError("horizons must increase, with lam1 * horizons[0] > 1")
    u = np.log(T) - np.log(T).mean()
    c = u / (u**2).sum()
    return float(c[c > 0].sum() * (0.5 * math.log(1 / (1 - 1 / (lam1 * T[0]))) + 0.5 * rel_bias))


def ergodic_study(
    xs,
    gamma,
    grad,
    dt,
    horizons,
    means,
    variances,
    *,
    replicas,
    n_burn,
    batches,
    generator,
    dtype=torch.float64,
) -> dict:
    """Time averages of (E) at the points ``xs`` for the ``horizons`` (multiples of ``horizons[0]``).

    ``means``, ``variances``: the Gibbs means ``<y>_x`` and asymptotic variances ``sigma_as^2``
    (references), one per point. Returns ``r`` (``T`` times the mean squared error over ``sigma_as^2``,
    pooled over points and replicas, per horizon) and ``r_se`` (its standard error from the
    ``batches`` groups of replicas, whose values are ``r_batches``), ``rms`` (``sqrt(r / T)``, in units
    of ``sigma_as``), the fitted ``slope`` of ``log rms`` against ``log T`` and its standard error
    ``se`` from the slopes of the batches, and ``A`` (the averages at the last horizon, ``(replicas, m)``).
    """
    batches = check_int("batches", batches, minimum=2)
    replicas = check_int("replicas", replicas)
    if replicas % batches:
        raise ValueError("replicas must be a multiple of batches")
    dt = check_positive("dt", dt)
    xs = np.atleast_1d(np.asarray(xs, dtype=float))
    means, variances = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (means, variances))
    if means.shape != xs.shape or variances.shape != xs.shape or np.any(variances <= 0):
        raise ValueError(f"need one mean and one positive variance per point: {len(xs)} points")
    T = np.asarray(horizons, dtype=float)
    step = int(round(T[0] / dt))
    k = T / (step * dt)
    if T.ndim != 1 or step < 1 or np.any(np.abs(k - np.round(k)) > 1e-9) or np.any(np.diff(T) <= 0):
        raise ValueError(f"horizons must increase and be multiples of horizons[0], a multiple of dt; got {T}")
    traj = ergodic_average(
        torch.tensor(xs, dtype=dtype),
        gamma,
        dt,
        int(round(T[-1] / dt)),
        grad=grad,
        replicas=replicas,
        n_burn=n_burn,
        record_every=step,
        generator=generator,
        progress=False,
    )
    keep = np.round(k).astype(int) - 1  # recorded horizons are step * dt * (1, 2, ...)
    A = traj.stats[keep, :, :, 0].double()  # (horizons, replicas, m)
    z = (A - torch.tensor(means)) ** 2 / torch.tensor(variances) * torch.tensor(T)[:, None, None]
    r = z.mean((1, 2)).numpy()
    zb = z.reshape(len(T), batches, -1).mean(-1).numpy()
    slope = loglog_slope(T, np.sqrt(r / T))
    slopes = np.array([loglog_slope(T, np.sqrt(zb[:, b] / T)) for b in range(batches)])
    return {
        "T": T,
        "r": r,
        "r_se": zb.std(1, ddof=1) / math.sqrt(batches),
        "rms": np.sqrt(r / T),
        "slope": slope,
        "se": slopes.std(ddof=1) / math.sqrt(batches),
        "A": A[-1].numpy(),
        "r_batches": zb,
    }


def plot_local_entropy(x, f_vals, F_by_gamma: dict, ax=None, title: str = "") -> None:
    """``F(., gamma) - max F`` for several couplings, with ``-f + max f`` (dashed)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.plot(x, -(f_vals - f_vals.min()), "k--", lw=1, label="$-f$ (shifted)")
    for g, F in F_by_gamma.items():
        ax.plot(x, F - F.max(), label=f"$\\gamma={g:g}$")
    ax.set(xlabel="$x$", ylabel="$F(x,\\gamma)-\\max F$", title=title)
    ax.legend(fontsize=8)


def plot_hessian(x, neg_f2, neg_F2: dict) -> None:
    """``-f''`` and ``-F''(., gamma)`` for several couplings, each with its bound ``gamma`` (dotted)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.plot(x, neg_f2, "k", lw=0.6, label="$-f''$")
    for g, v in neg_F2.items():
        ax.plot(x, v, label=f"$-\\partial_x^2F$, $\\gamma={g:g}$")
        ax.axhline(g, ls=":", lw=0.8, color=ax.lines[-1].get_color())
    ax.set(xlabel="$x$", ylabel="curvature of the objective", ylim=(-25, 30))
    ax.set_title("the Hessian of $-F$ stays below $\\gamma$ (dotted)")
    ax.legend(fontsize=8, ncol=4, loc="upper center")
    fig.tight_layout()


def plot_switch(gammas, diffs, argmaxes, at_edge, gamma_star) -> None:
    """The difference of the best values of ``F`` on the two sides of the barrier and the global maximiser
    against ``gamma`` (log axis); open markers where the narrow side has no interior maximum."""
    import matplotlib.pyplot as plt

    at_edge = np.asarray(at_edge, dtype=bool)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.semilogx(gammas, diffs, "-", color="C0", lw=1)
    a1.semilogx(gammas[~at_edge], diffs[~at_edge], "o", ms=3, color="C0", label="both maxima interior")
    if at_edge.any():
        a1.semilogx(
            gammas[at_edge], diffs[at_edge], "o", ms=4, mfc="none", color="C0", label="narrow side: edge"
        )
    a1.axhline(0, color="k", lw=0.8)
    a2.semilogx(gammas, argmaxes, "o-", ms=3)
    for a in (a1, a2):
        a.axvline(gamma_star, color="C3", ls=":", label=f"$\\gamma^*={gamma_star:.2f}$")
        a.legend(fontsize=8)
        a.set_xlabel("$\\gamma$")
    a1.set_ylabel("sup$_{x<x_b}F$ $-$ sup$_{x>x_b}F$")
    a2.set_ylabel("global maximiser of $F(\\cdot,\\gamma)$")
    fig.tight_layout()


def plot_ergodic(study: dict, lam1: float, ratio_em: float) -> None:
    """RMS error of the time averages (in units of ``sigma_as / sqrt(T)``) against ``T``, and ``r(T)`` with
    error bars against the band ``ratio_em (1 - 1/(lam1 T)) <= r <= ratio_em`` of the Euler chain."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    T = study["T"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.loglog(T, study["rms"], "o-", label=f"measured, slope {study['slope']:.3f} ± {study['se']:.3f}")
    a1.loglog(T, 1 / np.sqrt(T), "k--", lw=1, label="$\\sigma_{as}/\\sqrt{T}$")
    a1.set_xticks(T, [f"{t:g}" for t in T])
    a1.xaxis.set_minor_formatter(NullFormatter())
    a1.yaxis.set_minor_formatter(NullFormatter())
    lo, hi = study["rms"].min(), study["rms"].max()
    ticks = [t for t in (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0) if 0.8 * lo <= t <= 1.25 * hi]
    a1.set_yticks(ticks, [f"{t:g}" for t in ticks])
    a1.set(xlabel="$T$", ylabel="RMS error / $\\sigma_{as}$")
    a1.legend(fontsize=8)
    for b in study["r_batches"].T:
        a2.semilogx(T, b, color="0.85", lw=0.7)
    a2.errorbar(T, study["r"], yerr=2 * study["r_se"], fmt="o-", capsize=3, label="pooled, $\\pm2$ s.e.")
    a2.semilogx(
        T, ratio_em * (1 - 1 / (lam1 * T)), "k:", label="$(\\sigma^2_{EM}/\\sigma^2_{as})(1-1/(\\lambda_1T))$"
    )
    a2.axhline(ratio_em, color="k", lw=0.8, label="$\\sigma^2_{EM}/\\sigma^2_{as}$")
    a2.axhline(1, color="0.5", lw=0.8, ls="--", label="1 (the process (E))")
    a2.xaxis.set_minor_formatter(NullFormatter())
    a2.set_xticks(T, [f"{t:g}" for t in T])
    a2.set(xlabel="$T$", ylabel="$T\\,$MSE$/\\sigma_{as}^2$")
    a2.legend(fontsize=7)
    fig.tight_layout()


def plot_explorer(f, f_np, gamma: float, x0: float, x_grid, F_ref: dict) -> None:
    """One frame of the explorer: ``F(., gamma)`` against a few fixed couplings, and ``rho(.; x0)``."""
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    F = local_entropy(f, torch.as_tensor(x_grid)[:, None], gamma, lo=-15.0, hi=15.0, n_points=3001).numpy()
    for Fg in F_ref.values():
        a1.plot(x_grid, Fg - Fg.max(), color="0.75", lw=0.8)
    a1.plot(x_grid, F - F.max(), "C0", lw=2, label=f"$\\gamma={gamma:.3g}$")
    a1.plot(x_grid, -(f_np(x_grid) - f_np(x_grid).min()), "k--", lw=1, label="$-f$")
    a1.axvline(x_grid[np.argmax(F)], color="C3", ls=":", label="argmax $F$")
    a1.set(xlabel="$x$", ylabel="$F-\\max F$", ylim=(-6, 0.5))
    a1.legend(fontsize=8)
    nodes, w = local_gibbs_weights(
        f, torch.tensor([[x0]], dtype=torch.float64), gamma, lo=-15.0, hi=15.0, n_points=3001
    )
    y, dens = nodes[:, 0].numpy(), w[0].numpy() / float(nodes[1, 0] - nodes[0, 0])
    a2.plot(y, dens, "C1", label=f"$\\rho(\\cdot;x)$, $x={x0:g}$")
    a2.axvline(float(w[0] @ nodes[:, 0]), color="C1", ls=":", label="$\\langle y\\rangle_x$")
    a2.plot(y, np.exp(-f_np(y)) / np.exp(-f_np(y)).max() * dens.max(), "k--", lw=1, label="$e^{-f}$ (scaled)")
    a2.set(xlabel="$y$", ylabel="density", xlim=(-4, 4))
    a2.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
