"""Experiments on momentum methods, Adam and its ODE (notebook ``01-sgd/02-momentum-and-adam``).

* Adam against the printed schemes (5.25)-(5.27) on a small network whose parameters are
  flattened into one vector ``theta``: the loss and gradient at ``theta``, the table and figure of the
  deviations.
* The slow manifold of the Adam ODE (5.23) and the LASSO-type functional (5.28): runs for
  several ``(eps1, eps2)``, their relative distances, and the figure.
* The interactive Adam explorer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.nn.utils import vector_to_parameters

from .. import adam as _adam
from .. import ode_optimizers as odeo
from .. import plotting
from .._stepping import Trajectory
from .._validation import as_tensor, check_finite, check_int, check_positive

__all__ = [
    "flat_mse",
    "print_deviations",
    "plot_deviations",
    "slow_manifold_runs",
    "plot_slow_manifold",
    "adam_explorer",
    "plot_flow_paths",
    "plot_heavy_ball_drift",
    "run_flows",
    "adam_limit_errors",
]

Tensor = torch.Tensor


def _check_net_data(net: torch.nn.Module, x: Tensor, y: Tensor) -> None:
    if not isinstance(net, torch.nn.Module):
        raise ValueError(f"net must be a torch.nn.Module, got {type(net).__name__}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")


def flat_mse(
    net: torch.nn.Module, x: Tensor, y: Tensor
) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """Mean squared error of ``net`` on ``(x, y)`` and its gradient, as functions of the flat parameters.

    Returns ``(loss, grad)``: ``loss(theta)`` and ``grad(theta)`` load ``theta`` into ``net``
    (``vector_to_parameters``) and evaluate the loss, resp. its autograd gradient flattened
    like ``theta``. Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    x, y = check_finite("x", as_tensor("x", x)), check_finite("y", as_tensor("y", y))
    _check_net_data(net, x, y)

    def loss(theta: Tensor) -> Tensor:
        with torch.no_grad():
            vector_to_parameters(theta.clone(), net.parameters())
            return ((net(x) - y) ** 2).mean()

    def grad(theta: Tensor) -> Tensor:
        vector_to_parameters(theta.detach().clone(), net.parameters())
        net.zero_grad()
        with torch.enable_grad():
            ((net(x) - y) ** 2).mean().backward()
        return torch.cat([p.grad.reshape(-1) for p in net.parameters()])

    return loss, grad


def print_deviations(
    theta_torch: Tensor, runs: Mapping[str, Trajectory], loss: Callable[[Tensor], Tensor]
) -> None:
    """Print ``max_n |theta^n - theta^n_torch|`` and the final loss of each run, ``torch.optim.Adam`` first.

    Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    print(f"{'scheme':30s} {'max_n |theta - theta_torch|':>28s} {'final loss':>11s}")
    print(f"{'torch.optim.Adam':30s} {0:28.2e} {loss(theta_torch[-1]):11.4f}")
    for name, tr in runs.items():
        if tr.W.shape != theta_torch.shape:
            raise ValueError(
                f"run {name!r} has shape {tuple(tr.W.shape)}, expected {tuple(theta_torch.shape)}"
            )
        print(f"{name:30s} {(tr.W - theta_torch).abs().max():28.2e} {loss(tr.W[-1]):11.4f}")


def plot_deviations(
    theta_torch: Tensor, runs: Mapping[str, Trajectory], loss: Callable[[Tensor], Tensor], every: int = 10
) -> None:
    """Figure: training loss of ``torch.optim.Adam`` and of each run, and each run's distance to it.

    One colour per run in both panels; every ``every``-th step. Used in notebook
    ``01-sgd/02-momentum-and-adam``.
    """
    every = check_int("every", every)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    steps = torch.arange(0, theta_torch.shape[0], every)
    loss_curves = {"torch.optim.Adam": (steps, torch.stack([loss(w) for w in theta_torch[::every]]))}
    dev_curves = {}
    for name, tr in runs.items():
        loss_curves[name] = (steps, torch.stack([loss(w) for w in tr.W[::every]]))
        dev_curves[name] = (steps[1:], (tr.W - theta_torch).abs().amax(-1)[::every][1:] + 1e-16)
    plotting.plot_curves(loss_curves, ax=ax1, xlabel="step $n$", ylabel="training loss", logy=True)
    plotting.plot_curves(
        dev_curves,
        ax=ax2,
        xlabel="step $n$",
        ylabel=r"$\max_i |\theta^n_i - \theta^n_{i,\mathrm{torch}}|$",
        logy=True,
    )
    colors = {name: f"C{i}" for i, name in enumerate(loss_curves)}  # one colour per variant in both panels
    for ax in (ax1, ax2):
        for line in ax.get_lines():
            line.set_color(colors[line.get_label()])
        ax.legend()
    ax1.set_title(r"Adam vs the printed schemes ($\alpha = 10^{-3}$, $\beta = (0.9, 0.999)$)")
    ax2.set_title("distance to the torch.optim.Adam iterates")


def slow_manifold_runs(
    J: Callable, grad: Callable, W0: Tensor, scales: Sequence[float], T: float, rec_dt: float
) -> dict[float, dict[str, Tensor]]:
    """The Adam ODE (5.23) with ``(eps1, eps2) = s (0.004, 0.01)`` for each ``s`` in ``scales``.

    RK4 with ``dt = eps1/5`` from ``(W0, 0, 1)`` on ``[0, T]``, recorded every ``rec_dt``. For each
    ``s`` returns the times ``t``, ``W``, ``J``, the energy ``E`` (5.24), the functional ``L``
    (5.28), the relative gap ``|E - L| / (eps1/2 |g|_1)`` and the slow-manifold distances
    ``dZ = max_i |Z_i + g_i| / |g_i|`` and ``dD = max_i |D_i - g_i^2| / g_i^2``.
    Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    T, rec_dt = check_positive("T", T), check_positive("rec_dt", rec_dt)
    W0 = check_finite("W0", as_tensor("W0", W0))
    out = {}
    for s in scales:
        e1, e2 = 0.004 * check_positive("scale", s), 0.01 * s
        flow = odeo.adam_ode(J, e1, e2, grad)
        dt = e1 / 5
        state0 = (W0, torch.zeros_like(W0), torch.ones_like(W0))
        tr = odeo.integrate(flow, state0, dt, round(T / dt), record_every=round(rec_dt / dt))
        g = grad(tr.W)
        E = tr.evaluate(flow.energy)
        L = odeo.adam_asymptotic_energy(J, tr.W, e1, grad)
        out[s] = dict(
            t=tr.times,
            W=tr.W,
            J=J(tr.W),
            E=E,
            L=L,
            gap=(E - L).abs() / (0.5 * e1 * g.abs().sum(-1)),
            dZ=((tr.Z + g).abs() / g.abs()).amax(-1),
            dD=((tr.D - g**2).abs() / g**2).amax(-1),
        )
    return out


def plot_slow_manifold(
    runs: Mapping[float, Mapping[str, Tensor]], window: tuple[float, float] = (0.25, 1.5)
) -> None:
    """Figure of :func:`slow_manifold_runs`: ``J``, ``E - J``, ``L - J``; the relative gaps; the distances.

    The first run (``s = 1``) in the first and third panels, the window of the claims check shaded.
    Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    r = next(iter(runs.values()))
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 4), constrained_layout=True)
    first = {
        "$J(W)$": (r["t"], r["J"]),
        r"$E - J = \frac{\varepsilon_1}{2}\langle D^{-1/2}Z, Z\rangle$": (r["t"], r["E"] - r["J"]),
        r"$L - J = \frac{\varepsilon_1}{2}|\nabla J|_1$": (r["t"], r["L"] - r["J"]),
    }
    plotting.plot_curves(first, ax=ax1, ylabel="value", logy=True)
    ax1.set_ylim(1e-12, 1e2)
    ax1.set_title(r"$(\varepsilon_1, \varepsilon_2) = (0.004, 0.01)$")
    gaps = {f"s = {s}": (rs["t"], rs["gap"]) for s, rs in runs.items()}
    plotting.plot_curves(
        gaps, ax=ax2, ylabel=r"$|E - L| \,/\, (\frac{\varepsilon_1}{2}|\nabla J|_1)$", logy=True
    )
    ax2.axvspan(*window, color="C2", alpha=0.12)
    ax2.set_title(r"relative gap, $(\varepsilon_1, \varepsilon_2) = s\,(0.004, 0.01)$")
    distances = {
        r"$\max_i |Z_i + g_i| / |g_i|$": (r["t"], r["dZ"]),
        r"$\max_i |D_i - g_i^2| / g_i^2$": (r["t"], r["dD"]),
        r"$\max_i |w_i|$": (r["t"], r["W"].abs().amax(-1)),
    }
    plotting.plot_curves(distances, ax=ax3, ylabel="relative distances; $|W|_\\infty$", logy=True)
    ax3.set_ylim(1e-3, 1e6)
    ax3.set_title("slow-manifold distances, s = 1")


def adam_explorer(
    J: Callable,
    grad: Callable,
    J_view: Callable,
    W0: Tensor,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    n_steps: int = 300,
) -> None:
    """Explorer figure: Adam on a planar landscape, with ``J``, the energy ``E^n`` and (5.28) along it.

    ``E^n`` uses the bias-corrected moments; the ODE constants come from
    :func:`gradflows.adam.adam_to_ode`. Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    _, e1, e2 = _adam.adam_to_ode(lr, beta1, beta2)
    tr = _adam.adam(grad, W0, n_steps, lr=lr, betas=(beta1, beta2), eps=eps)
    n = torch.arange(1, n_steps + 1, dtype=torch.float64).unsqueeze(-1)
    m_hat = -tr.Z[1:] / (1 - beta1**n)
    v_hat = tr.D[1:] / (1 - beta2**n)
    E_n = J(tr.W[1:]) + 0.5 * e1 * (m_hat**2 / (v_hat.sqrt() + eps)).sum(-1)
    L_n = odeo.adam_asymptotic_energy(J, tr.W[1:], e1, grad)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    plotting.plot_landscape(J_view, (-2.2, 2.2), (-1.2, 1.2), ax=ax1, levels=25, n=91)
    plotting.plot_paths(ax1, {"Adam": tr.W}, markers=True)
    ok = "yes" if e1 <= 4 * e2 else "no"
    ax1.set_title(
        rf"$\varepsilon_1 = {e1:.3g}$, $\varepsilon_2 = {e2:.3g}$, $\varepsilon_1 \leq 4\varepsilon_2$: {ok}"
    )
    curves = {
        "$J(W^n)$": (tr.times[1:], J(tr.W[1:])),
        "$E^n$": (tr.times[1:], E_n),
        "(5.28)": (tr.times[1:], L_n),
    }
    plotting.plot_curves(curves, ax=ax2, xlabel=r"$t = n\alpha$")
    plt.show()


def plot_flow_paths(runs: Mapping[str, Trajectory], flows: Mapping[str, odeo.Flow], J_view: Callable) -> None:
    """Figure: the path of each flow on the contours of ``J_view``, one panel per flow (six panels).

    Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.4), constrained_layout=True)
    for ax, (name, tr) in zip(axes.flat, runs.items(), strict=True):
        plotting.plot_landscape(J_view, (-2.2, 2.2), (-1.2, 1.2), ax=ax, levels=25)
        plotting.plot_paths(ax, {name: tr.W})
        ax.get_legend().remove()
        ax.set_title(f"{name} {flows[name].equation}")
    fig.suptitle(r"Paths from $W_0 = (2, -0.3)$ over $0 \leq t \leq 10$ (triangle: start, star: end)")


def plot_heavy_ball_drift(
    energy: Callable,
    E_ref: Tensor,
    drift_runs: Mapping[str, tuple[Tensor, Tensor]],
    quad_runs: Mapping[str, tuple],
    lam: float,
    dt: float,
) -> None:
    """Figure: energy drift of heavy-ball schemes on the six-hump landscape, and ``E^n / E^0`` on ``lam w^2
    / 2``.

    ``drift_runs`` maps labels to ``(times, states)`` on the landscape (``|energy(states) - E_ref|`` is
    drawn, plus 1e-16 for the RK4 run); ``quad_runs`` maps labels to ``(times, E^n / E^0)`` on the
    quadratic, with the prediction ``(1 + dt^2 lam)^n`` of the lemma. Used in notebook
    ``01-sgd/02-momentum-and-adam``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    drift = {}
    for label, (times, states) in drift_runs.items():
        drift[label] = (times, (energy(states) - E_ref).abs() + (1e-16 if label.startswith("RK4") else 0.0))
    plotting.plot_curves(drift, ax=ax1, ylabel=r"$|E(t) - E(0)|$", logy=True)
    ax1.set_title("six-hump landscape")
    plotting.plot_curves(quad_runs, ax=ax2, ylabel=r"$E^n / E^0$", logy=True)
    times = next(iter(quad_runs.values()))[0]
    ax2.plot(times, (1 + dt**2 * lam) ** torch.arange(len(times)), "k:", label=r"$(1 + \Delta t^2\lambda)^n$")
    ax2.legend()
    ax2.set_title(rf"$J = \lambda w^2/2$, $\lambda = {lam:g}$, $\Delta t = {dt:g}$")


def run_flows(flows: Mapping[str, odeo.Flow], state0: tuple, dt: float, n_steps: int, J: Callable) -> dict:
    """RK4 runs of every flow from ``state0 = (W0, Z0, D0)`` (its first ``n_vars`` entries); prints ``W``
    and ``J`` at the end.

    Used in notebook ``01-sgd/02-momentum-and-adam``.
    """
    runs = {}
    for name, flow in flows.items():
        runs[name] = odeo.integrate(flow, tuple(state0[: flow.n_vars]), dt, n_steps)
        W_end = runs[name].W[-1]
        print(
            f"{name:14s} {flow.equation:7s} W(10) = ({W_end[0]:+.3f}, {W_end[1]:+.3f})   J = {J(W_end):+.4f}"
        )
    return runs


def adam_limit_errors(
    grad: Callable,
    W0: Tensor,
    alphas: Sequence[float],
    e1: float,
    e2: float,
    T: float,
    eps: float,
    W_corrected,
    W_plain,
) -> tuple[list[float], list[float], list[float]]:
    """Adam with ``(lr, betas) = ode_to_adam(alpha, e1, e2)`` on ``[0, T]``, with and without bias correction.

    For each ``alpha`` returns the distances at ``T`` of bias-corrected Adam to ``W_corrected`` (the
    non-autonomous limit), of uncorrected Adam to ``W_plain`` ((5.23) from ``Z = D = 0``), and of
    bias-corrected Adam to ``W_plain``. Used in notebook ``01-sgd/02-momentum-and-adam`` (claim SGD-8).
    """
    err_bc, err_none, gap_bc = [], [], []
    for a in alphas:
        lr, b1, b2 = _adam.ode_to_adam(a, e1, e2)
        W_T = _adam.adam(grad, W0, round(T / a), lr=lr, betas=(b1, b2), eps=eps).W[-1].numpy()
        W_T_none = _adam.adam(grad, W0, round(T / a), lr=lr, betas=(b1, b2), eps=eps, bias_correction="none")
        err_bc.append(np.abs(W_T - W_corrected).max())
        err_none.append(np.abs(W_T_none.W[-1].numpy() - W_plain).max())
        gap_bc.append(np.abs(W_T - W_plain).max())
    return err_bc, err_none, gap_bc
