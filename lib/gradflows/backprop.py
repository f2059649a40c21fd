"""Back-propagation written as products of Jacobian matrices (Section 5.1).

For the network of :class:`gradflows.nets.MLP` with hidden pre-activations
``z_r = W_r h_r + b_r`` (``h_0 = x``, ``h_{r+1} = S(z_r)``, ``f = z_p``) and a
scalar cost ``phi``, with the convention that the gradient of a map
``R^a -> R^b`` is a ``b x a`` matrix (Notation 5.1.4):

* (5.11) ``grad_x (phi o f) = grad phi . W_p . S'(z_{p-1}) . W_{p-1} ... S'(z_0) . W_0``
* (5.12) ``grad_{b_r}`` is the same product stopped after ``S'(z_r)``
  (``grad_{b_p} = grad phi``)
* (5.14) the backward recursion ``grad_{b_{r-1}} = grad_{b_r} . W_r . S'(z_{r-1})``
* (5.13) ``grad_{W_r} = h_r (x) grad_{b_r}``, an ``a_r x a_{r+1}`` matrix
  (the transpose of ``W_r``'s shape, as in the source).

Every ``S'(z)`` is an explicit diagonal matrix: the point is to show the
Jacobian products, not to be fast. Notebook ``01-sgd/01-gradient-flow``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import torch
from tqdm.auto import tqdm

from ._validation import (
    as_real_tensor,
    as_tensor,
    check_callable,
    check_choice,
    check_finite,
    check_generator,
    check_instance,
    check_int,
    check_memory,
    check_nonnegative,
    check_positive,
)
from .device import show_progress
from .nets import MLP

__all__ = [
    "ACTIVATION_DERIVATIVES",
    "forward_states",
    "jacobian_backprop",
    "bias_gradients",
    "bias_gradient_costs",
    "cost_table",
    "autograd_gap",
    "plot_costs",
]

ACTIVATION_DERIVATIVES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
    "tanh": lambda z: 1 - torch.tanh(z) ** 2,
    "relu": lambda z: (z > 0).to(z.dtype),
}


def _check_net(net: MLP, derivative: bool = True) -> MLP:
    check_instance("net", net, MLP)
    if derivative and net.activation not in ACTIVATION_DERIVATIVES:
        raise ValueError(f"no derivative registered for activation {net.activation!r}")
    return net


def _check_point(name: str, x, net: MLP) -> torch.Tensor:
    """One input ``(a_0,)`` of ``net``: finite, converted to the network's dtype and device."""
    x = as_real_tensor(name, x, like=net.weights[0], ndim=1)
    if x.shape[0] != net.sizes[0]:
        raise ValueError(f"{name} must have length {net.sizes[0]}, got {x.shape[0]}")
    return x


def _grad_out(grad_phi, f: torch.Tensor) -> torch.Tensor:
    """``grad_phi(f)``, checked: finite, ``a_{p+1}`` entries."""
    g = as_tensor("grad_phi(f(x))", grad_phi(f), like=f)
    if g.ndim == 0 or g.shape[-1] != f.shape[0] or g.numel() != f.shape[0]:
        raise ValueError(f"grad_phi must return a vector of length {f.shape[0]}, got shape {tuple(g.shape)}")
    return check_finite("grad_phi(f(x))", g)


def forward_states(net: MLP, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Inputs ``h_0..h_p`` and pre-activations ``z_0..z_p`` of every layer for one input ``x``
    (shape ``(a_0,)``; converted to the network's dtype and device)."""
    check_instance("net", net, MLP)
    return _forward_states(net, _check_point("x", x, net))


def _forward_states(net: MLP, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    hs, zs = [x], []
    with torch.no_grad():
        for r, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = W @ hs[-1] + b
            zs.append(z)
            if r < len(net.weights) - 1:
                hs.append(net._act(z))
    return hs, zs


def jacobian_backprop(
    net: MLP, x: torch.Tensor, grad_phi: Callable[[torch.Tensor], torch.Tensor]
) -> dict[str, object]:
    """Gradients of ``phi(f(x))`` by explicit products of Jacobian matrices (5.11)-(5.14).

    ``x`` is one input of shape ``(a_0,)``; ``grad_phi`` maps the output ``f(x)``
    to the row vector ``grad phi(f(x))`` of shape ``(a_{p+1},)``.

    Returns a dict with ``"x"`` (shape ``(a_0,)``, from the forward product
    (5.11)), ``"b"`` (list over layers, from the backward recursion (5.14)) and
    ``"W"`` (list over layers, ``h_r (x) grad_{b_r}``, shape ``(a_r, a_{r+1})``
    as in (5.13); transpose it to compare with ``W_r.grad``).
    """
    _check_net(net)
    x = _check_point("x", x, net)
    check_callable("grad_phi", grad_phi)
    dS = ACTIVATION_DERIVATIVES[net.activation]
    Ws = [W.detach() for W in net.weights]
    hs, zs = _forward_states(net, x)
    p = len(Ws) - 1
    g_out = _grad_out(grad_phi, zs[-1]).reshape(1, -1)  # row vector, 1 x a_{p+1}
    # backward recursion (5.14) for the bias gradients
    gb: list[torch.Tensor] = [None] * (p + 1)  # type: ignore[list-item]
    gb[p] = g_out
    for r in range(p, 0, -1):
        gb[r - 1] = gb[r] @ Ws[r] @ torch.diag(dS(zs[r - 1]))
    gW = [torch.outer(hs[r], gb[r][0]) for r in range(p + 1)]
    # forward product (5.11) for the input gradient: W_0 first, then to the left
    J = Ws[0]
    for r in range(1, p + 1):
        J = Ws[r] @ torch.diag(dS(zs[r - 1])) @ J
    gx = (g_out @ J)[0]
    return {"x": gx, "b": [g[0] for g in gb], "W": gW}


def bias_gradients(
    net: MLP, x: torch.Tensor, grad_phi: Callable[[torch.Tensor], torch.Tensor], order: str = "backward"
) -> tuple[list[torch.Tensor], int]:
    """All bias gradients (5.12) of one input by explicit Jacobian products, and their multiply-adds.

    ``order="backward"`` is the recursion (5.14): one vector-matrix product per layer.
    ``order="forward"`` multiplies each product (5.12) from ``S'(z_r)`` to the output, matrix
    by matrix, as a forward-mode computation would. Returns ``(gradients, multiply-adds)``; the
    count is that of the matrix products. Used in notebook ``01-sgd/01-gradient-flow``.
    """
    _check_net(net)
    check_choice("order", order, ("forward", "backward"))
    x = _check_point("x", x, net)
    check_callable("grad_phi", grad_phi)
    return _bias_gradients(net, x, grad_phi, order, check=True)


def _bias_gradients(net, x, grad_phi, order: str, check: bool = False) -> tuple[list[torch.Tensor], int]:
    """:func:`bias_gradients` on checked arguments; ``check=False`` (the timed loop of
    :func:`bias_gradient_costs`) does not check the output of ``grad_phi`` either."""
    hs, zs = _forward_states(net, x)
    Ws = [W.detach() for W in net.weights]
    dS = ACTIVATION_DERIVATIVES[net.activation]
    sig = [dS(z) for z in zs[:-1]]  # diagonals of Sigma_0 .. Sigma_{p-1}
    g_out = _grad_out(grad_phi, zs[-1]) if check else grad_phi(zs[-1])
    p, flops = len(Ws) - 1, 0
    if order == "backward":
        gb = [g_out]
        for r in range(p, 0, -1):
            gb.insert(0, (gb[0] @ Ws[r]) * sig[r - 1])
            flops += Ws[r].numel()
        return gb, flops
    gb = []
    for r in range(p + 1):
        M = torch.eye(Ws[r].shape[0], dtype=Ws[r].dtype, device=Ws[r].device)
        if r < p:
            M = torch.diag(sig[r])
        for k in range(r + 1, p + 1):
            M = Ws[k] @ M
            flops += M.shape[0] * Ws[k].shape[1] * M.shape[1]
            if k < p:
                M = sig[k][:, None] * M
        gb.append(g_out @ M)
    return gb, flops


def _best_time(fn: Callable[[], object], repeat: int, desc: str = "timing") -> float:
    best = float("inf")
    for _ in tqdm(range(repeat), desc=desc, leave=False, disable=not show_progress(None, repeat)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bias_gradient_costs(
    widths: Sequence[int], depth: int, generator: torch.Generator | None = None, repeat: int = 3
) -> tuple[list[tuple[int, int, int, float]], dict[str, list[float]]]:
    """Forward against backward order of the bias gradients (5.12) on square sigmoid MLPs.

    For each width ``n``: a network of ``depth`` hidden layers of width ``n`` (``init="normal"``,
    drawn from ``generator``), one input and target; returns the rows
    ``(n, forward multiply-adds, backward multiply-adds, max gap between the two orders)`` and
    the best-of-``repeat`` wall times ``{"forward": [...], "backward": [...]}`` (seconds).
    Used in notebook ``01-sgd/01-gradient-flow``.
    """
    depth, repeat = check_int("depth", depth), check_int("repeat", repeat)
    widths = _check_widths(widths)
    n_max = max(widths)
    check_memory(f"{depth + 1} layers of width {n_max}", (depth + 1) * n_max * (n_max + 1) * 2)
    check_generator(generator, torch.device("cpu"), "the networks and data")
    rows, times = [], {"forward": [], "backward": []}
    for n in widths:
        wide = MLP([n] * (depth + 2), activation="sigmoid", init="normal", generator=generator)
        xw, yw = torch.randn(n, generator=generator), torch.randn(n, generator=generator)
        out = {o: bias_gradients(wide, xw, lambda f, yw=yw: f - yw, o) for o in ("forward", "backward")}
        gap = max(
            (a - b).abs().max().item() for a, b in zip(out["forward"][0], out["backward"][0], strict=True)
        )
        for o in times:
            times[o].append(
                _best_time(
                    lambda o=o, wide=wide, xw=xw, yw=yw: _bias_gradients(wide, xw, lambda f: f - yw, o),
                    repeat,
                    f"width {n}, {o} order",
                )
            )
        rows.append((n, out["forward"][1], out["backward"][1], gap))
    return rows, times


def _check_widths(widths, name: str = "widths") -> list[int]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise TypeError(f"{name} must be a list of positive integers, got {widths!r}")
    if not widths:
        raise ValueError(f"{name} must hold at least one width")
    return [check_int(f"{name}[{i}]", n) for i, n in enumerate(widths)]


def cost_table(rows: Sequence[tuple[int, int, int, float]]) -> str:
    """The printed table of :func:`bias_gradient_costs` (multiply-adds, their ratio, agreement to 1e-12).

    ``rows``: a list of ``(width, forward multiply-adds, backward multiply-adds >= 1, gap >= 0)``."""
    if isinstance(rows, str | bytes) or not isinstance(rows, Sequence):
        raise TypeError(f"rows must be a list of (n, forward, backward, gap) tuples, got {rows!r}")
    for i, row in enumerate(rows):
        if isinstance(row, str | bytes) or not isinstance(row, Sequence) or len(row) != 4:
            raise ValueError(f"rows[{i}] must be a tuple (n, forward, backward, gap), got {row!r}")
        check_int(f"rows[{i}][0] (the width)", row[0])
        check_int(f"rows[{i}][1] (forward multiply-adds)", row[1], 0)
        check_int(f"rows[{i}][2] (backward multiply-adds)", row[2], 1)
        check_nonnegative(f"rows[{i}][3] (the gap)", row[3])
    lines = [f"{'width':>6} {'forward mult-adds':>18} {'backward mult-adds':>19} {'ratio':>7}  orders agree"]
    lines += [f"{n:>6} {ff:>18.3e} {fb:>19.3e} {ff / fb:>7.0f}  {gap < 1e-12}" for n, ff, fb, gap in rows]
    return "\n".join(lines)


def autograd_gap(
    net: MLP,
    xs: torch.Tensor,
    phi: Callable[[torch.Tensor], torch.Tensor],
    grad_phi: Callable[[torch.Tensor], torch.Tensor],
) -> float:
    """Largest ``|Jacobian products - autograd|`` over the inputs ``xs`` and all gradients (x, b, W).

    :func:`jacobian_backprop` against ``torch.autograd`` (``.backward()`` of ``phi(net(x))``, which
    overwrites the ``.grad`` of the parameters), weight gradients transposed to the layout of (5.13).
    Used in notebook ``01-sgd/01-gradient-flow`` (claim SGD-3). ``phi`` must return a scalar.
    """
    _check_net(net)
    xs = as_real_tensor("xs", xs, like=net.weights[0], ndim=2)
    if xs.shape[1] != net.sizes[0]:
        raise ValueError(f"xs must have shape (n, {net.sizes[0]}), got {tuple(xs.shape)}")
    check_callable("phi", phi)
    check_callable("grad_phi", grad_phi)
    worst = 0.0
    for xi in xs:
        ours = jacobian_backprop(net, xi, grad_phi)
        net.zero_grad()
        xr = xi.clone().requires_grad_(True)
        value = phi(net(xr))
        if not isinstance(value, torch.Tensor) or value.numel() != 1 or not value.requires_grad:
            raise ValueError("phi must return a scalar tensor computed from the network's output")
        value.backward()
        diffs = [(ours["x"] - xr.grad).abs().max()]
        diffs += [(gb - b.grad).abs().max() for gb, b in zip(ours["b"], net.biases, strict=True)]
        diffs += [(gW.T - W.grad).abs().max() for gW, W in zip(ours["W"], net.weights, strict=True)]
        gaps = [d.item() for d in diffs]
        if not all(math.isfinite(g) for g in gaps):
            raise ValueError("the autograd gradients of phi(net(x)) are not finite: check phi")
        worst = max([worst] + gaps)
    return worst


def plot_costs(widths: Sequence[int], times: dict[str, list[float]], depth: int) -> None:
    """Figure: best-of-3 wall times of the forward and backward orders of :func:`bias_gradient_costs`.

    Used in notebook ``01-sgd/01-gradient-flow``.
    """
    import matplotlib.pyplot as plt

    widths = _check_widths(widths)
    depth = check_int("depth", depth)
    check_instance("times", times, dict)
    lengths = [len(v) if hasattr(v, "__len__") and not isinstance(v, str) else -1 for v in times.values()]
    if set(times) != {"forward", "backward"} or any(n != len(widths) for n in lengths):
        raise ValueError("times must map 'forward' and 'backward' to one time per width")
    for o, v in times.items():
        for i, t in enumerate(v):
            check_positive(f"times[{o!r}][{i}]", t)
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for o, mk in (("forward", "s-"), ("backward", "o-")):
        ax.loglog(widths, times[o], mk, label=f"{o} order")
    ax.set_xticks(widths, labels=[str(n) for n in widths])
    ax.tick_params(axis="x", which="minor", bottom=False, labelbottom=False)
    ax.set_xlabel(f"width $n$ (depth {depth})")
    ax.set_ylabel("seconds (best of 3, this machine)")
    ax.set_title("all bias gradients of one sample")
    ax.legend()
