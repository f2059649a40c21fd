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
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ._stepping import Trajectory, run, scheme
from ._validation import as_tensor, check_finite, check_int, check_ndim, check_positive
from .nets import ACTIVATIONS

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
    """

    w: torch.Tensor
    b: torch.Tensor | None
    T: float

    def __post_init__(self) -> None:
        check_ndim("w", self.w, 3)
        if self.w.shape[1] != self.w.shape[2]:
            raise ValueError(f"w must have shape (L, d, d), got {tuple(self.w.shape)}")
        if self.b is not None and self.b.shape != self.w.shape[:2]:
            raise ValueError(f"b must have shape {tuple(self.w.shape[:2])} (L, d), got {tuple(self.b.shape)}")
        check_positive("T", self.T)

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
        s = self.T / check_positive("T_new", T_new)
        return Controls(self.w * s, None if self.b is None else self.b * s, T_new)

    def refined(self, m: int) -> Controls:
        """The same piecewise-constant controls on ``m`` times as many layers (each cell split in ``m``)."""
        m = check_int("m", m)
        b = None if self.b is None else self.b.repeat_interleave(m, 0)
        return Controls(self.w.repeat_interleave(m, 0), b, self.T)

    def detach(self) -> Controls:
        return Controls(self.w.detach(), None if self.b is None else self.b.detach(), self.T)


def random_controls(
    d: int,
    n_layers: int,
    T: float = 1.0,
    std: float = 1.0,
    bias: bool = True,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> Controls:
    """Controls with i.i.d. ``N(0, std^2 / d)`` weights and ``N(0, std^2)`` biases on every cell."""
    d, n_layers = check_int("d", d), check_int("n_layers", n_layers)
    std = check_positive("std", std)
    dtype = dtype or torch.get_default_dtype()
    w = torch.randn(n_layers, d, d, generator=generator, dtype=dtype) * (std / math.sqrt(d))
    b = torch.randn(n_layers, d, generator=generator, dtype=dtype) * std if bias else None
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
    n_layers = check_int("n_layers", n_layers)
    T = check_positive("T", T)
    ts = [k * T / n_layers for k in range(n_layers)]
    W = torch.stack([as_tensor("w(t)", w(t)) for t in ts])
    B = None if b is None else torch.stack([as_tensor("b(t)", b(t)) for t in ts]).to(W)
    return Controls(W, B, T)


def _activation(name: str) -> Callable[[torch.Tensor], torch.Tensor]:
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


def vector_field(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, kind: str = "outer", activation: str = "tanh"
) -> torch.Tensor:
    """``f(x, u)`` for every point: ``sigma(x w^T + b)`` (inner) or ``sigma(x) w^T + b`` (outer).

    ``x`` has shape ``(..., N, d)``, ``w`` ``(d, d)``, ``b`` ``(d,)`` or ``None``.
    """
    sig = _activation(activation)
    if _check_kind(kind) == "inner":
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
    x0 = as_tensor("x0", x0)
    check_ndim("x0", x0, 2)
    if x0.shape[1] != controls.d:
        raise ValueError(f"x0 must have shape (N, {controls.d}) to match the controls, got {tuple(x0.shape)}")
    check_finite("x0", x0)
    substeps = check_int("substeps", substeps)
    step = scheme(method)
    _check_kind(kind)
    _activation(activation)
    dt = controls.h / substeps

    def cell(k: int, state):
        wk = controls.w[k]
        bk = None if controls.b is None else controls.b[k]

        def f(y):
            return (vector_field(y[0], wk, bk, kind, activation),)

        for _ in range(substeps):
            state = step(f, state, dt)
        return state

    return run(
        cell,
        (x0.to(controls.w),),
        controls.n_layers,
        names=("x",),
        dt=controls.h,
        record_every=1 if record else None,
        desc="controlled flow",
        grad=True,
        progress=False,
        check_records=False,
        advice="the controls are too large for this step size (more substeps or layers)",
    )


# --- norms of the controls ---------------------------------------------------------


def l2_norm_sq(c: Controls) -> torch.Tensor:
    """``||u||^2_{L^2(0,T)} = h sum_k |u_k|^2`` for piecewise-constant controls."""
    return c.h * (c.stacked() ** 2).sum()


def h1_norm_sq(c: Controls) -> torch.Tensor:
    """``||u||^2_{L^2} + sum_k |u_{k+1} - u_k|^2 / h``: the discrete ``H^1(0,T)`` norm.

    The second term is ``||u'||^2_{L^2}`` of the piecewise-linear interpolant of the
    cell values: it penalises jumps between consecutive layers.
    """
    u = c.stacked()
    return l2_norm_sq(c) + ((u[1:] - u[:-1]) ** 2).sum() / c.h


def l1_norm(c: Controls) -> torch.Tensor:
    """``||u||_{L^1(0,T)} = h sum_k |u_k|`` (Euclidean norm in ``R^{d_u}``, then ``L^1`` in time)."""
    return c.h * c.pointwise_norm().sum()


def weight_l1_norm(c: Controls, ord: float | str = 2) -> torch.Tensor:
    """``int_0^T ||w(t)|| dt`` with the induced matrix norm ``ord`` (2: spectral; "fro": Frobenius).

    The quantity bounded from below in claim TURN-7.
    """
    return c.h * torch.linalg.matrix_norm(c.w, ord=ord).sum()


# --- training errors ---------------------------------------------------------------


def training_error(
    x: torch.Tensor, y: torch.Tensor, P: torch.Tensor | None = None, loss: str = "mse"
) -> torch.Tensor:
    """``phi(x) = (1/N) sum_i loss(P x_i, y_i)``, for states of shape ``(..., N, d)``.

    ``P`` is the fixed output map ``R^d -> R^m``, shape ``(m, d)``; ``None`` reads the
    first coordinate (``m = 1``). ``loss="mse"``: ``|P x_i - y_i|^2``;
    ``loss="logistic"``: ``log(1 + exp(-y_i P x_i))`` for labels ``y_i = +-1`` (the
    source prints ``log(1 + e^{x y})``, whose sign penalises correct answers).
    """
    x, y = as_tensor("x", x), as_tensor("y", y)
    px = x[..., :1] if P is None else x @ as_tensor("P", P).to(x).mT
    if y.ndim == 1:
        y = y[:, None]
    if y.shape[-1] != px.shape[-1] or y.shape[-2] != px.shape[-2]:
        raise ValueError(f"y must have shape (N,) or (N, m) matching P x of shape {tuple(px.shape[-2:])}")
    y = y.to(px)
    if loss == "mse":
        return ((px - y) ** 2).sum(-1).mean(-1)
    if loss == "logistic":
        return torch.nn.functional.softplus(-y * px).sum(-1).mean(-1)
    raise ValueError(f"loss must be 'mse' or 'logistic', got {loss!r}")


def running_cost(
    traj: torch.Tensor, y: torch.Tensor, T: float, P: torch.Tensor | None = None, loss: str = "mse"
) -> torch.Tensor:
    """``int_0^T phi(x(t)) dt`` by the trapezoidal rule on the ``L + 1`` recorded states (SL*)."""
    check_ndim("traj", traj, 3)
    phi = training_error(traj, y, P, loss)
    h = check_positive("T", T) / (traj.shape[0] - 1)
    return h * (phi.sum() - 0.5 * (phi[0] + phi[-1]))


# --- bounds and constructions --------------------------------------------------------


def interpolation_weight_bound(x0: torch.Tensor, x1: torch.Tensor, lip: float = 1.0) -> torch.Tensor:
    """``(1 / Lip sigma) max_{i != j} |log(|x1_i - x1_j| / |x0_i - x0_j|)|`` (claim TURN-7).

    Along either system, ``d/dt |x_i - x_j| <= Lip(sigma) ||w(t)|| |x_i - x_j|`` and the
    same from below, so every control that moves ``x0`` to ``x1`` has
    ``int ||w|| dt >=`` this value. (The source writes the constant as a factor
    ``L_sigma``; it is a divisor.)
    """
    x0, x1 = as_tensor("x0", x0), as_tensor("x1", x1)
    if x0.shape != x1.shape or x0.ndim != 2:
        raise ValueError(f"x0 and x1 must both have shape (N, d), got {tuple(x0.shape)}, {tuple(x1.shape)}")
    lip = check_positive("lip", lip)
    n = x0.shape[0]
    i, j = torch.triu_indices(n, n, 1)
    d0 = (x0[i] - x0[j]).norm(dim=1)
    d1 = (x1[i] - x1[j]).norm(dim=1)
    if bool((d0 == 0).any()) or bool((d1 == 0).any()):
        raise ValueError("the points must be pairwise distinct (a flow cannot merge or split points)")
    return torch.log(d1 / d0).abs().max() / lip


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

    Raises ``ValueError`` if the iteration does not reach ``|x(T) - x1| < sqrt(tol)``.
    """
    x0, x1 = as_tensor("x0", x0), as_tensor("x1", x1)
    if x0.shape != x1.shape or x0.ndim != 2:
        raise ValueError(f"x0 and x1 must both have shape (N, d), got {tuple(x0.shape)}, {tuple(x1.shape)}")
    n, d = x0.shape
    if n > d:
        raise ValueError(f"steer needs N <= d (got N = {n} points in R^{d})")
    T = check_positive("T", T)

    def endpoint(wvec: torch.Tensor) -> torch.Tensor:
        c = Controls(wvec.reshape(1, d, d), None, T)
        return flow(c, x0, "outer", activation, "rk4", substeps, record=False).last.reshape(-1)

    w = torch.zeros(d * d, dtype=x0.dtype, device=x0.device)
    target = x1.reshape(-1).to(w)
    for _ in range(check_int("iters", iters)):
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
