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

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import (
    as_real_tensor,
    as_tensor,
    check_bool,
    check_callable,
    check_choice,
    check_finite,
    check_generator,
    check_instance,
    check_int,
    check_memory,
    check_ndim,
    check_range,
)
from .device import _check_device as _device_check

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


# --- private checks shared by the modules of chapters 1 and 2 ---------------------------


def _check_float_dtype(dtype: torch.dtype | None) -> torch.dtype | None:
    """``dtype`` if it is None, ``torch.float32`` or ``torch.float64``; ``TypeError`` otherwise."""
    if dtype is not None and dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32, torch.float64 or None, got {dtype!r}")
    return dtype


def _check_device(device: torch.device | str | None) -> torch.device | None:
    """``torch.device(device)`` for an available device (None stays None); ``TypeError`` or ``ValueError``."""
    return None if device is None else _device_check("device", device)


def _traced(x: torch.Tensor) -> bool:
    """True inside ``torch.func`` transforms (vmap, grad, jacrev) and tracing, where a data-dependent
    check such as ``bool(isfinite(x).all())`` is not possible."""
    return (
        torch._C._functorch.is_functorch_wrapped_tensor(x)
        or torch.jit.is_tracing()
        or torch.compiler.is_compiling()
    )


def _check_input(name: str, x, like: torch.Tensor) -> torch.Tensor:
    """The input of a network: converted to the dtype and device of its parameters (``like``), finite."""
    x = as_tensor(name, x, like=like)
    if not _traced(x):
        check_finite(name, x)
    return x


def _check_sizes(sizes) -> list[int]:
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Iterable):
        raise TypeError(f"sizes must be a sequence of at least two positive integers, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must be at least two positive integers, got {sizes!r}")
    return [check_int(f"sizes[{i}]", a, 1) for i, a in enumerate(sizes)]


class MLP(nn.Module):
    """Fully connected network ``R^{a_0} -> R^{a_{p+1}}`` with layer sizes ``sizes``.

    Inputs are converted to the parameters' dtype and device; they must be finite real tensors.

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
    dtype, device:
        Of the parameters (``torch.float32`` or ``torch.float64``; default: torch's defaults).
    generator:
        A CPU :class:`torch.Generator` for ``init="normal"`` (the draws are made on the CPU and
        copied to ``device``); unused by the other initializations.
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
        sizes = _check_sizes(sizes)  # plain ints, NumPy or torch integers
        check_choice("activation", activation, sorted(ACTIVATIONS))
        check_choice("init", init, ("default", "normal", "zeros"))
        dtype, device = _check_float_dtype(dtype), _check_device(device)
        check_generator(generator, torch.device("cpu"), "the initial weights (drawn on the CPU)")
        check_memory(
            f"an MLP with sizes {sizes}",
            sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)),
            dtype or torch.get_default_dtype(),
        )
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
        """Evaluate the network on ``x`` of shape ``(..., a_0)`` (a finite real tensor, converted to the
        dtype and device of the network)."""
        x = _check_input("x", x, self.layers[0].weight)
        if x.shape[-1:] != (self.sizes[0],):
            raise ValueError(f"x must have last dimension {self.sizes[0]}, got shape {tuple(x.shape)}")
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without validation (for inner loops that checked their inputs)."""
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
    W = as_real_tensor("W", W, ndim=2)
    out = _induced_norm(W, _check_ord(ord))
    if not bool(torch.isfinite(out)):
        raise ValueError("the norm of W overflows: its entries are too large")
    return out


def _check_ord(ord: float | str) -> float | str:
    if isinstance(ord, bool) or not isinstance(ord, int | float | str | np.integer | np.floating):
        raise TypeError(f"ord must be 1, 2 or inf, got {ord!r} ({type(ord).__name__})")
    if ord not in (1, "1", 2, "2", float("inf"), "inf"):
        raise ValueError(f"ord must be 1, 2 or inf, got {ord!r}")
    return ord


def _induced_norm(W: torch.Tensor, ord: float | str) -> torch.Tensor:
    if ord in (1, "1"):
        return W.abs().sum(0).max()
    if ord in (2, "2"):
        return torch.linalg.matrix_norm(W, ord=2)
    return W.abs().sum(1).max()


def lipschitz_bound(net: MLP, ord: float | str = 2) -> torch.Tensor:
    """``prod_r ||W_r||``: bounds ``||grad_x f(x)||`` for every ``x`` when ``|S'| <= 1`` (Lemma 5.5.1)."""
    check_instance("net", net, MLP)
    ord = _check_ord(ord)
    out = torch.ones((), dtype=net.weights[0].dtype)
    for r, W in enumerate(net.weights):
        out = out * _induced_norm(check_finite(f"the weight W_{r} of net", W.detach()), ord)
    if not bool(torch.isfinite(out)):
        raise ValueError("the product of the weight norms overflows: the weights of net are too large")
    return out


def _param_like(net) -> torch.Tensor | None:
    """A parameter of ``net`` (for the dtype and device of its inputs), or None."""
    if isinstance(net, nn.Module):
        return next(iter(net.parameters()), None)
    return None


def input_jacobian(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Jacobian ``grad_x f`` at each row of ``x``: shape ``(N, a_out, a_in)``, by autograd.

    ``net`` is any function of one point (a module or a plain function); ``x`` is converted to the
    dtype and device of the module's parameters."""
    check_callable("net", net)
    x = as_real_tensor("x", x, like=_param_like(net), ndim=2)
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
        d_in, width = check_int("d_in", d_in), check_int("width", width)
        layers = check_int("layers", layers, 0)
        gated = check_bool("gated", gated)
        dtype, device = _check_float_dtype(dtype), _check_device(device)
        per_layer = 4 * width * (d_in + 1) + 4 * width * width if gated else width * (width + 1)
        check_memory(
            f"a DGMNet of width {width} with {layers} layers",
            width * (d_in + 2) + 1 + layers * per_layer,
            dtype or torch.get_default_dtype(),
        )
        self.d_in, self.width, self.n_layers, self.gated = d_in, width, layers, gated
        kw = {"dtype": dtype, "device": device}
        center = torch.zeros(d_in) if center is None else _float64_vector("center", center)
        scale = torch.ones(d_in) if scale is None else _float64_vector("scale", scale)
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
        """Evaluate the network on ``x`` of shape ``(n, d_in)`` (a finite real tensor, converted to the
        dtype and device of the network); returns ``(n,)``."""
        x = _check_input("x", x, self.inp.weight)
        if x.ndim != 2 or x.shape[1] != self.d_in:
            raise ValueError(f"x must have shape (n, {self.d_in}), got {tuple(x.shape)}")
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without validation (for inner loops that checked their inputs)."""
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
        N, d_in = check_int("N", N), check_int("d_in", d_in)
        delta = check_range("delta", delta, 0.5, 1.0)
        check_choice("activation", activation, sorted(ACTIVATIONS))
        dtype, device = _check_float_dtype(dtype), _check_device(device)
        check_generator(generator, torch.device("cpu"), "the initial parameters (drawn on the CPU)")
        check_memory(f"a MeanFieldNet of {N} neurons", N * (d_in + 2), dtype or torch.get_default_dtype())
        self.N, self.delta, self.d_in, self._act = N, delta, d_in, ACTIVATIONS[activation]
        kw = {"dtype": dtype or torch.get_default_dtype(), "generator": generator}
        self.beta = nn.Parameter(torch.randn(N, **kw).to(device))
        self.alpha = nn.Parameter(torch.randn(N, d_in, **kw).to(device))
        self.c = nn.Parameter(torch.randn(N, **kw).to(device))

    @property
    def lr_scale(self) -> float:
        """``eta_N = N^{2 delta - 1}``: the learning-rate factor that gives an ``N``-independent limit."""
        return float(self.N) ** (2 * self.delta - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``V^N(x)`` for ``x`` of shape ``(n, d_in)`` (a finite real tensor, converted to the dtype and
        device of the network); returns ``(n,)``."""
        x = _check_input("x", x, self.alpha)
        if x.ndim != 2 or x.shape[1] != self.d_in:
            raise ValueError(f"x must have shape (n, {self.d_in}), got {tuple(x.shape)}")
        return self._forward(x)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` without validation (for inner loops that checked their inputs)."""
        return self._act(x @ self.alpha.T + self.c) @ self.beta * self.N ** (-self.delta)


def param_jacobian(net: nn.Module, x: torch.Tensor, input_grad: bool = False) -> torch.Tensor:
    """Jacobian of the outputs with respect to all parameters, shape ``(n, p)``.

    With ``input_grad=True`` returns ``(n, 1 + d, p)``: the parameter Jacobians of ``f(x)`` and of
    each ``d f / d x_j`` (what a kernel of an energy with first derivatives needs). ``net`` maps
    ``(n, d)`` to ``(n,)``. The empirical tangent kernel is ``J J^T``.
    Notebook ``05-tdgf/04-why-training-converges``.
    """
    check_instance("net", net, nn.Module)
    input_grad = check_bool("input_grad", input_grad)
    params = {k: v.detach() for k, v in net.named_parameters()}
    if not params:
        raise ValueError("net has no parameters to differentiate")
    x = as_real_tensor("x", x, like=_param_like(net), ndim=2)

    def f(p, xi):
        return torch.func.functional_call(net, p, (xi[None],))[0]

    def g(p, xi):
        if not input_grad:
            return f(p, xi)[None]
        return torch.cat([f(p, xi)[None], torch.func.grad(f, argnums=1)(p, xi)])

    jac = torch.vmap(torch.func.jacrev(g), in_dims=(None, 0))(params, x)
    J = torch.cat([jac[k].reshape(x.shape[0], jac[k].shape[1], -1) for k in params], -1)
    return J if input_grad else J[:, 0]


def _float64_vector(name: str, v) -> torch.Tensor:
    """A finite 1-D float64 tensor from ``v`` (numbers are converted exactly, not via the default dtype)."""
    if isinstance(v, torch.Tensor | np.ndarray):
        t = as_tensor(name, v, torch.float64)
    else:
        as_tensor(name, v)  # the type checks
        t = torch.as_tensor(v, dtype=torch.float64)
    return check_finite(name, check_ndim(name, t, 1))
