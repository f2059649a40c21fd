"""The two-scale system and entropic gradient descent (gradflows.deep_relaxation), the averaged-descent
reference (gradflows.references.averaged_descent) and the harnesses of notebook 04-global/03."""

from __future__ import annotations

import math

import gradflows as gf
import numpy as np
import pytest
import torch
from gradflows.deep_relaxation import entropic_descent, two_scale
from gradflows.experiments import two_scale_limit as tsl
from gradflows.experiments import wide_minima as wm
from gradflows.references import averaged_descent as ad

A, GAMMA = 2.0, 3.0  # f(y) = A y^2 / 2: the linear-Gaussian case


def _linear_maps(eps, dt):
    """One staggered step (x, y) -> M (x, y) + noise of the quadratic case, and its noise vector."""
    h, g = dt / eps, GAMMA
    My = np.array([h * g, 1 - h * (A + g)])  # y_new = My . (x, y) + s xi
    Mx = np.array([1 - dt * g, 0.0]) + dt * g * My  # x_new = (1 - dt g) x + dt g y_new
    return np.vstack([Mx, My]), np.array([dt * g, 1.0]) * math.sqrt(2 * h)


def test_two_scale_linear_gaussian_mean_and_variance_are_exact():
    eps, dt, n_steps, n = 0.1, 0.01, 40, 20_000
    M, s = _linear_maps(eps, dt)
    m, C = np.array([1.0, -0.5]), np.zeros((2, 2))
    for _ in range(n_steps):
        m, C = M @ m, M @ C @ M.T + np.outer(s, s)
    x0 = torch.ones(n, 1, dtype=torch.float64)
    tr = two_scale(
        x0,
        torch.tensor([-0.5]),
        GAMMA,
        eps,
        dt,
        n_steps,
        grad=lambda y: A * y,
        generator=gf.generator(0),
        progress=False,
    )
    X, Y = tr.final[0][:, 0].numpy(), tr.final[1][:, 0].numpy()
    for est, mean, var in ((X, m[0], C[0, 0]), (Y, m[1], C[1, 1])):
        assert abs(est.mean() - mean) < 5 * math.sqrt(var / n)
        assert abs(est.var() / var - 1) < 5 * math.sqrt(2 / n)
    # without noise the scheme is the deterministic linear map
    zero = torch.zeros(n_steps, 1, 1, dtype=torch.float64)
    det = two_scale(
        torch.ones(1, 1, dtype=torch.float64),
        torch.tensor([-0.5]),
        GAMMA,
        eps,
        dt,
        n_steps,
        grad=lambda y: A * y,
        noise=zero,
        progress=False,
    )
    assert abs(det.last.item() - m[0]) < 1e-13


def test_entropic_descent_is_exact_for_a_quadratic():
    # <y>_x = gamma x / (A + gamma): X_hat(t) = x0 exp(-A gamma t / (A + gamma))
    x0, T = torch.tensor([[1.2], [-0.4]], dtype=torch.float64), 0.8
    tr = entropic_descent(x0, GAMMA, T, 80, f=lambda y: 0.5 * A * (y * y).sum(-1), record_every=None)
    exact = x0 * math.exp(-A * GAMMA * T / (A + GAMMA))
    assert torch.allclose(tr.last, exact, rtol=0, atol=1e-9)


def test_two_scale_is_deterministic_and_converges_for_a_quadratic():
    x0 = torch.full((4000, 1), 1.0, dtype=torch.float64)
    kw = {"grad": lambda y: A * y, "progress": False}
    a = two_scale(x0, x0, GAMMA, 0.01, 0.0002, 2500, generator=gf.generator(5), **kw).last
    b = two_scale(x0, x0, GAMMA, 0.01, 0.0002, 2500, generator=gf.generator(5), **kw).last
    assert torch.equal(a, b)
    assert abs(a.mean().item() - math.exp(-A * GAMMA * 0.5 / (A + GAMMA))) < 0.01


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gamma": 0.0},
        {"eps": -1.0},
        {"dt": 0.0},
        {"dt": 0.25},
        {"n_steps": -1},
        {"x0": torch.ones(3)},
        {"x0": torch.tensor([[math.nan]])},
        {"control": 2.0},
        {"f": "x"},
        {"grad": None},
    ],
)
def test_two_scale_validation(kwargs):
    args = {
        "x0": torch.zeros(3, 1),
        "y0": torch.zeros(3, 1),
        "gamma": 1.0,
        "eps": 0.1,
        "dt": 0.01,
        "n_steps": 2,
        "grad": lambda y: y,
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        two_scale(**args)


@pytest.mark.parametrize(
    "kwargs", [{"gamma": -1.0}, {"T": 0.0}, {"n_steps": 0}, {"f": 3}, {"x0": torch.ones(2)}]
)
def test_entropic_descent_validation(kwargs):
    args = {"x0": torch.zeros(2, 1), "gamma": 1.0, "T": 1.0, "n_steps": 2, "f": lambda y: (y * y).sum(-1)}
    args.update(kwargs)
    with pytest.raises(TypeError if "f" in kwargs else ValueError):  # a wrong type: TypeError
        entropic_descent(**args)


def test_reference_gibbs_mean_and_fluctuation_variance_for_a_quadratic():
    f = lambda y: 0.5 * A * np.asarray(y, dtype=float) ** 2  # noqa: E731
    assert abs(ad.gibbs_mean_quad(f, 0.7, GAMMA) - GAMMA * 0.7 / (A + GAMMA)) < 1e-12
    m, var, D = ad.gibbs_moments_grid(f, 0.7, GAMMA)
    k = A + GAMMA  # OU with stiffness k: variance 1/k, integrated autocovariance 1/k^2
    assert abs(var - 1 / k) < 1e-9 and abs(D - 1 / k**2) < 1e-9
    path = ad.averaged_path(f, 1.0, GAMMA, [0.5, 1.0])
    assert np.allclose(path, np.exp(-A * GAMMA / k * np.array([0.5, 1.0])), atol=1e-9)
    # v' = 2 b v + 2 gamma^2 / k^2, b = -A gamma / k, v(0) = 0
    b, T = -A * GAMMA / k, 0.6
    _, v = ad.fluctuation_variance(f, 1.0, GAMMA, T)
    assert abs(v - GAMMA**2 / k**2 / (-b) * (1 - math.exp(2 * b * T))) < 1e-7
    with pytest.raises(ValueError):
        ad.averaged_path(f, 1.0, GAMMA, [1.0, 0.5])
    with pytest.raises(ValueError):
        ad.gibbs_mean_quad(f, math.nan, GAMMA)


def test_deviation_sweep_matches_the_linear_gaussian_variance():
    eps, ratio, T, n = 0.02, 0.02, 0.2, 4000
    out = tsl.deviation_sweep(lambda y: A * y, 1.0, GAMMA, [eps], ratio, T, n, 0.0, gf.generator(2))
    assert out["msd"].shape == (1,) and out["se"][0] > 0
    slope_se = tsl.slope_stderr([1.0, 2.0, 4.0], [1.0, 2.0, 4.0], [0.01, 0.02, 0.04])
    assert slope_se > 0


def test_wide_minima_helpers():
    f, g = wm.wide_narrow_1d()
    y = torch.linspace(-3, 3, 101, dtype=torch.float64, requires_grad=True)
    (ga,) = torch.autograd.grad(f(y).sum(), y)
    assert torch.allclose(ga, g(y.detach()), atol=1e-12)
    assert torch.allclose(f(y.detach()), gf.landscapes.wide_narrow()(y.detach()[:, None]), atol=1e-14)
    lo, hi = wm.wilson_interval(80, 100, 0.95)
    assert lo < 0.8 < hi
    assert wm.sample_size(0.9, 0.7) < wm.sample_size(0.8, 0.7)
    with pytest.raises(ValueError):
        wm.sample_size(0.5, 0.7)
    x = wm.langevin_final(torch.tensor([0.5, 2.0], dtype=torch.float64), g, 0.01, 500, 0.0)
    assert (x - torch.tensor([-1.5, 1.5], dtype=torch.float64)).abs().max() < 0.2


def test_mlp_comparison_runs_and_validates_the_method():
    out = wm.mlp_comparison(
        [0], budget=40, n_train=40, n_test=50, hidden=4, esgd={"gamma": 0.1, "inner_steps": 5}
    )
    assert set(out) == {"entropy_sgd", "sgd", "sgd, equal loss"}
    for d in out.values():
        assert set(d) == {"train loss", "test error", "flatness", "gradient evaluations"}
        assert all(v.shape == (1,) for v in d.values())
        assert 0 <= d["test error"][0] <= 1
    eq = out["sgd, equal loss"]
    assert eq["gradient evaluations"][0] <= 40
    assert eq["gradient evaluations"][0] == 40 or eq["train loss"][0] <= out["entropy_sgd"]["train loss"][0]
    with pytest.raises(ValueError):
        wm.train_mlp("adam", 0, (torch.zeros(4, 2), torch.ones(4)), 10)


def test_quadratic_outer_step_matches_the_inner_loop():
    for x, a, g, il, lr, L, al in [
        (1.0, 2.0, 1.0, 0.1, 0.5, 5, 0.75),
        (-0.7, 0.5, 3.0, 0.2, 0.3, 12, 0.2),
        (2.0, 4.0, 0.5, 0.05, 1.0, 1, 1.0),
        (0.3, 1.0, 1.0, 0.25, 0.7, 6, 0.5),
    ]:
        y = mu = x  # (the last case has q = 1 - alpha: the degenerate geometric sum)
        for _ in range(L):
            y = y - il * (a * y + g * (y - x))
            mu = (1 - al) * mu + al * y
        assert abs(ad.quadratic_outer_step(x, a, g, il, lr, L, al) - (x - lr * g * (x - mu))) < 1e-14
    with pytest.raises(ValueError):
        ad.quadratic_outer_step(1.0, 2.0, 1.0, 0.1, 0.5, 5, 0.0)


def test_wide_narrow_np_and_gibbs_mass():
    f = ad.wide_narrow_np()
    y = torch.linspace(-3, 3, 101, dtype=torch.float64)
    assert np.allclose(f(y.numpy()), gf.landscapes.wide_narrow()(y[:, None]).numpy(), atol=1e-14)
    gauss = lambda v: 0.5 * np.asarray(v) ** 2  # noqa: E731
    assert abs(ad.gibbs_mass_below(gauss, 0.5) - 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))) < 1e-12
    with pytest.raises(ValueError):
        ad.gibbs_mass_below(gauss, 30.0)


def test_esgd_deviation_sweep_and_step_count_check():
    out = tsl.esgd_deviation_sweep(
        lambda y: A * y, 1.0, GAMMA, [0.02], 0.02, 5, 0.2, 500, 0.0, gf.generator(4)
    )
    assert out["msd"].shape == (1,) and out["se"][0] > 0
    # the linear-Gaussian limit: x_K -> exp(-A GAMMA / (A + GAMMA) T), the mean up to O(eps) and the noise
    k = A + GAMMA
    assert abs(out["bias"][0] - math.exp(-A * GAMMA / k * 0.2)) < 0.05
    with pytest.raises(ValueError, match="whole number"):
        tsl.deviation_sweep(lambda y: A * y, 1.0, GAMMA, [0.03], 0.02, 0.2, 10, 0.0, gf.generator(2))
    with pytest.raises(ValueError, match="whole number"):
        tsl.esgd_deviation_sweep(lambda y: A * y, 1.0, GAMMA, [0.03], 0.02, 5, 0.2, 10, 0.0, gf.generator(2))
