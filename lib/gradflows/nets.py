"""Networks used across the book, and norms of their weights.

:class:`MLP` is the fully connected network of the chapter-1 source,
``f = f_p o S o f_{p-1} o ... o S o f_0`` with affine layers
``f_r(h) = W_r h + b_r``. :func:`lipschitz_bound` is the product of induced
norms of the weights that bounds ``|grad_x f|`` (Lemma 5.5.1).
Notebooks ``01-sgd/01-gradient-flow`` and ``01-sgd/03-batches-and-initialization``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import nn

from ._validation import as_tensor, check_finite, check_ndim

__all__ = ["ACTIVATIONS", "MLP", "induced_norm", "lipschitz_bound", "input_jacobian"]

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: nn.functional.leaky_relu(z, 0.1),
}


class MLP(nn.Module):
    """Fully connected network ``R^{a_0} -> R^{a_{p+1}}`` with layer sizes ``sizes``.

    Parameters
    ----------
    sizes:
        ``[a_0, a_1, ..., a_{p+1}]``: input, hidden and output widths (at least two).
    activation:
        One of :data:`ACTIVATIONS` (``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``),
        applied after every affine layer except the last.
    init:
        ``"default"`` (PyTorch's uniform fan-in initialization), ``"normal"``
        (weights ``N(0, 1/fan_in)``, biases ``N(0, 1)``) or ``"zeros"`` (every
        weight and bias zero: the pathological start of Lemma 5.4.1).
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "tanh",
        init: str = "default",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        try:  # plain ints, NumPy or torch integers
            sizes = [operator.index(a) for a in sizes]
        except TypeError:
            raise ValueError(f"sizes must be at least two positive integers, got {sizes!r}") from None
        if len(sizes) < 2 or any(a < 1 for a in sizes):
            raise ValueError(f"sizes must be at least two positive integers, got {sizes!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if init not in ("default", "normal", "zeros"):
            raise ValueError(f"init must be 'default', 'normal' or 'zeros', got {init!r}")
        self.sizes = sizes
        self.activation = activation
        self._act = ACTIVATIONS[activation]
        self.layers = nn.ModuleList(
            nn.Linear(a, b, dtype=dtype, device=device) for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        with torch.no_grad():
            for layer in self.layers:
                if init == "zeros":
                    layer.weight.zero_()
                    layer.bias.zero_()
                elif init == "normal":
                    fan_in = layer.weight.shape[1]
                    w = torch.randn(layer.weight.shape, generator=generator, dtype=layer.weight.dtype)
                    b = torch.randn(layer.bias.shape, generator=generator, dtype=layer.bias.dtype)
                    layer.weight.copy_(w / fan_in**0.5)
                    layer.bias.copy_(b)

    @property
    def weights(self) -> list[torch.Tensor]:
        """``[W_0, ..., W_p]``, ``W_r`` of shape ``(a_{r+1}, a_r)``."""
        return [layer.weight for layer in self.layers]

    @property
    def biases(self) -> list[torch.Tensor]:
        """``[b_0, ..., b_p]``."""
        return [layer.bias for layer in self.layers]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network on ``x`` of shape ``(..., a_0)``."""
        if x.shape[-1:] != (self.sizes[0],):
            raise ValueError(
                f"input must have last dimension {self.sizes[0]}, got shape {tuple(x.shape)}"
            )
        h = x
        for layer in self.layers[:-1]:
            h = self._act(layer(h))
        return self.layers[-1](h)


def induced_norm(W: torch.Tensor, ord: float | str) -> torch.Tensor:
    """Induced (operator) norm of ``W`` for ``ord`` in ``1, 2, inf``.

    ``1``: max column sum ``max_j sum_i |w_ij|``; ``inf``: max row sum
    ``max_i sum_j |w_ij|``; ``2``: largest singular value. (The chapter-1 source
    writes the column-sum formula for both ``||.||_inf`` and ``||.||_1``; only the
    first label is a typo.)
    """
    W = check_ndim("W", as_tensor("W", W), 2)
    if ord in (1, "1"):
        return W.abs().sum(0).max()
    if ord in (2, "2"):
        return torch.linalg.matrix_norm(W, ord=2)
    if ord in (float("inf"), "inf"):
        return W.abs().sum(1).max()
    raise ValueError(f"ord must be 1, 2 or inf, got {ord!r}")


def lipschitz_bound(net: MLP, ord: float | str = 2) -> torch.Tensor:
    """``prod_r ||W_r||``: bounds ``||grad_x f(x)||`` for every ``x`` when ``|S'| <= 1`` (Lemma 5.5.1)."""
    if not isinstance(net, MLP):
        raise ValueError("net must be a gradflows.nets.MLP")
    out = torch.ones((), dtype=net.weights[0].dtype)
    for W in net.weights:
        out = out * induced_norm(W.detach(), ord)
    return out


def input_jacobian(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Jacobian ``grad_x f`` at each row of ``x``: shape ``(N, a_out, a_in)``, by autograd."""
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 2))
    return torch.vmap(torch.func.jacrev(net))(x)
