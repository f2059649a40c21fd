"""Discrete Adam against torch.optim.Adam (the independent reference) and the ODE's Euler scheme."""

import gradflows as gf
import pytest
import torch
from gradflows import adam as ad
from gradflows import landscapes as L
from gradflows import ode_optimizers as oo


def _torch_adam(J, W0, n, **kw):
    p = torch.nn.Parameter(W0.clone())
    opt = torch.optim.Adam([p], **kw)
    out = []
    for _ in range(n):
        opt.zero_grad()
        J(p).sum().backward()
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)


@pytest.mark.parametrize(
    "kw", [{}, {"lr": 0.05, "betas": (0.5, 0.6), "eps": 1e-4}, {"lr": 0.01, "betas": (0.0, 0.9)}]
)
def test_adam_reproduces_torch_optim(kw):
    J = L.rosenbrock()
    W0 = torch.tensor([-1.2, 1.0])
    ref = _torch_adam(J, W0, 150, **kw)
    ours = ad.adam(oo.autograd_gradient(J), W0, 150, **kw)
    # bit-for-bit on most steps; round-off differences grow on chaotic runs
    assert (ours.W[1:] - ref).abs().max() <= 1e-9
    assert ours.times[-1] == pytest.approx(150 * kw.get("lr", 1e-3))


def test_adam_batched_initial_conditions():
    J = L.six_hump
    W0 = torch.tensor([[0.5, 0.5], [-1.0, 0.2], [1.5, -0.7]])
    batched = ad.adam(oo.autograd_gradient(J), W0, 50, lr=0.02).W[-1]
    for i in range(3):
        single = ad.adam(oo.autograd_gradient(J), W0[i], 50, lr=0.02).W[-1]
        assert torch.allclose(batched[i], single, atol=1e-14)


def test_lagged_uncorrected_adam_is_euler_on_the_ode():
    J = L.six_hump
    W0 = torch.tensor([0.5, -0.4])
    dt, e1, e2 = ad.adam_to_ode(0.01, 0.9, 0.99)
    disc = ad.adam(
        oo.autograd_gradient(J),
        W0,
        80,
        lr=dt,
        betas=(0.9, 0.99),
        eps=0.0,
        bias_correction="none",
        use_new_moments=False,
        D0=0.5,
    )
    ode = oo.integrate(
        oo.adam_ode(J, e1, e2), (W0, torch.zeros(2), 0.5 * torch.ones(2)), dt, 80, method="euler"
    )
    for a, b in zip(disc.states, ode.states, strict=True):
        assert torch.allclose(a, b, atol=1e-12)


def test_printed_variants_differ_from_adam():
    J = L.rosenbrock()
    g = oo.autograd_gradient(J)
    W0 = torch.tensor([-1.2, 1.0])
    ref = ad.adam(g, W0, 100, lr=0.01).W
    rec = ad.adam(g, W0, 100, lr=0.01, bias_correction="recursive").W
    lag = ad.adam(g, W0, 100, lr=0.01, use_new_moments=False, D0=1e-3).W
    assert (rec - ref).abs().max() > 1e-3
    assert (lag - ref).abs().max() > 1e-3


def test_parameter_maps():
    assert ad.adam_to_ode(1e-3, 0.9, 0.999) == pytest.approx((1e-3, 0.01, 1.0))
    assert ad.ode_to_adam(1e-3, 0.01, 1.0) == pytest.approx((1e-3, 0.9, 0.999))
    with pytest.raises(ValueError, match="beta1"):
        ad.adam_to_ode(1e-3, 1.0, 0.9)
    with pytest.raises(ValueError, match="dt must not exceed"):
        ad.ode_to_adam(0.1, 0.01, 1.0)


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"lr": 0.0}, "lr"),
        ({"betas": (0.9,)}, "betas"),
        ({"betas": (1.2, 0.9)}, "beta1"),
        ({"eps": -1.0}, "eps"),
        ({"n_steps": -3}, "n_steps"),
        ({"bias_correction": "kingma"}, "bias_correction"),
        ({"eps": 0.0, "use_new_moments": False}, "D0 > 0"),
        ({"D0": -1.0}, "D0"),
    ],
)
def test_adam_bad_arguments(kw, msg):
    args = {"n_steps": 2} | kw
    n = args.pop("n_steps")
    with pytest.raises(ValueError, match=msg):
        ad.adam(lambda W: W, torch.ones(2), n, **args)


def test_adam_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        ad.adam(lambda W: W, torch.tensor([float("inf"), 0.0]), 1)
    with pytest.raises(ValueError, match="grad returned shape"):
        ad.adam(lambda W: W.sum(), torch.ones(2), 1)
    with pytest.raises(TypeError, match="callable"):
        ad.adam(None, torch.ones(2), 1)
    with pytest.raises(gf.DivergenceError):
        ad.adam(lambda W: torch.full_like(W, float("nan")), torch.ones(2), 1)


def test_adam_device(device):
    W0 = torch.ones(64, 2, device=device, dtype=torch.float32)
    tr = ad.adam(oo.autograd_gradient(L.rosenbrock()), W0, 5, lr=0.01)
    assert tr.W.device.type == device and tr.W.dtype == torch.float32
