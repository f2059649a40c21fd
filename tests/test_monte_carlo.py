"""Monte Carlo error studies (gradflows.experiments.monte_carlo)."""

import gradflows as gf
import gradflows.experiments.monte_carlo as mc
import numpy as np
import pytest
import torch
from gradflows.mean_field import with_bias


def test_block_rmse_exact_on_constant_blocks_and_validation():
    x = torch.tensor([1.0, 3.0, 1.0, 3.0])
    assert np.allclose(mc.block_rmse(x, 2.0, [1, 2, 4]), [1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        mc.block_rmse(x, 2.0, [8])
    with pytest.raises(ValueError):
        mc.block_rmse(torch.tensor([1.0, float("nan")]), 0.0, [1])


def test_recorded_mc_price_records_every_payoff():
    pay = gf.pricing.geometric_basket_payoff(100.0)
    price, se, payoffs = mc.recorded_mc_price(
        pay,
        torch.full((2,), 100.0),
        0.05,
        0.2 * torch.eye(2),
        1.0,
        3000,
        generator=torch.Generator().manual_seed(0),
    )
    assert payoffs.shape == (3000,) and se > 0
    assert abs(price - np.exp(-0.05) * float(payoffs.mean())) < 1e-10 * max(price, 1.0)


def test_lln_output_rmse_shape_and_sqrt_n_law():
    Z = with_bias(torch.tensor([[0.0], [1.0]]))
    # c ~ N(0, 1) independent of a: E f_N = 0 and Var f_N = E tanh^2 / N, so N RMSE^2 is O(1) at every N
    r = mc.lln_output_rmse(torch.zeros(3), Z, np.zeros(2), [4, 400], 40, torch.Generator().manual_seed(0))
    assert r.shape == (2, 2) and np.all(r[1] < r[0] / 4)
    with pytest.raises(ValueError):
        mc.lln_output_rmse(torch.zeros(3), Z, np.zeros(3), [10], 2, None)
