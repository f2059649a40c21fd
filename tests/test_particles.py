"""Langevin particles: Euler-Maruyama against hand-written loops and exact moments, mean-field drift
against torch.autograd, bad input."""

import math
from unittest import mock

import pytest
import torch
from gradflows import DivergenceError
from gradflows import landscapes as L
from gradflows import mean_field as MF
from gradflows import particles as P


def _dw_grad(x):
    return x**3 - x


# --- langevin ----------------------------------------------------------------------------------


def test_sigma_zero_is_explicit_euler():
    x0 = torch.randn(6, 2)
    path = P.langevin(x0, 0.0, 0.05, 30, grad=_dw_grad)
    x = x0.clone()
    for _ in range(30):
        x = x - 0.05 * (x**3 - x)
    assert torch.allclose(path.last, x, atol=1e-14, rtol=0)
    assert path.states is None and path.stats is None and path.times.shape == (0,)


@pytest.mark.parametrize("noise_chunk", [None, 7])
def test_ornstein_uhlenbeck_moments(noise_chunk):
    # f = x^2/2: X_{k+1} = (1 - dt) X_k + sigma sqrt(dt) xi_k, whose moments are exact recursions
    n, sigma, dt, x0 = 10**5, 0.8, 0.1, 1.5
    g = torch.Generator().manual_seed(1)
    path = P.langevin(
        torch.full((n, 1), x0),
        sigma,
        dt,
        100,
        grad=lambda x: x,
        record_every=10,
        generator=g,
        noise_chunk=noise_chunk,
    )
    assert path.X.shape == (11, n, 1)
    for k, X in zip(range(0, 101, 10), path.X, strict=True):
        mean = (1 - dt) ** k * x0
        var = sigma**2 * dt * sum((1 - dt) ** (2 * j) for j in range(k))
        if k == 0:
            assert torch.all(X == x0)
            continue
        assert abs(X.mean().item() - mean) < 5 * math.sqrt(var / n)
        assert abs(X.var().item() - var) < 5 * var * math.sqrt(2 / (n - 1))
    # stationary law: invariant density exp(-2 f / sigma^2), variance sigma^2/2 (up to O(dt))
    stat = path.last.var().item() / (sigma**2 / 2)
    assert abs(stat - 1) < dt / 2 + 5 * math.sqrt(2 / n)
    assert path.times[-1].item() == pytest.approx(100 * dt)


def test_autograd_potential_equals_given_gradient():
    x0 = torch.randn(50, 3)
    a = P.langevin(x0, 0.5, 0.01, 40, f=L.double_well, generator=torch.Generator().manual_seed(3))
    b = P.langevin(x0, 0.5, 0.01, 40, grad=_dw_grad, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(a.last, b.last, atol=1e-12, rtol=0)
    assert not torch.equal(a.last, x0)


def test_recording_and_stats():
    x0 = torch.randn(8, 2)
    x0_copy = x0.clone()
    path = P.langevin(x0, 0.3, 0.1, 10, grad=_dw_grad, record_every=3)
    assert torch.equal(x0, x0_copy)
    assert path.X.shape == (5, 8, 2)
    assert torch.allclose(path.times, torch.tensor([0.0, 0.3, 0.6, 0.9, 1.0]))
    assert torch.equal(path.X[0], x0) and torch.equal(path.X[-1], path.last)
    path = P.langevin(x0, 0.3, 0.1, 9, grad=_dw_grad, record_every=3, stats=lambda x: (x * x).mean(0))
    assert path.states is None and path.stats.shape == (4, 2)
    assert torch.allclose(path.stats[-1], (path.last**2).mean(0))
    path = P.langevin(x0, 0.3, 0.1, 4, grad=_dw_grad, record_every=2, stats=lambda x: x[:3])
    assert torch.equal(path.stats[0], x0[:3]) and torch.equal(path.stats[-1], path.last[:3])


def test_divergence_is_reported():
    with pytest.raises(DivergenceError, match="step 40.*smaller dt"):
        P.langevin(torch.full((4, 1), 2.0), 0.1, 1.0, 40, grad=_dw_grad)
    with pytest.raises(DivergenceError, match="step 5"):
        P.langevin(torch.full((4, 1), 2.0), 0.1, 1.0, 40, grad=_dw_grad, record_every=5)


def test_langevin_bad_input():
    x0 = torch.zeros(3, 2)
    with pytest.raises(ValueError, match="exactly one"):
        P.langevin(x0, 1.0, 0.1, 5)
    with pytest.raises(ValueError, match="exactly one"):
        P.langevin(x0, 1.0, 0.1, 5, f=L.double_well, grad=_dw_grad)
    with pytest.raises(ValueError, match="sigma"):
        P.langevin(x0, -1.0, 0.1, 5, grad=_dw_grad)
    with pytest.raises(ValueError, match="dt"):
        P.langevin(x0, 1.0, 0.0, 5, grad=_dw_grad)
    with pytest.raises(ValueError, match="x0 must have 2"):
        P.langevin(torch.zeros(3), 1.0, 0.1, 5, grad=_dw_grad)
    with pytest.raises(ValueError, match="NaN"):
        P.langevin(torch.tensor([[math.nan]]), 1.0, 0.1, 5, grad=_dw_grad)
    with pytest.raises(ValueError, match="record_every"):
        P.langevin(x0, 1.0, 0.1, 5, grad=_dw_grad, record_every=0)
    with pytest.raises(ValueError, match="give record_every"):
        P.langevin(x0, 1.0, 0.1, 5, grad=_dw_grad, stats=lambda x: x.mean())
    with pytest.raises(ValueError, match="noise_chunk"):
        P.langevin(x0, 1.0, 0.1, 5, grad=_dw_grad, noise_chunk=0)
    other = mock.Mock(spec=torch.Generator)
    other.device = torch.device("cuda", 0)
    with pytest.raises(ValueError, match="generator lives on cuda"):
        P.langevin(x0, 1.0, 0.1, 5, grad=_dw_grad, generator=other)


def test_langevin_on_device(device):
    g = torch.Generator(device=device).manual_seed(0)
    x0 = torch.randn(1000, 2, device=device)
    path = P.langevin(x0, 0.5, 0.01, 20, grad=_dw_grad, record_every=10, generator=g)
    assert path.last.device.type == device and path.X.shape == (3, 1000, 2)
    x32 = P.langevin(x0.float(), 0.5, 0.01, 5, f=L.double_well, generator=g).last
    assert x32.dtype == torch.float32 and x32.device.type == device


# --- mean-field network ---------------------------------------------------------------------


def _data(N=7, M=11, D=3, device="cpu", seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(N, 1 + D, generator=g)
    Z = MF.with_bias(torch.randn(M, D - 1, generator=g))
    Y = torch.randn(M, generator=g)
    return X.to(device), Z.to(device), Y.to(device)


_PHI = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def _reference_output(X, Z, activation):
    c, A = X[:, 0], X[:, 1:]
    return torch.einsum("n,mn->m", c, _PHI[activation](torch.einsum("nd,md->mn", A, Z))) / X.shape[0]


def test_with_bias():
    Z = torch.randn(5, 2)
    Zb = MF.with_bias(Z)
    assert Zb.shape == (5, 3) and torch.equal(Zb[:, :2], Z) and torch.all(Zb[:, 2] == 1)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_output_and_loss_match_einsum(activation, device):
    X, Z, Y = _data(device=device)
    ref = _reference_output(X, Z, activation)
    for chunk in (None, 4):
        assert torch.allclose(MF.mf_output(X, Z, activation, chunk=chunk), ref, atol=1e-14, rtol=0)
    loss = MF.mf_loss(X, Z, Y, activation)
    assert torch.allclose(loss, 0.5 * ((Y - ref) ** 2).mean(), atol=1e-14, rtol=0)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("D", [3, 12])  # small D: broadcast products on the CPU; larger: BLAS
def test_drift_is_minus_N_times_autograd(activation, D, device):
    N = 9
    X, Z, Y = _data(N=N, M=23, D=D, device=device)
    Xr = X.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(MF.mf_loss(Xr, Z, Y, activation), Xr)
    for chunk in (None, 5, 100):
        drift = MF.mf_drift(X, Z, Y, activation, chunk=chunk)
        assert drift.shape == X.shape
        assert torch.allclose(drift, -N * g, atol=1e-10, rtol=0)


def test_mean_field_langevin_is_noisy_gradient_descent(device):
    N, sigma, tau, n = 16, 0.3, 0.05, 20
    X0, Z, Y = _data(N=N, M=30, D=3, device=device)
    xi = torch.randn(n, N, 4, device=device)
    path = P.mean_field_langevin(X0, Z, Y, sigma, tau, n, noise=xi, record_every=5)
    X = X0.clone()
    for k in range(n):
        Xr = X.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(MF.mf_loss(Xr, Z, Y), Xr)
        X = X + tau * (-N * g - sigma**2 / 2 * X) + sigma * math.sqrt(tau) * xi[k]
    assert torch.allclose(path.last, X, atol=1e-10, rtol=0)
    assert path.X.shape == (5, N, 4) and torch.equal(path.X[0], X0)
    assert torch.allclose(path.times, torch.arange(0, 21, 5, device=device) * tau)


def test_minibatch_step_uses_drawn_rows():
    N, tau = 10, 0.1
    X0, Z, Y = _data(N=N, M=40)
    path = P.mean_field_langevin(
        X0, Z, Y, 0.0, tau, 1, activation="sigmoid", minibatch=6, generator=torch.Generator().manual_seed(5)
    )
    idx = torch.randint(40, (6,), generator=torch.Generator().manual_seed(5))
    Xr = X0.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(MF.mf_loss(Xr, Z[idx], Y[idx], "sigmoid"), Xr)
    assert torch.allclose(path.last, X0 - tau * N * g, atol=1e-12, rtol=0)


def test_minibatch_shapes_and_stats():
    X0, Z, Y = _data(N=32, M=50)
    path = P.mean_field_langevin(
        X0,
        Z,
        Y,
        0.5,
        0.1,
        12,
        minibatch=8,
        record_every=4,
        stats=lambda X: torch.stack([MF.mf_loss(X, Z, Y), X.square().mean()]),
        generator=torch.Generator().manual_seed(0),
    )
    assert path.last.shape == (32, 4) and path.states is None and path.stats.shape == (4, 2)
    assert torch.isfinite(path.stats).all()


def test_mean_field_on_device(device):
    X0, Z, Y = _data(N=64, M=40, device=device)
    g = torch.Generator(device=device).manual_seed(0)
    path = P.mean_field_langevin(X0.float(), Z.float(), Y.float(), 0.2, 0.1, 10, minibatch=16, generator=g)
    assert path.last.dtype == torch.float32 and path.last.device.type == device


def test_mean_field_divergence_is_reported():
    X, Z, Y = _data()
    with pytest.raises(DivergenceError, match="mean-field Langevin.*smaller dt"):
        P.mean_field_langevin(X, Z, Y, 1.0, 100.0, 300, generator=torch.Generator().manual_seed(0))


def test_mean_field_bad_input():
    X, Z, Y = _data()
    with pytest.raises(ValueError, match="Z must have shape"):
        MF.mf_drift(X, Z[:, :2], Y)
    with pytest.raises(ValueError, match="Y must have shape"):
        MF.mf_drift(X, Z, Y[:5])
    with pytest.raises(ValueError, match="activation"):
        MF.mf_output(X, Z, "softplus")
    with pytest.raises(ValueError, match="X must have shape"):
        MF.mf_output(X[:, :1], Z)
    with pytest.raises(ValueError, match="chunk"):
        MF.mf_drift(X, Z, Y, chunk=0)
    with pytest.raises(ValueError, match="dt"):
        P.mean_field_langevin(X, Z, Y, 0.1, 0.0, 3)
    with pytest.raises(ValueError, match="minibatch"):
        P.mean_field_langevin(X, Z, Y, 0.1, 0.1, 3, minibatch=0)
    with pytest.raises(ValueError, match="noise must have shape"):
        P.mean_field_langevin(X, Z, Y, 0.1, 0.1, 3, noise=torch.zeros(2, 7, 4))


def test_features_and_flat_derivative_against_autograd():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(7, 3, generator=g)
    Z = torch.randn(11, 2, generator=g)
    Y = torch.randn(11, generator=g)
    feats = MF.mf_features(X, Z)
    torch.testing.assert_close(feats.mean(0), MF.mf_output(X, Z), atol=1e-14, rtol=0)
    # the flat derivative is the derivative along mixtures: F((1-s) m + s delta_x) at s = 0
    pts = torch.randn(4, 3, generator=g)
    flat = MF.mf_flat_derivative(X, Z, Y, pts)
    for k in range(4):

        def F_mix(s, k=k):
            out = (1 - s) * MF.mf_output(X, Z) + s * MF.mf_output(pts[k : k + 1], Z)
            return 0.5 * ((Y - out) ** 2).mean()

        s = torch.tensor(0.0, requires_grad=True)
        (d,) = torch.autograd.grad(F_mix(s), s)
        # d/ds F((1-s)m + s delta_x) = dF/dm(m, x) - int dF/dm dm
        mean_flat = MF.mf_flat_derivative(X, Z, Y, X).mean()
        assert float(d) == pytest.approx(float(flat[k] - mean_flat), abs=1e-12)
    # its gradient at the neurons is minus the drift
    pts = X.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(MF.mf_flat_derivative(X, Z, Y, pts).sum(), pts)
    torch.testing.assert_close(-grad, MF.mf_drift(X, Z, Y), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="points"):
        MF.mf_flat_derivative(X, Z, Y, torch.zeros(2, 4))
