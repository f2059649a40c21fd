"""The Deep Galerkin Method (DGM) for pricing PDEs, and what one iteration costs against the TDGF.

For a model of :mod:`gradflows.pricing_pdes`, the DGM trains one network ``u(tau, x)`` on the
squared residual of ``u_tau = tr(A D^2 u) + mu . grad u - r u`` (:func:`dgm_residual`) over
``[0, T] x`` the box, plus the initial condition (and, on a grid, the zero-flux condition on the
faces): the Hessian makes an iteration cost about ``d`` times more than a TDGF iteration, which
needs first derivatives only (:func:`time_per_iteration`, claim TDGF-6). It uses the networks,
integration points and optimizers of :mod:`gradflows.tdgf`, so that comparisons are fair.
Notebooks ``05-tdgf/02-tdgf-vs-dgm`` and ``05-tdgf/03-dimension``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from ._training import minimize
from ._validation import (
    all_finite,
    check_bool,
    check_callable,
    check_choice,
    check_generator,
    check_int,
    check_memory,
    check_nonnegative,
    check_positive,
    check_real,
)
from .device import _check_device, show_progress
from .pricing_pdes import PricingPDE, _dtype, _real_array, check_model
from .tdgf import (
    _ADVICE,
    _check_common,
    _check_net,
    _counted,
    _points,
    _tdgf_energy,
    _tensor,
    _value_and_grad,
    make_net,
    value_and_grad,
)

__all__ = [
    "DGMResult",
    "dgm_residual",
    "dgm_loss",
    "dgm_solve",
    "time_per_iteration",
    "best_seconds",
    "cost_sweep",
    "cost_report",
]


def dgm_residual(
    u_t: torch.Tensor,
    grad_u: torch.Tensor,
    hess_u: torch.Tensor,
    u: torch.Tensor,
    A: torch.Tensor,
    mu: torch.Tensor,
    r: float,
) -> torch.Tensor:
    """Pointwise residual of the pricing PDE in non-divergence form (the Deep Galerkin Method)::

        u_tau - tr(A D^2 u) - mu . grad u + r u.

    The DGM loss is its mean square over ``[0, T] x Omega`` plus the initial misfit; the Hessian
    ``hess_u`` ``(n, d, d)`` is what makes each iteration cost ``d`` extra backward passes
    (claim TDGF-6, notebook ``05-tdgf/03-dimension``). Shapes: ``u_t``, ``u`` ``(n,)``;
    ``grad_u``, ``mu`` ``(n, d)``; ``hess_u``, ``A`` ``(n, d, d)``. Tensors keep their dtype;
    lists and numbers are converted to the dtype of ``u``.
    """
    u = _tensor("u", u, ndim=1)
    u_t = _tensor("u_t", u_t, like=u)
    grad_u, hess_u, A, mu = (
        _tensor(name, t, like=u) for name, t in (("grad_u", grad_u), ("hess_u", hess_u), ("A", A), ("mu", mu))
    )
    n = u.shape[0]
    if u_t.shape != u.shape:
        raise ValueError(f"u_t must have the shape of u {tuple(u.shape)}, got {tuple(u_t.shape)}")
    if grad_u.ndim != 2 or grad_u.shape[0] != n:
        raise ValueError(f"grad_u must have shape (n, d) with n={n}, got {tuple(grad_u.shape)}")
    d = grad_u.shape[1]
    if hess_u.shape != A.shape or grad_u.shape != mu.shape or A.shape != (n, d, d):
        raise ValueError(
            f"hess_u and A must have shape (n, d, d) = ({n}, {d}, {d}) and mu the shape of grad_u; got "
            f"{tuple(hess_u.shape)}, {tuple(A.shape)} and {tuple(mu.shape)}"
        )
    res = _dgm_residual(u_t, grad_u, hess_u, u, A, mu, check_real("r", r))
    if not all_finite(res):
        raise ValueError("the residual is not finite: the inputs are too large (it overflows)")
    return res


def _dgm_residual(u_t, grad_u, hess_u, u, A, mu, r):
    """:func:`dgm_residual` without the checks (the training loop)."""
    return u_t - (A * hess_u).sum((1, 2)) - (mu * grad_u).sum(1) + r * u


@dataclass
class DGMResult:
    """The trained DGM network ``u(tau, x)``, its loss history and wall time."""

    model: PricingPDE
    net: torch.nn.Module
    T: float
    losses: list[float]
    seconds: float

    def __post_init__(self) -> None:
        check_model(self.model)
        _check_net(self.net)
        self.T = check_positive("T", self.T)
        if isinstance(self.losses, torch.Tensor | np.ndarray):
            self.losses = _real_array("losses", self.losses, ndim=1, nonempty=False).tolist()
        if not isinstance(self.losses, list):
            raise TypeError(f"losses must be a list of numbers, got {type(self.losses).__name__}")
        for i, v in enumerate(self.losses):
            check_real(f"losses[{i}]", v)
        self.seconds = check_nonnegative("seconds", self.seconds)

    def price(self, x: torch.Tensor, tau: float | None = None) -> torch.Tensor:
        """``u(tau, x)`` (default ``tau = T``), shape ``(n,)``."""
        x = self.model.x_like(x, next(self.net.parameters()))
        tau = self.T if tau is None else check_nonnegative("tau", tau)
        with torch.no_grad():
            value = self.net(torch.cat([torch.full_like(x[:, :1], tau), x], 1))
        if not all_finite(value):
            raise ValueError("the price is not finite at these x (x too large for the network)")
        return value


def _check_dgm_points(model, sampling, points, dtype) -> None:
    """``points``: ``(n_tau, n_1, ..., n_d)`` for ``sampling="grid"``, a number of samples for ``"mc"``."""
    if sampling == "grid":
        if (
            not isinstance(points, Sequence | np.ndarray)
            or isinstance(points, str)
            or len(points) != model.dim + 1
        ):
            raise ValueError(f"sampling='grid' needs {model.dim + 1} grid sizes (tau first), got {points!r}")
        sizes = [check_int(f"points[{i}]", m) for i, m in enumerate(points)]
        numel = math.prod(sizes) * (model.dim + 2)
        check_memory(f"a grid of {' x '.join(map(str, sizes))} points", numel, dtype)
    else:
        n = check_int("points", points)
        check_memory(f"points={n} samples", 2 * n * (model.dim + 2), dtype)


def _dgm_points(model, T, sampling, points, generator, dtype, device):
    """Interior points ``(tau, x)`` with weights, and initial points ``x`` with weights."""
    _check_dgm_points(model, sampling, points, dtype)
    if sampling == "grid":
        nt = int(points[0])
        taus = (torch.arange(nt, dtype=dtype) + 0.5) * T / nt
        xs, ws = model._grid(list(points[1:]), dtype, "cpu", name="points[1:]")
        inner = torch.cat([taus.repeat_interleave(xs.shape[0])[:, None], xs.repeat(nt, 1)], 1)
        return inner.to(device), (ws.repeat(nt) * T / nt).to(device), xs.to(device), ws.to(device)
    xs, ws = _points(model, "mc", points, generator, dtype, device)
    taus = T * torch.rand(int(points), 1, generator=generator, dtype=dtype).to(device)
    x0, w0 = _points(model, "mc", points, generator, dtype, device)
    return torch.cat([taus, xs], 1), ws * T, x0, w0


def dgm_loss(net, model, inner, w_inner, x0, w0, boundary=None) -> torch.Tensor:
    """The DGM energy ``sum w (u_tau - tr(A D^2 u) - mu . grad u + r u)^2 + sum w0 (u(0, x) - payoff)^2``.

    ``boundary = (zb, wb, nb)`` (points ``(tau, x)`` on the faces of the box, weights, outer
    normals) adds ``sum wb ((A grad u) . n)^2``: the zero-flux condition that the TDGF's energy
    imposes naturally, so that both methods solve the same problem on the box.
    ``net`` maps ``(n, d + 1)`` points ``(tau, x)`` to ``(n,)``; ``inner`` is ``(n, d + 1)``,
    ``x0`` ``(m, d)``, the weights ``(n,)`` and ``(m,)``. Lists are converted to the dtype of the
    network's parameters.
    """
    check_callable("net", net)
    model = check_model(model)
    d = model.dim
    like = next(net.parameters(), None) if isinstance(net, torch.nn.Module) else None
    inner, x0 = _tensor("inner", inner, like, ndim=2), _tensor("x0", x0, like, ndim=2)
    w_inner, w0 = _tensor("w_inner", w_inner, like, ndim=1), _tensor("w0", w0, like, ndim=1)
    if inner.shape[1] != d + 1 or x0.shape[1] != d:
        raise ValueError(
            f"inner must have shape (n, {d + 1}) (tau first) and x0 shape (m, {d}); "
            f"got {tuple(inner.shape)} and {tuple(x0.shape)}"
        )
    if w_inner.shape != inner.shape[:1] or w0.shape != x0.shape[:1]:
        raise ValueError(
            f"w_inner must have shape ({inner.shape[0]},) and w0 shape ({x0.shape[0]},); "
            f"got {tuple(w_inner.shape)} and {tuple(w0.shape)}"
        )
    if boundary is not None:
        if not isinstance(boundary, tuple | list) or len(boundary) != 3:
            raise TypeError(f"boundary must be None or a triple (zb, wb, nb), got {type(boundary).__name__}")
        zb, wb, nb = (_tensor(name, t, like) for name, t in zip(("zb", "wb", "nb"), boundary, strict=True))
        if zb.ndim != 2 or zb.shape[1] != d + 1 or wb.shape != zb.shape[:1] or nb.shape != (zb.shape[0], d):
            raise ValueError(
                f"boundary must hold zb (k, {d + 1}), wb (k,) and nb (k, {d}); got "
                f"{tuple(zb.shape)}, {tuple(wb.shape)}, {tuple(nb.shape)}"
            )
        boundary = (zb, wb, nb)
    with torch.no_grad():
        u = net(inner[:1])
    if not isinstance(u, torch.Tensor) or u.shape != inner[:1].shape[:1]:
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        raise ValueError(f"net must map (n, {d + 1}) points to a tensor of shape (n,), got {shape} for n = 1")
    loss = _dgm_loss(net, model, inner, w_inner, x0, w0, boundary)
    if not bool(torch.isfinite(loss)):
        raise ValueError(
            "the DGM loss is not finite: the inputs are too large or the network returns NaN/inf"
        )
    return loss


def _dgm_loss(net, model, inner, w_inner, x0, w0, boundary=None):
    """:func:`dgm_loss` without the checks (the training loop)."""
    d = model.dim
    z = inner.detach().requires_grad_(True)
    u = net(z)
    (g,) = torch.autograd.grad(u.sum(), z, create_graph=True)
    grad_x = g[:, 1:]
    hess = torch.stack(
        [torch.autograd.grad(grad_x[:, j].sum(), z, create_graph=True)[0][:, 1:] for j in range(d)], 2
    )
    x = z[:, 1:]
    res = _dgm_residual(g[:, 0], grad_x, hess, u, model._A(x), model._mu(x), model.r)
    u0 = net(torch.cat([torch.zeros_like(x0[:, :1]), x0], 1))
    loss = (w_inner * res**2).sum() + (w0 * (u0 - model._payoff(x0)) ** 2).sum()
    if boundary is not None:
        zb, wb, nb = boundary
        zb = zb.detach().requires_grad_(True)
        (gb,) = torch.autograd.grad(net(zb).sum(), zb, create_graph=True)
        flux = (torch.einsum("nij,nj->ni", model._A(zb[:, 1:]), gb[:, 1:]) * nb).sum(1)
        loss = loss + (wb * flux**2).sum()
    return loss


def _dgm_boundary(model, T, points, dtype, device):
    """Faces of the box times the midpoint rule in tau, from the grid sizes ``(n_tau, n_1, ..., n_d)``."""
    nt = int(points[0])
    taus = (torch.arange(nt, dtype=dtype) + 0.5) * T / nt
    xb, wb, nb = model._boundary_grid(list(points[1:]), dtype, "cpu", name="points[1:]")
    zb = torch.cat([taus.repeat_interleave(xb.shape[0])[:, None], xb.repeat(nt, 1)], 1)
    return zb.to(device), (wb.repeat(nt) * T / nt).to(device), nb.repeat(nt, 1).to(device)


def dgm_solve(
    model: PricingPDE,
    T: float = 1.0,
    iters: int = 1000,
    points: int | Sequence[int] = 1000,
    sampling: str = "mc",
    optimizer: str = "lbfgs",
    lr: float = 1e-3,
    net: torch.nn.Module | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    chunk: int | None = None,
    boundary: bool = False,
    callback=None,
) -> DGMResult:
    """Train one network ``u(tau, x)`` on the DGM loss (:func:`dgm_loss`) over ``[0, T] x`` domain.

    ``sampling="grid"``: ``points = (n_tau, n_1, ..., n_d)`` midpoint grid, fixed. ``"mc"``: ``points``
    uniform samples, fixed for L-BFGS (redrawn every ``chunk`` iterations if given), fresh every
    iteration for Adam. ``net`` defaults to :func:`~gradflows.tdgf.make_net` with a time input;
    a ``net`` passed in is trained in place (its parameters are changed) and returned in the result.
    ``boundary=True`` (grid sampling) adds the zero-flux condition on the faces of the box
    (:func:`dgm_loss`), the boundary condition of the TDGF's problem. ``callback(n, loss, net)``,
    if given, is called after every loss evaluation ``n`` (a fixed evaluation budget can then be
    scored without restarting the optimizer). Bad arguments raise ``ValueError`` or ``TypeError``
    before any training; a loss that becomes NaN raises ``gradflows.DivergenceError``.
    """
    model = check_model(model)
    T = check_positive("T", T)
    _check_common(sampling, optimizer, iters, generator, lr)
    if check_bool("boundary", boundary) and sampling != "grid":
        raise ValueError("boundary=True needs sampling='grid' (midpoint rule on the faces)")
    net = make_net(model, time_input=T) if net is None else _check_net(net)
    if chunk is not None:
        check_int("chunk", chunk)
    if callback is not None:
        check_callable("callback", callback)
    show_progress(progress, 0)  # checks progress
    p0 = next(net.parameters())
    _check_dgm_points(model, sampling, points, p0.dtype)
    params = list(net.parameters())
    t0 = time.perf_counter()
    losses: list[float] = []
    chunk = iters if chunk is None or optimizer == "adam" else check_int("chunk", chunk)
    rounds = range(math.ceil(iters / chunk))
    if show_progress(progress, iters) and len(rounds) > 1:
        rounds = tqdm(rounds, desc="DGM", leave=False)
    fresh = sampling == "mc" and optimizer == "adam"
    evaluations = [0]
    for _ in rounds:
        pts = [_dgm_points(model, T, sampling, points, generator, p0.dtype, p0.device)]
        bnd = _dgm_boundary(model, T, points, p0.dtype, p0.device) if boundary else None

        def loss(i, pts=pts, bnd=bnd):
            if fresh and i > 0:
                pts[0] = _dgm_points(model, T, sampling, points, generator, p0.dtype, p0.device)
            value = _dgm_loss(net, model, *pts[0], boundary=bnd)
            evaluations[0] += 1
            if callback is not None:
                callback(evaluations[0], value.item(), net)
            return value

        n_iter = iters if optimizer == "adam" else chunk
        progress_adam = show_progress(progress, iters) and fresh
        bar = None  # one run without a bar of its own: a bar over its iterations
        if show_progress(progress, iters) and len(rounds) == 1 and not progress_adam:
            bar = tqdm(total=n_iter, desc="DGM iterations", leave=False)
        counted, done = _counted(loss, bar, n_iter)
        try:
            losses += minimize(
                params, counted, n_iter, optimizer, lr, progress=progress_adam, desc="DGM", advice=_ADVICE
            )
            done()
        finally:
            if bar is not None:
                bar.close()
    return DGMResult(model, net, T, losses, time.perf_counter() - t0)


def time_per_iteration(
    model: PricingPDE,
    solver: str,
    points: int = 1000,
    width: int = 50,
    layers: int = 3,
    gated: bool = True,
    repeat: int = 5,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
) -> float:
    """Best wall time (s) of one loss + backward of ``solver`` (``"tdgf"`` or ``"dgm"``) on ``points``.

    Same network class and size for both, fresh networks, Monte Carlo points; CUDA is
    synchronized. Used by notebook ``05-tdgf/03-dimension`` and ``make bench`` (claim TDGF-6).
    """
    model = check_model(model)
    if not isinstance(solver, str):
        raise TypeError(f"solver must be 'tdgf' or 'dgm', got {solver!r}")
    check_choice("solver", solver, ("tdgf", "dgm"))
    device = _check_device("device", device)
    repeat = check_int("repeat", repeat)
    check_generator(generator, torch.device("cpu"), "the samples (drawn on the CPU)")
    _check_dgm_points(model, "mc", points, _dtype(dtype))
    net = make_net(model, width, layers, 1.0 if solver == "dgm" else None, gated, dtype=dtype, device=device)
    if solver == "dgm":
        pts = _dgm_points(model, 1.0, "mc", points, generator, dtype, device)

        def one():
            net.zero_grad()
            _dgm_loss(net, model, *pts).backward()
    else:
        x, w = model.sample(points, generator, dtype=dtype, device=device)
        up, Fp, A = model._payoff(x), (model._b(x) * model._payoff_grad(x)).sum(1), model._A(x)

        def one():
            net.zero_grad()
            u, g = _value_and_grad(net, x, create_graph=True)
            _tdgf_energy(u, g, up, Fp, A, w, 0.01, model.r).backward()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    one()
    best = math.inf
    for _ in _repeats(repeat, "timing"):
        sync()
        t0 = time.perf_counter()
        one()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def _repeats(n: int, desc: str):
    """``range(n)``, with a progress bar if ``n`` is large (``gradflows.device.show_progress``)."""
    return tqdm(range(n), desc=desc, leave=False) if show_progress(None, n) else range(n)


def best_seconds(fn, repeat: int = 3) -> float:
    """Best wall time (s) of ``fn()`` over ``repeat`` calls, after one warm-up call."""
    check_callable("fn", fn)
    repeat = check_int("repeat", repeat)
    fn()
    best = math.inf
    for _ in _repeats(repeat, "timing"):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def cost_sweep(
    models: dict,
    rounds: int,
    width: int,
    layers: int,
    points: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
) -> dict:
    """Best times over ``rounds`` interleaved rounds, for each model: forward pass, forward + input gradient
    (with ``create_graph``), one TDGF and one DGM iteration (:func:`time_per_iteration`), on fresh networks
    of the same size and ``points`` Monte Carlo points. Every round visits every model; returns
    ``{key: array([t_forward, t_grad, t_tdgf, t_dgm])}`` (seconds). Claim TDGF-6, notebooks/05-tdgf/03.
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"models must be a non-empty dict {{key: model}}, got {type(models).__name__}")
    for key, model in models.items():
        if not isinstance(model, PricingPDE):
            raise TypeError(
                f"models[{key!r}] must be a gradflows.pricing_pdes model, got {type(model).__name__}"
            )
    rounds, points = check_int("rounds", rounds), check_int("points", points)
    check_int("width", width), check_int("layers", layers, minimum=0)
    check_generator(generator, torch.device("cpu"), "the samples (drawn on the CPU)")
    device = _check_device("device", device)
    for model in models.values():  # the sizes, before any timing
        make_net(model, width, layers, device=device)
        _check_dgm_points(model, "mc", points, torch.float64)
    secs = {key: np.full(4, np.inf) for key in models}

    def one_round(model):
        net = make_net(model, width, layers, device=device)
        x, _ = model.sample(points, generator, device=device)
        t_f = best_seconds(lambda: net(x.detach().requires_grad_(True)), repeat=10)  # ~1 ms: many repeats
        t_g = best_seconds(lambda: value_and_grad(net, x, create_graph=True), repeat=10)
        kw = dict(points=points, width=width, layers=layers, device=device, generator=generator)
        return (
            t_f,
            t_g,
            time_per_iteration(model, "tdgf", repeat=5, **kw),
            time_per_iteration(model, "dgm", repeat=3, **kw),
        )

    for _ in _repeats(rounds, "rounds"):
        for key, model in models.items():
            secs[key] = np.minimum(secs[key], one_round(model))
    return secs


def cost_report(ds: Sequence[int], secs: dict) -> dict:
    """The cost model of claim TDGF-6 fitted to :func:`cost_sweep` (keys ``ds``), with its table printed.

    ``kappa = t_grad / t_forward - 1`` (cost of a reverse sweep in forward passes), the ratio
    ``t_dgm / t_tdgf``, the model ``1 + 1/(1 + kappa) + kappa d``, the least-squares line of the ratio
    in ``d`` (``scipy.stats.linregress``) and a sentence placing the model against the measurement.
    Returns them in a dict (``t_fwd, t_grad, t_tdgf, t_dgm, kappa, ratio, kbar, model_ratio, fit,
    model_off``). Used in notebooks/05-tdgf/03.
    """
    from scipy.stats import linregress

    if not isinstance(ds, Sequence | np.ndarray) or isinstance(ds, str | bytes):
        raise TypeError(f"ds must be a sequence of dimensions, got {ds!r}")
    ds = [check_int(f"ds[{i}]", d) for i, d in enumerate(ds)]
    if len(set(ds)) < 2 or len(set(ds)) != len(ds):
        raise ValueError(f"ds must hold at least two different dimensions, each once; got {ds}")
    if not isinstance(secs, Mapping):
        raise TypeError(
            f"secs must be a dict {{d: 4 times}} (the result of cost_sweep), got {type(secs).__name__}"
        )
    if set(ds) != set(secs):
        raise ValueError(f"secs must have the keys {list(ds)}, got {list(secs)}")
    for d in ds:
        t = _real_array(f"secs[{d}]", secs[d], ndim=1)
        if t.shape != (4,) or not (t > 0).all():
            raise ValueError(
                f"secs[{d}] must hold 4 positive times (forward, gradient, TDGF, DGM), got {t.tolist()}"
            )
    t_fwd, t_grad, t_tdgf, t_dgm = (np.array([secs[d][i] for d in ds]) for i in range(4))
    kappa = t_grad / t_fwd - 1
    ratio = t_dgm / t_tdgf
    kbar = np.median(
        kappa
    )  # kappa hardly depends on d (first layer only); the median ignores one disturbed entry
    model_ratio = 1 + 1 / (1 + kappa) + kappa * np.array(ds)
    fit = linregress(ds, ratio)
    print(" d | forward | fwd + grad | kappa | TDGF iter | DGM iter | ratio | model 1 + 1/(1+k) + k d")
    for i, d in enumerate(ds):
        print(
            f"{d:2d} | {1e3 * t_fwd[i]:5.2f} ms | {1e3 * t_grad[i]:6.2f} ms | {kappa[i]:.2f}  "
            f"| {1e3 * t_tdgf[i]:6.2f} ms "
            f"| {1e3 * t_dgm[i]:6.1f} ms | {ratio[i]:5.2f} | {model_ratio[i]:5.2f}"
        )
    print(
        f"fitted ratio = {fit.intercept:.2f} + {fit.slope:.3f} d  (slope standard error {fit.stderr:.3f});  "
        f"median kappa = {kbar:.3f}"
    )
    off = 100 * (model_ratio / ratio - 1)  # per cent, negative where the model is below the measurement
    if off.max() < 0:
        model_off = f"below the measured ratio at every d, by {-off.max():.0f} to {-off.min():.0f} %"
    elif off.min() > 0:
        model_off = f"above the measured ratio at every d, by {off.min():.0f} to {off.max():.0f} %"
    else:
        model_off = (
            f"between {-off.min():.0f} % below (d = {ds[np.argmin(off)]}) and {off.max():.0f} % above "
            f"(d = {ds[np.argmax(off)]}) the measured ratio"
        )
    return dict(t_fwd=t_fwd, t_grad=t_grad, t_tdgf=t_tdgf, t_dgm=t_dgm, kappa=kappa, ratio=ratio, kbar=kbar,
                model_ratio=model_ratio, fit=fit, model_off=model_off)  # fmt: skip
