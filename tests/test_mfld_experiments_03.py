"""Experiment harnesses and figures of notebook 03-mfld/03 (gaussian_mean_field, mean_field_network,
stationary_measures), on tiny inputs, Agg backend."""

import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from gradflows.experiments import finite_width as fw  # noqa: E402
from gradflows.experiments import gaussian_mean_field as gm  # noqa: E402
from gradflows.experiments import mean_field_network as mfn  # noqa: E402
from gradflows.experiments import stationary_measures as sm  # noqa: E402

A, KAPPA, SIG = 1.0, 0.1, 0.6
LAM = KAPPA + SIG**2 / 2
Z = torch.linspace(-1.0, 1.0, 8, dtype=torch.float64)[:, None]
Y = torch.sin(2 * Z[:, 0])


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _V(mu, v):
    return 0.5 * (mu - A) ** 2 + 0.5 * KAPPA * (mu**2 + v) + 0.25 * SIG**2 * (mu**2 + v - 1 - np.log(v))


@pytest.fixture(scope="module")
def gauss():
    laws = {"narrow": (-1.0, 0.01), "narrow, replica": (-1.0, 0.01), "wide": (3.0, 2.25)}
    t = np.arange(11) * 10 * 0.05
    grad, gen = (lambda X: (X.mean() - A) + LAM * X), torch.Generator().manual_seed(0)
    runs = gm.gaussian_runs(laws, 2000, 500, 0.05, 5.0, 10, t, A, KAPPA, SIG, grad, _V, gen)
    return runs, t


def test_gaussian_runs_follow_the_exact_laws(gauss, capsys):
    runs, t = gauss
    r = runs["wide"]
    assert (
        r["x"].shape == (11, 2000) and r["V_hat"].shape == (11,) and np.allclose(r["V"], _V(r["mu"], r["v"]))
    )
    assert np.all(np.abs(r["mean"] - r["mu_em"]) < 5 * np.sqrt(r["v_em"] / 2000))
    assert abs(r["mu_em"][0] - 3.0) < 1e-12 and abs(r["v_em"][0] - 2.25) < 1e-12
    gm.plot_gaussian_runs(runs, t, A / (1 + LAM), SIG**2 / (2 * LAM), 0.1, 1e-3)
    w = gm.gaussian_w2(runs, t, 2000, LAM, t_floor=4.0, t_fit=0.0)
    assert w.Wg.shape == w.Wg_floor.shape == w.Wg_em.shape == w.Wg_exact.shape == (11,)
    assert np.allclose(w.Wg_em, w.Wg_exact, rtol=0.05) and w.rate_g_asym == min(1 + LAM, 2 * LAM)
    assert "W2 at t = 0" in capsys.readouterr().out
    with pytest.raises(ValueError):
        gm.gaussian_runs({"a": (0.0, 1.0)}, 10, 10, 0.0, 1.0, 1, t, A, KAPPA, SIG, lambda X: X, _V, None)


@pytest.fixture(scope="module")
def net():
    gen = torch.Generator().manual_seed(0)
    starts = {k: 0.1 * torch.randn(16, 2, generator=gen) for k in ("narrow", "narrow, replica")}
    starts["shifted"] = 5.0 + torch.randn(16, 2, generator=gen)
    net, t = mfn.network_runs(starts, Z, Y, 0.3, 0.1, 300, 5, gen)  # 61 records, t = 0 .. 30
    return net, t


def test_network_runs_equilibrium_and_w2(net, capsys):
    net, t = net
    assert net["narrow"]["S"].shape == (61, 16, 2) and net["shifted"]["V"].shape == (61,)
    assert np.allclose(net["narrow"]["V"], net["narrow"]["F"] + 0.5 * 0.3**2 * net["narrow"]["H"])
    e = mfn.equilibrium_stats(net, t, 0.3, torch.Generator().manual_seed(1), t_eq=10.0)
    assert e.cov_eq.shape == (2, 2) and e.H_cal.shape == (200,) and set(e.rise) == set(net)
    mfn.plot_network_runs(net, t, e.eq, e.sd_V, 0.5)
    w = mfn.network_w2(net, t, e.cov_eq, 0.3, t_floor=20.0, t_fit=2.0, t_late=25.0)
    assert w.W_net.shape == w.W_floor.shape == (31,) and w.lam_max > 0 and w.win.sum() >= 4
    assert capsys.readouterr().out.count("\n") == 6
    mfn.plot_w2(np.linspace(0, 1, 5), types_ns(), w)
    mfn.plot_network_snapshots(net, t, Z, Y, [0, 20])
    with pytest.raises(ValueError):
        mfn.network_runs({"a": torch.zeros(4, 2)}, Z, Y, 0.3, 0.0, 10, 1, None)


def types_ns():
    t = np.linspace(0, 1, 5)
    g = dict(
        Wg=np.exp(-t), Wg_exact=np.exp(-t), Wg_em=np.exp(-t), Wg_floor=0.01 + 0 * t, win_g=t >= 0, rate_g=1.0
    )
    return type("G", (), g)


def test_plot_explorer(capsys):
    X0 = 0.1 * torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    mfn.plot_explorer(X0.float(), Z, Y, 0.3, 0.1, 2.0, torch.Generator().manual_seed(1), 0.5)
    mfn.plot_explorer((X0 * 1e3).float(), Z, Y, 0.3, 50.0, 100.0, None, 0.5)
    assert capsys.readouterr().out in ("", "the scheme diverged for tau = 50: reduce the step\n")


def test_bulk_spread_and_first_order_conditions(capsys):
    x = np.linspace(-1, 1, 101)
    sds, spread = sm.bulk_spread([x, -x], -(x**2))
    assert spread == 0 and sds[0] == pytest.approx(sds[1])
    with pytest.raises(ValueError):
        sm.bulk_spread([x], x[:-1])
    rng = torch.Generator().manual_seed(0)
    mu, v = A / (1 + LAM), SIG**2 / (2 * LAM)
    cloud = (mu + math.sqrt(v) * torch.randn(3000, generator=rng)).numpy()
    x_eval, terms, sds, spread, kde_err = sm.gaussian_first_order(cloud, mu, v, A, KAPPA, SIG)
    assert len(x_eval) == 2000 and len(terms) == 3 and spread < max(sds)  # the terms cancel at m*
    X = torch.randn(400, 2, generator=rng, dtype=torch.float64)
    foc = sm.network_first_order(X, Z, Y, 0.3, rng)
    assert len(foc.terms) == 3 and foc.kde_floor > 0 and foc.X_eval.shape == (400, 2)
    assert capsys.readouterr().out.count("\n") == 2
    with pytest.raises(ValueError):
        sm.network_first_order(X[:, :1], Z, Y, 0.3, rng)
    g1 = torch.linspace(-4.0, 4.0, 41, dtype=torch.float64)
    S = torch.randn(2, 300, 2, generator=rng, dtype=torch.float64)
    g = sm.gibbs_form_check(S, Z, Y, 0.3, g1)
    assert g.diff.shape == (2, 3) and g.err.shape == (2,) and g.var_ratio > 0
    with pytest.raises(ValueError):
        sm.gibbs_form_check(S[:1], Z, Y, 0.3, g1)
    sm.plot_first_order(x_eval, terms, foc.terms, foc.log_kde, g.X_all, g1, g.log_corr, g.log_print, 300)


def test_sweeps_and_width_cost(capsys):
    def stationary(X0, s):  # a stand-in with the shapes of replicas.stationary_losses
        F = (X0.double() ** 2).mean((1, 2)).numpy() * s
        return F, F * 0.99, F * 1.01, X0

    X0 = torch.randn(3, 5, 2, generator=torch.Generator().manual_seed(0))
    sw = sm.sigma_sweep(stationary, [0.6, 0.3, 0.1], X0, Z)
    assert sw.F_sw.shape == sw.se_sw.shape == sw.drift_sw.shape == (3,) and sw.out_sw[0.3].shape == (8,)
    assert sw.F_sw[0] / sw.F_sw[1] == pytest.approx(2.0)
    sm.print_sigma_sweep([0.6, 0.3, 0.1], sw, 1.0, 1.0, 3, np.ones(2))
    sm.plot_sigma_sweep([0.6, 0.3, 0.1], sw, 0.1, 1.0, 10.0, Z, Y)
    with pytest.raises(ValueError):
        sm.sigma_sweep(stationary, [0.3], X0[:1], Z)
    wf = fw.width_fit(stationary, np.array([4, 8, 16]), 4, 0.3, 0.5, torch.Generator().manual_seed(1))
    assert wf.F_bar.shape == (3,) and np.isfinite([wf.F_inf, wf.C_N, wf.se_C, wf.chi2_N, wf.chi2_alt]).all()
    iid = {k: np.array([1e-2, 5e-3]) for k in ("gap_raw", "gap_cv", "se_raw", "se_cv")}
    fw.print_iid_gaps([16, 32], iid)
    assert "N x gap, control var" in capsys.readouterr().out
    fw.plot_width_cost([16, 32], iid, np.array([1e-2, 5e-3]), np.array([1e-9, 1e-10]), np.array([4, 8, 16]),
                       wf.F_bar, wf.se_bar, wf.F_inf, wf.C_N, 0.5)  # fmt: skip
    with pytest.raises(ValueError):
        fw.width_fit(stationary, np.array([4, 8]), 4, 0.3, 0.5, None)
