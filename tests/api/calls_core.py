"""Valid calls: the package root (Trajectory), gradflows.device and gradflows.rates."""

from __future__ import annotations

import gradflows as gf
import torch

from api.engine import Call


def _trajectory():
    flow = gf.ode_optimizers.gradient_flow(lambda w: 0.5 * (w * w).sum(-1))
    return gf.ode_optimizers.integrate(flow, torch.ones(2), dt=0.1, n_steps=3)


CALLS = [
    Call(
        "Trajectory",
        lambda: gf.Trajectory,
        lambda: dict(
            times=torch.zeros(1),
            states=(torch.zeros(1, 2),),
            stats=None,
            final=(torch.zeros(2),),
            names=("W",),
        ),
        {"times": "tensor", "states": "object?", "stats": "object?", "final": "object", "names": "object"},
    ),
    Call("Trajectory.last", lambda: lambda: _trajectory().last),
    Call(
        "Trajectory.evaluate",
        lambda: _trajectory().evaluate,
        lambda: dict(fn=lambda states: states[0].sum(-1)),
        {"fn": "callable"},
    ),
    Call("device.get_device", lambda: gf.device.get_device),
    Call("device.base_seed", lambda: gf.device.base_seed),
    Call("device.seed", lambda: gf.device.seed, lambda: dict(offset=3), {"offset": "index"}),
    Call(
        "device.generator",
        lambda: gf.device.generator,
        lambda: dict(offset=3, device="cpu"),
        {"offset": "index", "device": "choice"},
    ),
    Call("device.numpy_rng", lambda: gf.device.numpy_rng, lambda: dict(offset=3), {"offset": "index"}),
    Call("device.scale", lambda: gf.device.scale),
    # book and paper take anything (by_scale returns one of them): not fuzzed
    Call("device.by_scale", lambda: gf.device.by_scale, lambda: dict(book=1, paper=2)),
    Call(
        "device.show_progress",
        lambda: gf.device.show_progress,
        lambda: dict(progress=None, n_steps=10),
        {"progress": "bool", "n_steps": "index"},
    ),
    Call("device.widgets_live", lambda: gf.device.widgets_live),
    Call(
        "rates.loglog_slope",
        lambda: gf.rates.loglog_slope,
        lambda: dict(x=torch.tensor([1.0, 2.0, 4.0]), y=torch.tensor([1.0, 0.26, 0.0624]), stderr=False),
        {"x": "tensor_or_ints", "y": "tensor", "stderr": "bool"},
    ),
    Call(
        "rates.semilog_slope",
        lambda: gf.rates.semilog_slope,
        lambda: dict(t=torch.tensor([0.0, 1.0, 2.0]), y=torch.tensor([1.0, 0.5, 0.26]), stderr=False),
        {"t": "tensor_or_ints", "y": "tensor", "stderr": "bool"},
    ),
]
