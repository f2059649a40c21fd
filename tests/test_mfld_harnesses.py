"""Harnesses of chapter 3 added to particles, energies, mean_field, replicas and gaussian_mean_field."""

import math

import gradflows.experiments.gaussian_mean_field as gm
import gradflows.experiments.replicas as rp
import numpy as np
import pytest
import torch
from gradflows.energies import kde_log_error_on_gaussian
from gradflows.mean_field import (
    gibbs_form_covariance_errors,
    mf_free_energy_path,
    mf_lipschitz_constant,
    mf_loss,
)
from gradflows.particles import time_averaged_histogram
from scipy.stats import norm

Z = torch.linspace(-1, 1, 12)[:, None]
Y = torch.sin(2 * Z[:, 0])


def test_time_averaged_histogram_of_an_ou_process():
    x0 = torch.zeros(20000, 1)
    p, se = time_averaged_histogram(
        x0, 1.0, 0.05, 2.0, 4.0, lambda X: X, 10, -3.0, 3.0, generator=torch.Generator().manual_seed(0)
    )
    assert p.shape == se.shape == (10,) and abs(p.sum() - 1) < 1e-3 and np.all(se >= 0)
    assert (
        abs(p[4] + p[5] - (2 * norm.cdf(0.6 * math.sqrt(2 - 0.05)) - 1)) < 0.02
    )  # N(0, 1/(2 - dt)), [-0.6, 0.6]
    with pytest.raises(ValueError):
        time_averaged_histogram(x0, 1.0, 0.05, 2.0, 4.0, lambda X: X, 10, -3.0, 3.0, n_batches=7)


def test_kde_log_error_shrinks_with_n():
    cov = torch.tensor([[1.0, 0.3], [0.3, 0.5]])
    small = kde_log_error_on_gaussian(cov, 200, 100, generator=torch.Generator().manual_seed(0))
    large = kde_log_error_on_gaussian(cov, 5000, 500, generator=torch.Generator().manual_seed(0))
    assert 0 < large < small
    with pytest.raises(ValueError):
        kde_log_error_on_gaussian(torch.eye(2) * -1, 10)


def test_mean_field_helpers():
    X = torch.randn(30, 2)
    F, H = mf_free_energy_path(X[None].repeat(2, 1, 1), Z, Y)
    assert F.shape == H.shape == (2,) and abs(F[0] - mf_loss(X, Z, Y).item()) < 1e-15
    c = mf_lipschitz_constant(torch.tensor([[0.0, 0.0]]), Z)  # grad phi_hat = (0, 0) at c = a = 0
    assert c == 0.0 and mf_lipschitz_constant(X, Z) > 0
    g = torch.linspace(-6, 6, 61)
    err = gibbs_form_covariance_errors(torch.randn(2, 50, 2), Z, Y, 0.5, torch.cartesian_prod(g, g))
    assert err.shape == (2, 3) and np.all(np.isfinite(err))
    with pytest.raises(ValueError):
        mf_free_energy_path(X, Z, Y)


def test_best_fixed_features_loss_interpolates_with_many_features():
    assert rp.best_fixed_features_loss(torch.linspace(0.05, 5.0, 12), Z, Y) < 1e-12
    assert rp.best_fixed_features_loss(torch.tensor([1.0]), Z, Y) > 1e-4


def test_gaussian_mean_field_estimates():
    x = torch.randn(5000, generator=torch.Generator().manual_seed(0))
    v = gm.free_energy_estimate(x, 1.0, 0.1, 0.6)
    exact = (
        0.5 * 1.0 + 0.05 * 1.0 + 0.09 * (1 - 1 - math.log(1.0))
    )  # N(0, 1): F = (0 - 1)^2/2 + kappa/2, H = 0
    assert abs(v - exact) < 0.02
    sd = gm.iid_free_energy_sd(2000, 10, 1.0, 0.1, 0.6, torch.Generator().manual_seed(0))
    assert 0 < sd(0.0, 1.0) < 0.1
    run = {
        "mean": np.zeros(2),
        "var": np.ones(2),
        "V_hat": np.array([0.55, 0.55]),
        "mu_em": np.zeros(2),
        "v_em": np.ones(2),
    }
    z = gm.largest_deviations([run], 2000, lambda m, v: 0.01, lambda m, v: 0.55 + 0 * m)
    assert z == {"mean": 0.0, "var": 0.0, "V_hat": 0.0}
    with pytest.raises(ValueError):
        gm.free_energy_estimate(x[:, None], 1.0, 0.1, 0.6)
