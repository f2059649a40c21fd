"""Universal-approximation harness (gradflows.experiments.approximation): shapes, validation and known
limits."""

import gradflows.experiments.approximation as ap
import numpy as np
import pytest
import torch

Z_FIT = np.linspace(-1.0, 1.0, 201)
Z_SUP = np.linspace(-1.0, 1.0, 401)


def test_rf_fit_reproduces_an_affine_target_and_shapes():
    g = torch.Generator().manual_seed(0)
    fit, rms = ap.rf_fit(lambda x: 0.3 + 0 * x, 4, 5.0, g, Z_FIT, Z_SUP)  # constants are in the span
    assert fit.shape == Z_SUP.shape and rms < 1e-12
    sup, rms = ap.random_feature_errors(
        np.abs, [2, 4], 5.0, 3, torch.Generator().manual_seed(0), Z_FIT, Z_SUP
    )
    assert sup.shape == rms.shape == (2, 3) and np.all(sup >= rms * 0.99)


def test_staircase_within_its_bound_and_jackknife():
    for n in (4, 16, 64):
        err = np.abs(ap.staircase(np.abs, n, Z_SUP) - np.abs(Z_SUP)).max()
        assert err <= ap.staircase_bound(lambda h: h, n)
    errors = np.array([[1.0, 1.1, 0.9], [0.5, 0.55, 0.45], [0.25, 0.27, 0.23]])
    assert ap.jackknife_slope_se([2, 4, 8], errors) < 0.05
    with pytest.raises(ValueError):
        ap.jackknife_slope_se([2, 4], errors)


def test_levenberg_marquardt_never_increases_the_loss_and_fits():
    g = torch.Generator().manual_seed(1)
    rms, sup = ap.train_tanh_nets(np.abs, 4, 3, 5.0, g, Z_FIT, Z_SUP, iters=20)
    assert rms.shape == sup.shape == (3,) and np.all(rms < 0.05)
    p = torch.zeros(2, 3 * 2 + 1)
    H, out = ap.tanh_nets(p, 2, torch.from_numpy(Z_FIT))
    assert H.shape == (2, len(Z_FIT), 2) and out.shape == (2, len(Z_FIT))
    with pytest.raises(ValueError):
        ap.tanh_nets(torch.zeros(2, 5), 2, torch.from_numpy(Z_FIT))


@pytest.mark.parametrize("bad", [dict(n=0), dict(scale=-1.0)])
def test_rf_draw_validation(bad):
    args = dict(n=3, scale=1.0) | bad
    with pytest.raises(ValueError):
        ap.rf_draw(args["n"], args["scale"], None)
