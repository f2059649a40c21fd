"""Replicas of small MLPs trained at once, and the weight-norm bound on their input gradient.

Notebook ``01-sgd/03-batches-and-initialization``: the initialization experiment trains several
networks of one architecture as one batched computation (:func:`fit_replicas`); the over-fitting
experiment compares ``max_x |grad_x f|_q`` with the product of the induced norms of the weights
(:func:`jacobian_norms`, :func:`bound_table`) and keeps ``||W_r||_inf <= c`` by rescaling rows
(:func:`row_projection`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from .. import nets as _nets
from .._training import minimize
from .._validation import check_int, check_positive

__all__ = [
    "ORDS",
    "fit_replicas",
    "jacobian_norms",
    "bound_table",
    "row_projection",
    "plot_initialization",
    "plot_overfitting",
    "print_overfitting",
]

ORDS = (1, 2, np.inf)
Tensor = torch.Tensor


def fit_replicas(
    nets: Sequence[_nets.MLP],
    x: Tensor,
    y: Tensor,
    steps: int,
    optimizer: str = "sgd",
    lr: float = 0.05,
    project: Callable[[list[Tensor]], None] | None = None,
) -> Tensor:
    """Full-batch training on the mean-square loss of several networks of one architecture at once.

    Replica ``j`` is slice ``j`` of stacked weights; ``x``, ``y`` have shape ``(N, .)`` or
    ``(replicas, N, .)``; ``optimizer`` is ``"sgd"`` or ``"adam"`` (``torch.optim``);
    ``project(Ws)`` runs after every step. Copies the trained weights back into the networks and
    returns the final losses, shape ``(replicas,)``. Used in notebook
    ``01-sgd/03-batches-and-initialization``.
    """
    if not nets or not all(isinstance(net, _nets.MLP) for net in nets):
        raise ValueError("nets must be a non-empty sequence of gradflows.nets.MLP")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    steps, lr = check_int("steps", steps), check_positive("lr", lr)
    Ws = [
        torch.stack([net.weights[r].detach() for net in nets]).requires_grad_()
        for r in range(len(nets[0].weights))
    ]
    bs = [torch.stack([net.biases[r].detach() for net in nets]).requires_grad_() for r in range(len(Ws))]
    act = _nets.ACTIVATIONS[nets[0].activation]
    last = {}

    def total_loss(i: int) -> Tensor:
        h = x
        for r, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            h = h @ W.mT + b[:, None, :]
            h = act(h) if r < len(Ws) - 1 else h
        last["loss"] = ((h - y) ** 2).mean(dim=(1, 2))
        return last["loss"].sum()

    after = None if project is None else (lambda i: project(Ws))
    minimize(Ws + bs, total_loss, steps, optimizer, lr, after_step=after, desc="replicas")
    loss = last["loss"]
    with torch.no_grad():
        for j, net in enumerate(nets):
            for r in range(len(Ws)):
                net.weights[r].copy_(Ws[r][j])
                net.biases[r].copy_(bs[r][j])
    return loss.detach()


def jacobian_norms(net: _nets.MLP, x: Tensor, ords: Sequence = ORDS) -> dict:
    """``max`` over the samples ``x`` of the induced ``q``-norm of ``grad_x f`` (NumPy norms), for each ``q``.

    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    if x.ndim != 2:
        raise ValueError(f"x must have shape (samples, inputs), got {tuple(x.shape)}")
    Jx = _nets.input_jacobian(net, x).detach().numpy()
    return {o: float(np.linalg.norm(Jx, ord=o, axis=(1, 2)).max()) for o in ords}


def bound_table(nets: Mapping[str, _nets.MLP], xs_by_net: Mapping[str, Tensor]) -> list[tuple]:
    """Rows ``(name, q, max_x |grad_x f|_q, prod_r ||W_r||_q, ratio)`` for every network and ``q`` in
    ``ORDS``.

    The ratio is at most 1 by the weight-norm bound. Used in notebook
    ``01-sgd/03-batches-and-initialization``.
    """
    rows = []
    for name, net in nets.items():
        norms = jacobian_norms(net, xs_by_net[name])
        for o in ORDS:
            bound = float(_nets.lipschitz_bound(net, o))
            rows.append((name, o, norms[o], bound, norms[o] / bound))
    return rows


def row_projection(c: float, start: int) -> Callable[[list[Tensor]], None]:
    """In-place projection for :func:`fit_replicas`: rows of hidden layers with l1 norm ``> c`` rescaled to
    ``c``.

    Applies to the replicas ``start:`` (the normalized ones) and to every layer but the output one,
    so that ``||W_r||_inf <= c``. Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    c, start = check_positive("c", c), check_int("start", start, minimum=0)

    def project_(Ws: list[Tensor]) -> None:
        with torch.no_grad():
            for W in Ws[:-1]:
                W[start:].mul_(torch.clamp(c / W[start:].abs().sum(-1, keepdim=True), max=1.0))

    return project_


def plot_initialization(x, y, nets_init: Mapping[str, _nets.MLP], rand_nets: Sequence[_nets.MLP]) -> None:
    """Figure: the networks trained from zero (one per activation) and from random weights, with the data.

    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    import matplotlib.pyplot as plt

    xs = torch.linspace(-2.2, 2.2, 400).unsqueeze(1)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(x.squeeze(), y.squeeze(), "ko", ms=3.5, label="data")
    styles = {"relu": "C3-", "tanh": "C1--", "sigmoid": "C4:"}
    with torch.no_grad():
        for act, net in nets_init.items():
            ax.plot(xs.squeeze(), net(xs).squeeze(), styles[act], label=f"{act}, init = zeros")
        for j, net in enumerate(rand_nets):
            label = f"relu, init = normal ({len(rand_nets)} draws)" if j == 0 else None
            ax.plot(xs.squeeze(), net(xs).squeeze(), "C0-", lw=1, label=label)
    ax.set_xlabel("$x$")
    ax.set_ylabel("$f(x)$")
    ax.set_title("zero initialization learns a constant; random initialization fits")
    ax.legend(fontsize=8)


def plot_overfitting(
    x,
    y,
    xs,
    net_free: _nets.MLP,
    net_norm: _nets.MLP,
    slopes: Mapping[str, Tensor],
    bounds: Mapping[str, float],
    c: float,
) -> None:
    """Figure: a free and a weight-normalized network through the same data, and their slopes with the bounds.

    ``slopes`` and ``bounds`` are keyed by ``"free"`` and ``"normalized"`` (slopes on the grid ``xs``).
    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    with torch.no_grad():
        ax1.plot(xs.squeeze(), torch.sin(torch.pi * xs).squeeze(), "k:", lw=1.2, label=r"$\sin(\pi x)$")
        ax1.plot(xs.squeeze(), net_free(xs).squeeze(), "C3", label="free (over-fitted)")
        ax1.plot(
            xs.squeeze(), net_norm(xs).squeeze(), "C0", label=rf"normalized, $\|W_r\|_\infty \leq {c:g}$"
        )
    ax1.plot(x.squeeze(), y.squeeze(), "ko", ms=4, label="data")
    ax1.set_xlabel("$x$")
    ax1.set_ylabel("$f(x)$")
    ax1.legend(fontsize=8)
    ax1.set_title("two networks through the same data (first draw)")
    for name, col in (("free", "C3"), ("normalized", "C0")):
        ax2.semilogy(xs.squeeze(), slopes[name], col, label=name)
    for name, col in (("free", "C3"), ("normalized", "C0")):
        ax2.axhline(float(bounds[name]), color=col, ls="--", lw=1, label=f"weight-norm bound, {name}")
    ax2.set_ylim(0.1, 5000)
    ax2.set_xlabel("$x$")
    ax2.set_ylabel(r"$|f'(x)|$")
    ax2.set_title("slopes and their weight-norm bounds (dashed)")
    ax2.legend(fontsize=8, loc="center right")
    fig.tight_layout()


def print_overfitting(
    diff_q: Tensor, losses: Tensor, slopes: Mapping[str, Tensor], bounds: Mapping[str, Tensor]
) -> None:
    """One line per draw: the largest difference quotient of the data, and loss, ``max|f'|`` and the best
    weight-norm bound of the free and the normalized network (losses: free draws first).

    Used in notebook ``01-sgd/03-batches-and-initialization``.
    """
    n = len(diff_q)
    for j in range(n):
        free, norm = slopes["free"][j].max(), slopes["normalized"][j].max()
        print(
            f"draw {j}: largest difference quotient of the data {float(diff_q[j]):6.1f} | "
            f"free: loss {float(losses[j]):.1e}, max|f'| {float(free):6.1f}, "
            f"best bound {float(bounds['free'][j]):6.0f}"
            f" | normalized: loss {float(losses[n + j]):.1e}, max|f'| {float(norm):5.2f}, "
            f"best bound {float(bounds['normalized'][j]):4.0f}"
        )
