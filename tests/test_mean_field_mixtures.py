"""Mixtures of empirical measures and Gibbs forms on a grid (gradflows.mean_field additions)."""

import numpy as np
import pytest
import torch
from gradflows.mean_field import gibbs_log_weights, grid_moments, mixture_losses, with_bias

Z = with_bias(torch.linspace(-1, 1, 21)[:, None])
Y = torch.sin(torch.pi * Z[:, 0])


def test_mixture_losses_form_a_parabola():
    X0, X1 = torch.randn(6, 3), torch.randn(6, 3)
    r = mixture_losses(X0, X1, Z, Y, 4)
    assert r["F"].shape == (5,) and r["output_dev"] < 1e-13 and r["rescaled_dev"] < 1e-13
    assert (
        np.all(np.diff(r["F"], 2) > 0) and np.ptp(np.diff(r["F"], 2)) < 1e-12
    )  # constant second differences
    with pytest.raises(ValueError):
        mixture_losses(X0, X1[:3], Z, Y, 4)


def test_grid_moments_of_a_gaussian_and_gibbs_weights():
    g = torch.linspace(-8, 8, 161)
    P = torch.cartesian_prod(g, g)
    mean, cov = grid_moments(-0.5 * ((P - torch.tensor([1.0, -0.5])) ** 2).sum(1) / 0.5, P)
    assert torch.allclose(mean, torch.tensor([1.0, -0.5]), atol=1e-8)
    assert torch.allclose(cov, 0.5 * torch.eye(2), atol=1e-8)
    X = torch.randn(5, 2)
    corr, printed = gibbs_log_weights(X, Z[:, :1], Y, 0.5, P[:10])
    assert corr.shape == printed.shape == (10,)
    with pytest.raises(ValueError):
        grid_moments(torch.zeros(3), P)
