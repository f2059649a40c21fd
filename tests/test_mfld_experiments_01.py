"""Experiment harnesses and figures of notebook 03-mfld/01 (approximation, monte_carlo, measure_convexity),
on tiny inputs, Agg backend."""

import contextlib
import io

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from gradflows import pricing  # noqa: E402
from gradflows.experiments import measure_convexity as mc  # noqa: E402
from gradflows.experiments import monte_carlo as mo  # noqa: E402
from gradflows.experiments import universal_approximation as ap  # noqa: E402
from gradflows.mean_field import mf_loss, with_bias  # noqa: E402

TARGETS = {"|x|": np.abs, "sqrt|x|": lambda x: np.sqrt(np.abs(x))}
MODULUS = {"|x|": lambda h: h, "sqrt|x|": np.sqrt}
HOLDER = {"|x|": 1.0, "sqrt|x|": 0.5}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def sweep():
    z_fit, z_sup = np.linspace(-1, 1, 41), np.linspace(-1, 1, 81)
    gen, out = torch.Generator().manual_seed(0), io.StringIO()
    with contextlib.redirect_stdout(out):
        r = ap.width_sweep(TARGETS, MODULUS, HOLDER, 2 ** np.arange(1, 5), 5.0, 3, gen, z_fit, z_sup)
        r = ap.train_sweep(r, np.array([4, 8, 16]), 2, 5.0, gen, z_fit, z_sup, iters=3)
    return r, out.getvalue()


def test_width_sweep_shapes_rates_and_table(sweep):
    r, out = sweep
    assert out.count("random features:") == 2 and out.count("RMS error on the fitting points") == 2
    assert r.rf_sup["|x|"].shape == (4, 3) and r.rf_err["|x|"].shape == (4,)
    assert np.all(r.stair_err["|x|"] <= r.stair_bound["|x|"])  # the bound of the proof holds
    assert r.train_rms["|x|"].shape == (3, 2) and np.array_equal(r.at, [1, 2, 3])
    assert np.allclose(r.gain["|x|"], r.rf_med["|x|"] / r.tr_med["|x|"])
    ratios = ap.print_width_findings(r)
    assert np.allclose(ratios["|x|"], r.rf_err["|x|"][1:] / r.rf_err["|x|"][:-1])
    ap.plot_width_errors(r)
    ap.plot_rf_fit(
        np.abs, 8, 5.0, torch.Generator().manual_seed(1), np.linspace(-1, 1, 21), np.linspace(-1, 1, 41)
    )


def test_width_sweep_validates(sweep):
    with pytest.raises(ValueError):
        ap.width_sweep(
            TARGETS, MODULUS, HOLDER, [4], 5.0, 3, None, np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)
        )
    with pytest.raises(ValueError):
        ap.width_sweep(
            TARGETS, MODULUS, HOLDER, [2, 4], 5.0, 0, None, np.linspace(-1, 1, 5), np.linspace(-1, 1, 5)
        )
    with pytest.raises(ValueError):  # a training width outside the sweep
        ap.train_sweep(sweep[0], np.array([3]), 2, 5.0, None, np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))


def test_basket_rmse_sweep_against_the_closed_form(capsys):
    K, r, T = 100.0, 0.05, 1.0

    def vol(d):
        return pricing.correlated_vol(torch.full((d,), 0.3), 0.5)

    exact = {
        d: float(pricing.geometric_basket_call(torch.full((d,), 100.0), K, r, vol(d), T)) for d in (1, 2)
    }
    law = {d: (exact[d], 14.0, 0.3) for d in (1, 2)}  # only the sd enters the ratios
    sizes = np.array([100, 1000])
    gen, pay = torch.Generator().manual_seed(0), pricing.geometric_basket_payoff(K)
    b = mo.basket_rmse_sweep(pay, [1, 2], 100.0, r, vol, T, 32000, sizes, exact, law, gen)
    assert capsys.readouterr().out.count("d = ") == 2
    assert b.rmse[1].shape == (2,) and np.array_equal(b.blocks, [320, 32])
    assert abs(b.mc[1][0] - exact[1]) < 5 * b.mc[1][1]  # unbiased within its standard error
    assert b.chi_band.shape == (2, 2) and np.all(b.chi_band[0] < 1) and np.all(b.chi_band[1] > 1)
    mo.print_basket_claims(b, law, exact)
    mo.plot_basket_rmse(b)
    with pytest.raises(ValueError):
        mo.basket_rmse_sweep(
            pricing.geometric_basket_payoff(K), [1], 100.0, r, vol, T, 100, [1000], exact, law, None
        )


def test_plot_lln_rmse():
    N = np.array([10, 100])
    mo.plot_lln_rmse(N, np.ones((2, 3)) / np.sqrt(N)[:, None], [0.0, 1.0, 2.0], np.ones(3), -0.5 * np.ones(3))


def test_mixture_convexity_is_the_exact_parabola():
    gen = torch.Generator().manual_seed(0)
    Z = with_bias(torch.linspace(-1, 1, 9)[:, None])
    Y = torch.sin(torch.pi * Z[:, 0])
    X0, X1 = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    c = mc.mixture_convexity(X0, X1, Z, Y, 4)
    assert c.F_mix.shape == (5,) and c.F_mix[0] == pytest.approx(mf_loss(X0, Z, Y).item())
    assert max(c.mix_output_dev, c.rescaled_dev, c.gap_dev, c.second_dev) < 1e-12 and c.second_diff.min() > 0
    s = mc.parameter_segments(X1, Z, Y, 4, n_t=5)
    assert s.flip_symmetry < 1e-12 and s.flip_mix_spread < 1e-12  # tanh is odd
    assert s.L_flip[2] == pytest.approx(0.5 * (Y**2).mean().item())  # the midpoint is the zero network
    mc.plot_convexity(c, s)
    with pytest.raises(ValueError):
        mc.mixture_convexity(X0, X1[:4], Z, Y, 4)
    with pytest.raises(ValueError):
        mc.parameter_segments(X1, Z, Y, 4, n_t=2)
