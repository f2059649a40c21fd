"""Replicas of mean-field Langevin systems and finite-width studies (gradflows.experiments.replicas)."""

import gradflows.experiments.replicas as rp
import numpy as np
import pytest
import torch
from gradflows.mean_field import mf_drift, mf_features, mf_loss, mf_output

Z = torch.linspace(-1, 1, 16)[:, None]
Y = torch.sin(2 * Z[:, 0])


def test_replica_drift_and_losses_match_the_single_network_kernels():
    X = torch.randn(3, 10, 2)
    D = rp.mf_drift_replicas(X, Z, Y)
    L = rp.replica_losses(X, Z, Y)
    for k in range(3):
        assert torch.allclose(D[k], mf_drift(X[k], Z, Y), atol=1e-12)
        assert abs(L[k].item() - mf_loss(X[k], Z, Y).item()) < 1e-12
    with pytest.raises(ValueError):
        rp.mf_drift_replicas(torch.randn(10, 2), Z, Y)


def test_replica_run_and_stationary_losses_shapes():
    X0 = 0.1 * torch.randn(2, 8, 2)
    p = rp.mean_field_langevin_replicas(
        X0, Z, Y, 0.3, 0.1, 5, record_every=1, generator=torch.Generator().manual_seed(0)
    )
    assert p.X.shape == (6, 16, 2)
    mean, first, second, last = rp.stationary_losses(
        X0, Z, Y, 0.3, 0.1, 5.0, 1.0, torch.Generator().manual_seed(0)
    )
    assert mean.shape == first.shape == second.shape == (2,) and last.shape == X0.shape
    assert np.allclose(mean, 0.5 * (first + second))  # two halves of equal length (2 records)


def test_iid_loss_gap_matches_the_variance_formula():
    X_pool = torch.randn(500, 2)
    Phi = mf_features(X_pool, Z)
    f_pool = mf_output(X_pool, Z)
    F_pool = mf_loss(X_pool, Z, Y).item()
    g = rp.iid_loss_gap(Phi, Y, f_pool, F_pool, [8, 32], 400, 100, torch.Generator().manual_seed(0))
    pred = Phi.var(0, unbiased=False).mean().item() / (2 * np.array([8, 32]))
    assert np.all(np.abs(g["gap_cv"] - pred) < 5 * g["se_cv"])


def test_weighted_affine_fit_recovers_a_line():
    u = np.array([1.0, 0.5, 0.25, 0.125])
    b0, b1, se1, chi2 = rp.weighted_affine_fit(u, 2.0 + 3.0 * u, np.full(4, 0.1))
    assert abs(b0 - 2) < 1e-12 and abs(b1 - 3) < 1e-12 and se1 > 0 and chi2 < 1e-20
    with pytest.raises(ValueError):
        rp.weighted_affine_fit(u, u, np.zeros(4))
