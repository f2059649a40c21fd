"""ODE optimizers: vector fields against closed forms and scipy, energy identities, bad input."""

import gradflows as gf
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import torch
from gradflows import landscapes as L
from gradflows import ode_optimizers as oo


def _spd(q, lo, hi, seed=0):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(q, q, generator=g))
    return Q @ torch.diag(torch.linspace(lo, hi, q)) @ Q.T


def test_gradient_flow_matches_matrix_exponential():
    A = _spd(6, 0.5, 3.0)
    J = L.quadratic(A)
    W0 = torch.randn(4, 6)
    tr = oo.integrate(oo.gradient_flow(J), W0, dt=0.01, n_steps=100)
    exact = W0 @ torch.from_numpy(scipy.linalg.expm(-A.numpy() * 1.0)).T
    assert torch.allclose(tr.W[-1], exact, atol=1e-9)
    assert tr.times[-1] == pytest.approx(1.0)
    assert tr.W.shape == (101, 4, 6)


def test_euler_is_gradient_descent():
    A = _spd(3, 1.0, 2.0)
    J = L.quadratic(A)
    W0 = torch.randn(3)
    tr = oo.integrate(oo.gradient_flow(J), W0, dt=0.1, n_steps=5, method="euler")
    W = W0.clone()
    for _ in range(5):
        W = W - 0.1 * (A @ W)
    assert torch.allclose(tr.W[-1], W, atol=1e-14)


def test_explicit_gradient_is_used():
    calls = []

    def grad(W):
        calls.append(1)
        return W

    J = lambda W: 0.5 * (W * W).sum(-1)  # noqa: E731
    oo.integrate(oo.gradient_flow(J, grad=grad), torch.ones(2), 0.1, 3, method="euler")
    assert len(calls) == 3


def _scipy_reference(flow, state0, T):
    sizes = [s.numel() for s in state0]

    def f(_t, y):
        parts, i = [], 0
        for s, n in zip(state0, sizes, strict=True):
            parts.append(torch.from_numpy(y[i : i + n]).reshape(s.shape))
            i += n
        return torch.cat([r.reshape(-1) for r in flow.rhs(tuple(parts))]).numpy()

    y0 = torch.cat([s.reshape(-1) for s in state0]).numpy()
    sol = scipy.integrate.solve_ivp(f, (0, T), y0, rtol=1e-11, atol=1e-12, method="DOP853")
    return sol.y[:, -1]


@pytest.mark.parametrize(
    "make",
    [
        lambda J: oo.heavy_ball(J),
        lambda J: oo.nesterov(J, 0.3),
        lambda J: oo.friction(J, 0.5, 0.1),
        lambda J: oo.relaxation(J, 0.2),
        lambda J: oo.adam_ode(J, 0.05, 0.5),
    ],
)
def test_flows_match_scipy_and_energy_rates(make):
    J = L.six_hump
    flow = make(J)
    W0 = torch.tensor([0.4, -0.3])
    state0 = (W0, torch.zeros(2)) if flow.n_vars == 2 else (W0, torch.zeros(2), torch.ones(2))
    tr = oo.integrate(flow, state0, dt=1e-3, n_steps=500)
    ref = _scipy_reference(flow, state0, 0.5)
    ours = torch.cat([s[-1].reshape(-1) for s in tr.states]).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-8)
    # the lemma's energy rate against a central difference of the energy
    E = tr.evaluate(flow.energy)
    # fourth-order central difference: the relaxation times 0.05-0.2 make the
    # second-order one too inaccurate for a 1e-5 comparison at dt = 1e-3
    dE = (-E[4:] + 8 * E[3:-1] - 8 * E[1:-3] + E[:-4]) / (12e-3)
    rate = flow.energy_rate(tuple(s[2:-2] for s in tr.states))
    assert (dE - rate).abs().max() < 1e-5 * (1 + rate.abs().max())


def test_heavy_ball_energy_conserved_rk4_not_euler():
    J = L.rosenbrock()
    flow = oo.heavy_ball(J)
    s0 = (torch.tensor([-1.0, 1.5]), torch.zeros(2))
    E_rk = oo.integrate(flow, s0, 1e-3, 1000).evaluate(flow.energy)
    E_eu = oo.integrate(flow, s0, 1e-3, 1000, method="euler").evaluate(flow.energy)
    assert (E_rk - E_rk[0]).abs().max() < 1e-5
    assert (E_eu - E_eu[0]).abs().max() > 1.0


def test_adam_asymptotic_energy_on_slow_manifold():
    J = L.six_hump
    W = torch.tensor([[0.3, 0.2], [-1.0, 0.5]])
    g = oo.autograd_gradient(J)(W)
    flow = oo.adam_ode(J, 0.01, 1.0)
    E = flow.energy((W, -g, g * g))
    assert torch.allclose(E, oo.adam_asymptotic_energy(J, W, 0.01), atol=1e-12)


def test_record_every_and_trajectory_accessors():
    flow = oo.heavy_ball(L.double_well)
    tr = oo.integrate(flow, (torch.ones(3), torch.zeros(3)), 0.01, 10, record_every=4)
    assert tr.times.tolist() == pytest.approx([0.0, 0.04, 0.08, 0.10])
    assert tr.Z.shape == (4, 3)
    with pytest.raises(AttributeError):
        _ = tr.D


def test_divergence_is_reported():
    J = L.quadratic(torch.eye(2) * 10.0)
    with pytest.raises(gf.DivergenceError, match="diverged"):
        oo.integrate(oo.gradient_flow(J), torch.ones(2), dt=1.0, n_steps=2000, method="euler")


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"dt": 0.0}, "dt"),
        ({"dt": -1.0}, "dt"),
        ({"dt": float("nan")}, "dt"),
        ({"n_steps": -1}, "n_steps"),
        ({"n_steps": 2.5}, "n_steps"),
        ({"method": "rk45"}, "method"),
        ({"record_every": 0}, "record_every"),
    ],
)
def test_integrate_bad_arguments(kwargs, msg):
    args = {"dt": 0.1, "n_steps": 3, "method": "rk4", "record_every": 1} | kwargs
    wrong_type = kwargs.get("n_steps") == 2.5  # a float count is a wrong type: TypeError
    with pytest.raises(TypeError if wrong_type else ValueError, match=msg):
        oo.integrate(oo.gradient_flow(L.double_well), torch.ones(2), **args)


def test_integrate_bad_states():
    flow = oo.heavy_ball(L.double_well)
    with pytest.raises(ValueError, match="2 tensor"):
        oo.integrate(flow, torch.ones(2), 0.1, 1)
    with pytest.raises(ValueError, match="same shape"):
        oo.integrate(flow, (torch.ones(2), torch.ones(3)), 0.1, 1)
    with pytest.raises(ValueError, match="NaN"):
        oo.integrate(flow, (torch.tensor([1.0, float("nan")]), torch.ones(2)), 0.1, 1)
    with pytest.raises(ValueError, match="scalar"):
        oo.integrate(oo.gradient_flow(L.double_well), torch.tensor(1.0), 0.1, 1)
    with pytest.raises(ValueError, match="positive initial D"):
        oo.integrate(oo.adam_ode(L.double_well, 0.1, 1.0), (torch.ones(2),) * 2 + (torch.zeros(2),), 0.1, 1)


def test_bad_flow_parameters():
    for make, msg in [
        (lambda: oo.nesterov(L.double_well, -1.0), "nu"),
        (lambda: oo.friction(L.double_well, 0.0, 1.0), "nu"),
        (lambda: oo.friction(L.double_well, 1.0, 0.0), "eps"),
        (lambda: oo.relaxation(L.double_well, -0.1), "eps"),
        (lambda: oo.adam_ode(L.double_well, 0.0, 1.0), "eps1"),
        (lambda: oo.adam_ode(L.double_well, 1.0, float("inf")), "eps2"),
    ]:
        with pytest.raises(ValueError, match=msg):
            make()
    for make, msg in [  # wrong types
        (lambda: oo.gradient_flow(L.double_well, grad=3), "grad"),
        (lambda: oo.autograd_gradient("J"), "callable"),
    ]:
        with pytest.raises(TypeError, match=msg):
            make()


def test_objective_with_wrong_output_shape():
    flow = oo.gradient_flow(lambda W: W)  # returns (..., q) instead of (...)
    with pytest.raises(ValueError, match="J must map"):
        oo.integrate(flow, torch.ones(3), 0.1, 1)


def test_integrate_follows_device(device):
    W0 = torch.ones(1000, 2, device=device, dtype=torch.float32)
    flow = oo.nesterov(L.rosenbrock(), 0.1)
    tr = oo.integrate(flow, (W0, torch.zeros_like(W0)), 1e-3, 20)
    assert tr.W.device.type == device and tr.W.dtype == torch.float32
    assert tr.times.device.type == device
