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

from collections.abc import Callable

import torch

from ._validation import as_tensor, check_finite, check_ndim
from .nets import MLP

__all__ = ["ACTIVATION_DERIVATIVES", "forward_states", "jacobian_backprop"]

ACTIVATION_DERIVATIVES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)),
    "tanh": lambda z: 1 - torch.tanh(z) ** 2,
    "relu": lambda z: (z > 0).to(z.dtype),
}


def forward_states(net: MLP, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Inputs ``h_0..h_p`` and pre-activations ``z_0..z_p`` of every layer for one input ``x``."""
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
    if not isinstance(net, MLP):
        raise ValueError("net must be a gradflows.nets.MLP")
    if net.activation not in ACTIVATION_DERIVATIVES:
        raise ValueError(f"no derivative registered for activation {net.activation!r}")
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 1))
    if x.shape[0] != net.sizes[0]:
        raise ValueError(f"x must have length {net.sizes[0]}, got {x.shape[0]}")
    dS = ACTIVATION_DERIVATIVES[net.activation]
    Ws = [W.detach() for W in net.weights]
    hs, zs = forward_states(net, x)
    p = len(Ws) - 1
    g_out = grad_phi(zs[-1]).reshape(1, -1)  # row vector, 1 x a_{p+1}
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
