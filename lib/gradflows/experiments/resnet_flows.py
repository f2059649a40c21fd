"""Experiments on ResNets as Euler steps of neural ODEs: convergence tables against a reference
solution, and the figures that show data flowing through the layers.

Used in notebooks/02-turnpike/01 (claims TURN-1 and TURN-2) and notebooks/02-turnpike/02; the
kernels are :func:`gradflows.control.flow` and :func:`gradflows.control.sample_controls`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._validation import as_tensor, check_int, check_positive
from ..control import Controls, flow, l2_norm_sq, sample_controls

__all__ = [
    "euler_errors",
    "rk4_errors",
    "plot_orders",
    "pulled_back",
    "draw_pullback",
    "plot_point_paths",
    "plot_ring_snapshots",
    "plot_fit",
    "plot_rescaled_paths",
    "oscillation_table",
    "ode_deviation",
    "plot_ridge",
    "plot_snapshots",
    "fit_circle_flows",
]


def _ints(name: str, values) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 1 or len(values) == 0 or not all(int(v) == v and v >= 1 for v in values):
        raise ValueError(f"{name} must be a non-empty 1-D list of positive integers, got {values!r}")
    return values


def euler_errors(
    w: Callable, b: Callable, x0: torch.Tensor, T: float, n_layers, kind: str, activation: str, x_ref
) -> np.ndarray:
    """``max_i |x_i^L - x_ref_i|`` for the ResNet (Euler, one step per cell) with ``L`` layers, for each
    ``L`` in ``n_layers``, with the NumPy controls ``w(t)``, ``b(t)`` sampled at the left cell edges
    (:func:`gradflows.control.sample_controls`). ``x_ref``: a reference for ``x(T)`` of the smooth
    neural ODE, shape ``(N, d)``. The error table of theorem TURN-1, notebooks/02-turnpike/01.
    """
    x0, T = as_tensor("x0", x0), check_positive("T", T)
    x_ref = np.asarray(x_ref, dtype=float)
    if x_ref.shape != tuple(x0.shape):
        raise ValueError(f"x_ref must have the shape {tuple(x0.shape)} of x0, got {x_ref.shape}")
    errs = []
    for L in _ints("n_layers", n_layers):
        c = sample_controls(lambda t: torch.from_numpy(w(t)), lambda t: torch.from_numpy(b(t)), T, int(L))
        errs.append(np.abs(flow(c, x0, kind, activation, record=False).last.numpy() - x_ref).max())
    return np.array(errs)


def rk4_errors(c: Controls, x0: torch.Tensor, kind: str, activation: str, substeps, x_ref) -> np.ndarray:
    """``max |x(T) - x_ref|`` for RK4 with ``s`` substeps in each cell of the piecewise-constant
    controls ``c``, for each ``s`` in ``substeps`` (fourth order in ``h / s``; notebooks/02-turnpike/01)."""
    x_ref = torch.as_tensor(np.asarray(x_ref, dtype=float))
    if tuple(x_ref.shape) != tuple(x0.shape):
        raise ValueError(f"x_ref must have the shape {tuple(x0.shape)} of x0, got {tuple(x_ref.shape)}")
    return np.array(
        [
            float(
                (flow(c, x0, kind, activation, method="rk4", substeps=int(s), record=False).last - x_ref)
                .abs()
                .max()
            )
            for s in _ints("substeps", substeps)
        ]
    )


def plot_orders(
    ax, steps, errors: dict, orders: dict, power: int, *, marker: str, word: str, guide: str, **labels
) -> None:
    """Log-log plot of the error tables ``errors[(kind, activation)]`` against the step sizes ``steps``,
    each labelled with its fitted order ``orders[(kind, activation)]``, a dotted guide ``2 h^power``
    (legend ``guide``) and ticks at the steps; ``labels`` go to ``ax.set`` (notebooks/02-turnpike/01)."""
    from matplotlib.ticker import NullFormatter

    steps = np.asarray(steps, dtype=float)
    for (kind, act), errs in errors.items():
        ax.loglog(steps, errs, marker, label=f"{kind}, {act} ({word} {orders[kind, act]:.2f})")
    ax.loglog(steps, 2 * steps**power, "k:", label=guide)
    ax.set(**labels)
    ax.set_xticks(steps, [f"{h:.3g}" for h in steps])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.legend()


def pulled_back(controls: Controls, d: int, lim: float = 1.8, n: int = 121):
    """``P x(T)`` on an ``n x n`` grid of ``[-lim, lim]^2`` in the input plane (``x_3 = 0`` when ``d = 3``):
    its sign is the trained classifier seen in input space. Returns ``(g1, g2, score)``."""
    d, n, lim = check_int("d", d, 2), check_int("n", n, 2), check_positive("lim", lim)
    s = torch.linspace(-lim, lim, n)
    g1, g2 = torch.meshgrid(s, s, indexing="xy")
    pts = torch.cat([g1.reshape(-1, 1), g2.reshape(-1, 1), torch.zeros(n * n, d - 2)], 1)
    return g1, g2, flow(controls, pts, record=False).last[:, 0].reshape(n, n)


def draw_pullback(ax, controls: Controls, x: torch.Tensor, y: torch.Tensor, d: int, title: str) -> None:
    """Draw the classifier of :func:`pulled_back` (two colours, the boundary in black) and the data."""
    g1, g2, score = pulled_back(controls, d)
    ax.contourf(g1, g2, score, levels=[-1e9, 0, 1e9], colors=["C0", "C3"], alpha=0.15)
    ax.contour(g1, g2, score, levels=[0], colors="k", linewidths=1)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
    ax.set(aspect="equal", xlabel="$x_1$", ylabel="$x_2$", title=title)


def plot_point_paths(ax, states: torch.Tensor, y: torch.Tensor, vlines=(0.0,), title: str = "") -> None:
    """The path of each point through the layers (``states``: ``(L + 1, N, d)``), circles at the
    inputs and stars at the outputs, coloured by label; dotted vertical lines at ``vlines``."""
    S = as_tensor("states", states).numpy()
    colors = np.where(np.asarray(y) > 0, "C3", "C0")
    for i in range(S.shape[1]):
        ax.plot(S[:, i, 0], S[:, i, 1], color=colors[i], lw=0.7, alpha=0.6)
    ax.scatter(S[0, :, 0], S[0, :, 1], c=colors, s=14, edgecolors="k", linewidths=0.3, zorder=3)
    ax.scatter(S[-1, :, 0], S[-1, :, 1], c=colors, marker="*", s=60, edgecolors="k", linewidths=0.3, zorder=3)
    for v in vlines:
        ax.axvline(v, color="k", ls=":", lw=0.8)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title)


def plot_ring_snapshots(fig, row: int, fit, rings: torch.Tensor, y, y_rings, layers, n_cols: int = 6) -> None:
    """One row of ``fig``: the trained points ``fit.states[k]`` and the images ``rings[k]`` of two full
    circles (1000 points each, lines) at the layers ``k`` in ``layers``, in 2-D or 3-D; the misclassified
    ring points in black at the last layer (notebooks/02-turnpike/01)."""
    d = fit.states.shape[-1]
    for col, k in enumerate(layers):
        ax = fig.add_subplot(2, n_cols, n_cols * row + col + 1, projection="3d" if d == 3 else None)
        S, R = fit.states[k], rings[k]
        for part, color in ((slice(0, 1000), "C0"), (slice(1000, 2000), "C3")):
            ax.plot(*[torch.cat([R[part, j], R[part, j][:1]]) for j in range(d)], color=color, lw=0.8)
        ax.scatter(*[S[:, j] for j in range(d)], c=y, cmap="coolwarm", s=8, edgecolors="k", linewidths=0.3)
        if k == layers[-1]:
            wrong = torch.sign(R[:, 0]) != y_rings
            ax.scatter(*[R[wrong, j] for j in range(d)], color="k", s=2)
        ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"$\\mathbb{{R}}^{d}$, layer {k}")
        if d == 3:
            ax.set(xticklabels=[], yticklabels=[], zticklabels=[])  # shapes matter here, not values
            ax.set_xlabel("$x_1$", labelpad=-10)
            ax.set_ylabel("$x_2$", labelpad=-10)
            ax.set_zlabel("$x_3$", labelpad=-10)
            ax.view_init(elev=20, azim=-60)


def plot_fit(fit, y: torch.Tensor, lam: float) -> None:
    """The explorer of notebooks/02-turnpike/01: the paths of the points through the layers of a trained
    ResNet (left; the classifier is the sign of ``x_1``) and the objective during training (right)."""
    import matplotlib.pyplot as plt

    c = fit.controls
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    acc = float((torch.sign(fit.states[-1, :, 0]) == y).double().mean())
    plot_point_paths(ax1, fit.states, y, title=f"h = {c.h:.2f}: phi = {fit.error:.2e}, accuracy {acc:.2f}")
    ax2.semilogy(10 * np.arange(1, len(fit.history) + 1), fit.history, "o-", label="objective")
    ax2.axhline(fit.error, color="C1", ls="--", label="final training error phi")
    ax2.set(xlabel="L-BFGS iterations", ylabel="value", title=f"|u|^2 = {float(l2_norm_sq(c)):.2f}, "
            f"lambda/T = {lam / c.T:.1e}")  # fmt: skip
    ax2.legend()
    plt.show()


def plot_rescaled_paths(ax, XT: np.ndarray, X1: np.ndarray, s: np.ndarray, title: str) -> None:
    """The first coordinate of a few points along ``x^T(sT)`` (thick) and ``x^1(s)`` (dashed) on [0, 1]:
    the trajectories of the time-scaling identity (claim TURN-2, notebooks/02-turnpike/01)."""
    for i in range(XT.shape[1]):
        ax.plot(s, XT[:, i, 0], color=f"C{i}", lw=2, alpha=0.5)
        ax.plot(s, X1[:, i, 0], color=f"C{i}", ls="--", lw=1.2)
    ax.plot([], [], "k", lw=2, alpha=0.5, label="$x^T(sT)$ on $[0, T]$")
    ax.plot([], [], "k--", lw=1.2, label="$x^1(s)$, control $T u^T(sT)$")
    ax.set(xlabel="$s = t/T$", title=title)
    ax.legend()


def oscillation_table(ns, T: float = 2.0) -> None:
    """Print the oscillating-controls experiment of notebooks/02-turnpike/01: ``x(0) = 1``, ``b = 1/2`` and
    weights ``w_n = +-1`` alternating on ``2n`` cells of ``[0, T]``, by RK4 with step ``T / 512``. Columns:
    for (nODE) with ReLU the end point minus ``1.5 e - 0.5`` and the distance to the averaged trajectory
    ``x_avg(t) = 1.5 e^(t/2) - 0.5`` with its closed form ``1.5 e (1 - e^(-1/(2n)))``; for (nODE_2) with
    tanh the end point; the ``L^2`` norm of ``w_n`` and the discrete ``H^1`` norm of the controls."""
    from ..control import h1_norm_sq

    T = check_positive("T", T)
    x_osc, x_avg_end = torch.ones(1, 1), 1.5 * np.e - 0.5
    print("   n | inner, ReLU: x_n(T) - (1.5e - 0.5) | max_t |x_n - x_avg| | 1.5e(1 - e^(-1/(2n))) |"
          " outer, tanh: x_n(T) | |w_n|^2_L2 | |u_n|^2_H1")  # fmt: skip
    for n in _ints("ns", ns):
        n = int(n)
        c_n = Controls(torch.tensor([1.0, -1.0]).repeat(n).reshape(-1, 1, 1), torch.full((2 * n, 1), 0.5), T)
        inner = flow(c_n, x_osc, "inner", "relu", method="rk4", substeps=256 // n).x[:, 0, 0]
        outer = flow(c_n, x_osc, "outer", "tanh", method="rk4", substeps=256 // n, record=False).last.item()
        x_avg = 1.5 * torch.exp(c_n.edges / 2) - 0.5  # x_n - x_avg is largest at the cell edges
        print(
            f"  {n:2d} |              {float(inner[-1]) - x_avg_end:+.1e}              |      "
            f"{float((inner - x_avg).abs().max()):.6f}      |        "
            f"{1.5 * np.e * (1 - np.exp(-1 / (2 * n))):.6f}        |       {outer:.6f}      |    "
            f"{T * float((c_n.w**2).mean()):.2f}    | "
            f"{float(h1_norm_sq(c_n)):8.1f}"
        )


def ode_deviation(fit, x0: torch.Tensor, substeps: int = 16) -> dict:
    """How far a trained ResNet is from the ODE driven by the same piecewise-constant controls (RK4 with
    ``substeps`` per cell): ``hK = max_k h |w_k|_2``, ``KT = T max_k |w_k|_2`` (the exponent of the error
    bound, tanh being 1-Lipschitz), ``dev`` the largest state difference and ``size`` the largest state."""
    c = fit.controls
    ode = flow(c, x0, method="rk4", substeps=check_int("substeps", substeps)).x
    K = float(torch.linalg.matrix_norm(c.w, ord=2).max())
    return dict(
        hK=c.h * K, KT=K * c.T, dev=float((fit.states - ode).abs().max()), size=float(fit.states.abs().max())
    )


def plot_ridge(axes, toy_sets: dict, w_ridge: dict, lim: tuple[float, float] = (1.6, 1.4)) -> None:
    """One panel per toy set ``{name: (x, y)}``: the points and the line ``w^T x = 0`` of its ridge
    classifier ``w_ridge[name]`` (notebooks/02-turnpike/01)."""
    for ax, (name, (x, y)) in zip(axes, toy_sets.items(), strict=True):
        ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=14, edgecolors="k", linewidths=0.3)
        w = w_ridge[name]
        s = np.linspace(-lim[0], lim[0], 2)
        ax.plot(s, -w[0] * s / w[1], "k--", lw=1, label="$w^\\top x = 0$ (ridge)")
        ax.set(xlim=(-lim[0], lim[0]), ylim=(-lim[1], lim[1]), aspect="equal", xlabel="$x_1$", ylabel="$x_2$",
               title=name)  # fmt: skip
        ax.legend(loc="lower right")


def plot_snapshots(axes, states: torch.Tensor, y: torch.Tensor, layers, h: float) -> None:
    """The hidden states ``states[k]`` (first two coordinates) at the layers ``k`` in ``layers``, one panel
    each, with the line ``x_1 = 0`` on which the classifier reads the sign (notebooks/02-turnpike/01)."""
    for ax, k in zip(axes, layers, strict=False):
        S = states[k]
        ax.scatter(S[:, 0], S[:, 1], c=y, cmap="coolwarm", s=10, edgecolors="k", linewidths=0.3)
        ax.axvline(0, color="k", ls=":", lw=0.8)
        ax.set(xlabel="$x_1$", ylabel="$x_2$", title=f"layer {k}, t = {k * h:g}")


def fit_circle_flows(x, y, x_rings, y_rings, dims, T: float, n_layers: int, generator=None) -> dict:
    """Train (nODE_2) with tanh, the squared loss and ``lam = 1e-2`` (200 L-BFGS iterations) on the
    circles ``(x, y)`` embedded in ``R^d`` (zero extra coordinates), for each ``d`` in ``dims``, and run
    the full circles ``(x_rings, y_rings)`` through the trained ResNet. Prints the training error, the
    accuracies on the training points and on the full circles and ``max_k h |w_k|_2``; returns
    ``{d: dict(fit, x0, rings, step_lip, acc, acc_rings)}`` (notebooks/02-turnpike/01)."""
    from ..training import fit_controls

    circ = {}
    for d in dims:
        d = check_int("d", d, 2)
        x0 = torch.cat([x, torch.zeros(len(x), d - 2)], 1)
        fit = fit_controls(
            x0,
            y,
            T,
            n_layers,
            lam=1e-2,
            kind="outer",
            activation="tanh",
            loss="mse",
            iters=200,
            generator=generator,
            progress=False,
        )
        rings = flow(fit.controls, torch.cat([x_rings, torch.zeros(len(x_rings), d - 2)], 1)).x
        step_lip = fit.controls.h * torch.linalg.matrix_norm(fit.controls.w, ord=2).max()
        circ[d] = dict(
            fit=fit,
            x0=x0,
            rings=rings,
            step_lip=float(step_lip),
            acc=float((torch.sign(fit.states[-1, :, 0]) == y).double().mean()),
            acc_rings=float((torch.sign(rings[-1, :, 0]) == y_rings).double().mean()),
        )
        c = circ[d]
        print(
            f"d = {d}: phi(x(T)) = {fit.error:.4f}, accuracy on the {len(x)} training points {c['acc']:.3f}, "
            f"on the full circles {c['acc_rings']:.4f};  max_k h|w_k|_2 = {c['step_lip']:.2f}"
        )
    return circ
