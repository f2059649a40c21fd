"""Test functions and candidate solutions for the Kruzkov inequalities (5.44) (notebook
``01-sgd/04-regularity``).

The inequalities are tested on ramps ``(1 - t/tau)_+`` and smooth bumps of radius ``R``; a
candidate ``w(t)`` passes if ``F_w(phi, y) >= 0`` for every test function ``phi`` and every ``y``
(:func:`gradflows.weak_solutions.kruzkov_functional`). This module holds the test functions and
their derivatives (NumPy), the family on a time grid, the five candidates of the notebook, and
the figure of ``F`` over test functions and ``y``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import SymLogNorm

from .. import weak_solutions
from .._validation import as_tensor, check_finite, check_positive

__all__ = [
    "ramp",
    "dramp",
    "bump",
    "dbump",
    "test_functions",
    "test_family",
    "candidates",
    "plot_kruzkov_map",
]

TestFunction = tuple[Callable, Callable, float]


def ramp(t: np.ndarray, tau: float) -> np.ndarray:
    """The ramp ``(1 - t/tau)_+``."""
    return np.clip(1.0 - t / tau, 0.0, None)


def dramp(t: np.ndarray, tau: float) -> np.ndarray:
    """Its derivative; at the kink ``t = tau`` the mean of the one-sided derivatives (keeps the trapezoid
    rule O(h^2))."""
    return np.where(np.isclose(t, tau, rtol=0, atol=1e-12), -0.5 / tau, np.where(t < tau, -1.0 / tau, 0.0))


def bump(t: np.ndarray, c: float, R: float = 0.3) -> np.ndarray:
    """The smooth bump ``exp(1 - 1/(1 - s^2))`` for ``|s| < 1``, ``s = (t - c)/R``, and 0 outside."""
    s = (t - c) / R
    inside = np.abs(s) < 1
    s_in = np.where(inside, s, 0.0)
    return np.where(inside, np.exp(1.0 - 1.0 / (1.0 - s_in**2)), 0.0)


def dbump(t: np.ndarray, c: float, R: float = 0.3) -> np.ndarray:
    """Derivative of :func:`bump` in ``t``."""
    s = (t - c) / R
    s_in = np.where(np.abs(s) < 1, s, 0.0)
    return bump(t, c, R) * (-2.0 * s_in / (1.0 - s_in**2) ** 2) / R


def test_functions(
    taus: Sequence[float], centers: Sequence[float], R: float = 0.3
) -> tuple[list[TestFunction], list[str]]:
    """Ramps with the kinks ``taus`` and bumps of radius ``R`` centred at ``centers``, as ``(f, df, p)``,
    and labels.

    Used in notebook ``01-sgd/04-regularity``.
    """
    R = check_positive("R", R)
    b, db = partial(bump, R=R), partial(dbump, R=R)
    tests = [(ramp, dramp, tau) for tau in taus] + [(b, db, c) for c in centers]
    labels = [f"ramp tau={tau:.2f}" for tau in taus] + [f"bump c={c:.2f}" for c in centers]
    return tests, labels


def test_family(tests: Sequence[TestFunction], t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The test functions and their derivatives on the time grid ``t``: two tensors of shape ``(tests,
    len(t))``."""
    t = check_finite("t", as_tensor("t", t))
    tn = t.numpy()
    phi = np.stack([f(tn, p) for f, _, p in tests])
    dphi = np.stack([df(tn, p) for _, df, p in tests])
    return torch.from_numpy(phi), torch.from_numpy(dphi)


def candidates(w0: float, t: torch.Tensor) -> dict[str, torch.Tensor]:
    """Five candidate solutions of ``w' = -sign(w)`` from ``w0`` on the grid ``t``: the weak solution
    (5.43) first.

    Used in notebook ``01-sgd/04-regularity``.
    """
    s = float(np.sign(w0))
    return {
        "weak solution (5.43)": weak_solutions.weak_solution_abs(w0, t),
        "classical extension": w0 - s * t,
        "frozen w = w0": torch.full_like(t, w0),
        "wrong sign": w0 + s * t,
        "half speed": s * torch.clamp(abs(w0) - t / 2, min=0.0),
    }


def plot_kruzkov_map(
    F: Mapping[str, np.ndarray], y: np.ndarray, n_ramps: int, taus: Sequence[float], w0: float
) -> None:
    """Figure: ``F_w(phi, y)`` of each candidate (rows: test functions, ramps first), and one ramp in detail.

    ``F`` maps candidate names (the weak solution first) to arrays of shape ``(tests, len(y))``.
    Used in notebook ``01-sgd/04-regularity``.
    """
    names = list(F)
    n_tests = next(iter(F.values())).shape[0]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), layout="constrained")
    norm = SymLogNorm(linthresh=1e-2, vmin=-8, vmax=8)
    extent = (y[0] - 0.05, y[-1] + 0.05, n_tests - 0.5, -0.5)
    for ax, name in zip(axes.flat, names, strict=False):
        Fm = F[name]
        im = ax.imshow(Fm, aspect="auto", cmap="RdBu", norm=norm, extent=extent, interpolation="nearest")
        neg = np.ma.masked_where(Fm >= -1e-4, np.ones_like(Fm))
        ax.contourf(y, np.arange(n_tests), neg, levels=[0.5, 1.5], colors="none", hatches=["///"])
        ax.axhline(n_ramps - 0.5, color="k", lw=0.8)
        ax.set_title(f"{name}: min $F$ = {Fm.min():.2g}", fontsize=10)
        ax.set_xlabel("$y$")
        ax.set_yticks(
            [(n_ramps - 1) / 2, n_ramps + (n_tests - n_ramps - 1) / 2],
            ["ramps\n($\\tau$ grows down)", "bumps\n($c$ grows down)"],
            fontsize=8,
        )
        ax.grid(False)
    fig.colorbar(
        im,
        ax=axes.ravel().tolist(),
        shrink=0.6,
        pad=0.02,  # on the right edge, for all panels
        label="$F_w(\\varphi, y)$, symlog scale; hatched where $F<-10^{-4}$",
    )
    ax = axes[1, 2]
    k_show = int(np.argmin(np.abs(np.asarray(taus) - 2.0)))  # ramp with tau = 2
    for name in names:
        ax.plot(
            y,
            F[name][k_show],
            label=name,
            lw=2.4 if name == names[0] else 1.2,
            zorder=3 if name == names[0] else 2,
        )
    ax.axhline(0, color="k", lw=0.6)
    ax.set(
        xlabel="$y$", ylabel="$F$", title=f"one test function: ramp $\\tau={taus[k_show]:.0f}$", ylim=(-3, 4)
    )
    ax.legend(fontsize=7)
    fig.suptitle(f"Kružkov functional (5.44) for $w_0={w0}$: rows are test functions, columns values of $y$")


def print_report(
    F: Mapping,
    F_exact: Mapping,
    F_seed: Mapping,
    F_rich: Mapping,
    names: Sequence[str],
    w0s: Sequence[float],
    labels: Sequence[str],
    y: np.ndarray,
    m: tuple[int, int] = (3001, 6001),
) -> None:
    """Print the Kruzkov tables: the weak solution on two grids against the closed forms, the wrong
    candidates,
    and where the smallest value of the weak solution's ``F`` sits.

    ``F[w0, m, name]`` holds ``F_w(phi, y)`` on the grid of ``m`` points (``m = (coarse, fine)``),
    ``F_exact``/``F_seed``/``F_rich`` are keyed by ``w0``. Used in notebook ``01-sgd/04-regularity``.
    """
    wk, (m1, m2) = names[0], m
    print(
        "weak solution:  w0   min F (h)   min F (h/2)  |F_h - F_h/2|  |Richardson - closed form|"
        "  |F_h/2 - printed form|"
    )
    for w0 in w0s:
        f1, f2 = F[w0, m1, wk].numpy(), F[w0, m2, wk].numpy()
        print(
            f"              {w0:5.2f}  {f1.min():.2e}   {f2.min():.2e}    {np.abs(f2 - f1).max():.2e}"
            f"         {np.abs(F_rich[w0] - F_exact[w0]).max():.2e}"
            f"                 {np.abs(f2 - F_seed[w0]).max():.2e}"
        )
    print("\nwrong candidates (h/2 grid): most negative F, and fraction of (phi, y) pairs with F < 0")
    for name in names[1:]:
        vals = [(F[w0, m2, name].min().item(), (F[w0, m2, name] < 0).double().mean().item()) for w0 in w0s]
        cols = "  ".join(f"w0={w0:5.2f}: {v:8.4f} ({fr:4.0%})" for w0, (v, fr) in zip(w0s, vals, strict=True))
        print(f"  {name:24s}", cols)
    for w0 in w0s:  # where the smallest value of F_h/2 for the weak solution sits, and the exact value there
        f2 = F[w0, m2, wk].numpy()
        i, j = np.unravel_index(f2.argmin(), f2.shape)
        print(
            f"weak solution, w0 = {w0:5.2f}: min F_h/2 = {f2.min():.2e} at {labels[i]}, y = {y[j]:+.1f}, "
            f"where the exact value is {F_exact[w0][i, j]:.1e}; F_h/2 < 0 at {int((f2 < 0).sum())} of "
            f"{f2.size} "
            "pairs, all with "
            f"exact value {np.abs(F_exact[w0][f2 < 0]).max():.1e}"
        )
