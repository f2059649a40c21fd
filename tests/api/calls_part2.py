"""Valid calls: gradflows.control, gradflows.training, gradflows.backprop, gradflows.nets and
gradflows.datasets (tiny problems: a handful of points in the plane, 2-3 layers, 2-3 iterations).

Arguments for which ``None`` is a valid value (optional biases ``b``, output maps ``P``, ``dtype``,
``device``, ``bound``, ``lr``, ``init``, ``center``, ``scale``) are fuzzed with the ``"K?"`` kinds
(every bad value of ``K`` but ``None``). Optional tensors get a real value in the valid call, since
their bad values are derived from it.
"""

from __future__ import annotations

import gradflows as gf
import matplotlib
import torch

from api.engine import Call

matplotlib.use("Agg")

C, TR, BP, NE, DS = gf.control, gf.training, gf.backprop, gf.nets, gf.datasets
F64 = torch.float64


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _controls(n_layers: int = 2, bias: bool = True) -> C.Controls:
    w = torch.tensor([[[0.3, -0.2], [0.1, 0.4]], [[-0.1, 0.2], [0.5, -0.3]]], dtype=F64)[:n_layers]
    b = torch.tensor([[0.1, -0.1], [0.2, 0.0]], dtype=F64)[:n_layers] if bias else None
    return C.Controls(w=w, b=b, T=1.0)


def _x0() -> torch.Tensor:
    return torch.tensor([[0.5, 0.1], [-0.4, 0.3], [0.2, -0.6], [-0.1, -0.2]], dtype=F64)


def _y() -> torch.Tensor:
    return torch.tensor([-1.0, -1.0, 1.0, 1.0], dtype=F64)


def _P() -> torch.Tensor:
    """An output map R^2 -> R^1 (the valid value of the optional ``P``)."""
    return torch.tensor([[1.0, 0.5]], dtype=F64)


def _states() -> torch.Tensor:
    return C.flow(_controls(), _x0()).x


def _mlp(sizes=(2, 3, 1), activation: str = "tanh") -> NE.MLP:
    return NE.MLP(list(sizes), activation=activation, init="normal", dtype=F64, generator=_gen(1))


def _dgm() -> NE.DGMNet:
    torch.manual_seed(0)
    return NE.DGMNet(d_in=2, width=4, layers=1, dtype=F64)


def _mean_field() -> NE.MeanFieldNet:
    return NE.MeanFieldNet(N=4, delta=0.75, d_in=2, dtype=F64, generator=_gen(2))


def _fit() -> dict:
    c = _controls()
    return dict(
        controls=c,
        states=C.flow(c, _x0()).x,
        error=0.5,
        objective=0.6,
        history=torch.tensor([0.9, 0.7, 0.6], dtype=F64),
    )


def _prop(make, name):
    return lambda: lambda: getattr(make(), name)


CONTROL = [
    Call(
        "control.Controls",
        lambda: C.Controls,
        lambda: dict(w=_controls().w, b=_controls().b, T=1.0),
        {"w": "tensor", "b": "tensor?", "T": "pos"},
    ),
    Call("control.Controls.n_layers", _prop(_controls, "n_layers")),
    Call("control.Controls.d", _prop(_controls, "d")),
    Call("control.Controls.h", _prop(_controls, "h")),
    Call("control.Controls.edges", _prop(_controls, "edges")),
    Call("control.Controls.stacked", lambda: _controls().stacked),
    Call("control.Controls.pointwise_norm", lambda: _controls().pointwise_norm),
    Call(
        "control.Controls.rescaled", lambda: _controls().rescaled, lambda: dict(T_new=2.0), {"T_new": "pos"}
    ),
    Call("control.Controls.refined", lambda: _controls().refined, lambda: dict(m=2), {"m": "size"}),
    Call("control.Controls.detach", lambda: _controls().detach),
    Call(
        "control.random_controls",
        lambda: C.random_controls,
        lambda: dict(d=2, n_layers=2, T=1.0, std=1.0, bias=True, generator=_gen(), dtype=F64),
        {
            "d": "size",
            "n_layers": "size",
            "T": "pos",
            "std": "pos",
            "bias": "bool",
            "generator": "generator",
            "dtype": "choice?",
        },
    ),
    Call(
        "control.sample_controls",
        lambda: C.sample_controls,
        lambda: dict(
            w=lambda t: torch.eye(2, dtype=F64) * (1 + t),
            b=lambda t: torch.ones(2, dtype=F64) * t,
            T=1.0,
            n_layers=2,
        ),
        {"w": "callable", "b": "callable?", "T": "pos", "n_layers": "size"},
    ),
    Call(
        "control.vector_field",
        lambda: C.vector_field,
        lambda: dict(x=_x0(), w=_controls().w[0], b=_controls().b[0], kind="inner", activation="tanh"),
        {"x": "tensor", "w": "tensor", "b": "tensor?", "kind": "choice", "activation": "choice"},
    ),
    Call(
        "control.flow",
        lambda: C.flow,
        lambda: dict(
            controls=_controls(),
            x0=_x0(),
            kind="outer",
            activation="tanh",
            method="rk4",
            substeps=2,
            record=True,
        ),
        {
            "controls": "object",
            "x0": "tensor",
            "kind": "choice",
            "activation": "choice",
            "method": "choice",
            "substeps": "count",
            "record": "bool",
        },
    ),
    Call("control.l2_norm_sq", lambda: C.l2_norm_sq, lambda: dict(c=_controls()), {"c": "object"}),
    Call("control.h1_norm_sq", lambda: C.h1_norm_sq, lambda: dict(c=_controls()), {"c": "object"}),
    Call("control.l1_norm", lambda: C.l1_norm, lambda: dict(c=_controls()), {"c": "object"}),
    Call(
        "control.weight_l1_norm",
        lambda: C.weight_l1_norm,
        lambda: dict(c=_controls(), ord=2),
        {"c": "object", "ord": "choice"},
    ),
    Call(
        "control.training_error",
        lambda: C.training_error,
        lambda: dict(x=_states()[-1], y=_y(), P=_P(), loss="mse"),
        {"x": "tensor", "y": "tensor", "P": "tensor?", "loss": "choice"},
    ),
    Call(
        "control.running_cost",
        lambda: C.running_cost,
        lambda: dict(traj=_states(), y=_y(), T=1.0, P=_P(), loss="logistic"),
        {"traj": "tensor", "y": "tensor", "T": "pos", "P": "tensor?", "loss": "choice"},
    ),
    Call(
        "control.interpolation_weight_bound",
        lambda: C.interpolation_weight_bound,
        lambda: dict(x0=_x0(), x1=_states()[-1], lip=1.0),
        {"x0": "tensor", "x1": "tensor", "lip": "pos"},
    ),
    Call(
        "control.steer",
        lambda: C.steer,
        lambda: dict(
            x0=torch.tensor([[0.1, 0.2], [-0.3, 0.1]], dtype=F64),
            x1=torch.tensor([[0.15, 0.2], [-0.3, 0.15]], dtype=F64),
            T=1.0,
            activation="tanh",
            substeps=2,
            iters=3,
            tol=1e-8,
        ),
        {
            "x0": "tensor",
            "x1": "tensor",
            "T": "pos",
            "activation": "choice",
            "substeps": "count",
            "iters": "count",
            "tol": "pos",
        },
    ),
]

TRAINING = [
    Call(
        "training.Fit",
        lambda: TR.Fit,
        _fit,
        {
            "controls": "object",
            "states": "tensor",
            "error": "nonneg",
            "objective": "real",
            "history": "tensor",
        },
    ),
    Call(
        "training.objective",
        lambda: TR.objective,
        lambda: dict(
            c=_controls(),
            x0=_x0(),
            y=_y(),
            lam=0.1,
            reg="H1",
            running=True,
            kind="inner",
            activation="tanh",
            P=_P(),
            loss="mse",
        ),
        {
            "c": "object",
            "x0": "tensor",
            "y": "tensor",
            "lam": "nonneg",
            "reg": "choice",
            "running": "bool",
            "kind": "choice",
            "activation": "choice",
            "P": "tensor?",
            "loss": "choice",
        },
    ),
    Call(
        "training.fit_controls",
        lambda: TR.fit_controls,
        lambda: dict(
            x0=_x0(),
            y=_y(),
            T=1.0,
            n_layers=2,
            lam=1e-3,
            reg="L2",
            running=False,
            kind="outer",
            activation="tanh",
            P=_P(),
            loss="mse",
            bias=True,
            optimizer="adam",
            iters=2,
            lr=0.01,
            generator=_gen(),
            progress=None,
        ),
        {
            "x0": "tensor",
            "y": "tensor",
            "T": "pos",
            "n_layers": "size",
            "lam": "nonneg",
            "reg": "choice",
            "running": "bool",
            "kind": "choice",
            "activation": "choice",
            "bound": "pos?",  # only with reg="L1": any bound is refused here
            "P": "tensor?",
            "loss": "choice",
            "bias": "bool",
            "init": "object?",
            "optimizer": "choice",
            "iters": "count",
            "lr": "pos?",
            "generator": "generator",
            "progress": "bool",
        },
    ),
    Call(
        "training.prox_l1_ball",
        lambda: TR.prox_l1_ball,
        lambda: dict(
            u=torch.tensor([[0.3, -0.4], [1.0, 2.0], [0.0, 0.0]], dtype=F64), threshold=0.1, bound=1.0
        ),
        {"u": "tensor", "threshold": "nonneg", "bound": "nonneg?"},
    ),
]

BACKPROP = [
    Call(
        "backprop.forward_states",
        lambda: BP.forward_states,
        lambda: dict(net=_mlp(), x=torch.tensor([0.3, -0.2], dtype=F64)),
        {"net": "object", "x": "tensor"},
    ),
    Call(
        "backprop.jacobian_backprop",
        lambda: BP.jacobian_backprop,
        lambda: dict(net=_mlp(), x=torch.tensor([0.3, -0.2], dtype=F64), grad_phi=lambda f: 2 * f),
        {"net": "object", "x": "tensor", "grad_phi": "callable"},
    ),
    Call(
        "backprop.bias_gradients",
        lambda: BP.bias_gradients,
        lambda: dict(
            net=_mlp((2, 3, 3, 1), "sigmoid"),
            x=torch.tensor([0.3, -0.2], dtype=F64),
            grad_phi=lambda f: f - 1,
            order="forward",
        ),
        {"net": "object", "x": "tensor", "grad_phi": "callable", "order": "choice"},
    ),
    Call(
        "backprop.bias_gradient_costs",
        lambda: BP.bias_gradient_costs,
        lambda: dict(widths=[2, 3], depth=1, generator=_gen(), repeat=1),
        {"widths": "object", "depth": "size", "generator": "generator", "repeat": "count"},
    ),
    Call(
        "backprop.cost_table",
        lambda: BP.cost_table,
        lambda: dict(rows=[(2, 40, 10, 0.0), (3, 90, 20, 1e-17)]),
        {"rows": "object"},
    ),
    Call(
        "backprop.autograd_gap",
        lambda: BP.autograd_gap,
        lambda: dict(
            net=_mlp(),
            xs=_x0()[:2],
            phi=lambda f: (f**2).sum(),
            grad_phi=lambda f: 2 * f,
        ),
        {"net": "object", "xs": "tensor", "phi": "callable", "grad_phi": "callable"},
    ),
    Call(
        "backprop.plot_costs",
        lambda: BP.plot_costs,
        lambda: dict(widths=[2, 4], times={"forward": [1e-4, 3e-4], "backward": [1e-4, 2e-4]}, depth=2),
        {"widths": "object", "times": "object", "depth": "count"},
    ),
]

NETS = [
    Call(
        "nets.MLP",
        lambda: NE.MLP,
        lambda: dict(sizes=[2, 3, 1], activation="tanh", init="normal", dtype=F64, generator=_gen()),
        {
            "sizes": "object",
            "activation": "choice",
            "init": "choice",
            "dtype": "choice?",
            "device": "choice?",
            "generator": "generator",
        },
    ),
    Call("nets.MLP.weights", _prop(_mlp, "weights")),
    Call("nets.MLP.biases", _prop(_mlp, "biases")),
    Call("nets.MLP.forward", lambda: _mlp().forward, lambda: dict(x=_x0()), {"x": "tensor"}),
    Call(
        "nets.DGMNet",
        lambda: NE.DGMNet,
        lambda: dict(d_in=2, width=4, layers=1, center=[0.0, 0.5], scale=[1.0, 2.0], gated=True, dtype=F64),
        {
            "d_in": "size",
            "width": "size",
            "layers": "index",
            "center": "tensor?",
            "scale": "tensor?",
            "gated": "bool",
            "dtype": "choice?",
            "device": "choice?",
        },
    ),
    Call("nets.DGMNet.forward", lambda: _dgm().forward, lambda: dict(x=_x0()), {"x": "tensor"}),
    Call(
        "nets.MeanFieldNet",
        lambda: NE.MeanFieldNet,
        lambda: dict(N=4, delta=0.75, d_in=2, activation="tanh", dtype=F64, generator=_gen()),
        {
            "N": "size",
            "delta": "pos",
            "d_in": "size",
            "activation": "choice",
            "dtype": "choice?",
            "device": "choice?",
            "generator": "generator",
        },
    ),
    Call("nets.MeanFieldNet.lr_scale", _prop(_mean_field, "lr_scale")),
    Call("nets.MeanFieldNet.forward", lambda: _mean_field().forward, lambda: dict(x=_x0()), {"x": "tensor"}),
    Call(
        "nets.induced_norm",
        lambda: NE.induced_norm,
        lambda: dict(W=torch.tensor([[1.0, -2.0], [0.5, 3.0], [0.0, 1.0]], dtype=F64), ord=1),
        {"W": "tensor", "ord": "choice"},
    ),
    Call(
        "nets.lipschitz_bound",
        lambda: NE.lipschitz_bound,
        lambda: dict(net=_mlp(), ord=2),
        {"net": "object", "ord": "choice"},
    ),
    Call(
        "nets.input_jacobian",
        lambda: NE.input_jacobian,
        lambda: dict(net=_mlp(), x=_x0()),
        {"net": "object", "x": "tensor"},
    ),
    Call(
        "nets.param_jacobian",
        lambda: NE.param_jacobian,
        lambda: dict(net=_mean_field(), x=_x0(), input_grad=True),
        {"net": "object", "x": "tensor", "input_grad": "bool"},
    ),
]

DATASETS = [
    Call(
        "datasets.spheres",
        lambda: DS.spheres,
        lambda: dict(n=6, d=3, radii=(0.5, 1.0), noise=0.05, generator=_gen(), dtype=F64),
        {
            "n": "size",
            "d": "size",
            "radii": "tensor",
            "noise": "nonneg",
            "generator": "generator",
            "dtype": "choice?",
        },
    ),
    Call(
        "datasets.circles",
        lambda: DS.circles,
        lambda: dict(n=6, radii=(0.5, 1.0), noise=0.05, generator=_gen(), dtype=F64),
        {"n": "size", "radii": "tensor", "noise": "nonneg", "generator": "generator", "dtype": "choice?"},
    ),
    Call(
        "datasets.two_moons",
        lambda: DS.two_moons,
        lambda: dict(n=6, noise=0.1, generator=_gen(), dtype=F64),
        {"n": "size", "noise": "nonneg", "generator": "generator", "dtype": "choice?"},
    ),
    Call(
        "datasets.shifted_sines",
        lambda: DS.shifted_sines,
        lambda: dict(n=6, shift=1.0, frequency=2.0, noise=0.1, generator=_gen(), dtype=F64),
        {
            "n": "size",
            "shift": "pos",
            "frequency": "pos",
            "noise": "nonneg",
            "generator": "generator",
            "dtype": "choice?",
        },
    ),
    Call(
        "datasets.separable",
        lambda: DS.separable,
        lambda: dict(n=6, d=2, margin=0.2, generator=_gen(), dtype=F64),
        {"n": "size", "d": "size", "margin": "pos", "generator": "generator", "dtype": "choice?"},
    ),
    Call(
        "datasets.rings",
        lambda: DS.rings,
        lambda: dict(n=5, radii=(0.5, 1.0), dtype=F64),
        {"n": "size", "radii": "tensor", "dtype": "choice?"},
    ),
]

CALLS = CONTROL + TRAINING + BACKPROP + NETS + DATASETS
