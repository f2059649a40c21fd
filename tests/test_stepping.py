"""The stepping core: schemes against closed forms, the recording schedule, divergence, one loop."""

import ast
import math
import pathlib

import gradflows as gf
import numpy as np
import pytest
import torch
from gradflows import _stepping as S

LIB = pathlib.Path(gf.__file__).parent


@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("heun", 2), ("rk4", 4)])
def test_scheme_orders_on_a_rotation(method, order):
    # y' = A y with A the generator of rotations: y(1) = (cos 1, -sin 1) from (1, 0), in closed form
    def f(y):
        return (torch.stack([y[0][1], -y[0][0]]),)

    errs, hs = [], [1 / 16, 1 / 32, 1 / 64]
    for h in hs:
        y = (torch.tensor([1.0, 0.0], dtype=torch.float64),)
        for _ in range(round(1 / h)):
            y = S.SCHEMES[method](f, y, h)
        errs.append(float((y[0] - torch.tensor([math.cos(1), -math.sin(1)], dtype=torch.float64)).norm()))
    slope = np.polyfit(np.log(hs), np.log(errs), 1)[0]
    assert abs(slope - order) < 0.15, (method, slope)


def test_unknown_scheme_names_the_choices():
    with pytest.raises(ValueError, match="method must be one of"):
        S.scheme("rk5")
    with pytest.raises(ValueError, match=r"\('euler', 'rk4'\)"):
        S.scheme("heun", ("euler", "rk4"))


def _count(k, y):
    (x,) = y
    x.add_(1.0)  # in place, as the particle loops do
    return (x,)


def test_records_at_zero_every_r_and_the_last_step():
    x0 = torch.zeros(3)
    traj = S.run(_count, (x0,), 10, names=("X",), dt=0.5, record_every=4, inplace=True)
    assert traj.times.tolist() == [0.0, 2.0, 4.0, 5.0]
    assert traj.X[:, 0].tolist() == [0.0, 4.0, 8.0, 10.0]
    assert torch.equal(traj.last, torch.full((3,), 10.0)) and torch.equal(x0, torch.zeros(3))  # x0 untouched
    none = S.run(_count, (x0,), 10, names=("X",), record_every=None, inplace=True)
    assert none.states is None and none.stats is None and none.times.numel() == 0
    assert torch.equal(none.last, traj.last)
    with pytest.raises(AttributeError, match="recorded no states"):
        _ = none.X
    with pytest.raises(AttributeError, match="no 'Y'"):
        _ = traj.Y


def test_statistics_that_view_the_state_are_copied():
    traj = S.run(_count, (torch.zeros(4),), 3, names=("X",), stats=lambda y: y[0][:2], inplace=True)
    assert traj.states is None and traj.stats[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_variable_steps_give_the_sum_of_the_steps():
    traj = S.run(
        _count, (torch.zeros(1),), 3, names=("X",), dt=lambda k: [0.1, 0.2, 0.4][k], t0=1.0, inplace=True
    )
    np.testing.assert_allclose(traj.times.numpy(), [1.0, 1.1, 1.3, 1.7])


def test_divergence_names_step_variable_and_advice():
    def blow(k, y):
        W, Z = y
        return W, Z * (float("inf") if k == 6 else 2.0)

    state = (torch.ones(2), torch.ones(2))
    msg = r"demo diverged: Z has non-finite values at epoch 7 .*finite at epoch 6\); lower it"
    with pytest.raises(gf.DivergenceError, match=msg):
        S.run(blow, state, 20, names=("W", "Z"), desc="demo", unit="epoch", advice="lower it")
    with pytest.raises(gf.DivergenceError, match="at step 20"):  # records only at the end
        S.run(blow, state, 20, names=("W", "Z"), record_every=None)
    # only the watched variables must stay finite (Adam's D may overflow and freeze W)
    assert S.run(blow, state, 20, names=("W", "Z"), finite=("W",)).W.shape == (21, 2)
    with pytest.raises(ValueError, match="names"):
        S.run(blow, state, 1, names=("W",))


def test_differentiable_runs_keep_the_graph():
    w = torch.tensor(0.5, requires_grad=True)
    traj = S.run(
        lambda k, y: S.SCHEMES["rk4"](lambda z: (w * z[0],), y, 0.1),
        (torch.ones(1),),
        10,
        names=("x",),
        dt=0.1,
        grad=True,
        check_records=False,
    )
    (g,) = torch.autograd.grad(traj.last.sum(), w)
    assert abs(g.item() - math.exp(0.5)) < 1e-6  # d/dw exp(w t) at t = 1


def test_every_dynamics_returns_the_trajectory_type():
    x = torch.zeros(5, 2)
    flow = gf.ode_optimizers.gradient_flow(lambda W: (W**2).sum(-1))
    results = [
        gf.ode_optimizers.integrate(flow, torch.ones(2), 0.1, 3),
        gf.adam.adam(lambda W: 2 * W, torch.ones(2), 3),
        gf.batches.random_batch_splitting(torch.eye(3).repeat(2, 1), torch.ones(6, 1), 2, 0.1, 2),
        gf.particles.langevin(x, 0.5, 0.1, 3, grad=lambda X: X, record_every=1),
        gf.control.flow(gf.control.random_controls(2, 3, generator=gf.generator(0)), x),
    ]
    assert all(isinstance(r, gf.Trajectory) for r in results)
    assert [r.names for r in results] == [("W",), ("W", "Z", "D"), ("W",), ("X",), ("x",)]


def test_one_stepping_loop():
    # only the core runs a progress bar over steps; the dynamics modules write steps, not loops
    for path in LIB.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {
            a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module == "tqdm.auto"
            for a in n.names
        }
        if path.stem in ("ode_optimizers", "adam", "batches", "particles", "control"):
            assert not names, f"{path.name} runs its own loop with a progress bar"
