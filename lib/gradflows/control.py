"""ResNets as Euler steps of controlled ODEs, and the norms of their controls.

A data set ``x^0 = (x_1, ..., x_N)`` of ``N`` points in ``R^d`` flows under one of the
two controlled systems of the chapter-2 source,

* ``kind="inner"``: ``x_i' = sigma(w(t) x_i + b(t))``  (nODE),
* ``kind="outer"``: ``x_i' = w(t) sigma(x_i) + b(t)``  (nODE_2; with ``b = None`` this is
  the block-diagonal system ``x' = diag(w) sigma(x)`` of the controllability theorem),

with controls ``u = (w, b)`` piecewise constant on ``L`` cells of a grid of ``[0, T]``: one
cell is one layer. Forward Euler with one step per cell is exactly the ResNet
``x^{k+1} = x^k + h f(x^k, u_k)``, ``h = T / L``; RK4 with several steps per cell
integrates the same piecewise-constant-control ODE to high order (the reference).

Notebooks ``02-turnpike/01-resnets-as-odes``, ``02-turnpike/02-large-time`` and
``02-turnpike/03-turnpike``. Training problems live in :mod:`gradflows.training`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ._stepping import Trajectory, run, scheme
from ._validation import (
    all_finite,
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
    check_nonempty,
    check_positive,
)
from .nets import ACTIVATIONS, _check_float_dtype, _traced

__all__ = [
    "KINDS",
    "LIPSCHITZ",
    "Controls",
    "random_controls",
    "sample_controls",
    "vector_field",
    "flow",
    "l2_norm_sq",
    "h1_norm_sq",
    "l1_norm",
    "weight_l1_norm",
    "training_error",
    "running_cost",
    "interpolation_weight_bound",
    "steer",
]

KINDS = ("inner", "outer")

#: Lipschitz constants of the activations of :data:`gradflows.nets.ACTIVATIONS`.
LIPSCHITZ = {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25, "leaky_relu": 1.0}


@dataclass(frozen=True)
class Controls:
    """Piecewise-constant controls on ``L`` equal cells of ``[0, T]``.

    Attributes
    ----------
    w:
        Weights, shape ``(L, d, d)``; ``w[k]`` acts on ``[k h, (k+1) h)``.
    b:
        Biases, shape ``(L, d)``, or ``None`` (no bias).
    T:
        The horizon (the "depth" of the network in units of time).

    ``w`` and ``b`` may be given as nested lists (converted to ``w``'s dtype); tensors keep their
    dtype and must be finite, ``T`` is stored as a float. Raises ``TypeError`` or ``ValueError``
    naming the argument otherwise.
    """

    w: torch.Tensor
    b: torch.Tensor | None
    T: float

    def __post_init__(self) -> None:
        w = check_nonempty("w", check_ndim("w", as_tensor("w", self.w), 3))
        if w.shape[1] != w.shape[2]:
            raise ValueError(f"w must have shape (L, d, d), got {tuple(w.shape)}")
        b = self.b
        if b is not None:
            tensor = isinstance(b, torch.Tensor | np.ndarray)
            b = as_tensor("b", b) if tensor else as_tensor("b", b, like=w)
            if b.shape != w.shape[:2]:
                raise ValueError(f"b must have shape {tuple(w.shape[:2])} (L, d), got {tuple(b.shape)}")
        if not _traced(w):  # under torch.func transforms values cannot be inspected
            check_finite("w", w)
            if b is not None:
                check_finite("b", b)
        object.__setattr__(self, "w", w)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "T", check_positive("T", self.T))

    @classmethod
    def _trusted(cls, w: torch.Tensor, b: torch.Tensor | None, T: float) -> Controls:
        """Controls from checked parts, without validation: for loops (training, Gauss--Newton) that
        build controls at every evaluation, where a finiteness check would synchronize a GPU and a
        non-finite iterate must surface as a :class:`~gradflows.DivergenceError` of the flow."""
        c = object.__new__(cls)
        object.__setattr__(c, "w", w)
        object.__setattr__(c, "b", b)
        object.__setattr__(c, "T", T)
        return c

    @property
    def n_layers(self) -> int:
        return self.w.shape[0]

    @property
    def d(self) -> int:
        return self.w.shape[1]

    @property
    def h(self) -> float:
        """The time step ``T / L``: the layer spacing."""
        return self.T / self.n_layers

    @property
    def edges(self) -> torch.Tensor:
        """The ``L + 1`` cell edges ``0, h, ..., T``."""
        return torch.linspace(0.0, self.T, self.n_layers + 1, dtype=self.w.dtype, device=self.w.device)

    def stacked(self) -> torch.Tensor:
        """``u_k = (vec w_k, b_k)`` as rows: shape ``(L, d^2 + d)`` (or ``(L, d^2)`` without bias)."""
        u = self.w.reshape(self.n_layers, -1)
        return u if self.b is None else torch.cat([u, self.b], 1)

    def pointwise_norm(self) -> torch.Tensor:
        """``|u(t)|`` on each cell (Euclidean norm of ``(vec w_k, b_k)``), shape ``(L,)``."""
        return self.stacked().norm(dim=1)

    def rescaled(self, T_new: float) -> Controls:
        """The time-scaled controls ``u^{T_new}(t) = (T / T_new) u^T(t T / T_new)`` on ``[0, T_new]``.

        For dynamics positively homogeneous in ``u`` (always for ``"outer"``, for
        ``"inner"`` when the activation is), ``x^{T_new}(t) = x^T(t T / T_new)``: the
        same trajectory, run at another speed (claim TURN-2; the source's
        ``u^1(t) = T u^T(tT)`` is ``T_new = 1``).
        """
        T_new = check_positive("T_new", T_new)
        s = self.T / T_new
        w, b = self.w * s, None if self.b is None else self.b * s
        finite = math.isfinite(s) and all_finite(w)
        if not (finite and (b is None or all_finite(b))):
            raise ValueError(f"T_new = {T_new!r} is too small: the rescaled controls (T / T_new) u overflow")
        return Controls._trusted(w, b, T_new)

    def refined(self, m: int) -> Controls:
        """The same piecewise-constant controls on ``m`` times as many layers (each cell split in ``m``)."""
        m = check_int("m", m)
        numel = m * self.stacked().numel()
        check_memory(f"refined controls with {m} x {self.n_layers} layers", numel, self.w.dtype)
        b = None if self.b is None else self.b.repeat_interleave(m, 0)
        return Controls._trusted(self.w.repeat_interleave(m, 0), b, self.T)

    def detach(self) -> Controls:
        """The same controls, detached from the autograd graph."""
        return Controls._trusted(self.w.detach(), None if self.b is None else self.b.detach(), self.T)


def random_controls(
    d: int,
    n_layers: int,
    T: float = 1.0,
    std: float = 1.0,
    bias: bool = True,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Controls:
    """Controls with i.i.d. ``N(0, std^2 / d)`` weights and ``N(0, std^2)`` biases on every cell.

    Drawn on the CPU from ``generator`` (a CPU :class:`torch.Generator`, or None)."""
    d, n_layers = check_int("d", d), check_int("n_layers", n_layers)
    T, std, bias = check_positive("T", T), check_positive("std", std), check_bool("bias", bias)
    dtype = _check_float_dtype(dtype) or torch.get_default_dtype()
    check_memory(f"controls with {n_layers} layers in dimension {d}", n_layers * d * (d + 1), dtype)
    check_generator(generator, torch.device("cpu"), "the controls")
    w = torch.randn(n_layers, d, d, generator=generator, dtype=dtype) * (std / math.sqrt(d))
    b = torch.randn(n_layers, d, generator=generator, dtype=dtype) * std if bias else None
    if not (all_finite(w) and (b is None or all_finite(b))):
        raise ValueError(f"std = {std!r} is too large: the random controls overflow")
    return Controls(w, b, T)


def sample_controls(
    w: Callable[[float], torch.Tensor],
    b: Callable[[float], torch.Tensor] | None,
    T: float,
    n_layers: int,
) -> Controls:
    """Piecewise-constant controls from smooth ones, sampled at the left cell edges ``t_k = k h``.

    With these, the Euler flow is the ResNet of the smooth controls ``u(t)``, and
    its error against the exact ODE solution is ``O(h)`` (claim TURN-1).
    """
    check_callable("w", w)
    if b is not None:
        check_callable("b", b)
    n_layers = check_int("n_layers", n_layers)
    T = check_positive("T", T)
    w0 = as_tensor("w(t)", w(0 * T / n_layers))
    if w0.ndim != 2 or w0.shape[0] != w0.shape[1]:
        raise ValueError(f"w(t) must return a square matrix (d, d), got shape {tuple(w0.shape)}")
    check_memory(f"controls with {n_layers} layers", n_layers * w0.shape[0] * (w0.shape[0] + 1), w0.dtype)
    ts = [k * T / n_layers for k in range(n_layers)]
    W = torch.stack([w0] + [as_tensor("w(t)", w(t)) for t in ts[1:]])
    B = None if b is None else torch.stack([as_tensor("b(t)", b(t)) for t in ts]).to(W)
    return Controls(W, B, T)


def _activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    return ACTIVATIONS[check_choice("activation", name, sorted(ACTIVATIONS))]


def _check_kind(kind: str) -> str:
    return check_choice("kind", kind, KINDS)


def vector_field(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, kind: str = "outer", activation: str = "tanh"
) -> torch.Tensor:
    """``f(x, u)`` for every point: ``sigma(x w^T + b)`` (inner) or ``sigma(x) w^T + b`` (outer).

    ``x`` has shape ``(..., N, d)`` (or ``(d,)``: one point), ``w`` ``(d, d)``, ``b`` ``(d,)`` or
    ``None``; ``w`` and ``b`` are converted to the dtype and device of ``x``. Raises ``ValueError``
    if the values overflow.
    """
    x = as_real_tensor("x", x)
    if x.ndim == 0:
        raise ValueError("x must have shape (..., N, d), got a scalar")
    d = x.shape[-1]
    w = as_real_tensor("w", w, like=x, ndim=2)
    if w.shape != (d, d):
        raise ValueError(f"w must have shape ({d}, {d}) for x with d = {d}, got {tuple(w.shape)}")
    if b is not None:
        b = as_real_tensor("b", b, like=x, ndim=1)
        if b.shape != (d,):
            raise ValueError(f"b must have shape ({d},) for x with d = {d}, got {tuple(b.shape)}")
    out = _vector_field(x, w, b, _check_kind(kind), activation)
    if not all_finite(out):
        raise ValueError("the vector field overflows: x, w or b are too large")
    return out


def _vector_field(x, w, b, kind: str, activation: str) -> torch.Tensor:
    """:func:`vector_field` without validation (the inner loop of :func:`flow`)."""
    sig = _activation(activation)
    if kind == "inner":
        z = x @ w.mT
        return sig(z if b is None else z + b)
    out = sig(x) @ w.mT
    return out if b is None else out + b


def flow(
    controls: Controls,
    x0: torch.Tensor,
    kind: str = "outer",
    activation: str = "tanh",
    method: str = "euler",
    substeps: int = 1,
    record: bool = True,
) -> Trajectory:
    """Flow the data ``x0`` (shape ``(N, d)``) through the controlled system.

    ``method="euler", substeps=1`` is the ResNet (one Euler step per layer);
    ``method="rk4"`` with ``substeps`` RK4 steps per cell is the reference for the
    same piecewise-constant controls (exact up to ``O((h/substeps)^4)``); ``"midpoint"`` and
    ``"heun"`` are the second-order schemes. The schemes are those of the optimizer ODEs
    (``gradflows._stepping.SCHEMES``).

    Returns a :class:`~gradflows.Trajectory` at the cell edges ``t = 0, h, ..., T``:
    ``x`` the states, shape ``(L + 1, N, d)`` (``record=False`` records nothing), ``last``
    the final state ``(N, d)``. Differentiable in the controls. Raises
    :class:`~gradflows.DivergenceError` when the states stop being finite.
    """
    check_instance("controls", controls, Controls)
    x0 = as_real_tensor("x0", x0, ndim=2, nonempty=False)
    if x0.shape[1] != controls.d:
        raise ValueError(f"x0 must have shape (N, {controls.d}) to match the controls, got {tuple(x0.shape)}")
    substeps = check_int("substeps", substeps)
    scheme(method)
    _check_kind(kind)
    _activation(activation)
    if check_bool("record", record):
        check_memory(
            f"the states of {x0.shape[0]} points at {controls.n_layers + 1} layers",
            (controls.n_layers + 1) * x0.numel(),
            controls.w.dtype,
        )
    return _flow(controls, x0, kind, activation, method, substeps, record, progress=None)


def _flow(
    controls: Controls,
    x0: torch.Tensor,
    kind: str,
    activation: str,
    method: str,
    substeps: int,
    record: bool,
    progress: bool | None = False,
) -> Trajectory:
    """:func:`flow` without validation (inside training loops and Gauss--Newton iterations).

    The core loop runs over substeps (``n_layers * substeps`` of them, recording at the end of each
    layer), so that a long flow shows one progress bar; ``progress=False`` inside loops."""
    step = scheme(method)
    dt, h = controls.h / substeps, controls.h

    cell: list = []

    def sub(k: int, state):
        if k % substeps == 0:  # a new layer: its weights, sliced once for all of its substeps
            layer = k // substeps
            wk = controls.w[layer]
            bk = None if controls.b is None else controls.b[layer]
            cell[:] = [lambda y: (_vector_field(y[0], wk, bk, kind, activation),)]
        return step(cell[0], state, dt)

    return run(
        sub,
        (x0.to(controls.w),),
        controls.n_layers * substeps,
        names=("x",),
        dt=lambda k: h if (k + 1) % substeps == 0 else 0.0,  # recorded times: the layer boundaries
        record_every=substeps if record else None,
        desc="controlled flow",
        grad=True,
        progress=progress,
        check_records=False,
        advice="the controls are too large for this step size (more substeps or layers)",
    )


# --- norms of the controls ---------------------------------------------------------


def _norm_result(name: str, value: torch.Tensor) -> torch.Tensor:
    if not all_finite(value):
        raise ValueError(f"the controls are too large: {name} overflows")
    return value


def l2_norm_sq(c: Controls) -> torch.Tensor:
    """``||u||^2_{L^2(0,T)} = h sum_k |u_k|^2`` for piecewise-constant controls."""
    return _norm_result("||u||^2", _l2_norm_sq(check_instance("c", c, Controls)))


def _l2_norm_sq(c: Controls) -> torch.Tensor:
    return c.h * (c.stacked() ** 2).sum()


def h1_norm_sq(c: Controls) -> torch.Tensor:
    """``||u||^2_{L^2} + sum_k |u_{k+1} - u_k|^2 / h``: the discrete ``H^1(0,T)`` norm.

    The second term is ``||u'||^2_{L^2}`` of the piecewise-linear interpolant of the
    cell values: it penalises jumps between consecutive layers.
    """
    return _norm_result("||u||^2_H1", _h1_norm_sq(check_instance("c", c, Controls)))


def _h1_norm_sq(c: Controls) -> torch.Tensor:
    u = c.stacked()
    return _l2_norm_sq(c) + ((u[1:] - u[:-1]) ** 2).sum() / c.h


def l1_norm(c: Controls) -> torch.Tensor:
    """``||u||_{L^1(0,T)} = h sum_k |u_k|`` (Euclidean norm in ``R^{d_u}``, then ``L^1`` in time)."""
    return _norm_result("||u||_L1", _l1_norm(check_instance("c", c, Controls)))


def _l1_norm(c: Controls) -> torch.Tensor:
    return c.h * c.pointwise_norm().sum()


#: The matrix norms of ``torch.linalg.matrix_norm``.
_MATRIX_ORDS = (2, -2, 1, -1, math.inf, -math.inf)


def weight_l1_norm(c: Controls, ord: float | str = 2) -> torch.Tensor:
    """``int_0^T ||w(t)|| dt`` with the induced matrix norm ``ord`` (2: spectral; "fro": Frobenius).

    ``ord`` is one of ``2, -2, 1, -1, inf, -inf, "fro", "nuc"`` (those of
    ``torch.linalg.matrix_norm``). The quantity bounded from below in claim TURN-7.
    """
    check_instance("c", c, Controls)
    if isinstance(ord, str):
        ok = ord in ("fro", "nuc")
    else:
        ok = isinstance(ord, numbers.Real) and not isinstance(ord, bool) and float(ord) in _MATRIX_ORDS
    if not ok:
        raise ValueError(f"ord must be one of 2, -2, 1, -1, inf, -inf, 'fro', 'nuc'; got {ord!r}")
    return _norm_result("int ||w(t)|| dt", c.h * torch.linalg.matrix_norm(c.w, ord=ord).sum())


# --- training errors ---------------------------------------------------------------

#: The losses of :func:`training_error`.
LOSSES = ("mse", "logistic")


def _check_targets(x: torch.Tensor, y, P, loss: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Check ``y``, ``P`` and ``loss`` against states ``x`` of shape ``(..., N, d)``."""
    check_choice("loss", loss, LOSSES)
    y = as_real_tensor("y", y)
    if y.ndim == 0:
        raise ValueError("y must have shape (N,) or (N, m), got a scalar")
    if P is not None:
        P = as_real_tensor("P", P, ndim=2)
        if P.shape[1] != x.shape[-1]:
            raise ValueError(f"P must have shape (m, {x.shape[-1]}) to act on x, got {tuple(P.shape)}")
    m = 1 if P is None else P.shape[0]
    yy = y[:, None] if y.ndim == 1 else y
    if yy.shape[-1] != m or yy.shape[-2] != x.shape[-2]:
        raise ValueError(f"y must have shape (N,) or (N, m) matching P x of shape {(x.shape[-2], m)}")
    return y, P


def _check_states(name: str, x, ndim: int | None = None) -> torch.Tensor:
    x = as_real_tensor(name, x)
    if (ndim is None and x.ndim < 2) or (ndim is not None and x.ndim != ndim):
        want = "(..., N, d)" if ndim is None else "(L + 1, N, d)"
        raise ValueError(f"{name} must have shape {want}, got {tuple(x.shape)}")
    return x


def training_error(
    x: torch.Tensor, y: torch.Tensor, P: torch.Tensor | None = None, loss: str = "mse"
) -> torch.Tensor:
    """``phi(x) = (1/N) sum_i loss(P x_i, y_i)``, for states of shape ``(..., N, d)``.

    ``P`` is the fixed output map ``R^d -> R^m``, shape ``(m, d)``; ``None`` reads the
    first coordinate (``m = 1``). ``loss="mse"``: ``|P x_i - y_i|^2``;
    ``loss="logistic"``: ``log(1 + exp(-y_i P x_i))`` for labels ``y_i = +-1`` (the
    source prints ``log(1 + e^{x y})``, whose sign penalises correct answers).
    Raises ``ValueError`` for non-finite data or an error that overflows.
    """
    x = _check_states("x", x)
    y, P = _check_targets(x, y, P, loss)
    out = _training_error(x, y, P, loss)
    if not all_finite(out):
        raise ValueError("the training error overflows: x, y or P are too large")
    return out


def _training_error(x: torch.Tensor, y: torch.Tensor, P: torch.Tensor | None, loss: str) -> torch.Tensor:
    """:func:`training_error` without validation (inside training loops)."""
    px = x[..., :1] if P is None else x @ P.to(x).mT
    if y.ndim == 1:
        y = y[:, None]
    y = y.to(px)
    if loss == "mse":
        return ((px - y) ** 2).sum(-1).mean(-1)
    return torch.nn.functional.softplus(-y * px).sum(-1).mean(-1)


def running_cost(
    traj: torch.Tensor, y: torch.Tensor, T: float, P: torch.Tensor | None = None, loss: str = "mse"
) -> torch.Tensor:
    """``int_0^T phi(x(t)) dt`` by the trapezoidal rule on the ``L + 1 >= 2`` recorded states (SL*)."""
    traj = _check_states("traj", traj, 3)
    if traj.shape[0] < 2:
        raise ValueError(f"traj must hold at least two states (L + 1 >= 2), got shape {tuple(traj.shape)}")
    y, P = _check_targets(traj, y, P, loss)
    out = _running_cost(traj, y, check_positive("T", T), P, loss)
    if not bool(torch.isfinite(out)):
        raise ValueError("the running cost overflows: traj, y, T or P are too large")
    return out


def _running_cost(
    traj: torch.Tensor, y: torch.Tensor, T: float, P: torch.Tensor | None, loss: str
) -> torch.Tensor:
    """:func:`running_cost` without validation (inside training loops)."""
    phi = _training_error(traj, y, P, loss)
    h = T / (traj.shape[0] - 1)
    return h * (phi.sum() - 0.5 * (phi[0] + phi[-1]))


# --- bounds and constructions --------------------------------------------------------


def interpolation_weight_bound(x0: torch.Tensor, x1: torch.Tensor, lip: float = 1.0) -> torch.Tensor:
    """``(1 / Lip sigma) max_{i != j} |log(|x1_i - x1_j| / |x0_i - x0_j|)|`` (claim TURN-7).

    Along either system, ``d/dt |x_i - x_j| <= Lip(sigma) ||w(t)|| |x_i - x_j|`` and the
    same from below, so every control that moves ``x0`` to ``x1`` has
    ``int ||w|| dt >=`` this value. (The source writes the constant as a factor
    ``L_sigma``; it is a divisor.)
    """
    x0, x1 = as_real_tensor("x0", x0), as_real_tensor("x1", x1)
    if x0.shape != x1.shape or x0.ndim != 2:
        raise ValueError(f"x0 and x1 must both have shape (N, d), got {tuple(x0.shape)}, {tuple(x1.shape)}")
    if x0.shape[0] < 2:
        raise ValueError(f"x0 and x1 must hold at least two points, got shape {tuple(x0.shape)}")
    lip = check_positive("lip", lip)
    n = x0.shape[0]
    i, j = torch.triu_indices(n, n, 1)
    d0 = (x0[i] - x0[j]).norm(dim=1)
    d1 = (x1[i] - x1[j]).norm(dim=1)
    if bool((d0 == 0).any()) or bool((d1 == 0).any()):
        raise ValueError("the points must be pairwise distinct (a flow cannot merge or split points)")
    out = torch.log(d1 / d0).abs().max() / lip
    if not bool(torch.isfinite(out)):
        raise ValueError("the distance ratios |x1_i - x1_j| / |x0_i - x0_j| overflow: x0 or x1 too large")
    return out


def steer(
    x0: torch.Tensor,
    x1: torch.Tensor,
    T: float,
    activation: str = "tanh",
    substeps: int = 64,
    iters: int = 30,
    tol: float = 1e-12,
) -> Controls:
    """A constant weight ``w`` with ``x(T) = x1`` for ``x' = diag(w) sigma(x)`` (claim TURN-9).

    ``diag(w)`` is the block-diagonal operator applying the same ``w in R^{d x d}`` to
    every point, ``x_i' = w sigma(x_i)``. Solves ``x(T; w) = x1`` by minimum-norm
    Gauss--Newton (``d^2`` unknowns, ``N d`` equations, ``N <= d``) from ``w = 0``,
    the Jacobian of the RK4 flow by autograd. The linearization at ``w = 0`` is
    ``dw -> T (dw sigma(x_i))_i``, onto when ``sigma(x_1), ..., sigma(x_N)`` are linearly
    independent: this is why the theorem needs ``N <= d``.

    Raises ``ValueError`` if the iteration does not reach ``|x(T) - x1| < sqrt(tol)`` (``tol > 0``)
    within ``iters`` steps, and :class:`~gradflows.DivergenceError` if the flow blows up on the way.
    """
    x0, x1 = as_real_tensor("x0", x0), as_real_tensor("x1", x1)
    if x0.shape != x1.shape or x0.ndim != 2:
        raise ValueError(f"x0 and x1 must both have shape (N, d), got {tuple(x0.shape)}, {tuple(x1.shape)}")
    n, d = x0.shape
    if n > d:
        raise ValueError(f"steer needs N <= d (got N = {n} points in R^{d})")
    T = check_positive("T", T)
    _activation(activation)
    substeps, iters = check_int("substeps", substeps), check_int("iters", iters)
    tol = check_positive("tol", tol)

    def endpoint(wvec: torch.Tensor) -> torch.Tensor:
        c = Controls._trusted(wvec.reshape(1, d, d), None, T)
        return _flow(c, x0, "outer", activation, "rk4", substeps, False, progress=None).last.reshape(-1)

    return _steer(endpoint, x0, x1, T, d, iters, tol)


def _steer(endpoint, x0, x1, T, d, iters, tol) -> Controls:
    """The Gauss--Newton iterations of :func:`steer`."""
    w = torch.zeros(d * d, dtype=x0.dtype, device=x0.device)
    target = x1.reshape(-1).to(w)
    for _ in range(iters):
        r = endpoint(w) - target
        if float(r.norm()) ** 2 < tol:
            return Controls(w.reshape(1, d, d), None, T)
        Jac = torch.autograd.functional.jacobian(endpoint, w)
        w = w - torch.linalg.pinv(Jac) @ r  # minimum-norm Gauss-Newton step
    r = endpoint(w) - target
    if float(r.norm()) ** 2 < tol:
        return Controls(w.reshape(1, d, d), None, T)
    raise ValueError(
        f"steer did not converge (residual {float(r.norm()):.2e}): x0 is too far from x1 "
        "or sigma(x1_i) are nearly linearly dependent"
    )
