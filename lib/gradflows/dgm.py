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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from ._training import minimize
from ._validation import check_int, check_positive
from .device import show_progress
from .pricing_pdes import PricingPDE, check_model
from .tdgf import _ADVICE, _check_common, _points, make_net, tdgf_energy, value_and_grad

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
    (claim TDGF-6, notebook ``05-tdgf/03-dimension``).
    """
    if hess_u.shape != A.shape or grad_u.shape != mu.shape:
        raise ValueError("hess_u must match A (n, d, d) and grad_u must match mu (n, d)")
    return u_t - (A * hess_u).sum((1, 2)) - (mu * grad_u).sum(1) + r * u


@dataclass
class DGMResult:
    """The trained DGM network ``u(tau, x)``, its loss history and wall time."""

    model: PricingPDE
    net: torch.nn.Module
    T: float
    losses: list[float]
    seconds: float

    def price(self, x: torch.Tensor, tau: float | None = None) -> torch.Tensor:
        """``u(tau, x)`` (default ``tau = T``), shape ``(n,)``."""
        x = self.model.x_like(x, next(self.net.parameters()))
        tau = self.T if tau is None else float(tau)
        with torch.no_grad():
            return self.net(torch.cat([torch.full_like(x[:, :1], tau), x], 1))


def _dgm_points(model, T, sampling, points, generator, dtype, device):
    """Interior points ``(tau, x)`` with weights, and initial points ``x`` with weights."""
    if sampling == "grid":
        if isinstance(points, (int, np.integer)) or len(points) != model.dim + 1:
            raise ValueError(f"sampling='grid' needs {model.dim + 1} grid sizes (tau first), got {points!r}")
        nt = check_int("points[0]", points[0])
        taus = (torch.arange(nt, dtype=dtype) + 0.5) * T / nt
        xs, ws = model.grid(list(points[1:]), dtype=dtype)
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
    """
    d = model.dim
    z = inner.detach().requires_grad_(True)
    u = net(z)
    (g,) = torch.autograd.grad(u.sum(), z, create_graph=True)
    grad_x = g[:, 1:]
    hess = torch.stack(
        [torch.autograd.grad(grad_x[:, j].sum(), z, create_graph=True)[0][:, 1:] for j in range(d)], 2
    )
    x = z[:, 1:]
    res = dgm_residual(g[:, 0], grad_x, hess, u, model.A(x), model.mu(x), model.r)
    u0 = net(torch.cat([torch.zeros_like(x0[:, :1]), x0], 1))
    loss = (w_inner * res**2).sum() + (w0 * (u0 - model.payoff(x0)) ** 2).sum()
    if boundary is not None:
        zb, wb, nb = boundary
        zb = zb.detach().requires_grad_(True)
        (gb,) = torch.autograd.grad(net(zb).sum(), zb, create_graph=True)
        flux = (torch.einsum("nij,nj->ni", model.A(zb[:, 1:]), gb[:, 1:]) * nb).sum(1)
        loss = loss + (wb * flux**2).sum()
    return loss


def _dgm_boundary(model, T, points, dtype, device):
    """Faces of the box times the midpoint rule in tau, from the grid sizes ``(n_tau, n_1, ..., n_d)``."""
    nt = int(points[0])
    taus = (torch.arange(nt, dtype=dtype) + 0.5) * T / nt
    xb, wb, nb = model.boundary_grid(list(points[1:]), dtype=dtype)
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
    iteration for Adam. ``net`` defaults to :func:`~gradflows.tdgf.make_net` with a time input.
    ``boundary=True`` (grid sampling) adds the zero-flux condition on the faces of the box
    (:func:`dgm_loss`), the boundary condition of the TDGF's problem. ``callback(n, loss, net)``,
    if given, is called after every loss evaluation ``n`` (a fixed evaluation budget can then be
    scored without restarting the optimizer).
    """
    if boundary and sampling != "grid":
        raise ValueError("boundary=True needs sampling='grid' (midpoint rule on the faces)")
    model = check_model(model)
    T = check_positive("T", T)
    _check_common(sampling, optimizer, iters, generator, lr)
    net = make_net(model, time_input=T) if net is None else net
    p0 = next(net.parameters())
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
            value = dgm_loss(net, model, *pts[0], boundary=bnd)
            evaluations[0] += 1
            if callback is not None:
                callback(evaluations[0], value.item(), net)
            return value

        n_iter = iters if optimizer == "adam" else chunk
        progress_adam = show_progress(progress, iters) and fresh
        losses += minimize(
            params, loss, n_iter, optimizer, lr, progress=progress_adam, desc="DGM", advice=_ADVICE
        )
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
    if solver not in ("tdgf", "dgm"):
        raise ValueError(f"solver must be 'tdgf' or 'dgm', got {solver!r}")
    device = torch.device(device)
    net = make_net(model, width, layers, 1.0 if solver == "dgm" else None, gated, dtype=dtype, device=device)
    if solver == "dgm":
        pts = _dgm_points(model, 1.0, "mc", points, generator, dtype, device)

        def one():
            net.zero_grad()
            dgm_loss(net, model, *pts).backward()
    else:
        x, w = model.sample(points, generator, dtype=dtype, device=device)
        up, Fp, A = model.payoff(x), (model.b(x) * model.payoff_grad(x)).sum(1), model.A(x)

        def one():
            net.zero_grad()
            u, g = value_and_grad(net, x, create_graph=True)
            tdgf_energy(u, g, up, Fp, A, w, 0.01, model.r).backward()

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    one()
    best = math.inf
    for _ in range(check_int("repeat", repeat)):
        sync()
        t0 = time.perf_counter()
        one()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best


def best_seconds(fn, repeat: int = 3) -> float:
    """Best wall time (s) of ``fn()`` over ``repeat`` calls, after one warm-up call."""
    fn()
    best = math.inf
    for _ in range(check_int("repeat", repeat)):
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
    rounds, points = check_int("rounds", rounds), check_int("points", points)
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

    for _ in range(rounds):
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

    if set(ds) != set(secs):
        raise ValueError(f"secs must have the keys {list(ds)}, got {list(secs)}")
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
