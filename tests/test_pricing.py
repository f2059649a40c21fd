import math

import numpy as np
import pytest
import torch
from gradflows import DivergenceError
from gradflows import pricing as P
from scipy import integrate


def _lognormal_call(m, v, K, disc):
    """disc * E[(e^Y - K)^+], Y ~ N(m, v^2), by quadrature of the normal density."""

    def integrand(y):
        return (math.exp(y) - K) * math.exp(-0.5 * ((y - m) / v) ** 2) / (v * math.sqrt(2 * math.pi))

    val, _ = integrate.quad(integrand, math.log(K), m + 12 * v, epsabs=1e-12, epsrel=1e-12)
    return disc * val


@pytest.mark.parametrize(
    "S, K, r, sigma, tau", [(100, 100, 0.05, 0.2, 1.0), (80, 100, 0.0, 0.4, 0.5), (130, 90, -0.01, 0.15, 2.0)]
)
def test_bs_call_vs_quadrature(S, K, r, sigma, tau):
    # S_T = S exp((r - sigma^2/2) tau + sigma sqrt(tau) Z)
    m, v = math.log(S) + (r - 0.5 * sigma**2) * tau, sigma * math.sqrt(tau)
    ref = _lognormal_call(m, v, K, math.exp(-r * tau))
    assert float(P.bs_call(S, K, r, sigma, tau)) == pytest.approx(ref, rel=1e-9)


def test_put_call_parity_and_broadcasting():
    S = torch.linspace(1, 200, 50)
    tau = torch.tensor([[0.0], [0.1], [1.0], [5.0]])
    C, Pu = P.bs_call(S, 100.0, 0.03, 0.25, tau), P.bs_put(S, 100.0, 0.03, 0.25, tau)
    assert C.shape == (4, 50)
    assert torch.allclose(C - Pu, S - 100.0 * torch.exp(-0.03 * tau), atol=1e-10)
    assert torch.equal(C[0], (S - 100).clamp_min(0)) and torch.equal(Pu[0], (100 - S).clamp_min(0))
    assert bool(torch.isfinite(P.bs_call(torch.tensor([0.0, 1.0]), 1.0, 0.0, 0.2, 0.0)).all())
    assert float(P.bs_call(0.0, 1.0, 0.0, 0.2, 1.0)) == 0.0


def test_geometric_basket_d1_is_bs():
    sigma = torch.tensor([[0.12, 0.16]])  # one asset, two Brownian motions: |sigma_1| = 0.2
    S0 = torch.tensor([[90.0], [100.0], [115.0]])
    got = P.geometric_basket_call(S0, 100.0, 0.04, sigma, 0.7)
    assert got.shape == (3,)
    assert torch.allclose(got, P.bs_call(S0[:, 0], 100.0, 0.04, 0.2, 0.7), rtol=1e-12)
    assert float(P.geometric_basket_call(S0[1], 90.0, 0.04, sigma, 0.0)) == pytest.approx(10.0)


def test_geometric_basket_d3_vs_quadrature():
    S0 = np.array([90.0, 100.0, 120.0])
    cov = np.array([[0.04, 0.012, -0.006], [0.012, 0.09, 0.018], [-0.006, 0.018, 0.0625]])
    K, r, T = 100.0, 0.03, 1.5
    # log G_T = mean log X_T^i is normal; mean and variance from the covariance sigma sigma^T
    m = np.log(S0).mean() + (r - 0.5 * np.trace(cov) / 3) * T
    v = math.sqrt(T * cov.sum() / 9)
    ref = _lognormal_call(m, v, K, math.exp(-r * T))
    sigma = torch.linalg.cholesky(torch.tensor(cov))
    assert float(P.geometric_basket_call(torch.tensor(S0), K, r, sigma, T)) == pytest.approx(ref, rel=1e-9)
    # the same law with a non-square (3, 5) sigma having the same sigma sigma^T
    Q, _ = torch.linalg.qr(torch.randn(5, 5))
    sigma5 = torch.cat([sigma, torch.zeros(3, 2)], 1) @ Q.T
    assert float(P.geometric_basket_call(torch.tensor(S0), K, r, sigma5, T)) == pytest.approx(ref, rel=1e-9)


def test_correlated_vol():
    vols = torch.tensor([0.1, 0.2, 0.3, 0.4])
    s = P.correlated_vol(vols, 0.3)
    C = 0.7 * np.eye(4) + 0.3
    assert np.allclose((s @ s.T).numpy(), np.outer(vols, vols) * C)
    assert torch.allclose(P.correlated_vol(vols, torch.tensor(C)), s)
    with pytest.raises(ValueError, match="-1/\\(d-1\\)"):
        P.correlated_vol(vols, -0.5)
    with pytest.raises(ValueError, match="positive definite"):
        P.correlated_vol(vols, 1.0)


@pytest.mark.parametrize("d", [1, 10, 100])
def test_mc_price_geometric_within_4_se(d):
    gen = torch.Generator().manual_seed(d)
    sigma = P.correlated_vol(torch.full((d,), 0.3), 0.4)
    S0 = torch.full((d,), 100.0)
    exact = float(P.geometric_basket_call(S0, 100.0, 0.05, sigma, 1.0))
    price, se = P.mc_price(
        P.geometric_basket_payoff(100.0), S0, 0.05, sigma, 1.0, 200_000, generator=gen, chunk=50_000
    )
    assert abs(float(price) - exact) < 4 * float(se)
    assert 0 < float(se) < 0.01 * exact


def test_mc_standard_error_scales_like_n_to_minus_half():
    sigma = P.correlated_vol(torch.tensor([0.2, 0.3, 0.25]), 0.2)
    S0 = torch.tensor([100.0, 95.0, 105.0])
    payoff = P.arithmetic_basket_payoff(100.0)
    ses = []
    for n in (10_000, 40_000, 160_000):
        _, se = P.mc_price(payoff, S0, 0.02, sigma, 1.0, n, generator=torch.Generator().manual_seed(n))
        ses.append(float(se))
    ratios = np.array(ses[:-1]) / np.array(ses[1:])
    assert np.allclose(ratios, 2.0, rtol=0.05)


def test_mc_streaming_mean_and_se_match_numpy():
    # the chunk-by-chunk merge of means and variances equals numpy's on the concatenated draws
    sigma = torch.tensor([[0.2, 0.0], [0.1, 0.3]])
    S0 = torch.tensor([1.0, 2.0])
    payoff = P.arithmetic_basket_payoff(1.4, weights=torch.tensor([0.3, 0.7]))
    gen = torch.Generator().manual_seed(7)
    sizes = [128] * 7 + [1000 - 7 * 128]
    X = torch.cat([P.terminal_samples(S0, 0.01, sigma, 2.0, m, generator=gen) for m in sizes])
    p = np.maximum(X.numpy() @ np.array([0.3, 0.7]) - 1.4, 0)
    price, se = P.mc_price(
        payoff, S0, 0.01, sigma, 2.0, 1000, generator=torch.Generator().manual_seed(7), chunk=128
    )
    assert float(price) == pytest.approx(math.exp(-0.02) * p.mean(), rel=1e-12)
    assert float(se) == pytest.approx(math.exp(-0.02) * p.std(ddof=1) / math.sqrt(1000), rel=1e-10)


def test_terminal_samples_moments():
    # E[X_T^i] = S0_i e^{mu_i T}, Var log X_T^i = |sigma_i|^2 T
    sigma = torch.tensor([[0.2, 0.1], [0.0, 0.5], [0.3, -0.3]])
    S0 = torch.tensor([1.0, 2.0, 3.0])
    mu = torch.tensor([0.1, -0.2, 0.0])
    X = P.terminal_samples(S0, 0.05, sigma, 0.5, 400_000, generator=torch.Generator().manual_seed(0), mu=mu)
    logs = torch.log(X)
    assert torch.allclose(logs.var(0), 0.5 * sigma.square().sum(1), rtol=0.01)
    assert torch.allclose(torch.cov(logs.T), 0.5 * sigma @ sigma.T, atol=2e-3)
    assert torch.allclose(X.mean(0), S0 * torch.exp(0.5 * mu), rtol=3e-3)


def test_device(device):
    S0 = torch.full((5,), 100.0, device=device, dtype=torch.float32)
    sigma = P.correlated_vol(torch.full((5,), 0.2, device=device, dtype=torch.float32), 0.3)
    assert sigma.device.type == device and sigma.dtype == torch.float32
    exact = P.geometric_basket_call(S0, 100.0, 0.05, sigma, 1.0)
    assert exact.device.type == device and exact.dtype == torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    price, se = P.mc_price(P.geometric_basket_payoff(100.0), S0, 0.05, sigma, 1.0, 100_000, generator=gen)
    assert price.device.type == device and price.dtype == torch.float32
    assert abs(float(price) - float(exact)) < 4 * float(se)
    c = P.bs_call(torch.tensor([90.0, 110.0], device=device), 100.0, 0.05, 0.2, 1.0)
    assert c.device.type == device
    if device == "cuda":
        with pytest.raises(ValueError, match="generator"):
            P.mc_price(
                P.geometric_basket_payoff(100.0), S0, 0.05, sigma, 1.0, 10, generator=torch.Generator()
            )


def test_bad_inputs():
    with pytest.raises(ValueError, match="tau"):
        P.bs_call(100.0, 100.0, 0.0, 0.2, -1.0)
    with pytest.raises(ValueError, match="sigma"):
        P.bs_put(100.0, 100.0, 0.0, torch.tensor([0.2, 0.0]), 1.0)
    with pytest.raises(ValueError, match="K"):
        P.bs_call(100.0, 0.0, 0.0, 0.2, 1.0)
    with pytest.raises(ValueError, match="NaN"):
        P.bs_call(float("nan"), 100.0, 0.0, 0.2, 1.0)
    sigma = torch.eye(2) * 0.2
    with pytest.raises(ValueError, match="rows"):
        P.geometric_basket_call(torch.ones(3), 1.0, 0.0, sigma, 1.0)
    with pytest.raises(ValueError, match="S0 must be positive"):
        P.terminal_samples(torch.tensor([1.0, -1.0]), 0.0, sigma, 1.0, 10)
    with pytest.raises(ValueError, match="n_paths"):
        P.mc_price(P.geometric_basket_payoff(1.0), torch.ones(2), 0.0, sigma, 1.0, 1)
    with pytest.raises(ValueError, match="tau"):
        P.mc_price(P.geometric_basket_payoff(1.0), torch.ones(2), 0.0, sigma, -1.0, 10)
    with pytest.raises(ValueError, match="shape"):
        P.mc_price(lambda X: X, torch.ones(2), 0.0, sigma, 1.0, 10)
    with pytest.raises(DivergenceError, match="NaN"):
        P.mc_price(lambda X: X[:, 0] * float("inf"), torch.ones(2), 0.0, sigma, 1.0, 10)
    with pytest.raises(ValueError, match="weights"):
        P.arithmetic_basket_payoff(1.0, torch.ones(3))(torch.ones(4, 2))
    with pytest.raises(ValueError, match="mu"):
        P.terminal_samples(torch.ones(2), 0.0, sigma, 1.0, 10, mu=torch.ones(3))
    with pytest.raises(ValueError, match="K"):
        P.geometric_basket_payoff(-1.0)
