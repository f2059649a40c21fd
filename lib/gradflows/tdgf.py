"""Time-stepping deep gradient flows (TDGF) for pricing PDEs.

For a model of :mod:`gradflows.pricing_pdes`, ``u_tau = div(A grad u) - r u - b . grad u``,
``u(0) = payoff``, the TDGF takes ``n_steps`` implicit–explicit steps of size ``h = T / n_steps``;
step ``k`` trains a network (warm-started from step ``k - 1``) to minimize the energy

    I^k(u) = int [ (u - U^{k-1})^2 / 2 + h ( grad u^T A grad u / 2 + r u^2 / 2 + (b . grad U^{k-1}) u ) ] dx

(:func:`tdgf_energy`): first derivatives only. The Deep Galerkin Method (:mod:`gradflows.dgm`)
uses the same network class (:func:`make_net`), integration points and optimizers, so that
comparisons are fair (claims TDGF-5 and TDGF-6); :mod:`gradflows.finite_elements` solves the same
time stepping with P1 finite elements, the reference for the time discretization (claim TDGF-2).

Integration points: ``sampling="grid"`` is the tensor midpoint rule (low dimension),
``"mc"`` uniform samples (any dimension). Optimizers: ``"lbfgs"`` on a fixed set of points
(fresh ones at every time step for ``"mc"``), ``"adam"`` with fresh samples every iteration for
``"mc"`` (the original paper's setting).
Notebooks ``05-tdgf/01-pdes-and-energies`` to ``05-tdgf/04-why-training-converges``.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from ._training import OPTIMIZERS, minimize
from ._validation import (
    all_finite,
    as_tensor,
    check_bool,
    check_callable,
    check_choice,
    check_finite,
    check_generator,
    check_instance,
    check_int,
    check_memory,
    check_nonnegative,
    check_positive,
    check_real,
)
from .device import _check_device, show_progress
from .nets import DGMNet
from .pricing_pdes import PricingPDE, _dtype, _real_array, check_model

__all__ = [
    "make_net",
    "value_and_grad",
    "tdgf_energy",
    "TDGFResult",
    "tdgf_solve",
]

_OUTPUTS = ("plain", "bound")
_ADVICE = "lower lr or check the model"


def make_net(
    model: PricingPDE,
    width: int = 50,
    layers: int = 3,
    time_input: float | None = None,
    gated: bool = True,
    center: Sequence[float] | None = None,
    scale: Sequence[float] | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> DGMNet:
    """A :class:`~gradflows.nets.DGMNet` for the model's state variables (and ``tau`` first when
    ``time_input = T``, for the DGM, normalized from ``[0, T]`` to ``[-1, 1]``).

    The state is normalized as ``(x - center) / scale``; the default maps the domain box to
    ``[-1, 1]``. A scale of the order of the region of interest (e.g. ``center = K``,
    ``scale = K / 2`` for the price) makes the initial features resolve the strike better.
    """
    model = check_model(model)
    width, layers = check_int("width", width), check_int("layers", layers, minimum=0)
    gated = check_bool("gated", gated)
    dtype, device = _dtype(dtype), _check_device("device", device)
    d_in = model.dim + (time_input is not None)
    per_layer = 4 * width * width + 4 * width * (d_in + 1) if gated else width * (width + 1)
    check_memory(
        f"a network of width {width} and {layers} layers", width * (d_in + 2) + 1 + layers * per_layer, dtype
    )
    lo, hi = np.array(model.lo), np.array(model.hi)
    center = (lo + hi) / 2 if center is None else _real_array("center", center)
    scale = (hi - lo) / 2 if scale is None else _real_array("scale", scale)
    if center.shape != (model.dim,) or scale.shape != (model.dim,):
        raise ValueError(
            f"center and scale must have {model.dim} entries, got {center.tolist()}, {scale.tolist()}"
        )
    if not (scale > 0).all():
        raise ValueError(f"scale must be positive, got {scale.tolist()}")
    if time_input is not None:
        T = check_positive("time_input", time_input)
        center, scale = np.r_[T / 2, center], np.r_[T / 2, scale]
    return DGMNet(
        len(center), width, layers, center.tolist(), scale.tolist(), gated, dtype=dtype, device=device
    )


def _tensor(name: str, x, like: torch.Tensor | None = None, ndim: int | None = None) -> torch.Tensor:
    """A finite real tensor: tensors keep their dtype (no cast); numbers and lists take ``like``'s."""
    t = as_tensor(name, x) if isinstance(x, torch.Tensor) or like is None else as_tensor(name, x, like=like)
    if ndim is not None and t.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {tuple(t.shape)}")
    return check_finite(name, t)


def value_and_grad(fn, x: torch.Tensor, create_graph: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(u(x), grad u(x))`` by one backward pass; ``fn`` maps ``(n, d)`` to ``(n,)``."""
    check_callable("fn", fn)
    x = _tensor("x", x, ndim=2)
    create_graph = check_bool("create_graph", create_graph)
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        u = fn(xg)
        if not isinstance(u, torch.Tensor) or u.shape != (x.shape[0],):
            shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
            raise ValueError(
                f"fn must map x {tuple(x.shape)} to a tensor of shape ({x.shape[0]},), got {shape}"
            )
        if not u.requires_grad:
            raise ValueError("fn(x) must be differentiable in x (it does not depend on x through autograd)")
        (g,) = torch.autograd.grad(u.sum(), xg, create_graph=create_graph, allow_unused=True)
    if g is None:
        g = torch.zeros_like(xg)
    if not (all_finite(u) and all_finite(g)):
        raise ValueError("fn(x) or its gradient is not finite at these x")
    return (u, g) if create_graph else (u.detach(), g.detach())


def _value_and_grad(fn, x, create_graph=False):
    """:func:`value_and_grad` without the checks (the training loops)."""
    with torch.enable_grad():
        xg = x.detach().requires_grad_(True)
        u = fn(xg)
        (g,) = torch.autograd.grad(u.sum(), xg, create_graph=create_graph)
    return (u, g) if create_graph else (u.detach(), g.detach())


def _output(net, model, output, tau):
    if output == "plain":
        return net
    return lambda x: model._lower_bound(x, tau) + torch.nn.functional.softplus(net(x))


def _points(model, sampling, points, generator, dtype, device):
    if sampling == "grid":
        return model._grid(points, dtype, device, name="points")
    return model._sample(points, generator, dtype, device, name="points")


def _check_common(sampling, optimizer, iters, generator, lr):
    if not isinstance(sampling, str):
        raise TypeError(f"sampling must be 'grid' or 'mc', got {sampling!r}")
    check_choice("sampling", sampling, ("grid", "mc"))
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_int("iters", iters)
    check_positive("lr", lr)
    check_generator(generator, torch.device("cpu"), "the samples (drawn on the CPU)")


def _check_net(net) -> torch.nn.Module:
    """``net`` if it is a torch module with floating-point parameters (it is trained in place)."""
    check_instance("net", net, torch.nn.Module)
    p0 = next(net.parameters(), None)
    if p0 is None or p0.dtype not in (torch.float32, torch.float64):
        raise TypeError("net must have float32 or float64 parameters (it is trained in place)")
    return net


def tdgf_energy(
    u: torch.Tensor,
    grad_u: torch.Tensor,
    u_prev: torch.Tensor,
    F_prev: torch.Tensor,
    A: torch.Tensor,
    weights: torch.Tensor,
    h: float,
    r: float,
) -> torch.Tensor:
    """Quadrature of the TDGF step energy at points ``x_q`` with weights ``w_q``::

        I^k(u) = sum_q w_q [ (u - U^{k-1})^2 / 2 + h ( grad u^T A grad u / 2 + r u^2 / 2 + F(U^{k-1}) u ) ],

    ``F(U^{k-1}) = b . grad U^{k-1}`` (the explicit part). Its minimizer over all functions solves
    the implicit–explicit step ``(U^k - U^{k-1}) / h = div(A grad U^k) - r U^k - F(U^{k-1})``
    with natural boundary conditions (claims TDGF-3, TDGF-4, notebook ``05-tdgf/01-pdes-and-energies``).
    Shapes: ``u, u_prev, F_prev, weights`` ``(n,)``; ``grad_u`` ``(n, d)``; ``A`` ``(n, d, d)``.
    Tensors keep their dtype; lists and numbers are converted to the dtype of ``u``.
    """
    u = _tensor("u", u, ndim=1)
    grad_u, A = (_tensor(name, t, like=u) for name, t in (("grad_u", grad_u), ("A", A)))
    u_prev, F_prev, weights = (
        _tensor(name, t, like=u) for name, t in (("u_prev", u_prev), ("F_prev", F_prev), ("weights", weights))
    )
    n = u.shape[0]
    if grad_u.ndim != 2 or grad_u.shape[0] != n or A.shape != (n, grad_u.shape[1], grad_u.shape[1]):
        raise ValueError(
            f"grad_u must be (n, d) and A (n, d, d) with n={n}; got {tuple(grad_u.shape)}, {tuple(A.shape)}"
        )
    for name, t in (("u_prev", u_prev), ("F_prev", F_prev), ("weights", weights)):
        if t.shape != u.shape:
            raise ValueError(f"{name} must have the shape of u {tuple(u.shape)}, got {tuple(t.shape)}")
    h, r = check_positive("h", h), check_real("r", r)
    if grad_u.dtype != A.dtype:  # einsum needs one dtype
        common = torch.promote_types(grad_u.dtype, A.dtype)
        grad_u, A = grad_u.to(common), A.to(common)
    energy = _tdgf_energy(u, grad_u, u_prev, F_prev, A, weights, h, r)
    if not bool(torch.isfinite(energy)):
        raise ValueError("the step energy is not finite: the inputs or h are too large (it overflows)")
    return energy


def _tdgf_energy(u, grad_u, u_prev, F_prev, A, weights, h, r):
    """:func:`tdgf_energy` without the checks (the training loops)."""
    quad = torch.einsum("ni,nij,nj->n", grad_u, A, grad_u)
    dens = 0.5 * (u - u_prev) ** 2 + h * (0.5 * quad + 0.5 * r * u**2 + F_prev * u)
    return (weights * dens).sum()


class _StepData:
    """Points, weights, ``U^{k-1}``, ``F(U^{k-1}) = b . grad U^{k-1}`` and ``A`` for the energy of one step.

    Fixed points are evaluated once; with ``fresh=True`` (Adam on Monte Carlo samples) every
    iteration after the first draws new samples.
    """

    def __init__(self, model, prev_fn, x, w, fresh, points, generator):
        self.model, self.prev_fn, self.fresh = model, prev_fn, fresh
        self.points, self.generator = points, generator
        self.first = self._evaluate(x, w)

    def _evaluate(self, xq, wq):
        m = self.model
        if self.prev_fn is None:
            up, gp = m._payoff(xq), m._payoff_grad(xq)
        else:
            up, gp = _value_and_grad(self.prev_fn, xq)
        return xq, wq, up, (m._b(xq) * gp).sum(1), m._A(xq), gp

    def __call__(self, i):
        if self.fresh and i > 0:
            x0 = self.first[0]
            return self._evaluate(
                *_points(self.model, "mc", self.points, self.generator, x0.dtype, x0.device)
            )
        return self.first


@dataclass
class TDGFResult:
    """Networks of every time step of :func:`tdgf_solve` and what training cost.

    ``taus[k] = k h``; ``states[k-1]`` holds the parameters of the network trained at step ``k``;
    ``energies[k-1]`` the loss history of step ``k``; ``seconds[k-1]`` its wall time. In the
    increment form (``increments=True``) the network of step ``k >= 2`` is the increment ``N^k``
    and ``U^k = U^1 + c (N^2 + ... + N^k)`` with ``c = increment_scale``.
    """

    model: PricingPDE
    net: torch.nn.Module
    output: str
    taus: list[float]
    states: list[dict] = field(default_factory=list)
    energies: list[list[float]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    increment_scale: float | None = None

    def __post_init__(self) -> None:
        check_model(self.model)
        _check_net(self.net)
        if not isinstance(self.output, str):
            raise TypeError(f"output must be one of {_OUTPUTS}, got {self.output!r}")
        check_choice("output", self.output, _OUTPUTS)
        if isinstance(self.seconds, torch.Tensor | np.ndarray):
            self.seconds = _real_array("seconds", self.seconds, ndim=1, nonempty=False).tolist()
        for name in ("states", "energies", "seconds"):
            value = getattr(self, name)
            if not isinstance(value, list):
                raise TypeError(f"{name} must be a list (one entry per step), got {type(value).__name__}")
        n = len(self.states)
        if len(self.energies) != n or len(self.seconds) != n:
            raise ValueError(
                f"states, energies and seconds must have one entry per step, got lengths "
                f"{n}, {len(self.energies)}, {len(self.seconds)}"
            )
        taus = _real_array("taus", self.taus, ndim=1)
        if taus[0] < 0 or not (np.diff(taus) > 0).all() or taus.size < n + 1:
            raise ValueError(
                f"taus must be increasing, >= 0, with at least {n + 1} entries; got {taus.tolist()}"
            )
        self.taus = taus.tolist() if not isinstance(self.taus, list) else self.taus
        keys = set(self.net.state_dict())
        for k, state in enumerate(self.states, 1):
            if not isinstance(state, Mapping) or set(state) != keys:
                raise ValueError(f"states[{k - 1}] must be a state dict of net (the parameters of step {k})")
        for k, (hist, sec) in enumerate(zip(self.energies, self.seconds, strict=True), 1):
            if not isinstance(hist, list):
                raise TypeError(f"energies[{k - 1}] must be a list of losses, got {type(hist).__name__}")
            check_nonnegative(f"seconds[{k - 1}]", sec)
        if not math.isfinite(sum(self.seconds)):
            raise ValueError("seconds must add up to a finite total")
        if self.increment_scale is not None:
            self.increment_scale = check_positive("increment_scale", self.increment_scale)

    def _check_k(self, k: int) -> int:
        n = len(self.states)
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise TypeError(f"k must be an integer in 1..{n} (or -1), got {k!r} ({type(k).__name__})")
        k = n if k == -1 else k
        if not 1 <= k <= n:
            raise ValueError(f"k must be an integer in 1..{n} (or -1), got {k!r}")
        return int(k)

    def function(self, k: int = -1):
        """``U^k`` as a function of ``x`` (frozen copies of the networks), differentiable in ``x``."""
        k = self._check_k(k)
        nets = []
        for j in range(1 if self.increment_scale is not None else k, k + 1):
            net = copy.deepcopy(self.net)
            net.load_state_dict(self.states[j - 1])
            nets.append(net.requires_grad_(False))
        first = _output(nets[0], self.model, self.output, self.taus[k if len(nets) == 1 else 1])
        if len(nets) == 1:
            return first
        c = self.increment_scale

        def u(x):
            return first(x) + c * sum(net(x) for net in nets[1:])

        return u

    def price(self, x: torch.Tensor, k: int = -1) -> torch.Tensor:
        """``U^k(x)`` (default: the last step, ``tau = T``), shape ``(n,)``."""
        u = self.function(k)
        x = self.model.x_like(x, next(self.net.parameters()))
        with torch.no_grad():
            value = u(x)
        if not all_finite(value):
            raise ValueError("the price is not finite at these x (x too large for the network)")
        return value

    @property
    def total_seconds(self) -> float:
        return float(sum(self.seconds))


def _zero_output_layer(net: torch.nn.Module) -> torch.nn.Module:
    """A copy of ``net`` whose last linear layer is zero, so that it starts as the zero function."""
    inc = copy.deepcopy(net)
    last = [m for m in inc.modules() if isinstance(m, torch.nn.Linear)]
    if not last:
        raise ValueError("increments=True needs a network whose output is a torch.nn.Linear layer")
    with torch.no_grad():
        last[-1].weight.zero_()
        if last[-1].bias is not None:
            last[-1].bias.zero_()
    return inc


def _check_output(model, output, increments, increment_scale) -> float:
    """Checks ``output`` and the increment form of :func:`tdgf_solve`; returns ``increment_scale``."""
    if not isinstance(output, str):
        raise TypeError(f"output must be one of {_OUTPUTS}, got {output!r}")
    check_choice("output", output, _OUTPUTS)
    if output == "bound":
        model.lower_bound(torch.ones(1, model.dim, dtype=torch.float64), 0.0)  # raises if the model has none
    increments = check_bool("increments", increments)
    if increments and output != "plain":
        raise ValueError("increments=True needs output='plain' (an increment has no lower bound)")
    return check_positive("increment_scale", increment_scale)


def _fit_payoff(net, model, output, x, w, fit_iters, optimizer, lr) -> None:
    """Least-squares fit of the network to the payoff ``U^0`` on the points of step 1 (warm start)."""
    if not fit_iters:
        return
    target = model._payoff(x)
    fit = _output(net, model, output, 0.0)
    minimize(
        net.parameters(),
        lambda i: ((fit(x) - target) ** 2 * w).sum(),
        fit_iters,
        optimizer,
        lr,
        desc="the payoff fit",
    )


def tdgf_solve(
    model: PricingPDE,
    T: float = 1.0,
    n_steps: int = 10,
    iters: int = 100,
    points: int | Sequence[int] = 1000,
    sampling: str = "grid",
    optimizer: str = "lbfgs",
    lr: float = 1e-3,
    net: torch.nn.Module | None = None,
    output: str = "plain",
    first_iters: int | None = None,
    fit_iters: int | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    callback=None,
    increments: bool = False,
    increment_scale: float = 1.0,
) -> TDGFResult:
    """Solve the pricing PDE up to ``tau = T`` by ``n_steps`` TDGF steps.

    ``net`` (default :func:`make_net` of the model, float64 on the CPU) is trained in place and
    warm-started from step to step; a copy of its parameters is kept for every step. Before step 1
    it is fitted to the payoff by least squares (``fit_iters`` iterations, default ``iters``; 0 skips
    the fit). Step 1 runs ``first_iters`` iterations (default ``iters``): its solution is still
    nearly the kinked payoff and is the hardest to represent. ``callback(k, net)``, if given, is
    called after every step with the network trained at that step.

    ``increments=True`` (the increment form) keeps ``U^{k-1}`` frozen from step 2 on and trains
    only the increment: ``U^k = U^{k-1} + c N^k`` with ``c = increment_scale``, where ``N^k``
    starts as a copy of the previous step's network with its output layer set to zero (so
    ``U^k`` starts at ``U^{k-1}``, as in the warm start). The energy is the same; the network now
    represents ``U^k - U^{k-1} = O(h)``, so its relative error costs ``h`` times less.
    ``output="bound"`` uses ``(S - K e^{-r tau})^+ + softplus(net)`` (the original paper's network).
    Returns a :class:`TDGFResult`. Raises ``ValueError`` or ``TypeError`` for bad arguments (all
    checked before any training) and ``gradflows.DivergenceError`` if the energy becomes NaN.
    """
    model = check_model(model)
    T = check_positive("T", T)
    n_steps = check_int("n_steps", n_steps)
    _check_common(sampling, optimizer, iters, generator, lr)
    c = _check_output(model, output, increments, increment_scale)
    net = make_net(model) if net is None else _check_net(net)
    fit_iters = iters if fit_iters is None else check_int("fit_iters", fit_iters, minimum=0)
    first_iters = iters if first_iters is None else check_int("first_iters", first_iters)
    if callback is not None:
        check_callable("callback", callback)
    show_progress(progress, 0)  # checks progress
    p0 = next(net.parameters())
    dtype, device = p0.dtype, p0.device
    per_step = sum(v.numel() for v in net.state_dict().values()) + 4  # a state dict, tau, time, energies
    check_memory(f"the networks of n_steps={n_steps} steps (one state per step)", n_steps * per_step, dtype)
    h = T / n_steps
    taus = [k * h for k in range(n_steps + 1)]
    if not math.isfinite(taus[-1]):
        raise ValueError(f"T / n_steps * n_steps overflows for T={T!r}")
    res = TDGFResult(model, net, output, taus, increment_scale=c if increments else None)

    # U^0 = payoff: fit it (warm start for step 1), on the points of step 1
    x, w = _points(model, sampling, points, generator, dtype, device)
    _fit_payoff(net, model, output, x, w, fit_iters, optimizer, lr)
    prev = None  # U^{k-1} as a function; None while U^{k-1} is the payoff itself
    bar = None
    if show_progress(progress, n_steps * iters):
        bar = tqdm(total=first_iters + (n_steps - 1) * iters, desc="TDGF iterations", leave=False)
    try:
        for k in range(1, n_steps + 1):
            t0 = time.perf_counter()
            if k > 1 and sampling == "mc":
                x, w = _points(model, sampling, points, generator, dtype, device)
            data = _StepData(model, prev, x, w, sampling == "mc" and optimizer == "adam", points, generator)
            if increments and k > 1:
                net = _zero_output_layer(net)
                loss = _increment_loss(data, net, c, h, model.r)
            else:
                loss = _step_loss(data, _output(net, model, output, res.taus[k]), h, model.r)
            n_it = first_iters if k == 1 else iters
            loss, done = _counted(loss, bar, n_it)
            hist = minimize(
                net.parameters(), loss, n_it, optimizer, lr, desc=f"TDGF step {k}", advice=_ADVICE
            )
            done()
            res.states.append({k_: v.detach().clone() for k_, v in net.state_dict().items()})
            res.energies.append(hist)
            res.seconds.append(time.perf_counter() - t0)
            prev = res.function(k)
            if callback is not None:
                callback(k, net)
    finally:
        if bar is not None:
            bar.close()
    return res


def _counted(loss, bar, budget: int):
    """``loss``, advancing the progress ``bar`` (if any) by one per evaluation, ``budget`` times at
    most (L-BFGS may evaluate more often than it iterates); and a function to call after the run,
    which advances the bar over the iterations that were not needed."""
    if bar is None:
        return loss, lambda: None
    seen = [0]

    def counted(i):
        if seen[0] < budget:
            seen[0] += 1
            bar.update(1)
        return loss(i)

    return counted, lambda: bar.update(budget - seen[0])


def _step_loss(data, u_fn, h, r):
    """The step energy of the network ``u_fn`` itself (the plain form)."""

    def loss(i):
        xq, wq, up, Fp, A, _ = data(i)
        u, g = _value_and_grad(u_fn, xq, create_graph=True)
        return _tdgf_energy(u, g, up, Fp, A, wq, h, r)

    return loss


def _increment_loss(data, inc, c, h, r):
    """The step energy of ``U^{k-1} + c inc``, with ``U^{k-1}`` and its gradient taken from the step data."""

    def loss(i):
        xq, wq, up, Fp, A, gp = data(i)
        v, gv = _value_and_grad(inc, xq, create_graph=True)
        return _tdgf_energy(up + c * v, gp + c * gv, up, Fp, A, wq, h, r)

    return loss
