"""Valid calls: gradflows.pricing, pricing_pdes, finite_elements, tdgf and dgm (chapter 5).

Every solve here is tiny (one or two steps, two or three iterations, width-4 networks, a few
dozen points), so that the whole table of these modules fuzzes in seconds. Arguments whose
default ``None`` is a valid value (``mu``, ``weights``, ``net``, ``callback``, ``first_iters``,
``time_input``, ``center``, ...) are not fuzzed: every kind counts ``None`` as bad. They are
validated all the same.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from gradflows import dgm, finite_elements, pricing, pricing_pdes, tdgf

from api.engine import Call

F64 = torch.float64
TAU_H = 73 / 365  # a whole number of days, as QuantLib needs


def _gen():
    return torch.Generator().manual_seed(0)


def _sigma2():
    return torch.tensor([[0.2, 0.0], [0.1, 0.25]], dtype=F64)


def _sigma3():
    return torch.tensor([[0.2, 0.0], [0.1, 0.25], [0.05, 0.1]], dtype=F64)


def _bs():
    return pricing_pdes.BlackScholes()


def _heston():
    return pricing_pdes.Heston(rho=-0.5, taper=0.01)


def _basket():
    return pricing_pdes.BasketBlackScholes(2, sigma=_sigma2())


def _x1():
    return torch.tensor([[0.5], [1.0], [1.5]], dtype=F64)


def _x2():
    return torch.tensor([[0.5, 0.02], [1.0, 0.04], [1.5, 0.06]], dtype=F64)


def _net(model, time_input=None):
    torch.manual_seed(0)
    return tdgf.make_net(model, width=4, layers=1, time_input=time_input)


@functools.cache
def _tdgf_result():
    model = _bs()
    return tdgf.tdgf_solve(model, T=0.1, n_steps=2, iters=2, points=8, net=_net(model), progress=False)


@functools.cache
def _dgm_result():
    model = _bs()
    return dgm.dgm_solve(
        model, T=0.1, iters=2, points=8, net=_net(model, 0.1), generator=_gen(), progress=False
    )


@functools.cache
def _fem():
    return finite_elements.fem_imex_heston(_heston(), T=0.1, n_steps=2, n_S=5, n_V=4)


def _basket_lower_bound():
    """The basket model has no lower bound: the method validates its arguments, then says so."""
    method = _basket().lower_bound

    def call(**kw):
        try:
            return method(**kw)
        except ValueError as err:
            if "no built-in lower bound" in str(err):
                return None
            raise

    return call


def _dgm_loss_args():
    model = _bs()
    inner = torch.tensor([[0.01, 0.5], [0.05, 1.0], [0.09, 1.5]], dtype=F64)
    return dict(
        net=_net(model, 0.1),
        model=model,
        inner=inner,
        w_inner=torch.full((3,), 0.1, dtype=F64),
        x0=_x1(),
        w0=torch.full((3,), 1.0, dtype=F64),
    )


def _secs():
    return {1: np.array([1e-4, 2e-4, 3e-4, 6e-4]), 2: np.array([1e-4, 2.1e-4, 3e-4, 9e-4])}


# --------------------------------------------------------------------------- pricing
_BS_ARGS = dict(K="pos", r="real", sigma="pos", tau="nonneg")
CALLS = [
    Call(
        "pricing.bs_call",
        lambda: pricing.bs_call,
        lambda: dict(S=torch.tensor([0.9, 1.0, 1.1], dtype=F64), K=1.0, r=0.05, sigma=0.2, tau=0.5),
        {"S": "tensor", **_BS_ARGS},
    ),
    Call(
        "pricing.bs_put",
        lambda: pricing.bs_put,
        lambda: dict(S=torch.tensor([0.9, 1.0, 1.1], dtype=F64), K=1.0, r=0.05, sigma=0.2, tau=0.5),
        {"S": "tensor", **_BS_ARGS},
    ),
    Call(
        "pricing.geometric_basket_call",
        lambda: pricing.geometric_basket_call,
        lambda: dict(
            S0=torch.tensor([[1.0, 1.1], [0.9, 1.0], [1.2, 1.1]], dtype=F64),
            K=1.0,
            r=0.05,
            sigma=_sigma2(),
            tau=0.5,
        ),
        {"S0": "tensor", "K": "pos", "r": "real", "sigma": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing.correlated_vol",
        lambda: pricing.correlated_vol,
        lambda: dict(vols=torch.tensor([0.2, 0.3], dtype=F64), rho=0.3),
        {"vols": "tensor", "rho": "real"},
    ),
    Call(
        "pricing.terminal_samples",
        lambda: pricing.terminal_samples,
        lambda: dict(
            S0=torch.tensor([1.0, 1.1, 0.9], dtype=F64),
            r=0.05,
            sigma=_sigma3(),
            tau=0.5,
            n_paths=4,
            generator=_gen(),
            mu=None,
        ),
        {
            "S0": "tensor",
            "r": "real",
            "sigma": "tensor",
            "tau": "nonneg",
            "n_paths": "size",
            "generator": "generator",
        },
    ),
    Call(
        "pricing.mc_price",
        lambda: pricing.mc_price,
        lambda: dict(
            payoff=pricing.geometric_basket_payoff(1.0),
            S0=torch.tensor([1.0, 1.1, 0.9], dtype=F64),
            r=0.05,
            sigma=_sigma3(),
            tau=0.5,
            n_paths=8,
            generator=_gen(),
            chunk=4,
            progress=None,
        ),
        {
            "payoff": "callable",
            "S0": "tensor",
            "r": "real",
            "sigma": "tensor",
            "tau": "nonneg",
            "n_paths": "count",
            "generator": "generator",
            "chunk": "size",
            "progress": "bool",
        },
    ),
    Call(
        "pricing.geometric_basket_payoff",
        lambda: pricing.geometric_basket_payoff,
        lambda: dict(K=1.0),
        {"K": "pos"},
    ),
    Call(
        "pricing.arithmetic_basket_payoff",
        lambda: pricing.arithmetic_basket_payoff,
        lambda: dict(K=1.0, weights=None),
        {"K": "pos"},
    ),
    Call(
        "pricing.heston_call",
        lambda: pricing.heston_call,
        lambda: dict(
            S=torch.tensor([0.9, 1.0, 1.1], dtype=F64),
            V=0.04,
            K=1.0,
            r=0.01,
            kappa=2.0,
            theta=0.04,
            eta=0.3,
            rho=-0.5,
            tau=TAU_H,
        ),
        {
            "S": "tensor",
            "V": "pos",
            "K": "pos",
            "r": "real",
            "kappa": "pos",
            "theta": "pos",
            "eta": "pos",
            "rho": "real",
            "tau": "pos",
        },
    ),
    Call(
        "pricing.bs_vega",
        lambda: pricing.bs_vega,
        lambda: dict(S=1.0, K=1.0, r=0.05, sigma=0.2, tau=0.5),
        {"S": "nonneg", **_BS_ARGS},
    ),
    Call(
        "pricing.bs_implied_vol",
        lambda: pricing.bs_implied_vol,
        lambda: dict(price=0.1, S=1.0, K=1.0, r=0.05, tau=0.5),
        {"price": "pos", "S": "pos", "K": "pos", "r": "real", "tau": "pos"},
    ),
]

# --------------------------------------------------------------------------- pricing_pdes
_GRID_KINDS = {"n": "size", "dtype": "choice", "device": "choice"}
CALLS += [
    Call(
        "pricing_pdes.PricingPDE",
        lambda: pricing_pdes.PricingPDE,
        lambda: dict(r=0.05, K=1.0, lo=[0.01, 0.1], hi=[3.0, 1.0]),
        {"r": "real", "K": "pos", "lo": "tensor", "hi": "tensor"},
    ),
    Call("pricing_pdes.PricingPDE.dim", lambda: lambda: _heston().dim),
    Call("pricing_pdes.PricingPDE.volume", lambda: lambda: _heston().volume),
    Call(
        "pricing_pdes.PricingPDE.x_like",
        lambda: _heston().x_like,
        lambda: dict(x=_x2(), like=torch.zeros(1, dtype=torch.float32)),
        {"x": "tensor"},
    ),
    Call(
        "pricing_pdes.PricingPDE.bounds",
        lambda: _heston().bounds,
        lambda: dict(like=torch.zeros(1, dtype=F64)),
        {"like": "object"},
    ),
    Call(
        "pricing_pdes.PricingPDE.sample",
        lambda: _heston().sample,
        lambda: dict(n=5, generator=_gen(), dtype=F64, device="cpu"),
        {"n": "size", "generator": "generator", "dtype": "choice", "device": "choice"},
    ),
    Call(
        "pricing_pdes.PricingPDE.grid",
        lambda: _heston().grid,
        lambda: dict(n=3, dtype=F64, device="cpu"),
        _GRID_KINDS,
    ),
    Call(
        "pricing_pdes.PricingPDE.boundary_grid",
        lambda: _heston().boundary_grid,
        lambda: dict(n=3, dtype=F64, device="cpu"),
        _GRID_KINDS,
    ),
]
# the methods of the base class, on the one-asset model (its own A, divA, mu, reference are below)
for _meth in ("A", "mu", "divA", "b", "payoff", "payoff_grad"):
    CALLS.append(
        Call(
            f"pricing_pdes.PricingPDE.{_meth}",
            lambda m=_meth: getattr(_bs(), m),
            lambda: dict(x=_x1()),
            {"x": "tensor"},
        )
    )
CALLS += [
    Call(
        "pricing_pdes.PricingPDE.reference",
        lambda: _bs().reference,
        lambda: dict(x=_x1(), tau=0.5),
        {"x": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing_pdes.PricingPDE.lower_bound",
        lambda: _bs().lower_bound,
        lambda: dict(x=_x1(), tau=0.5),
        {"x": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing_pdes.BlackScholes",
        lambda: pricing_pdes.BlackScholes,
        lambda: dict(r=0.05, sigma=0.25, K=1.0, lo=0.01, hi=3.0),
        {"r": "real", "sigma": "pos", "K": "pos", "lo": "pos", "hi": "pos"},
    ),
    Call(
        "pricing_pdes.BlackScholes.reference",
        lambda: _bs().reference,
        lambda: dict(x=_x1(), tau=0.5),
        {"x": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing_pdes.Heston",
        lambda: pricing_pdes.Heston,
        lambda: dict(
            r=0.01,
            kappa=2.0,
            theta=0.04,
            eta=0.3,
            rho=-0.5,
            K=1.0,
            lo=[0.01, 0.001],
            hi=[3.0, 0.1],
            taper=0.01,
        ),
        {
            "r": "real",
            "kappa": "pos",
            "theta": "pos",
            "eta": "pos",
            "rho": "real",
            "K": "pos",
            "lo": "tensor",
            "hi": "tensor",
            "taper": "nonneg",
        },
    ),
    Call(
        "pricing_pdes.Heston.reference",
        lambda: _heston().reference,
        lambda: dict(x=_x2(), tau=TAU_H),
        {"x": "tensor", "tau": "pos"},
    ),
    Call(
        "pricing_pdes.BasketBlackScholes",
        lambda: pricing_pdes.BasketBlackScholes,
        lambda: dict(d=2, r=0.05, vol=0.25, rho=0.3, K=1.0, lo=0.01, hi=3.0, sigma=None),
        {"d": "size", "r": "real", "vol": "pos", "rho": "real", "K": "pos", "lo": "pos", "hi": "pos"},
    ),
    Call(
        "pricing_pdes.BasketBlackScholes.lower_bound",
        _basket_lower_bound,
        lambda: dict(x=_x2(), tau=0.5),
        {"x": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing_pdes.BasketBlackScholes.reference",
        lambda: _basket().reference,
        lambda: dict(x=_x2() + torch.tensor([0.0, 1.0], dtype=F64), tau=0.5),
        {"x": "tensor", "tau": "nonneg"},
    ),
    Call(
        "pricing_pdes.check_model",
        lambda: pricing_pdes.check_model,
        lambda: dict(model=_bs()),
        {"model": "object"},
    ),
]
for _cls, _model, _x, _meths in (
    ("BlackScholes", _bs, _x1, ("A", "divA", "mu")),
    ("Heston", _heston, _x2, ("A", "divA", "mu")),
    ("BasketBlackScholes", _basket, _x2, ("A", "divA", "mu", "payoff", "payoff_grad")),
):
    for _meth in _meths:
        CALLS.append(
            Call(
                f"pricing_pdes.{_cls}.{_meth}",
                lambda m=_meth, f=_model: getattr(f(), m),
                lambda f=_x: dict(x=f()),
                {"x": "tensor"},
            )
        )

# --------------------------------------------------------------------------- finite_elements
_BS_NODES = np.linspace(0.01, 3.0, 9)
CALLS += [
    Call(
        "finite_elements.fem_matrices",
        lambda: finite_elements.fem_matrices,
        lambda: dict(model=_bs(), nodes=np.linspace(0.01, 3.0, 5)),
        {"model": "object", "nodes": "tensor"},
    ),
    Call(
        "finite_elements.fem_imex_1d",
        lambda: finite_elements.fem_imex_1d,
        lambda: dict(model=_bs(), T=0.1, n_steps=2, nodes=5),
        {"model": "object", "T": "pos", "n_steps": "count", "nodes": "size"},
    ),
    Call(
        "finite_elements.TensorFEM",
        lambda: finite_elements.TensorFEM,
        lambda: dict(S=_fem().S.copy(), V=_fem().V.copy(), U=_fem().U.copy()),
        {"S": "tensor", "V": "tensor", "U": "tensor"},
    ),
    Call(
        "finite_elements.fem_imex_heston",
        lambda: finite_elements.fem_imex_heston,
        lambda: dict(model=_heston(), T=0.1, n_steps=2, n_S=5, n_V=4),
        {"model": "object", "T": "pos", "n_steps": "count", "n_S": "size", "n_V": "size"},
    ),
    Call(
        "finite_elements.fem_interpolate",
        lambda: finite_elements.fem_interpolate,
        lambda: dict(fem=_fem(), k=1, x=_x2()),
        {"fem": "object", "k": "index", "x": "tensor"},
    ),
    Call(
        "finite_elements.in_window",
        lambda: finite_elements.in_window,
        lambda: dict(x=_BS_NODES.copy(), lo=0.8, hi=1.2),
        {"x": "tensor", "lo": "real", "hi": "real"},
    ),
    Call(
        "finite_elements.window_max_error",
        lambda: finite_elements.window_max_error,
        lambda: dict(
            model=_bs(), x=_BS_NODES.copy(), U=np.maximum(_BS_NODES - 0.9, 0.0), tau=0.1, lo=0.8, hi=1.2
        ),
        {"model": "object", "x": "tensor", "U": "tensor", "tau": "nonneg", "lo": "real", "hi": "real"},
    ),
    Call(
        "finite_elements.imex_error_table",
        lambda: finite_elements.imex_error_table,
        lambda: dict(runs={"P1": (_bs(), 9)}, T=0.1, steps_list=(1, 2), lo=0.8, hi=1.2),
        {"runs": "object", "T": "pos", "steps_list": "object", "lo": "real", "hi": "real"},
    ),
    Call(
        "finite_elements.imex_error_over_steps",
        lambda: finite_elements.imex_error_over_steps,
        lambda: dict(model=_bs(), T=0.1, steps_list=(1, 2), nodes=9, window=(0.8, 1.2), band=(0.5, 2.0)),
        {
            "model": "object",
            "T": "pos",
            "steps_list": "object",
            "nodes": "size",
            "window": "object",
            "band": "object",
        },
    ),
]

# --------------------------------------------------------------------------- tdgf
_ENERGY_ARGS = dict(
    u=torch.tensor([0.1, 0.2, 0.3], dtype=F64),
    grad_u=torch.tensor([[0.5], [0.6], [0.7]], dtype=F64),
    u_prev=torch.tensor([0.1, 0.25, 0.3], dtype=F64),
    F_prev=torch.tensor([0.01, 0.02, 0.03], dtype=F64),
    A=torch.tensor([[[0.1]], [[0.2]], [[0.3]]], dtype=F64),
    weights=torch.full((3,), 1.0 / 3, dtype=F64),
)
CALLS += [
    Call(
        "tdgf.make_net",
        lambda: tdgf.make_net,
        lambda: dict(model=_heston(), width=4, layers=1, gated=True, dtype=F64, device="cpu"),
        {
            "model": "object",
            "width": "size",
            "layers": "index",
            "gated": "bool",
            "dtype": "choice",
            "device": "choice",
        },
    ),
    Call(
        "tdgf.value_and_grad",
        lambda: tdgf.value_and_grad,
        lambda: dict(fn=_net(_bs()), x=_x1(), create_graph=False),
        {"fn": "callable", "x": "tensor", "create_graph": "bool"},
    ),
    Call(
        "tdgf.tdgf_energy",
        lambda: tdgf.tdgf_energy,
        lambda: dict(**{k: v.clone() for k, v in _ENERGY_ARGS.items()}, h=0.1, r=0.05),
        {**{k: "tensor" for k in _ENERGY_ARGS}, "h": "pos", "r": "real"},
    ),
    Call(
        "tdgf.TDGFResult",
        lambda: tdgf.TDGFResult,
        lambda: dict(
            model=_tdgf_result().model,
            net=_tdgf_result().net,
            output="plain",
            taus=list(_tdgf_result().taus),
            states=list(_tdgf_result().states),
            energies=list(_tdgf_result().energies),
            seconds=list(_tdgf_result().seconds),
            increment_scale=None,
        ),
        {
            "model": "object",
            "net": "object",
            "output": "choice",
            "taus": "tensor",
            "states": "object",
            "energies": "object",
            "seconds": "tensor",
        },
    ),
    Call(
        "tdgf.TDGFResult.function",
        lambda: _tdgf_result().function,
        lambda: dict(k=1),
        {"k": "choice"},
    ),
    Call(
        "tdgf.TDGFResult.price",
        lambda: _tdgf_result().price,
        lambda: dict(x=_x1(), k=1),
        {"x": "tensor", "k": "choice"},
    ),
    Call("tdgf.TDGFResult.total_seconds", lambda: lambda: _tdgf_result().total_seconds),
    Call(
        "tdgf.tdgf_solve",
        lambda: tdgf.tdgf_solve,
        lambda: dict(
            model=_bs(),
            T=0.1,
            n_steps=1,
            iters=2,
            points=8,
            sampling="grid",
            optimizer="lbfgs",
            lr=1e-3,
            net=_net(_bs()),
            output="plain",
            first_iters=None,
            fit_iters=None,
            generator=_gen(),
            progress=None,
            callback=None,
            increments=False,
            increment_scale=1.0,
        ),
        {
            "model": "object",
            "T": "pos",
            "n_steps": "count",
            "iters": "count",
            "points": "size",
            "sampling": "choice",
            "optimizer": "choice",
            "lr": "pos",
            "output": "choice",
            "generator": "generator",
            "progress": "bool",
            "increments": "bool",
            "increment_scale": "pos",
        },
    ),
]

# --------------------------------------------------------------------------- dgm
CALLS += [
    Call(
        "dgm.DGMResult",
        lambda: dgm.DGMResult,
        lambda: dict(
            model=_dgm_result().model,
            net=_dgm_result().net,
            T=0.1,
            losses=list(_dgm_result().losses),
            seconds=0.01,
        ),
        {"model": "object", "net": "object", "T": "pos", "losses": "tensor", "seconds": "nonneg"},
    ),
    Call(
        "dgm.DGMResult.price",
        lambda: _dgm_result().price,
        lambda: dict(x=_x1(), tau=None),
        {"x": "tensor"},
    ),
    Call(
        "dgm.dgm_residual",
        lambda: dgm.dgm_residual,
        lambda: dict(
            u_t=torch.tensor([0.1, 0.2, 0.3], dtype=F64),
            grad_u=torch.tensor([[0.5], [0.6], [0.7]], dtype=F64),
            hess_u=torch.tensor([[[1.0]], [[0.5]], [[0.2]]], dtype=F64),
            u=torch.tensor([0.1, 0.2, 0.3], dtype=F64),
            A=torch.tensor([[[0.1]], [[0.2]], [[0.3]]], dtype=F64),
            mu=torch.tensor([[0.02], [0.05], [0.07]], dtype=F64),
            r=0.05,
        ),
        {k: "tensor" for k in ("u_t", "grad_u", "hess_u", "u", "A", "mu")} | {"r": "real"},
    ),
    Call(
        "dgm.dgm_loss",
        lambda: dgm.dgm_loss,
        _dgm_loss_args,
        {
            "net": "callable",
            "model": "object",
            "inner": "tensor",
            "w_inner": "tensor",
            "x0": "tensor",
            "w0": "tensor",
        },
    ),
    Call(
        "dgm.dgm_solve",
        lambda: dgm.dgm_solve,
        lambda: dict(
            model=_bs(),
            T=0.1,
            iters=2,
            points=8,
            sampling="mc",
            optimizer="lbfgs",
            lr=1e-3,
            net=_net(_bs(), 0.1),
            generator=_gen(),
            progress=None,
            chunk=None,
            boundary=False,
            callback=None,
        ),
        {
            "model": "object",
            "T": "pos",
            "iters": "count",
            "points": "size",
            "sampling": "choice",
            "optimizer": "choice",
            "lr": "pos",
            "generator": "generator",
            "progress": "bool",
            "boundary": "bool",
        },
    ),
    Call(
        "dgm.time_per_iteration",
        lambda: dgm.time_per_iteration,
        lambda: dict(
            model=_bs(),
            solver="dgm",
            points=8,
            width=4,
            layers=1,
            gated=True,
            repeat=1,
            dtype=F64,
            device="cpu",
            generator=_gen(),
        ),
        {
            "model": "object",
            "solver": "choice",
            "points": "size",
            "width": "size",
            "layers": "index",
            "gated": "bool",
            "repeat": "count",
            "dtype": "choice",
            "device": "choice",
            "generator": "generator",
        },
    ),
    Call(
        "dgm.best_seconds",
        lambda: dgm.best_seconds,
        lambda: dict(fn=lambda: None, repeat=2),
        {"fn": "callable", "repeat": "count"},
    ),
    Call(
        "dgm.cost_sweep",
        lambda: dgm.cost_sweep,
        lambda: dict(
            models={1: _bs()}, rounds=1, width=4, layers=0, points=8, generator=_gen(), device="cpu"
        ),
        {
            "models": "object",
            "rounds": "count",
            "width": "size",
            "layers": "index",
            "points": "size",
            "generator": "generator",
            "device": "choice",
        },
    ),
    Call(
        "dgm.cost_report",
        lambda: dgm.cost_report,
        lambda: dict(ds=[1, 2], secs=_secs()),
        {"ds": "object", "secs": "object"},
    ),
]
