"""References of chapter 3 (gradflows.references.*) against closed forms, scipy and known limits."""

import math

import gradflows.references.exit_time as et
import gradflows.references.fokker_planck as fp
import gradflows.references.gaussian_mckean_vlasov as gmv
import gradflows.references.gaussian_neurons as gn
import gradflows.references.geometric_basket as gb
import gradflows.references.gibbs_quadrature as gq
import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp
from scipy.stats import norm


def test_geometric_basket_law_one_asset_is_black_scholes():
    price, sd, s = gb.geometric_basket_payoff_law(100.0, 90.0, 0.05, np.array([[0.2]]), 1.0)
    d1 = (math.log(100 / 90) + 0.05 + 0.02) / 0.2
    assert abs(price - (100 * norm.cdf(d1) - 90 * math.exp(-0.05) * norm.cdf(d1 - 0.2))) < 1e-10
    assert sd > 0 and abs(s - 0.2) < 1e-15
    with pytest.raises(ValueError):
        gb.geometric_basket_payoff_law(100.0, 90.0, 0.05, np.array([0.2]), 1.0)


def test_tanh_feature_moments_against_quad_at_z0():
    # z = 0: c tanh(a_2), c ~ N(1, 1) independent: mean = E tanh(a_2), second moment = 2 E tanh^2(a_2)
    m, v = gn.tanh_feature_moments([0.0], [1.0, -0.5], 90)
    e1 = quad(lambda a: np.tanh(a) * norm.pdf(a, -0.5), -30, 30)[0]
    e2 = quad(lambda a: np.tanh(a) ** 2 * norm.pdf(a, -0.5), -30, 30)[0]
    assert abs(m[0] - e1) < 1e-9 and abs(v[0] - (2 * e2 - e1**2)) < 1e-8
    with pytest.raises(ValueError):
        gn.tanh_feature_moments([0.0], [1.0], 10)


def test_fokker_planck_gibbs_is_stationary_and_em_kernel_is_stochastic():
    h = 0.05
    x = np.arange(-3 + h / 2, 3, h)
    f = (x * x - 1) ** 2 / 4
    modes = fp.fokker_planck_modes(f, 0.8, h)
    assert abs(modes[0][-1]) < 1e-10 and modes[0][-2] < 0
    gibbs = modes[2] ** 2 / (modes[2] ** 2).sum() / h
    assert np.abs(fp.fokker_planck_solution(gibbs, [0.0, 5.0], modes)[1] - gibbs).max() < 1e-10
    P = fp.em_kernel(x, x**3 - x, 0.8, 0.05)
    assert np.allclose(np.asarray(P.sum(0)).ravel(), 1.0)
    laws = fp.em_laws(P, gibbs * h, 10, 5)
    assert laws.shape == (3, len(x)) and np.allclose(laws.sum(1), 1.0)
    m_dt = fp.em_stationary(x, x**3 - x, 0.8, 0.05, h, gibbs, T=4.0)
    assert 0 < 0.5 * np.abs(m_dt - gibbs).sum() * h < 0.05  # O(dt) bias of the scheme
    with pytest.raises(ValueError):
        fp.em_kernel(x, x, 0.8, -1.0)


def test_gibbs_quadrature_ou_closed_forms():
    sigma = 1.0  # f = x^2/2: Gibbs = N(0, 1/2), Z = sqrt(pi), V(m*) = -(1/2) log Z
    Z = gq.gibbs_partition(lambda x: x * x / 2, sigma)
    assert abs(Z - math.sqrt(math.pi)) < 1e-10
    p = gq.gibbs_bin_probabilities(lambda x: x * x / 2, sigma, [-np.inf, 0.0, np.inf])
    assert np.allclose(p, 0.5)
    V, H = gq.free_energy_quad(lambda x: -x * x, lambda x: x * x / 2, sigma, -20, 20, math.log(Z))
    assert abs(V + 0.5 * math.log(Z)) < 1e-10 and abs(H) < 1e-10
    assert abs(gq.gaussian_free_energy_quad(0.0, 0.5, sigma) + 0.5 * math.log(Z)) < 1e-10
    with pytest.raises(ValueError):
        gq.gibbs_bin_probabilities(lambda x: x, sigma, [1.0, 0.0])


def test_exit_time_bracket_contains_the_grid_spectral_gap():
    f = lambda y: (y * y - 1) ** 2 / 4  # noqa: E731
    lo, hi = et.spectral_gap_bracket(f, 0.5, 3.5, 20001)
    h = 0.01
    x = np.arange(-3.5 + h / 2, 3.5, h)
    lam1 = -fp.fokker_planck_modes(f(x), 0.5, h)[0][-2]
    assert 0.99 * lo < lam1 < 1.01 * hi and lo <= hi
    with pytest.raises(ValueError):
        et.spectral_gap_bracket(f, 0.0, 3.5)


def test_gaussian_mckean_vlasov_moments_and_dissipation():
    a, kappa, sigma = 1.0, 0.1, 0.6
    mu, v = gmv.stationary_law(a, kappa, sigma)
    assert np.allclose(gmv.moment_ode(0.0, [mu, v], a, kappa, sigma), 0.0, atol=1e-15)
    lam = kappa + sigma**2 / 2  # off equilibrium, the dissipation is -dV/dt (chain rule through (mu, v))
    dmu, dv = gmv.moment_ode(0.0, [0.2, 0.3], a, kappa, sigma)
    dV = ((1 + lam) * 0.2 - a) * dmu + (0.5 * lam - 0.25 * sigma**2 / 0.3) * dv
    assert abs(gmv.dissipation_quad(0.2, 0.3, a, kappa, sigma) + dV) < 1e-10
    t = np.linspace(0, 2, 5)
    ode = gmv.ode_moments(-1.0, 0.01, 2.0, t, a, kappa, sigma)
    closed = np.array([gmv.moments(s, -1.0, 0.01, a, kappa, sigma) for s in t]).T
    assert np.abs(ode - closed).max() < 1e-9
    ref = solve_ivp(
        lambda s, y: gmv.moment_ode(s, y, a, kappa, sigma), (0, 2), [-1.0, 0.01], rtol=1e-11, atol=1e-13
    )
    assert abs(ref.y[0, -1] - closed[0, -1]) < 1e-9
    mu_d, v_d = gmv.em_moments(-1.0, 0.01, 0.001, 2000, a, kappa, sigma, 500)
    assert mu_d.shape == (5,) and np.abs(mu_d - closed[0]).max() < 1e-2  # O(dt) bias
    V = gmv.free_energy(np.array([mu, mu + 0.1]), np.array([v, v]), a, kappa, sigma)
    assert V[0] < V[1]
    with pytest.raises(ValueError):
        gmv.em_moments(0.0, 1.0, -0.1, 3, a, kappa, sigma)


def test_mean_field_tanh_against_autograd():
    import gradflows.references.mean_field_tanh as mt
    import torch

    X, Z = torch.randn(7, 3), torch.randn(11, 2)
    Y = torch.randn(11)
    Xg = X.clone().requires_grad_(True)
    F = 0.5 * (Y - mt.tanh_output(Xg, Z)).square().mean()
    (g,) = torch.autograd.grad(F, Xg)
    assert torch.allclose(mt.tanh_intrinsic_derivative(X, Z, Y), len(X) * g, atol=1e-12)
    with pytest.raises(ValueError):
        mt.tanh_output(X, torch.randn(11, 3))


def test_gaussian_fisher_quad_closed_form():
    # f = x^2/2, m = N(mu, s2): f' + (sigma^2/2)(log m)' = x - (sigma^2/2)(x - mu)/s2, so the integral is
    # (mu)^2 + s2 (1 - sigma^2 / (2 s2))^2
    mu, s2, sigma = 0.7, 0.3, 1.0
    assert abs(gq.gaussian_fisher_quad(mu, s2, sigma) - (mu**2 + s2 * (1 - sigma**2 / (2 * s2)) ** 2)) < 1e-10
    with pytest.raises(ValueError):
        gq.gaussian_fisher_quad(0.0, -1.0, 1.0)


def test_noisy_gd_by_hand_without_noise_lowers_the_loss_and_identities():
    import gradflows.references.mean_field_tanh as mt
    import torch

    Z = torch.linspace(-1, 1, 9)[:, None]
    Y = torch.sin(2 * Z[:, 0])
    X0 = torch.randn(8, 2)
    path = mt.noisy_gd_by_hand(X0, Z, Y, 0.0, 0.1, torch.zeros(20, 8, 2))
    F = [0.5 * (Y - mt.tanh_output(X, Z)).square().mean().item() for X in path]
    assert path.shape == (21, 8, 2) and F[-1] < F[0]
    with pytest.raises(ValueError):
        mt.noisy_gd_by_hand(X0, Z, Y, 0.3, 0.1, torch.zeros(5, 7, 2))


def test_dissipation_identity_errors_are_at_quadrature_accuracy():
    d, i = gmv.dissipation_identity_errors([(-1.0, 0.01), (3.0, 2.25)], 2.0, 1.0, 0.1, 0.6, n_times=3)
    assert d < 1e-8 and i < 1e-6
