"""Smoke tests of the chapter's figures (gradflows.experiments.pricing_figures) on tiny inputs, Agg
backend."""

import types

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from gradflows import pricing_pdes as pp  # noqa: E402
from gradflows.experiments import pricing_figures as pf  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_notebook_01_figures():
    hs = np.array([0.2, 0.1])
    pf.imex_convergence(hs, {"a": np.array([2e-3, 1e-3])}, {"a": (1.0, 0.0)}, first="a")
    with pytest.raises(ValueError):
        pf.imex_convergence(hs, {"a": hs}, {"b": (1.0, 0.0)}, first="a")
    x = np.linspace(0.1, 3, 20)
    pf.truncation_effect(x, x * 1e-3)
    pf.one_step_network(x, x * 1e-3, x * 1e-4, 0.1, [1, 2], [1e-2, 1e-3], [1e-2, 1e-3], [1e-2, 1e-3])
    pf.imex_error(pp.BlackScholes(), 1.0, 2, 101)


def test_notebook_02_figures():
    S = torch.linspace(0.8, 1.2, 5)
    pf.price_and_errors(
        S, {"p": (S, {})}, {"e": (S * 0, dict(color="k"))}, dict(title="a"), dict(title="b"), band=1e-3
    )
    pf.errors_along_steps([0.5, 1.0], {"e": ([1e-3, 2e-3], "o-", {})}, "t")
    Sg, Vg = torch.meshgrid(torch.linspace(0.6, 1.5, 3), torch.linspace(0.01, 0.09, 2), indexing="ij")
    pf.error_maps(Sg, Vg, {"A": torch.ones(6), "B": -torch.ones(6)})
    pf.error_vs_cost([1.0, 2.0], [1e-3, 2e-3], [1.0], np.array([[3e-3], [4e-3]]), (1.0,), 2e-3, 1e-4, 5)
    pf.boundary_layer(S, {"l": (S, "k:", {})}, "L", S, {"r": (S, "C0", {})}, 1e-3, "R")
    pf.tdgf_error(pp.BlackScholes(), 0.2, 1, 2, S[:, None].double(), lambda: 0.0, fit_iters=2, points=50)


def test_notebook_03_and_04_figures():
    ds, r = (1, 2, 3), np.array([2.0, 3.0, 4.0])
    pf.cost_per_iteration(ds, r * 1e-3, r * 2e-3, 16)
    pf.cost_ratio(ds, r, types.SimpleNamespace(intercept=1.0, slope=1.0), 0.5)
    quad = {
        d: dict(N=np.array([4, 16]), grid=np.array([1e-2, 1e-3]), mc=np.array([1e-2, 5e-3])) for d in (1, 2)
    }
    quad[5] = dict(N=np.array([4, 16]), mc=np.array([1e-2, 5e-3]))
    pf.quadrature_rates(quad)
    trend = {(n, i): dict(seconds=float(i), diag=1.0 / i) for n in (128, 2048) for i in (1, 2)}
    pf.error_vs_time(trend, {128: (1, 2), 2048: (1, 2)}, dict(seconds=1.5, diag=0.7), 2048, 0.1, 5)
    n, lam = 2, np.array([4.0, 1.0, 0.1, 0.01])
    pf.kernel_spectrum(
        lam, torch.tensor(lam), torch.tensor(lam), 10, np.array([0.5, 1.5]), np.eye(4), np.ones(4), n
    )
    t = torch.linspace(0, 1, 5)
    run = dict(
        t=t,
        C=torch.exp(-t[:, None] * torch.tensor(lam)),
        lam=torch.tensor(lam),
        N=10,
        delta=0.75,
        rates=np.array([4.0, 1.0, 0.1]),
        kernel_move=0.01,
    )
    pf.component_decay([run, run])
    pf.kernel_components(run)
    pf.movements([10, 100], [(np.array([1.0, 0.5]), "o", "a")], [0.3, 0.1])
