"""Valid calls: ode_optimizers, local_entropy, deep_relaxation, entropy_sgd, exit_times,
fast_langevin, homogenization, hamilton_jacobi.

Arguments for which ``None`` is a valid value (``record_every``, ``noise``, ``noise_chunk``, ``y0``
of :func:`ergodic_average`, ``horizon``, ``control``, a second of two exclusive callables ``f`` /
``grad``, ...) are fuzzed with the ``"K?"`` kinds (every bad value of ``K`` but ``None``); the valid
calls give optional tensors a value, so that the bad tensors derived from it have the right shape.
Free-form labels (``name`` and ``equation`` of :class:`Flow`, ``what`` of :func:`one_gradient`) take
any string: they are fuzzed with the ``"label"`` kind (``None`` and a number are bad).
"""

from __future__ import annotations

import gradflows as gf
import torch

from api.engine import Call

F64 = torch.float64
oo, le, dr, es = gf.ode_optimizers, gf.local_entropy, gf.deep_relaxation, gf.entropy_sgd
et, fl, hom, hj = gf.exit_times, gf.fast_langevin, gf.homogenization, gf.hamilton_jacobi
dw = gf.landscapes.double_well
QUAD = dict(lo=-4.0, hi=4.0, n_points=41)  # a small grid: the local Gibbs measures of gamma = 1


def _t(*v):
    return torch.tensor(v, dtype=F64)


def _gen():
    return torch.Generator().manual_seed(0)


def _lin(y):
    return y


def _dw_grad(y):
    return y**3 - y


# ---------------------------------------------------------------- ode_optimizers
def _flow_args():
    return dict(
        name="flow",
        equation="(1)",
        n_vars=1,
        rhs=lambda s: (-s[0],),
        energy=lambda s: (s[0] ** 2).sum(-1),
        energy_rate=lambda s: -2 * (s[0] ** 2).sum(-1),
        check_state=None,
    )


ODE = [
    Call(
        "ode_optimizers.Flow",
        lambda: oo.Flow,
        _flow_args,
        {
            "n_vars": "count",
            "rhs": "callable",
            "energy": "callable",
            "energy_rate": "callable",
            "check_state": "callable?",
            "name": "label",
            "equation": "label",
        },
    ),
    Call(
        "ode_optimizers.autograd_gradient",
        lambda: oo.autograd_gradient,
        lambda: dict(J=dw),
        {"J": "callable"},
    ),
    Call(
        "ode_optimizers.one_gradient",
        lambda: oo.one_gradient,
        lambda: dict(f=None, grad=_dw_grad),
        {"f": "callable?", "grad": "callable", "what": "label"},  # exactly one of f, grad: any f is refused
    ),
    Call(
        "ode_optimizers.gradient_flow",
        lambda: oo.gradient_flow,
        lambda: dict(J=dw, grad=_dw_grad),
        {"J": "callable", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.heavy_ball",
        lambda: oo.heavy_ball,
        lambda: dict(J=dw, grad=_dw_grad),
        {"J": "callable", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.nesterov",
        lambda: oo.nesterov,
        lambda: dict(J=dw, nu=0.5, grad=_dw_grad),
        {"J": "callable", "nu": "nonneg", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.friction",
        lambda: oo.friction,
        lambda: dict(J=dw, nu=0.5, eps=0.1, grad=_dw_grad),
        {"J": "callable", "nu": "pos", "eps": "pos", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.relaxation",
        lambda: oo.relaxation,
        lambda: dict(J=dw, eps=0.1, grad=_dw_grad),
        {"J": "callable", "eps": "pos", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.adam_ode",
        lambda: oo.adam_ode,
        lambda: dict(J=dw, eps1=0.1, eps2=0.5, grad=_dw_grad),
        {"J": "callable", "eps1": "pos", "eps2": "pos", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.adam_asymptotic_energy",
        lambda: oo.adam_asymptotic_energy,
        lambda: dict(J=dw, W=_t(0.5, -0.3), eps1=0.1, grad=_dw_grad),
        {"J": "callable", "W": "tensor", "eps1": "pos", "grad": "callable?"},
    ),
    Call(
        "ode_optimizers.integrate",
        lambda: oo.integrate,
        lambda: dict(
            flow=oo.gradient_flow(dw),
            state0=_t(0.5, -0.3),
            dt=0.1,
            n_steps=3,
            method="rk4",
            record_every=1,
        ),
        {
            "flow": "object",
            "state0": "tensor",
            "dt": "pos",
            "n_steps": "index",
            "method": "choice",
            "record_every": "count",
            "progress": "bool",
        },
    ),
]


# ---------------------------------------------------------------- local_entropy
def _le_args():
    return dict(f=dw, x=_t([0.3], [-0.7]), gamma=1.0, **QUAD)


_LE_KINDS = {"f": "callable", "x": "tensor", "gamma": "pos", "lo": "real", "hi": "real", "n_points": "size"}

LOCAL = [
    Call(f"local_entropy.{name}", (lambda name=name: getattr(le, name)), _le_args, _LE_KINDS)
    for name in (
        "local_entropy",
        "gibbs_mean",
        "entropic_gradient",
        "local_gibbs_weights",
        "local_entropy_hessian",
    )
] + [
    Call(
        "local_entropy.quadrature_nodes",
        lambda: le.quadrature_nodes,
        lambda: dict(d=1, lo=-4.0, hi=4.0, n_points=9, dtype=F64),
        {
            "d": "size",
            "lo": "real",
            "hi": "real",
            "n_points": "size",
            "dtype": "choice?",
            "device": "choice?",
        },
    ),
]


# ---------------------------------------------------------------- deep_relaxation
DEEP = [
    Call(
        "deep_relaxation.two_scale",
        lambda: dr.two_scale,
        lambda: dict(
            x0=_t([0.3], [-0.7], [0.1]),
            y0=_t([0.2], [-0.5], [0.0]),
            gamma=1.0,
            eps=0.1,
            dt=0.01,
            n_steps=3,
            grad=_dw_grad,
            control=0.5,
            record_every=1,
            stats=lambda x, y: x.mean(0) - y.mean(0),
            generator=_gen(),
            noise=torch.randn(3, 3, 1, generator=_gen(), dtype=F64),
            noise_chunk=2,
        ),
        {
            "x0": "tensor",
            "y0": "tensor",
            "gamma": "pos",
            "eps": "pos",
            "dt": "pos",
            "n_steps": "index",
            "f": "callable?",  # exclusive with grad: any f is refused here
            "grad": "callable",
            "control": "nonneg?",  # a number in [0, 1] (or a feedback)
            "record_every": "count?",
            "stats": "callable?",
            "generator": "generator",
            "noise": "tensor?",
            "noise_chunk": "count?",  # steps per draw: an absurd one means "all steps"
            "progress": "bool",
        },
    ),
    Call(
        "deep_relaxation.entropic_descent",
        lambda: dr.entropic_descent,
        lambda: dict(
            x0=_t([0.3], [-0.7]),
            gamma=1.0,
            T=0.1,
            n_steps=2,
            f=dw,
            control=0.5,
            method="euler",
            record_every=1,
            **QUAD,
        ),
        {
            "x0": "tensor",
            "gamma": "pos",
            "T": "pos",
            "n_steps": "count",
            "f": "callable",
            "control": "nonneg?",  # a number in [0, 1] (or a feedback)
            "method": "choice",
            "record_every": "count?",
            "lo": "real",
            "hi": "real",
            "n_points": "size",
            "progress": "bool",
        },
    ),
]


# ---------------------------------------------------------------- entropy_sgd
_ESGD: dict = {}


def _esgd(**kw):
    p = torch.nn.Parameter(_t(0.5, -0.3))
    _ESGD["p"] = p
    return es.EntropySGD([p], inner_steps=2, noise_scale=0.01, generator=_gen(), **kw)


def _closure():
    def closure():
        p = _ESGD["p"]
        loss = ((p * p - 1) ** 2).sum() / 4
        loss.backward()
        return loss

    return closure


def _esgd_with_state():
    opt = _esgd(scoping=0.1)
    opt.step(_closure())
    return opt


ESGD = [
    Call(
        "entropy_sgd.EntropySGD",
        lambda: es.EntropySGD,
        lambda: dict(
            params=[torch.nn.Parameter(_t(0.5, -0.3))],
            lr=1.0,
            inner_lr=0.1,
            gamma=0.03,
            inner_steps=2,
            alpha=0.75,
            noise_scale=1e-3,
            scoping=0.1,
            restart=True,
            generator=_gen(),
        ),
        {
            "params": "object",
            "lr": "pos",
            "inner_lr": "pos",
            "gamma": "pos",
            "inner_steps": "count",
            "alpha": "pos",
            "noise_scale": "nonneg",
            "scoping": "nonneg",
            "restart": "bool",
            "generator": "generator",
        },
    ),
    Call(
        "entropy_sgd.EntropySGD.coupling",
        lambda: _esgd_with_state().coupling,
        lambda: dict(group={"gamma": 0.03, "scoping": 0.1}),
        {"group": "object"},
    ),
    Call("entropy_sgd.EntropySGD.state_dict", lambda: _esgd_with_state().state_dict),
    Call(
        "entropy_sgd.EntropySGD.load_state_dict",
        lambda: _esgd().load_state_dict,
        lambda: dict(state_dict=_esgd_with_state().state_dict()),
        {"state_dict": "object"},
    ),
    Call(
        "entropy_sgd.EntropySGD.step",
        lambda: _esgd().step,
        lambda: dict(closure=_closure()),
        {"closure": "callable"},
    ),
]


# ---------------------------------------------------------------- exit_times
def _exit_result():
    return et.ExitTimes(times=_t(0.1, 0.2, 0.3, 0.4), exited=torch.ones(4, dtype=torch.bool), T=1.0)


def _exit_fraction():
    return _exit_result().fraction


EXIT = [
    Call(
        "exit_times.ExitTimes",
        lambda: et.ExitTimes,
        lambda: dict(times=_t(0.1, 0.2, 0.3, 0.4), exited=torch.ones(4, dtype=torch.bool), T=1.0),
        # exited: a bool tensor ("tensor" would round it to build its integer variant)
        {"times": "tensor", "exited": "object", "T": "pos"},
    ),
    Call("exit_times.ExitTimes.fraction", lambda: _exit_fraction),
    Call(
        "exit_times.ExitTimes.mean", lambda: _exit_result().mean, lambda: dict(groups=2), {"groups": "size"}
    ),
    Call(
        "exit_times.ExitTimes.stderr",
        lambda: _exit_result().stderr,
        lambda: dict(groups=2),
        {"groups": "size"},
    ),
    Call(
        "exit_times.exit_times",
        lambda: et.exit_times,
        lambda: dict(
            x0=torch.zeros(4, 1, dtype=F64),
            sigma=1.0,
            dt=0.01,
            n_steps=5,
            grad=_lin,
            exited=lambda x: x[:, 0] != 0,
            chunk=2,
            generator=_gen(),
        ),
        {
            "x0": "tensor",
            "sigma": "pos",
            "dt": "pos",
            "n_steps": "count",
            "grad": "callable",
            "exited": "callable",
            "chunk": "count",
            "generator": "generator",
            "progress": "bool",
        },
    ),
]


# ---------------------------------------------------------------- fast_langevin
FAST = [
    Call(
        "fast_langevin.ergodic_average",
        lambda: fl.ergodic_average,
        lambda: dict(
            x=_t([0.3], [-0.7]),
            gamma=1.0,
            dt=0.1,
            n_steps=3,
            grad=_dw_grad,
            replicas=2,
            y0=_t([0.1], [-0.5]),
            n_burn=1,
            record_every=1,
            generator=_gen(),
            noise_chunk=2,
        ),
        {
            "x": "tensor",
            "gamma": "pos",
            "dt": "pos",
            "n_steps": "count",
            "f": "callable?",  # exclusive with grad: any f is refused here
            "grad": "callable",
            "replicas": "size",
            "y0": "tensor?",
            "n_burn": "index",
            "record_every": "count?",
            "generator": "generator",
            "noise_chunk": "count?",  # steps per draw: an absurd one means "all steps"
            "progress": "bool",
        },
    ),
]


# ---------------------------------------------------------------- homogenization
def _hom_args(p=False):
    out = dict(f=dw, x=_t(0.3, -0.7, 0.1), gamma=1.0, **QUAD)
    if p:
        out["p"] = _t(1.0, -1.0, 0.5)
    return out


_HOM_KINDS = {"f": "callable", "x": "tensor", "gamma": "pos", "lo": "real", "hi": "real", "n_points": "size"}


def _hj_solution():
    x = torch.linspace(-1.0, 1.0, 9, dtype=F64)
    return hj.solve_hj(x, x * x, 0.2, speeds=(torch.ones_like(x), torch.ones_like(x)))


HOM = [
    Call(
        "homogenization.hamiltonian",
        lambda: hom.hamiltonian,
        lambda: dict(x=_t(0.3, -0.7, 0.1), y=_t(0.0, 0.5, -0.2), p=_t(1.0, -1.0, 0.5), gamma=1.0),
        {"x": "tensor", "y": "tensor", "p": "tensor", "gamma": "pos"},
    ),
    Call("homogenization.one_sided_means", lambda: hom.one_sided_means, _hom_args, _HOM_KINDS),
    Call(
        "homogenization.effective_hamiltonian",
        lambda: hom.effective_hamiltonian,
        lambda: _hom_args(p=True),
        _HOM_KINDS | {"p": "tensor"},
    ),
    Call(
        "homogenization.constant_control_hamiltonian",
        lambda: hom.constant_control_hamiltonian,
        lambda: _hom_args(p=True),
        _HOM_KINDS | {"p": "tensor"},
    ),
    Call("homogenization.extended_speeds", lambda: hom.extended_speeds, _hom_args, _HOM_KINDS),
    Call(
        "homogenization.constant_control_speeds", lambda: hom.constant_control_speeds, _hom_args, _HOM_KINDS
    ),
    Call(
        "homogenization.truncated_cell_problem",
        lambda: hom.truncated_cell_problem,
        lambda: dict(f=dw, xbar=0.3, pbar=1.0, gamma=1.0, delta=0.5, n=1.5, dx=0.25),
        {
            "f": "callable",
            "xbar": "real",
            "pbar": "real",
            "gamma": "pos",
            "delta": "pos",
            "n": "pos",
            "dx": "pos",
        },
    ),
    Call(
        "homogenization.cell_problem_monte_carlo",
        lambda: hom.cell_problem_monte_carlo,
        lambda: dict(
            f=dw,
            xbar=0.3,
            pbar=1.0,
            gamma=1.0,
            delta=0.5,
            n=1.5,
            y0=_t(0.0, 0.5),
            n_paths=3,
            dt=0.01,
            horizon=0.03,
            grad=_dw_grad,
            generator=_gen(),
            bridge=True,
        ),
        {
            "f": "callable",
            "xbar": "real",
            "pbar": "real",
            "gamma": "pos",
            "delta": "pos",
            "n": "pos",
            "y0": "tensor",
            "n_paths": "size",
            "dt": "pos",
            "horizon": "pos?",
            "grad": "callable?",
            "generator": "generator",
            "bridge": "bool",
            "progress": "bool",
        },
    ),
    Call(
        "homogenization.extended_feedback",
        lambda: hom.extended_feedback,
        lambda: dict(solution=_hj_solution(), tol=1e-8),
        {"solution": "object", "tol": "nonneg"},
    ),
    Call(
        "homogenization.target_feedback",
        lambda: hom.target_feedback,
        lambda: dict(target=0.5),
        {"target": "real"},
    ),
]


# ---------------------------------------------------------------- hamilton_jacobi
def _hj_fields():
    s = _hj_solution()
    return dict(x=s.x, times=s.times, v=s.v, v_x=s.v_x)


HJ = [
    Call(
        "hamilton_jacobi.HJSolution",
        lambda: hj.HJSolution,
        _hj_fields,
        {"x": "tensor", "times": "tensor", "v": "tensor", "v_x": "tensor"},
    ),
    Call(
        "hamilton_jacobi.HJSolution.value",
        lambda: _hj_solution().value,
        lambda: dict(t=0.1, X=_t(0.3, -0.7)),
        {"t": "real", "X": "tensor"},
    ),
    Call(
        "hamilton_jacobi.HJSolution.gradient",
        lambda: _hj_solution().gradient,
        lambda: dict(t=0.1, X=_t(0.3, -0.7)),
        {"t": "real", "X": "tensor"},
    ),
    Call(
        "hamilton_jacobi.solve_hj",
        lambda: hj.solve_hj,
        lambda: dict(
            x=torch.linspace(-1.0, 1.0, 9, dtype=F64),
            terminal=torch.linspace(-1.0, 1.0, 9, dtype=F64) ** 2,
            T=0.2,
            speeds=(torch.ones(9, dtype=F64), 0.5 * torch.ones(9, dtype=F64)),
            cfl=0.9,
            n_steps=3,
            record_every=1,
        ),
        {
            "x": "tensor",
            "terminal": "tensor",
            "T": "pos",
            "speeds": "object",
            "hamiltonian": "callable?",  # exclusive with speeds: any hamiltonian is refused here
            "lipschitz": "pos?",  # only with hamiltonian: any lipschitz is refused here
            "cfl": "pos",
            "n_steps": "count?",
            "record_every": "count",
            "progress": "bool",
        },
    ),
]

CALLS = ODE + LOCAL + DEEP + ESGD + EXIT + FAST + HOM + HJ
