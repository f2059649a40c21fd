"""Controlled deep relaxation in 1-D: landscape, sweeps, tables and figures of the homogenization notebook.

Notebook ``04-global/04-homogenization`` (claims GLOB-6 and GLOB-7): the truncated cell problems for
growing ``n`` (:func:`cell_problem_sweep`, :func:`plot_cell_errors`), the refinement study of the
monotone Hamilton--Jacobi solver against the reachable-interval references (:func:`hj_refinement`),
the controlled two-scale system for shrinking ``eps`` (:func:`value_sweep`), the value figure
(:func:`plot_values`) and the explorer (:func:`explorer`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .. import hamilton_jacobi as hj
from .. import homogenization as hg
from ..deep_relaxation import two_scale
from ..device import generator as make_generator
from ..landscapes import wide_narrow
from ..references import reachable_sets as rs

__all__ = [
    "WIDE",
    "NARROW",
    "mild_wide_narrow",
    "cell_problem_sweep",
    "plot_cell_errors",
    "hj_refinement",
    "switch_on_time",
    "value_sweep",
    "plot_values",
    "explorer",
]

#: Valleys ``(centre, width, depth)`` of the mild landscape: ``sup |f''| < 11``, ``gamma = 12`` satisfies (A).
WIDE, NARROW, CONFINEMENT = (-1.5, 0.8, 2.0), (1.5, 0.5, 2.6), 0.2


def mild_wide_narrow() -> tuple[Callable, Callable, Callable]:
    """``f`` (``gf.landscapes.wide_narrow`` with a mild narrow valley), the same ``f`` in NumPy (for the
    scipy references) and ``f'`` in closed form (for the fast steps)."""
    f = wide_narrow(wide=WIDE, narrow=NARROW, confinement=CONFINEMENT)

    def f_np(y):
        y = np.asarray(y, dtype=float)
        out = 0.5 * CONFINEMENT * y * y
        for m, s, a in (WIDE, NARROW):
            out = out - a * np.exp(-((y - m) ** 2) / (2 * s * s))
        return out

    def grad(y: torch.Tensor) -> torch.Tensor:
        out = CONFINEMENT * y
        for m, s, a in (WIDE, NARROW):
            out = out + a * (y - m) / (s * s) * torch.exp(-((y - m) ** 2) / (2 * s * s))
        return out

    return f, f_np, grad


def cell_problem_sweep(f, xbar, pbar, gamma, alpha, ns, dx, hbar, predicted, y_max=1.0) -> dict:
    """For each ``n``: ``delta = n^{-(4 + alpha)}`` and, on ``|y| <= y_max``, ``sup |delta w^n_delta + hbar|``
    from the solves at ``dx``, ``dx / 2`` and ``dx / 4``: ``err`` (at ``dx``), ``err_rich`` (Richardson,
    ``(4 e_{dx/2} - e_dx) / 3`` on the common nodes), ``half_est`` (``sup |e_{dx/2} - e_dx| / 3``, the
    estimated error of the ``dx / 2`` solve), ``rich_res`` (``sup`` of Richardson from ``(dx, dx/2)`` minus
    Richardson from ``(dx/2, dx/4)``: the post-Richardson residual), ``pred`` (``delta sup |predicted|``,
    ``predicted``: ``y -> chi(y) - <chi>``) and ``dev`` (``sup |Richardson - delta predicted|``,
    pointwise)."""
    keys = ("n", "delta", "err", "err_rich", "half_est", "rich_res", "pred", "dev")
    rows = {k: [] for k in keys}
    for n in ns:
        delta = float(n) ** -(4 + alpha)
        e = []
        for k in (1, 2, 4):
            y, w = hg.truncated_cell_problem(f, xbar, pbar, gamma, delta, n, dx / k)
            e.append((delta * w + hbar)[::k])
        y = y[::4]
        sel = y.abs() <= y_max + 1e-12
        rich, rich_fine = (4 * e[1] - e[0]) / 3, (4 * e[2] - e[1]) / 3
        pred = delta * torch.as_tensor(predicted(y[sel].numpy()))
        vals = (
            n,
            delta,
            e[0][sel].abs().max(),
            rich[sel].abs().max(),
            (e[1][sel] - e[0][sel]).abs().max() / 3,
            (rich[sel] - rich_fine[sel]).abs().max(),
            pred.abs().max(),
            (rich[sel] - pred).abs().max(),
        )
        for k, val in zip(keys, vals, strict=True):
            rows[k].append(float(val))
    return {k: np.array(v) for k, v in rows.items()}


def plot_cell_errors(table: dict, alpha: float) -> None:
    """Log-log plot of the cell-problem error in ``n``, the prediction and the rate ``n^{-(4+alpha)}``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.loglog(table["n"], table["err_rich"], "o-", label=r"$\sup_{|y|\leq1}|\delta w^n_\delta+\bar H|$ (FD)")
    ax.loglog(table["n"], table["pred"], "k--", label=r"$\delta\,\sup|\chi-\langle\chi\rangle|$ (quad)")
    ax.loglog(
        table["n"], table["delta"], ":", color="0.5", label=r"$\delta(n)=n^{-(4+\alpha)}$, " + f"α = {alpha}"
    )
    ax.set(xlabel="$n$", ylabel="error", title="truncated cell problems")
    ax.legend(fontsize=8)
    fig.tight_layout()


def switch_on_time(solution: hj.HJSolution, x: float, tol: float = 1e-8) -> float:
    """The first recorded time ``t`` with ``|v_x(t, x)| > tol``: when the feedback of
    :func:`gradflows.homogenization.extended_feedback` (same ``tol``) switches on for a path held at ``x``."""
    dx = float(solution.x[1] - solution.x[0])
    s = (float(x) - float(solution.x[0])) / dx
    i = int(math.floor(s))
    r = s - i
    vx = (1 - r) * solution.v_x[:, i] + r * solution.v_x[:, i + 1]
    on = torch.nonzero(vx.abs() > tol)
    return float(solution.times[on[0, 0]]) if on.numel() else float("nan")


def hj_refinement(
    f, x_fine, a_fine, b_fine, T, strides, x_eval, reference, terminal=None, x_switch=None
) -> dict:
    """Solve (HJ) with speeds ``(a, b)`` on the grids ``x_fine[::k]`` for ``k`` in ``strides`` (one shared
    time step per grid, so that solutions with other speeds on the same grid compare step by step) and
    return ``dx``, the sup and mean errors at ``x_eval`` against ``reference``, where the sup error sits
    (``argmax``), the sup difference to the next coarser grid, the values at ``x_eval``, and (with
    ``x_switch``) :func:`switch_on_time` at that point; ``out["solution"]`` is the finest ``HJSolution``."""
    out = {"dx": [], "sup": [], "argmax": [], "l1": [], "diff": [], "values": [], "t_on": []}
    sol = None
    for k in strides:
        x = x_fine[::k]
        vals = f(x[:, None]) if terminal is None else terminal(x)
        sol = hj.solve_hj(x, vals, T, speeds=(a_fine[::k], b_fine[::k]), progress=False)
        v0 = sol.value(0.0, torch.as_tensor(x_eval)).numpy()
        out["dx"].append(float(x[1] - x[0]))
        out["sup"].append(np.abs(v0 - reference).max())
        out["argmax"].append(float(np.asarray(x_eval)[np.argmax(np.abs(v0 - reference))]))
        out["t_on"].append(np.nan if x_switch is None else switch_on_time(sol, x_switch))
        out["l1"].append(np.abs(v0 - reference).mean())
        out["diff"].append(np.abs(v0 - out["values"][-1]).max() if out["values"] else np.nan)
        out["values"].append(v0)
    return {k: np.array(v) for k, v in out.items()} | {"solution": sol}


def value_sweep(
    f, grad, gamma, x0, T, eps_list, control, n_paths, ratio=0.02, offset=10, dtype=torch.float64
) -> dict:
    """``E f(X^eps_T)`` and its standard error for the two-scale system (CSe) from ``X_0 = Y_0 = x0`` with
    ``control`` (``gf.deep_relaxation.two_scale``), ``dt = ratio * eps``, ``n_paths`` paths, one generator
    (seed offset ``offset + i``) per ``eps``."""
    mean, se, final = [], [], []
    for i, eps in enumerate(eps_list):
        dt = ratio * eps
        x = torch.full((n_paths, 1), float(x0), dtype=dtype)
        tr = two_scale(
            x,
            x[:1].clone(),
            gamma,
            eps,
            dt,
            round(T / dt),
            grad=grad,
            control=control,
            generator=make_generator(offset + i),
            progress=False,
        )
        fx = f(tr.last)
        mean.append(float(fx.mean()))
        se.append(float(fx.std()) / math.sqrt(n_paths))
        final.append(tr.last[:, 0].numpy())
    return {"eps": np.array(eps_list, dtype=float), "mean": np.array(mean), "se": np.array(se), "X_T": final}


def plot_values(x, f_vals, v0, vc0, x0, sims=None, ax=None, title="") -> None:
    """``f``, the limit value ``v(0, .)`` and the constant-control value ``V_c(0, .)``; optional
    simulated ``(label, E f(X_T), se)`` markers at ``x0``."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.6))
    ax.plot(x, f_vals, color="0.6", lw=1, label="$f$")
    ax.plot(x, vc0, "C1", label=r"$V_c(0,\cdot)$ (constant-in-$y$ controls)")
    ax.plot(x, v0, "C0", label=r"$v(0,\cdot)$ (effective HJ)")
    ax.axvline(x0, color="k", lw=0.6, ls=":")
    for k, (lab, m, s) in enumerate(sims or []):
        ax.errorbar([x0 + 0.06 * (k + 1)], [m], yerr=[4.5 * s], fmt="o", ms=4, color=f"C{k + 2}", label=lab)
    ax.set(xlabel="$x$", ylabel="value", title=title, ylim=(min(f_vals.min(), v0.min()) - 0.2, 1.0))
    ax.legend(fontsize=7, loc="upper right")


def explorer(f, grad, gamma: float, eps: float, x0: float, T: float, n_paths: int = 1000) -> None:
    """One frame of the notebook's explorer: ``v``, ``V_c`` and ``f`` on a coarse grid for this ``gamma``, and
    ``E f(X^eps_T)`` of 1000 paths (two-scale system) with the target feedback (head for the minimiser of
    ``f`` over the reachable interval of ``x0``, from ``solve_ivp`` on the speeds) and with ``u = 1``."""
    import matplotlib.pyplot as plt

    x = torch.linspace(-3.5, 3.5, 351)
    A, B = hg.one_sided_means(f, x, gamma, lo=-8.0, hi=8.0, n_points=1601)
    a, b, ac, bc = gamma * A, gamma * B, gamma * (A - B).clamp(min=0), gamma * (B - A).clamp(min=0)
    n_steps = math.ceil(T * float((a + b).max()) / (0.9 * float(x[1] - x[0])))
    sol = hj.solve_hj(x, f(x[:, None]), T, speeds=(a, b), n_steps=n_steps, progress=False)
    solc = hj.solve_hj(x, f(x[:, None]), T, speeds=(ac, bc), n_steps=n_steps, progress=False)
    dt = min(0.02 * eps, 0.5 * eps / (gamma + 11.0))
    xn, an, bn = x.numpy(), a.numpy(), b.numpy()
    lo = rs.interval_ends(lambda z: -np.interp(z, xn, an), [x0], T)[0]
    hi = rs.interval_ends(lambda z: np.interp(z, xn, bn), [x0], T)[0]
    z = np.linspace(lo, hi, 4001)
    target = float(z[np.argmin(f(torch.as_tensor(z)[:, None]).numpy())])
    sims = []
    for lab, u in (("controlled $E f(X_T^\\varepsilon)$", hg.target_feedback(target)), ("$u=1$", None)):
        xx = torch.full((n_paths, 1), x0)
        tr = two_scale(
            xx,
            xx[:1].clone(),
            gamma,
            eps,
            dt,
            round(T / dt),
            grad=grad,
            control=u,
            generator=make_generator(99),
            progress=False,
        )
        fx = f(tr.last)
        sims.append((lab, float(fx.mean()), float(fx.std()) / math.sqrt(n_paths)))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    plot_values(
        x.numpy(),
        f(x[:, None]).numpy(),
        sol.v[0].numpy(),
        solc.v[0].numpy(),
        x0,
        sims,
        ax,
        f"γ = {gamma:g}, ε = {eps:g}: v(0, x0) = {float(sol.value(0.0, torch.tensor([x0]))[0]):.3f}, "
        f"simulated {sims[0][1]:.3f}",
    )
    fig.tight_layout()
    plt.show()
