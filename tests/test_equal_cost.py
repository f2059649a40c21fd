"""Equal-cost harnesses (gradflows.experiments.equal_cost) and the Black-Scholes vega and implied volatility
(gradflows.pricing.bs_vega, bs_implied_vol) against the closed-form vega."""

import math

import pytest
import torch
from gradflows import pricing
from gradflows import pricing_pdes as pp
from gradflows.experiments import equal_cost as ec
from gradflows.tdgf import make_net


def test_vega_and_implied_vol_against_closed_form():
    S, K, r, sig, tau = 1.0, 1.0, 0.05, 0.25, 1.0
    d1 = (math.log(S / K) + (r + sig**2 / 2) * tau) / (sig * math.sqrt(tau))
    assert pricing.bs_vega(S, K, r, sig, tau) == pytest.approx(
        S * math.sqrt(tau) * math.exp(-(d1**2) / 2) / math.sqrt(2 * math.pi)
    )
    price = pricing.bs_call(S, K, r, sig, tau).item()
    assert pricing.bs_implied_vol(price, S, K, r, tau) == pytest.approx(sig, abs=1e-10)
    with pytest.raises(ValueError):
        pricing.bs_vega(S, K, r, -0.1, tau)
    with pytest.raises(ValueError):
        pricing.bs_implied_vol(float("nan"), S, K, r, tau)


def test_timed_tdgf_and_budgets():
    bs = pp.BlackScholes()
    torch.manual_seed(0)
    res, sec = ec.timed_tdgf(
        bs, 0.2, 2, make_net(bs, 6, 1, gated=False), 20, iters=2, fit_iters=1, sampling="grid"
    )
    assert sec >= 0 and len(res.energies) == 2
    torch.manual_seed(0)
    net = make_net(bs, 6, 1, time_input=0.2, gated=False)
    states, secs, n = ec.dgm_at_budgets(bs, 0.2, net, [1e-3, 2e-3], (4, 8), max_iters=3, sampling="grid")
    assert len(states) == 2 and len(secs) == 2 and n >= 1
    x = torch.linspace(0.8, 1.2, 5)[:, None]
    assert ec.dgm_price_at(bs, net, states[-1], x, 0.2).shape == (5,)
    with pytest.raises(ValueError):
        ec.dgm_at_budgets(bs, 0.2, net, [2.0, 1.0], (4, 8))
    assert ec.max_err(torch.zeros(3), torch.tensor([0.0, -2.0, 1.0])) == 2.0
