"""Networks used across the book, and norms of their weights.

:class:`MLP` is the fully connected network of the chapter-1 source,
``f = f_p o S o f_{p-1} o ... o S o f_0`` with affine layers
``f_r(h) = W_r h + b_r``. :func:`lipschitz_bound` is the product of induced
norms of the weights that bounds ``|grad_x f|`` (Lemma 5.5.1).
Notebooks ``01-sgd/01-gradient-flow`` and ``01-sgd/03-batches-and-initialization``.

:class:`DGMNet` is the gated architecture of the Deep Galerkin Method used by both option
pricing solvers, and :class:`MeanFieldNet` the one-hidden-layer network with the ``N^{-delta}``
output scaling of the TDGF training analysis (notebooks ``05-tdgf/*``).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import torch
from torch import nn

from ._validation import as_tensor, check_finite, check_ndim

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "DGMNet",
    "MeanFieldNet",
    "induced_norm",
    "lipschitz_bound",
    "input_jacobian",
    "param_jacobian",
]

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
            raise ValueError(f"input must have last dimension {self.sizes[0]}, got shape {tuple(x.shape)}")
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


class DGMNet(nn.Module):
    """The Deep Galerkin Method network (Sirignano & Spiliopoulos 2018): gated layers of width ``width``.

    With ``x`` the normalized input ``(x - center) / scale``::

        S^1 = tanh(W^1 x + b^1)
        Z, G, R = tanh(U^{z,g,r} x + W^{z,g,r} S^l + b^{z,g,r})   (gates; tanh as in the DGM paper)
        H = tanh(U^h x + W^h (S^l * R) + b^h)
        S^{l+1} = (1 - G) * H + Z * S^l,      l = 1..layers
        f = W S^{L+1} + b.

    ``gated=False`` replaces each gated layer by a plain one, ``S^{l+1} = tanh(W^l S^l + b^l)``
    (a tanh MLP with ``layers + 1`` hidden layers, about four times cheaper per layer);
    ``layers = 0`` gives a one-hidden-layer tanh network. ``center`` and ``scale`` (length
    ``d_in``) normalize the input box to about ``[-1, 1]``. Output shape ``(n,)``.
    Notebooks ``05-tdgf/02-tdgf-vs-dgm`` and ``05-tdgf/03-dimension``.
    """

    def __init__(
        self,
        d_in: int,
        width: int = 50,
        layers: int = 3,
        center: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        gated: bool = True,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        try:
            d_in, width, layers = operator.index(d_in), operator.index(width), operator.index(layers)
        except TypeError:
            raise ValueError("d_in, width and layers must be integers") from None
        if d_in < 1 or width < 1 or layers < 0:
            raise ValueError(f"need d_in >= 1, width >= 1, layers >= 0; got {d_in}, {width}, {layers}")
        self.d_in, self.width, self.n_layers, self.gated = d_in, width, layers, bool(gated)
        kw = {"dtype": dtype, "device": device}
        center = torch.zeros(d_in) if center is None else torch.as_tensor(center, dtype=torch.float64)
        scale = torch.ones(d_in) if scale is None else torch.as_tensor(scale, dtype=torch.float64)
        if center.shape != (d_in,) or scale.shape != (d_in,) or bool((scale <= 0).any()):
            raise ValueError(f"center and scale must have length {d_in}, scale positive")
        self.register_buffer("center", center.to(**kw))
        self.register_buffer("scale", scale.to(**kw))
        self.inp = nn.Linear(d_in, width, **kw)
        if self.gated:
            self.U = nn.ModuleList(nn.Linear(d_in, 4 * width, **kw) for _ in range(layers))
            self.W = nn.ModuleList(nn.Linear(width, 3 * width, bias=False, **kw) for _ in range(layers))
            self.Wh = nn.ModuleList(nn.Linear(width, width, bias=False, **kw) for _ in range(layers))
        else:
            self.hidden = nn.ModuleList(nn.Linear(width, width, **kw) for _ in range(layers))
        self.out = nn.Linear(width, 1, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Evaluate the network on ``x`` of shape ``(n, d_in)``; returns ``(n,)``."""
        if x.ndim != 2 or x.shape[1] != self.d_in:
            raise ValueError(f"input must have shape (n, {self.d_in}), got {tuple(x.shape)}")
        z = (x - self.center) / self.scale
        S = torch.tanh(self.inp(z))
        if not self.gated:
            for layer in self.hidden:
                S = torch.tanh(layer(S))
            return self.out(S).squeeze(-1)
        w = self.width
        for U, W, Wh in zip(self.U, self.W, self.Wh, strict=True):
            ux = U(z)
            zgr = torch.tanh(ux[:, : 3 * w] + W(S))
            Z, G, R = zgr[:, :w], zgr[:, w : 2 * w], zgr[:, 2 * w :]
            H = torch.tanh(ux[:, 3 * w :] + Wh(S * R))
            S = (1 - G) * H + Z * S
        return self.out(S).squeeze(-1)


class MeanFieldNet(nn.Module):
    """``V^N(x) = N^{-delta} sum_i beta_i psi(alpha_i . x + c_i)`` with i.i.d. N(0, 1) initial parameters.

    With ``1/2 < delta < 1`` and the learning rate ``eta_N = N^{2 delta - 1}`` (:attr:`lr_scale`),
    gradient descent moves ``V^N`` by a kernel gradient flow with kernel
    ``Z^N(x, y) = N^{-1} sum_i grad_theta(beta_i psi_i(x)) . grad_theta(beta_i psi_i(y))``
    (claim TDGF-7, notebook ``05-tdgf/04-why-training-converges``). Output shape ``(n,)``.
    """

    def __init__(
        self,
        N: int,
        delta: float = 0.75,
        d_in: int = 1,
        activation: str = "tanh",
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        try:
            N, d_in = operator.index(N), operator.index(d_in)
        except TypeError:
            raise ValueError("N and d_in must be integers") from None
        if N < 1 or d_in < 1:
            raise ValueError(f"N and d_in must be positive, got {N}, {d_in}")
        if not 0.5 <= float(delta) <= 1:
            raise ValueError(f"delta must lie in [1/2, 1], got {delta!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.N, self.delta, self.d_in, self._act = N, float(delta), d_in, ACTIVATIONS[activation]
        kw = {"dtype": dtype or torch.get_default_dtype(), "generator": generator}
        self.beta = nn.Parameter(torch.randn(N, **kw).to(device))
        self.alpha = nn.Parameter(torch.randn(N, d_in, **kw).to(device))
        self.c = nn.Parameter(torch.randn(N, **kw).to(device))

    @property
    def lr_scale(self) -> float:
        """``eta_N = N^{2 delta - 1}``: the learning-rate factor that gives an ``N``-independent limit."""
        return float(self.N) ** (2 * self.delta - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``V^N(x)`` for ``x`` of shape ``(n, d_in)``; returns ``(n,)``."""
        if x.ndim != 2 or x.shape[1] != self.d_in:
            raise ValueError(f"input must have shape (n, {self.d_in}), got {tuple(x.shape)}")
        return self._act(x @ self.alpha.T + self.c) @ self.beta * self.N ** (-self.delta)


def param_jacobian(net: nn.Module, x: torch.Tensor, input_grad: bool = False) -> torch.Tensor:
    """Jacobian of the outputs with respect to all parameters, shape ``(n, p)``.

    With ``input_grad=True`` returns ``(n, 1 + d, p)``: the parameter Jacobians of ``f(x)`` and of
    each ``d f / d x_j`` (what a kernel of an energy with first derivatives needs). ``net`` maps
    ``(n, d)`` to ``(n,)``. The empirical tangent kernel is ``J J^T``.
    Notebook ``05-tdgf/04-why-training-converges``.
    """
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 2))
    params = {k: v.detach() for k, v in net.named_parameters()}

    def f(p, xi):
        return torch.func.functional_call(net, p, (xi[None],))[0]

    def g(p, xi):
        if not input_grad:
            return f(p, xi)[None]
        return torch.cat([f(p, xi)[None], torch.func.grad(f, argnums=1)(p, xi)])

    jac = torch.vmap(torch.func.jacrev(g), in_dims=(None, 0))(params, x)
    J = torch.cat([jac[k].reshape(x.shape[0], jac[k].shape[1], -1) for k in params], -1)
    return J if input_grad else J[:, 0]
