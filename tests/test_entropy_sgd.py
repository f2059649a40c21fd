"""Entropy-SGD (gradflows.entropy_sgd): the map to the Euler scheme of the two-scale system, the inner
loop against torch.optim.SGD, the outer step in closed form, validation and divergence."""

from __future__ import annotations

import math

import gradflows as gf
import pytest
import torch
from gradflows.deep_relaxation import two_scale
from gradflows.entropy_sgd import EntropySGD
from gradflows.landscapes import wide_narrow


def _closure(opt, param, f):
    def closure():
        opt.zero_grad()
        loss = f(param).sum()
        loss.backward()
        return loss

    return closure


def test_one_inner_step_is_the_euler_scheme_of_the_two_scale_system():
    f = wide_narrow(narrow=(1.5, 0.5, 2.6))
    gamma, eps, dt, n_steps = 12.0, 0.05, 0.001, 50
    x0 = torch.linspace(-2.0, 2.0, 40, dtype=torch.float64)[:, None]
    traj = two_scale(
        x0,
        x0,
        gamma,
        eps,
        dt,
        n_steps,
        f=f,
        generator=gf.generator(3),
        noise_chunk=1,
        record_every=1,
        progress=False,
    )
    x = torch.nn.Parameter(x0.clone())
    opt = EntropySGD(
        [x],
        lr=dt,
        inner_lr=dt / eps,
        gamma=gamma,
        inner_steps=1,
        alpha=1.0,
        noise_scale=1.0,
        restart=False,
        generator=gf.generator(3),
    )
    closure = _closure(opt, x, f)
    for k in range(n_steps):
        opt.step(closure)
        assert torch.allclose(x.detach(), traj.X[k + 1], rtol=0, atol=1e-15)
    assert torch.allclose(opt.state[x]["y"], traj.final[1], rtol=0, atol=1e-15)


def test_noise_free_inner_loop_is_sgd_on_the_coupled_loss():
    f = wide_narrow()
    x0 = torch.linspace(-2.5, 2.5, 11, dtype=torch.float64)
    gamma, eta, L = 3.0, 0.004, 7
    p = torch.nn.Parameter(x0.clone())
    opt = EntropySGD([p], lr=0.5, inner_lr=eta, gamma=gamma, inner_steps=L, alpha=1.0, noise_scale=0.0)
    opt.step(lambda: f(p[:, None]).sum().backward())  # a closure without zero_grad and returning None
    y = torch.nn.Parameter(x0.clone())
    sgd = torch.optim.SGD([y], lr=eta)
    for _ in range(L):
        sgd.zero_grad()
        (f(y[:, None]) + 0.5 * gamma * (y - x0) ** 2).sum().backward()
        sgd.step()
    assert torch.allclose(opt.state[p]["y"], y.detach(), rtol=0, atol=1e-13)
    # the outer step with alpha = 1: x - lr gamma (x - y_L)
    assert torch.allclose(p.detach(), x0 - 0.5 * gamma * (x0 - y.detach()), rtol=0, atol=1e-13)


@pytest.mark.parametrize("alpha,L", [(0.75, 5), (0.2, 12), (1.0, 1)])
def test_outer_step_on_a_quadratic_matches_the_closed_form(alpha, L):
    a, gamma, eta_in, eta, x = 2.0, 1.5, 0.1, 0.4, 1.3
    p = torch.nn.Parameter(torch.tensor([x], dtype=torch.float64))
    opt = EntropySGD([p], lr=eta, inner_lr=eta_in, gamma=gamma, inner_steps=L, alpha=alpha, noise_scale=0.0)
    loss = opt.step(_closure(opt, p, lambda v: 0.5 * a * v * v))
    assert abs(loss.item() - 0.5 * a * x * x) < 1e-15  # the loss at x
    ys, q = gamma * x / (a + gamma), 1 - eta_in * (a + gamma)
    mu = (1 - alpha) ** L * x + alpha * sum(
        (1 - alpha) ** (L - k) * (ys + q**k * (x - ys)) for k in range(1, L + 1)
    )
    assert abs(p.item() - (x - eta * gamma * (x - mu))) < 1e-14


def test_scoping_restart_and_closure_calls():
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    calls = []
    opt = EntropySGD([p], gamma=0.5, scoping=0.1, inner_steps=4, noise_scale=0.0)

    def closure():
        calls.append(1)
        loss = (p**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)
    assert len(calls) == 8 and opt.outer_steps == 2
    assert math.isclose(opt.coupling(opt.param_groups[0]), 0.5 * 1.1**2)


def test_works_on_a_module_with_several_groups_and_is_deterministic():
    def train():
        net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
        with torch.no_grad():
            for i, q in enumerate(net.parameters()):
                q.copy_(torch.randn(q.shape, generator=gf.generator(i), dtype=q.dtype))
        x = torch.randn(32, 2, generator=gf.generator(9), dtype=torch.float64)
        groups = [{"params": net[0].parameters()}, {"params": net[2].parameters(), "inner_lr": 0.01}]
        opt = EntropySGD(groups, lr=1.0, inner_lr=0.05, gamma=1.0, inner_steps=5, generator=gf.generator(1))
        losses = [opt.step(_closure(opt, net, lambda m: (m(x) - x[:, :1]) ** 2)).item() for _ in range(20)]
        return losses

    a, b = train(), train()
    assert a == b and a[-1] < a[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"lr": 0.0},
        {"inner_lr": -1.0},
        {"gamma": 0.0},
        {"gamma": math.nan},
        {"inner_steps": 0},
        {"inner_steps": 1.5},
        {"alpha": 0.0},
        {"alpha": 1.5},
        {"noise_scale": -0.1},
        {"scoping": -1.0},
        {"restart": 1},
        {"generator": 3},
    ],
)
def test_validation(kwargs):
    wrong_type = kwargs in ({"inner_steps": 1.5}, {"restart": 1}, {"generator": 3})
    with pytest.raises(TypeError if wrong_type else ValueError):
        EntropySGD([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_group_override_is_validated_and_closure_is_required():
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError):
        EntropySGD([{"params": [p], "gamma": -1.0}])
    with pytest.raises(TypeError, match="closure"):
        EntropySGD([p]).step()


def test_a_nan_loss_or_a_bad_closure_is_refused():
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = EntropySGD([p], inner_steps=2)
    with pytest.raises(gf.DivergenceError, match="loss became nan"):
        opt.step(lambda: torch.tensor(float("nan")))
    assert torch.equal(p.detach(), torch.ones(2, dtype=torch.float64))  # restored to x
    for closure in (3, "loss"):
        with pytest.raises(TypeError, match="closure"):
            opt.step(closure)
    with pytest.raises(TypeError, match="closure must return"):
        opt.step(lambda: "not a loss")


def test_divergence_raises():
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = EntropySGD([p], inner_lr=10.0, gamma=1.0, inner_steps=50, noise_scale=0.0)
    with pytest.raises(gf.DivergenceError):
        for _ in range(20):
            opt.step(_closure(opt, p, lambda v: v**4))


def test_state_dict_carries_the_scoping_clock():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = EntropySGD([p], gamma=0.5, scoping=0.2, inner_steps=2, noise_scale=0.0)
    for _ in range(3):
        opt.step(_closure(opt, p, lambda v: v**2))
    sd = opt.state_dict()
    assert sd["outer_steps"] == 3
    q = torch.nn.Parameter(p.detach().clone())
    resumed = EntropySGD([q], gamma=0.5, scoping=0.2, inner_steps=2, noise_scale=0.0)
    resumed.load_state_dict(sd)
    assert resumed.outer_steps == 3
    assert resumed.coupling(resumed.param_groups[0]) == opt.coupling(opt.param_groups[0])
    opt.step(_closure(opt, p, lambda v: v**2))
    resumed.step(_closure(resumed, q, lambda v: v**2))
    assert torch.equal(p.detach(), q.detach())
    with pytest.raises(ValueError):
        resumed.load_state_dict(sd | {"outer_steps": -1})


def test_grad_is_cleared_and_parameters_restored_when_the_closure_raises():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = EntropySGD([p], inner_steps=3, noise_scale=0.0)
    opt.step(_closure(opt, p, lambda v: v**2))
    assert p.grad is None  # the gradient of the last inner step was taken at y, not at the new x
    x = p.detach().clone()
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("data loader failed")
        (p**2).sum().backward()

    with pytest.raises(RuntimeError, match="data loader"):
        opt.step(failing)
    assert torch.equal(p.detach(), x) and p.grad is None and opt.outer_steps == 1


def test_divergence_names_the_inner_step_and_restores_x():
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    opt = EntropySGD([p], inner_steps=4, noise_scale=0.0)
    calls = []

    def closure():
        calls.append(1)
        loss = (p**2).sum() * (math.inf if len(calls) == 3 else 1.0)
        loss.backward()
        return loss

    with pytest.raises(gf.DivergenceError, match="inner step 2"):
        opt.step(closure)
    assert torch.equal(p.detach(), torch.ones(2, dtype=torch.float64))
