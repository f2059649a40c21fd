"""Experiments on random-batch splitting of least squares (notebook ``01-sgd/03-batches-and-initialization``).

Harnesses around :func:`gradflows.batches.random_batch_splitting` and plain mini-batch SGD on the
weighted least-squares problem ``J(W) = sum_i alpha_i |W x_i - y_i|^2 / 2`` (gradient flow
``W' = -(W A - C)``): the plateau at which a constant step stalls (reshuffled batches, and
batches drawn with replacement), the stationary mean error of the epoch map over random
partitions (the O(dt) bias of Euler sub-steps), and the two figures of the notebook.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .. import batches, plotting
from .._stepping import run
from .._validation import as_tensor, check_finite, check_int, check_ndim, check_positive
from ..device import generator as _generator

__all__ = [
    "distance",
    "constant_step_plateaus",
    "sgd_with_replacement",
    "replacement_plateaus",
    "stationary_mean",
    "euler_bias_rows",
    "print_bias_table",
    "plot_batch_errors",
    "plot_plateaus",
]

Tensor = torch.Tensor


def _data(X, Y, alpha) -> tuple[Tensor, Tensor, Tensor]:
    X = check_finite("X", check_ndim("X", as_tensor("X", X), 2))
    Y = check_finite("Y", check_ndim("Y", as_tensor("Y", Y, X.dtype), 2))
    alpha = check_finite("alpha", check_ndim("alpha", as_tensor("alpha", alpha, X.dtype), 1))
    if Y.shape[0] != X.shape[0] or alpha.shape[0] != X.shape[0]:
        raise ValueError(
            f"X, Y, alpha must have one row per sample, got {X.shape[0]}, {Y.shape[0]}, {alpha.shape[0]}"
        )
    return X, Y, alpha


def distance(W: Tensor, W_star: Tensor) -> Tensor:
    """Frobenius distance ``|W_k - W_*|`` of iterates of shape ``(..., n, m)``: shape ``(...)``.

    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    W, W_star = as_tensor("W", W), as_tensor("W_star", W_star)
    if W.shape[-2:] != W_star.shape[-2:]:
        raise ValueError(f"W must end with the shape {tuple(W_star.shape)} of W_star, got {tuple(W.shape)}")
    return (W - W_star).flatten(-2).norm(dim=-1)


def _window(lam: float, dt: float) -> tuple[int, int]:
    tau = 1.0 / (lam * dt)  # relaxation time in epochs
    return math.ceil(12 * tau), math.ceil(10 * tau)


def constant_step_plateaus(
    X,
    Y,
    alpha,
    p: int,
    dts: Sequence[float],
    lam: float,
    W_star: Tensor,
    exact: bool,
    seed: int = 10,
    n_draws: int = 4,
) -> tuple[list[float], dict, dict]:
    """Where reshuffled batch splitting with a constant step stalls, for each ``dt`` in ``dts``.

    From ``W = 0`` it runs 12 relaxation times ``1/(lam dt)`` (burn-in) and 10 more (window), with
    ``n_draws`` draws (generator ``seed``). Returns the rms of ``|W_k - W_*|`` over the window and the
    draws (one per ``dt``), the rms over each half of the window ``{dt: (first, second)}``, and the
    errors of the first draw ``{dt: |W_k - W_*|}``. Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    lam = check_positive("lam", lam)
    plateau, halves, first = [], {}, {}
    for dt in dts:
        burn, window = _window(lam, check_positive("dt", dt))
        traj = batches.random_batch_splitting(
            X, Y, p, dt, burn + window, alpha=alpha, exact=exact, generator=_generator(seed), n_draws=n_draws
        ).W
        e = distance(traj, W_star)  # shape (epochs + 1, draws)
        first[dt] = e[:, 0]
        sq = e[burn:] ** 2
        half = sq.shape[0] // 2
        plateau.append(float(sq.mean().sqrt()))
        halves[dt] = (float(sq[:half].mean().sqrt()), float(sq[half:].mean().sqrt()))
    return plateau, halves, first


def sgd_with_replacement(
    X, Y, alpha, p: int, dt: float, n_epochs: int, n_chains: int = 16, seed: int = 0
) -> Tensor:
    """Plain mini-batch SGD from ``W = 0``: each step draws ``N/p`` samples uniformly with replacement.

    ``n_chains`` independent chains (generator ``seed``); returns the iterates at the end of each
    epoch of ``p`` steps, shape ``(chains, epochs, n, m)``. Used in notebook
    ``01-sgd/03-batches-and-initialization``.
    """
    X, Y, alpha = _data(X, Y, alpha)
    dt, n_epochs, p = check_positive("dt", dt), check_int("n_epochs", n_epochs), check_int("p", p)
    N, m, n = X.shape[0], X.shape[1], Y.shape[1]
    g = _generator(seed)
    W0 = torch.zeros(n_chains, n, m, dtype=X.dtype)

    def step(k: int, state: tuple[Tensor]) -> tuple[Tensor]:
        (W,) = state
        idx = torch.randint(N, (n_chains, N // p), generator=g)
        xb, yb, ab = X[idx], Y[idx], alpha[idx]
        grad = ((W @ xb.transpose(1, 2) - yb.transpose(1, 2)) * ab[:, None, :]) @ xb
        return (W - dt * grad,)

    path = run(step, (W0,), n_epochs * p, names=("W",), dt=dt, record_every=p, desc="SGD with replacement")
    return path.W[1:].transpose(0, 1).contiguous()


def replacement_plateaus(
    X, Y, alpha, p: int, dts: Sequence[float], lam: float, W_star: Tensor
) -> list[float]:
    """Rms of ``|W_k - W_*|`` of :func:`sgd_with_replacement` over the window of
    :func:`constant_step_plateaus`.

    One value per ``dt`` (16 chains, generator 0). Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    lam = check_positive("lam", lam)
    out = []
    for dt in dts:
        burn, window = _window(lam, check_positive("dt", dt))
        traj = sgd_with_replacement(X, Y, alpha, p, dt, burn + window)[:, burn:]
        out.append(float(((traj - W_star).flatten(2).norm(dim=2) ** 2).mean().sqrt()))
    return out


def stationary_mean(
    X,
    Y,
    alpha,
    W_star: Tensor,
    p: int,
    dt: float,
    exact: bool,
    n_mc: int = 4000,
    n_groups: int = 8,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Stationary mean error ``E[B] (I - E[M])^{-1}`` of the epoch map ``e -> e M + B`` of ``e = W - W_*``.

    ``E[M]`` and ``E[B]`` are averaged over ``n_mc`` random partitions into ``p`` batches (generator
    ``seed``), each swept in the drawn and in the reverse order; exact sub-flows
    ``e -> e E - G_r A_r^{-1} (I - E)``, ``E = exp(-dt A_r)``, or Euler ``e -> e (I - dt A_r) - dt G_r``,
    with ``G_r = W_* A_r - C_r``. Returns the fixed point of all partitions and those of
    ``n_groups`` groups (for the sampling error). Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    X, Y, alpha = _data(X, Y, alpha)
    dt, p, n_mc = check_positive("dt", dt), check_int("p", p), check_int("n_mc", n_mc)
    if n_mc % n_groups or X.shape[0] % p:
        raise ValueError(
            f"n_mc must be a multiple of n_groups and N of p, got {n_mc}, {n_groups}, {X.shape[0]}, {p}"
        )
    N, m, n = X.shape[0], X.shape[1], Y.shape[1]
    parts = torch.argsort(torch.rand(n_mc, N, generator=_generator(seed)), dim=1).reshape(n_mc, p, N // p)
    xb, yb, ab = X[parts], Y[parts], alpha[parts, None]  # (n_mc, p, N/p, .)
    Ar = (ab * xb).transpose(-1, -2) @ xb  # A_r, shape (n_mc, p, m, m)
    Gr = (ab * (xb @ W_star.T - yb)).transpose(-1, -2) @ xb  # G_r = W* A_r - C_r, shape (n_mc, p, n, m)
    eye = torch.eye(m, dtype=X.dtype)
    if exact:  # every A_r is invertible here
        E = torch.linalg.matrix_exp(-dt * Ar)
        F = Gr @ torch.linalg.solve(Ar, eye - E)
    else:
        E, F = eye - dt * Ar, dt * Gr
    EM, EB = torch.zeros(n_groups, m, m, dtype=X.dtype), torch.zeros(n_groups, n, m, dtype=X.dtype)
    for order in (range(p), range(p - 1, -1, -1)):
        M, B = eye.expand(n_mc, m, m), torch.zeros(n_mc, n, m, dtype=X.dtype)
        for r in order:
            M, B = M @ E[:, r], B @ E[:, r] - F[:, r]
        EM, EB = (
            EM + M.reshape(n_groups, -1, m, m).mean(1) / 2,
            EB + B.reshape(n_groups, -1, n, m).mean(1) / 2,
        )

    def fixed(M_: Tensor, B_: Tensor) -> np.ndarray:
        return torch.linalg.solve((eye - M_).mT, B_.mT).mT.numpy()

    return fixed(EM.mean(0), EB.mean(0)), fixed(EM, EB)


def plot_batch_errors(
    dec_err: Mapping,
    full_err: Mapping,
    batch_part: Mapping,
    const_err: Mapping,
    plateau: Mapping,
    dts: Sequence[float],
) -> None:
    """Figure: decaying steps (3 draws, full batch, rms batch part) and constant steps with their plateaus.

    One panel per method (``"exact"``, ``"Euler"``); the dictionaries are keyed by method (and
    ``(method, dt)`` for ``const_err``). Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    colors = plt.cm.viridis(np.linspace(0.15, 0.85, len(dts)))
    ks = np.arange(1, len(full_err["exact"]) + 1)
    for ax, method in zip(axes, ("exact", "Euler"), strict=True):
        for j in range(3):
            ax.loglog(
                ks,
                plotting.to_numpy(dec_err[method][:, j]),
                color="C3",
                lw=1.2,
                alpha=0.9,
                label=r"$\Delta t_k = 4/(k+20)$, 3 of 8 draws" if j == 0 else None,
            )
        ax.loglog(ks, plotting.to_numpy(full_err[method]), "k--", lw=1.2, label="full batch, same steps")
        rms = plotting.to_numpy((batch_part[method][1:] ** 2).mean(1).sqrt())  # it starts at 0 at k = 0
        ax.loglog(ks[1:], rms, "C3:", lw=1.8, label="batch part (rms over draws)")
        for col, dt, lev in zip(colors, dts, plateau[method], strict=True):
            e = plotting.to_numpy(const_err[method, dt])
            ax.loglog(np.arange(1, len(e) + 1), e, color=col, lw=1.0, label=rf"$\Delta t = {dt}$")
            ax.axhline(lev, color=col, ls="--", lw=0.8)
        ax.set_title(f"{method} sub-steps" + (" (5.29)" if method == "exact" else " (SGD)"))
        ax.set_xlabel("epoch $k + 1$")
        ax.set_ylim(1e-6, 5)
    axes[0].set_ylabel(r"$\|W_k - W_*\|$")
    axes[0].legend(loc="lower left", fontsize=7)
    fig.suptitle("random-batch splitting: decaying steps converge, constant steps stall (dashed: plateau)")
    fig.tight_layout()


def plot_plateaus(
    dts: Sequence[float], curves: Mapping[str, Sequence[float]], slopes: Mapping[str, float]
) -> None:
    """Figure: the plateau of each way of batching against the constant step, with the fitted slopes.

    ``curves`` and ``slopes`` are keyed by ``"reshuffled, exact"``, ``"reshuffled, Euler"``,
    ``"fixed order, exact"``, ``"fixed order, Euler"``, ``"with replacement (rms)"``.
    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    styles = {
        "reshuffled, exact": dict(marker="o", ms=9, mfc="none", color="C0", ls="none"),
        "reshuffled, Euler": dict(marker="x", ms=8, color="C0", ls="none"),
        "fixed order, exact": dict(ls="-", color="C1"),
        "fixed order, Euler": dict(ls="--", color="C1"),
        "with replacement (rms)": dict(marker="s", ls="-", color="C2"),
    }
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, style in styles.items():
        label = name.replace("with replacement (rms)", "with replacement, rms")
        ax.loglog(np.array(dts), curves[name], label=f"{label} (slope {slopes[name]:.2f})", **style)
    ax.set_xlabel(r"constant step $\Delta t$")
    ax.set_ylabel(r"plateau of $\|W_k - W_*\|$")
    ax.set_title("how far a constant step stalls")
    ax.legend(fontsize=8, loc="lower right")


def euler_bias_rows(
    X, Y, alpha, W_star: Tensor, p: int, dts: Sequence[float], bias_coef: np.ndarray
) -> list[tuple[float, float, float, float, float]]:
    """Stationary mean error of Euler and exact sub-steps against the closed form ``dt c`` of the Euler bias.

    For each ``dt``: ``(dt, |mean| Euler, |mean| exact, |mean Euler - dt c| / |dt c|, its standard error)``,
    the standard error from the 8 groups of :func:`stationary_mean`. Used in notebook
    ``01-sgd/03-batches-and-initialization``.
    """
    rows = []
    for dt in dts:
        (m_euler, groups), (m_exact, _) = (
            stationary_mean(X, Y, alpha, W_star, p, dt, exact=e) for e in (False, True)
        )
        scale = np.linalg.norm(dt * bias_coef)
        se = np.sqrt(((groups - groups.mean(0)) ** 2).sum() / (len(groups) * (len(groups) - 1))) / scale
        rel = np.linalg.norm(m_euler - dt * bias_coef) / scale
        rows.append((dt, np.linalg.norm(m_euler), np.linalg.norm(m_exact), rel, se))
    return rows


def print_bias_table(rows: Sequence[tuple], bias_coef: np.ndarray, plateau: Sequence[float]) -> None:
    """Print :func:`euler_bias_rows` next to the closed form and the rms plateau of the Euler version.

    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    c = np.linalg.norm(bias_coef)
    print(
        f"{'dt':>5s} {'closed form':>12s} {'Euler':>9s} {'rel. diff':>9s} {'(s.e.)':>7s} {'exact':>9s} "
        f"{'rms plateau':>12s}"
    )
    for (dt, m_eu, m_ex, rel, se), rms in zip(rows, plateau, strict=True):
        print(f"{dt:5.2f} {dt * c:12.2e} {m_eu:9.2e} {rel:9.3f} {se:7.3f} {m_ex:9.2e} {rms:12.2e}")
