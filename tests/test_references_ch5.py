"""References of the option-pricing chapter (gradflows.references.heston_operator, imex_step,
tanh_tangent_kernel, basket_reduction) against closed forms, scipy and known limits."""

import math

import numpy as np
import pytest
import torch
from gradflows import finite_elements as fe
from gradflows import pricing_pdes as pp
from gradflows.references import basket_reduction as br
from gradflows.references import heston_operator as ho
from gradflows.references import imex_step as ims
from gradflows.references import tanh_tangent_kernel as ttk
from scipy.stats import norm


def test_heston_divergence_form_equals_sde_form_and_wrong_b_fails():
    m = pp.Heston(r=0.03, kappa=1.5, theta=0.04, eta=0.6, rho=-0.7)
    g = torch.Generator().manual_seed(0)
    dev, scale, versions = ho.divergence_form_deviations({"c": m}, g, n_points=50, n_trials=1)
    assert len(versions) == 7 and scale["c"] > 0
    assert dev["c", "model.b (library)"] < 1e-10 and dev["c", "slide's b (typed here)"] < 1e-10
    assert dev["c", "b = -mu (div A forgotten)"] > 1e-3
    u = ho.random_plane_waves(torch.Generator().manual_seed(1), 3)
    x = torch.tensor([[1.0, 0.05]])
    assert ho.heston_from_sde(m, u, x).shape == (1,)
    with pytest.raises(ValueError):
        ho.heston_from_sde(m, u, torch.ones(3))
    with pytest.raises(ValueError):
        ho.random_plane_waves(g, 0)


def test_imex_step_references():
    assert ims.critical_step(0.25, 0.05) == math.inf
    a, b = 0.005, 0.01 - 1.0
    assert ims.critical_step(0.1, 1.0) == pytest.approx(2 * a / (b**2 - a**2 - 2 * a), rel=1e-12)
    with pytest.raises(ValueError):
        ims.critical_step(-0.1, 1.0)
    bs = pp.BlackScholes()
    x = np.linspace(bs.lo[0], bs.hi[0], 201)
    M, S, B = fe.fem_matrices(bs, x)
    U = fe.fem_imex_1d(bs, 0.5, 2, x)[1]
    assert np.allclose(ims.imex_lu_steps(M, S, B, U[0], 0.25, bs.r, 2), U[-1], rtol=1e-10, atol=1e-12)
    assert ims.step_energy_grad(U[1], M, S, B, U[0], 0.25, bs.r).norm() < 1e-10
    v = torch.randn(2, x.size, generator=torch.Generator().manual_seed(0))
    H = ((1 + 0.25 * bs.r) * M + 0.25 * S).toarray()
    assert np.allclose(ims.step_energy_hvp(v, M, S, B, U[0], 0.25, bs.r).numpy(), v.numpy() @ H.T, atol=1e-10)
    with pytest.raises(ValueError):
        ims.imex_lu_steps(M, S, B, U[0][:-1], 0.25, bs.r, 2)


def test_tanh_tangent_kernel():
    x = np.linspace(-1, 1, 5)
    Z = ttk.limit_kernel(x, 32)
    assert Z.shape == (10, 10) and np.allclose(Z, Z.T) and np.linalg.eigvalsh(Z).min() > -1e-12
    assert np.abs(ttk.limit_kernel(x, 48) - ttk.limit_kernel(x, 64)).max() < 1e-3 * np.abs(Z).max()
    # at x = 0 the value features (d/dbeta, d/dalpha, d/dc) are (tanh c, 0, 1 - tanh^2 c):
    # Z(0, 0) = E[t^2 + (1 - t^2)^2]
    z, w = np.polynomial.hermite_e.hermegauss(80)
    t = np.tanh(z)
    Z00 = w @ (t**2 + (1 - t**2) ** 2) / np.sqrt(2 * np.pi)
    assert ttk.limit_kernel(np.array([0.0]), 80)[0, 0] == pytest.approx(Z00)
    b, a, c = np.ones(3), np.array([1.0, -1.0, 0.5]), np.zeros(3)
    assert ttk.mean_field_values([0.3], b, a, c, 1.0) == pytest.approx(np.tanh(a * 0.3).sum() / 3)
    J = ttk.outputs_jacobian([0.3], b, a, c, 1.0)
    eps = 1e-6
    fd = (
        ttk.mean_field_values([0.3], b + eps * np.eye(3)[0], a, c, 1.0)
        - ttk.mean_field_values([0.3], b, a, c, 1.0)
    ) / eps
    assert J.shape == (2, 9) and J[0, 0] == pytest.approx(fd[0], rel=1e-5)
    with pytest.raises(ValueError):
        ttk.outputs_jacobian([0.3], b, a[:2], c, 1.0)


def test_basket_reduction():
    m = pp.BasketBlackScholes(3)
    assert br.lemma_deviation(m, torch.Generator().manual_seed(0), n=8) < 1e-10
    a, s2, cb = br.lemma_coefficients(pp.BasketBlackScholes(1))
    assert a == pytest.approx(s2) and cb == pytest.approx(a - 0.05)
    y, W = br.reduced_fd_steps(pp.BasketBlackScholes(1), 1.0, 20, nodes=2001)
    x = torch.linspace(0.9, 1.1, 5)[:, None]
    ref = pp.BasketBlackScholes(1).reference(x, 1.0)
    assert W.shape == (21, 2001) and (br.reduced_at(y, W, -1, x) - ref).abs().max() < 5e-3
    # equicorrelated call: price against the Black-Scholes formula on G0 e^(-q), sd positive
    S0 = np.array([0.9, 1.0, 1.1])
    price, sd = br.equicorrelated_geometric_call(S0, 0.25, 0.3, 0.05, 1.0, 1.0)
    s2 = 0.25**2 * (0.3 + 0.7 / 3)
    F = np.exp(np.log(S0).mean()) * np.exp(-0.5 * (0.25**2 - s2))
    d1 = (np.log(F) + 0.05 + 0.5 * s2) / np.sqrt(s2)
    assert (
        price == pytest.approx(F * norm.cdf(d1) - np.exp(-0.05) * norm.cdf(d1 - np.sqrt(s2)), rel=1e-12)
        and sd > 0
    )
    Mh = br.hessian_trace_matrix(
        np.array([1.0, 1.1]), np.array([[0.0625, 0.01], [0.01, 0.0625]]), 0.05, 1.0, 0.5
    )
    assert Mh.shape == (2, 2) and np.allclose(Mh, Mh.T)
    var_r, var_g = br.probe_variances(np.diag([1.0, 2.0]))
    assert var_r == pytest.approx(0.0, abs=1e-14) and var_g == pytest.approx(2 * (1 + 4))  # 2 ||M||_F^2
    with pytest.raises(ValueError):
        br.probe_variances(np.ones(3))
