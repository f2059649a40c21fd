"""Tables and figures of the large-time experiments: the path of trained ResNets in the horizon ``T``,
the branch of minimizers that leaves the minimal-norm interpolant ``u*``, the sweep in ``lam`` at fixed
``T`` and the slow convergence of the regularized logistic loss to the max-margin direction.

The computations live in :mod:`gradflows.experiments.minimal_norm` and
:mod:`gradflows.references.max_margin`; this module
only prints and draws them. Used in notebooks/02-turnpike/02 (claims TURN-3, TURN-4, TURN-8).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_positive

__all__ = [
    "branch_limits",
    "print_window",
    "print_bound_table",
    "print_lam_sweep",
    "plot_large_time",
    "plot_lam_sweep",
    "plot_max_margin",
    "plot_explorer",
    "print_angle_table",
]


def branch_limits(
    B: dict, theta_star: np.ndarray, theta1: np.ndarray, norm_star: float, lam: float, C_rate: float
):
    """Add to each point ``B[T]`` of the branch of ``u*`` (on ``[0, 1]``, weight ``lam / T``) the quantities
    whose limits the first-order expansion predicts: ``m = T (phi T^2 / C - 1) -> lam kappa``,
    ``d = T (theta_T - theta*) / lam -> theta_1``, ``g = T (1 - ||u||^2 / ||u*||^2) / lam ->
    N |nu|^2 / (2 ||u*||^2)`` and ``eta = |d - theta_1| / |theta_1|`` (the relative second-order part)."""
    lam, C_rate = check_positive("lam", lam), check_positive("C_rate", C_rate)
    for T, b in B.items():
        b["m"] = T * (b["phi"] * T**2 / C_rate - 1)
        b["d"] = T * (b["theta"] - theta_star) / lam
        b["g"] = T * (1 - b["norm"] / norm_star) / lam
        b["eta"] = np.linalg.norm(b["d"] - theta1) / np.linalg.norm(theta1)
    return B


def print_window(B: dict, window, lam: float, kappa: float, g_pred: float) -> None:
    """Print the branch of ``u*`` on the asymptotic window, against the first-order predictions."""
    print(
        "      T       eps |kappa|   T (phi T^2/C - 1) / (lam kappa)   |d - theta_1|/|theta_1|   "
        "g / g_pred   min eig H / lam"
    )
    for T in window:
        b = B[T]
        print(
            f"{T:9g}      {lam / T * abs(kappa):.1e}           {b['m'] / (lam * kappa):.6f}"
            f"                   {b['eta']:.2e}              {b['g'] / g_pred:.6f}     {b['eig']:.3e}"
        )


def print_bound_table(Ts, err_T, obj_T, B: dict, bound_T, dist_T, phi_star: float) -> None:
    """Print the trained path, the branch of ``u*`` and the bound ``phi(x*(1)) + (lam/T) ||u*||^2``."""
    print(
        "   T   path: phi      J_T     | branch of u*: phi    J_T     | bound (lam/T)||u*||^2 | path: "
        "||Tu^T(T.) - u*||/||u*||"
    )
    for i, T in enumerate(Ts):
        b = B[float(T)]
        print(
            f"{T:4d}   {err_T[i]:.3e}  {obj_T[i]:.3e}  |  {b['phi']:.3e}  {b['J']:.3e}"
            f"{' ' if b['on_branch'] else '*'} |      {bound_T[i]:.3e}        |        {dist_T[i]:.4f}"
        )
    print(
        "(*: a jump of the continuation was detected; the point is still a local minimizer if its "
        f"Hessian is positive definite)  phi(x*(1)) = {phi_star:.1e}"
    )


def print_lam_sweep(sweep: dict, norm_star: float, C_lam: float) -> None:
    """Print the branch of ``u*_T`` at fixed ``T`` against ``lam``: error, norm, gaps to the predictions."""
    print("   lam       phi(x^T(T))   ||u^T||^2     rel. gap to ||u*_T||^2   phi / (C lam^2)   on the branch")
    for lm in sorted(sweep):
        b = sweep[lm]
        print(
            f"{lm:9.2e}    {b['phi']:.3e}    {b['norm']:.6f}     {1 - b['norm'] / norm_star:+.3e}"
            f"            {b['phi'] / (C_lam * lm**2):.5f}          {b['on_branch']}"
        )


def plot_large_time(
    axes, *, Ts, err_T, B, lam, norm_star, C_rate, window, rescaled, u_star, kappa, g_pred
) -> None:
    """Three panels: the training error against ``T`` (path, branch of ``u*``, the bound and the ``1/T^2``
    law), the rescaled controls ``|T u^T(tT)|`` (``rescaled``: ``{T: Controls on [0, 1]}``) against
    ``u*``, and the ratios of the branch to its first-order predictions; ``window`` is shaded."""
    import matplotlib.pyplot as plt

    ax = axes[0]
    Tb = np.array(list(B))
    Tg = np.geomspace(1, Tb.max(), 100)
    ax.loglog(Ts, err_T, "ko", label=r"$\phi(\mathbf{x}^T(T))$, trained path")
    ax.loglog(Tb, [B[T]["phi"] for T in Tb], "C2.-", lw=1, label=r"$\phi$ on the branch of $u^*$")
    ax.loglog(Tg, lam / Tg * norm_star, "C0-", label=r"bound $(\lambda/T)\|u^*\|^2$")
    ax.loglog(Tg, C_rate / Tg**2, "C3--", label=r"$N\lambda^2|\nu|^2/(4T^2)$")
    ax.set(xlabel="$T$", ylabel="training error", title=f"$L={u_star.n_layers}$ layers, $\\lambda={lam:g}$")
    ax = axes[1]
    edges = np.linspace(0, 1, u_star.n_layers + 1)
    for (T, c), col in zip(
        rescaled.items(), plt.cm.viridis(np.linspace(0.1, 0.8, len(rescaled))), strict=True
    ):
        ax.stairs(c.pointwise_norm().numpy(), edges, color=col, lw=1.5, label=f"$T={T}$")
    ax.stairs(u_star.pointwise_norm().numpy(), edges, color="k", ls="--", lw=1.5, label="$u^*$ (SLSQP)")
    ax.set(
        xlabel="$t$ (rescaled to $[0,1]$)", ylabel=r"$|T\,u^T(tT)|$", title="rescaled controls of the path"
    )
    ax = axes[2]
    ax.semilogx(
        Tb, [B[T]["m"] / (lam * kappa) for T in Tb], "C3o-", ms=3, label=r"$T(\phi T^2/C-1)/(\lambda\kappa)$"
    )
    ax.semilogx(Tb, [B[T]["g"] / g_pred for T in Tb], "C0s-", ms=3, label="norm gap, scaled")
    ax.semilogx(Tb, [1 - B[T]["eta"] for T in Tb], "C2^-", ms=3, label=r"$1-|d_T-\theta_1|/|\theta_1|$")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="$T$", ylabel="ratio to the first-order prediction", ylim=(0, 1.5), title="branch of $u^*$")
    for ax in axes:
        if ax is not axes[1]:
            ax.axvspan(window[0], window[-1], color="0.9")
        ax.legend(fontsize=8)


def plot_lam_sweep(axes, *, lams, err_lam, norm_lam, T, norm_star, norm_star_T, C_lam) -> None:
    """Two panels at fixed horizon ``T``: the error against ``lam`` with the bound and the ``lam^2`` law, and
    the norm of the controls, which increases to that of the minimal-norm interpolant ``u*_T``."""
    ax = axes[0]
    ax.loglog(lams, err_lam, "ko-", label=r"$\phi(\mathbf{x}^T(T))$")
    ax.loglog(lams, lams / T * norm_star, "C0-", label=r"bound $(\lambda/T)\|u^*_1\|^2$")
    ax.loglog(lams, C_lam * lams**2, "C3--", label=r"$N|\nu|^2\lambda^2/4$")
    ax.set(xlabel=r"$\lambda$", ylabel="training error", title=f"fixed horizon $T={T:g}$")
    ax = axes[1]
    ax.semilogx(lams, np.sqrt(norm_lam), "ko-", label=r"$\|u^T\|_{L^2(0,T)}$")
    ax.axhline(math.sqrt(norm_star_T), color="k", ls="--", lw=1, label=r"$\|u^*_T\|$ (SLSQP)")
    ax.set(xlabel=r"$\lambda$", ylabel="norm", title=r"the norm increases to $\|u^*_T\|=\|u^*_1\|/\sqrt{T}$")
    for ax in axes:
        ax.invert_xaxis()
        ax.legend(fontsize=8)


def plot_max_margin(
    axes, *, X, ys, S, w_path, e_perp, lams, angle_path, A_pred, s_lam, t_gd, angle_gd
) -> None:
    """Two panels: the separable data with the support vectors ``S``, three regularized logistic classifiers
    and the max-margin one; the angle to ``w*`` against ``log(1/lam)``
    (and gradient descent against ``log t``)."""
    ax = axes[0]
    Xn = np.asarray(X)
    ax.scatter(Xn[:, 0], Xn[:, 1], c=np.where(np.asarray(ys) < 0, "C0", "C3"), s=18, zorder=3)
    ax.scatter(
        Xn[S, 0], Xn[S, 1], s=120, facecolors="none", edgecolors="k", zorder=4, label="support vectors"
    )
    r = np.linspace(-5, 5, 2)
    for k, col in zip((0, 2, 4), ("C1", "C2", "C4"), strict=True):
        d_k = np.array([-w_path[k][1], w_path[k][0]]) / np.linalg.norm(w_path[k])
        ax.plot(r * d_k[0], r * d_k[1], color=col, lw=1.2, label=f"logistic, $\\lambda=10^{{{-(k + 1)}}}$")
    ax.plot(r * e_perp[0], r * e_perp[1], "k-", lw=1.8, label="max margin (SLSQP)")
    lim = np.abs(Xn).max() + 0.3
    ax.set(
        xlim=(-lim, lim),
        ylim=(-lim, lim),
        aspect="equal",
        xlabel="$x_1$",
        ylabel="$x_2$",
        title="separable data",
    )
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[1]
    logs = np.log(1 / np.asarray(lams))
    ax.semilogy(
        logs, np.abs(angle_path), "ko-", label=r"$|\angle(\hat w^\lambda, w^*)|$ against $\log(1/\lambda)$"
    )
    ax.semilogy(logs, np.abs(A_pred) / s_lam, "C3--", label=r"$|A|/s(\lambda)$, $s e^s=1/(2\lambda)$")
    ax.semilogy(
        np.log(t_gd[1:]),
        np.abs(angle_gd[1:]),
        "C0-",
        label=r"gradient descent, $\lambda=0$, against $\log t$",
    )
    ax.set(
        xlabel=r"$\log(1/\lambda)$  or  $\log t$",
        ylabel="angle to $w^*$ (rad)",
        title="slow convergence in direction",
    )
    ax.legend(fontsize=8)


def plot_explorer(
    fit, *, y, title: str, lam_eff: float, bound: float, path, sweep, phi_star: float, norm_star: float
):
    """The explorer of notebooks/02-turnpike/02: the trajectories of the fit (left) and its training error at
    ``lam' = lam / T`` (star) with its bound (bar), against the path in ``T`` and the sweep in ``lam``
    (``path``, ``sweep``: pairs ``(lam', errors)``) and the line ``phi(x*(1)) + lam' ||u*||^2``."""
    import matplotlib.pyplot as plt

    from .resnet_flows import plot_point_paths

    fig, (a0, a1) = plt.subplots(1, 2, figsize=(11, 4))
    plot_point_paths(a0, fit.states, y, (-1, 1), title)
    eff = np.geomspace(1e-8, 1e-1, 50)
    a1.loglog(*path, "ko", ms=4, label="path in $T$")
    a1.loglog(*sweep, "ks", mfc="none", ms=5, label="sweep in $\\lambda$")
    a1.loglog(eff, phi_star + eff * norm_star, "C0-", lw=1, label=r"$\lambda'\|u^*\|^2$")
    a1.loglog([lam_eff], [fit.error], "C3*", ms=14, label=r"this $(T,\lambda)$: $\phi(\mathbf{x}^T(T))$")
    a1.loglog([lam_eff], [bound], "C3_", ms=20, mew=2, label=r"its bound $\bar\phi+(\lambda/T)\|u^*\|^2$")
    a1.set(
        xlabel=r"$\lambda'=\lambda/T$",
        ylabel="training error",
        title=f"error {fit.error:.2e}, bound {bound:.2e}",
    )
    a1.legend(fontsize=7)
    fig.tight_layout()
    plt.show()


def print_angle_table(
    lams, w_path, cos_path, angle_path, ratio, tail, theta_tail, tol_tail, grad_path
) -> None:
    """Print the regularized logistic path against ``lam``: ``|w|``, ``1 - cos`` and the signed angle to
    ``w*``, ``ratio`` (the angle over its first-order prediction ``A / s(lam)``), and on the ``tail`` (a
    boolean mask) the distance to the all-order prediction ``theta(s)`` with its tolerance; last the
    stationarity ``|grad| / |2 lam w|`` of L-BFGS (claim TURN-8, notebooks/02-turnpike/02)."""
    print(
        "    lam      |w|       1 - cos        angle      angle * s(lam) / A    angle - theta(s)   "
        "tolerance   |grad| / |2 lam w|"
    )
    tail = np.asarray(tail, dtype=bool)
    for i, lm in enumerate(lams):
        j = i - np.argmax(tail)
        vs_all = (
            f"{angle_path[i] - theta_tail[j]:+.2e}         {tol_tail[j]:.1e}"
            if tail[i]
            else "     -                -   "
        )
        print(
            f"{lm:7.0e}  {np.linalg.norm(w_path[i]):8.2f}   {1 - cos_path[i]:.3e}   {angle_path[i]:+.3e}     "
            f"{ratio[i]:7.3f}              {vs_all}       {grad_path[i]:.0e}"
        )
