"""Experiment harnesses and figures of notebook 03-mfld/02 (gibbs_variational, langevin_double_well) and the
quadrature of its competitors (references.gibbs_quadrature), on tiny inputs, Agg backend."""

import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from gradflows.energies import free_energy_1d, gibbs_density, trapezoid  # noqa: E402
from gradflows.experiments import gibbs_variational as gv  # noqa: E402
from gradflows.experiments import langevin_double_well as ld  # noqa: E402
from gradflows.landscapes import double_well  # noqa: E402
from gradflows.references import gibbs_quadrature as gq  # noqa: E402

SIGMA = 0.8
X = torch.linspace(-4.0, 4.0, 2001, dtype=torch.float64)
F = double_well(X[:, None])
M_STAR = gibbs_density(F, X, SIGMA)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_normalise_and_gauss():
    assert trapezoid(gv.normalise(torch.exp(-X.abs()), X), X).item() == pytest.approx(1.0, abs=1e-12)
    assert trapezoid(gv.gauss(X, 0.3, 0.5), X).item() == pytest.approx(1.0, abs=1e-10)
    with pytest.raises(ValueError):
        gv.gauss(X, 0.0, 0.0)
    with pytest.raises(ValueError):
        gv.normalise(X, X[:, None])


def test_competitors_gaps_are_the_relative_entropy(capsys):
    tilted, shifted, widened, mixed = gv.competitor_families(double_well, M_STAR, X, SIGMA).values()
    assert torch.allclose(tilted(0.0), M_STAR / trapezoid(M_STAR, X)) and torch.allclose(mixed(0.0), M_STAR)
    gaps = gv.free_energy_gaps({"shift": shifted(0.3), "wide": widened(1.3)}, F, X, SIGMA, M_STAR)
    assert capsys.readouterr().out.count("\n") == 3
    assert all(g > 0 and abs(g - k) < 1e-12 for g, k in gaps.values())  # V(m) - V(m*) = (s^2/2) H(m|m*)
    families = {
        "tilt": (np.linspace(-0.5, 0.5, 5), tilted, "t"),
        "shift": (np.linspace(-0.3, 0.3, 5), shifted, "a"),
    }
    fam_gap, fam_kl = gv.family_gaps(families, F, X, SIGMA, M_STAR)
    assert np.argmin(fam_gap["tilt"]) == 2 and np.allclose(fam_gap["shift"], fam_kl["shift"], atol=1e-12)
    gv.plot_families(families, fam_gap, fam_kl)
    with pytest.raises(ValueError):
        gv.competitor_families(double_well, M_STAR[:-1], X, SIGMA)


def test_relative_free_energies_minimum_and_identities(capsys):
    U = 0.5 * X**2 + 0.5 * math.log(2 * math.pi)
    m_U = gibbs_density(F + 0.5 * SIGMA**2 * U, X, SIGMA)
    V, V_min, identity = gv.relative_free_energies({"m_U": m_U, "m*": M_STAR}, F, X, SIGMA, U, m_U)
    assert V["m_U"] == V_min < V["m*"] and identity < 1e-12
    assert capsys.readouterr().out.count("\n") == 3


def test_first_variation_errors(capsys):
    w_m, w_p = torch.tensor([0.5, 0.5, 0.0]), torch.tensor([0.0, 0.5, 0.5])
    q = torch.tensor([1.0, -1.0, 2.0])
    d = w_p - w_m
    examples = {
        "lin": (lambda w: w @ q, q, 0.0),
        "sq": (lambda w: (w @ q) ** 2, 2 * (w_m @ q) * q, (d @ q).item() ** 2),
    }
    slopes = gv.first_variation_errors(
        examples, w_m, w_p, 10.0 ** -np.arange(1, 5), (gv.gauss(X, 0, 1), M_STAR, X)
    )
    assert abs(slopes["sq"] - 1) < 1e-6 and abs(slopes["entropy"] - 1) < 0.05  # the error is c2 s: slope 1
    assert capsys.readouterr().out.count("\n") == 4
    with pytest.raises(ValueError):
        gv.first_variation_errors(examples, w_m, w_p[:2], [0.1], (M_STAR, M_STAR, X))


def test_competitor_free_energies_against_the_grid():
    Z = gq.gibbs_partition(lambda x: (x * x - 1) ** 2 / 4, SIGMA)
    quad_VH = gq.competitor_free_energies(lambda x: (x * x - 1) ** 2 / 4, SIGMA, Z, 0.8)
    assert len(quad_VH) == 7 and all(H > 0 for _, H in quad_VH.values())
    V_star = -0.5 * SIGMA**2 * math.log(Z)
    shifted = gv.competitor_families(double_well, M_STAR, X, SIGMA)["shifted"](0.3)
    assert quad_VH["shifted, a = 0.3"][0] - V_star == pytest.approx(
        free_energy_1d(shifted, F, X, SIGMA).item() + 0.5 * SIGMA**2 * math.log(Z), abs=1e-8
    )
    with pytest.raises(ValueError):
        gq.competitor_free_energies(lambda x: x, SIGMA, -1.0, 0.8)


def test_time_averaged_tv_and_figures(capsys):
    edges = np.linspace(-2.5, 2.5, 11)
    p = np.full(10, 0.1)
    x0 = torch.zeros(200, 1)
    grad, bias, gen = (lambda X: X * (X * X - 1)), {0.1: 0.2, 0.05: 0.1}, torch.Generator().manual_seed(0)
    tv, se, s_tv, s_bias = ld.time_averaged_tv(x0, SIGMA, [0.1, 0.05], 0.5, 2.0, grad, edges, p, bias, gen)
    assert set(tv) == {0.1, 0.05} and all(v >= 0 for v in se.values()) and s_bias == pytest.approx(1.0)
    assert capsys.readouterr().out.count("\n") == 3
    with pytest.raises(ValueError):
        ld.time_averaged_tv(x0, SIGMA, [0.1], 0.5, 0.0, lambda X: X, edges, p, {0.1: 0.1}, None)
    t = np.linspace(0, 2, 5)
    cells = np.linspace(-2.4, 2.4, 25)
    m = np.exp(-(cells**2))[None].repeat(5, 0)
    ld.plot_snapshots(
        [0.0, 2.0], t, np.full((5, 10), 0.1), 0.5 * (edges[1:] + edges[:-1]), 0.5, cells, m, m[0]
    )
    ld.plot_relaxation(t, -np.exp(-t), -np.exp(-t), 0.5 - 0.5 * np.exp(-t), np.exp(-t), 1.0)
    ld.plot_bias([0.1, 0.05], 0.01, tv, {0.1: 0.2, 0.05: 0.1, 0.01: 0.02}, 0.05, 0.03)
    ld.plot_ou_dissipation(
        t, 1 + np.exp(-2 * t), 1.0, -2 * np.exp(-2 * t), slice(0, None, 2), np.exp(-2 * t[::2])
    )
    ld.plot_free_energy(t, 1 + np.exp(-t), 1 + np.exp(-t), 1.0, 1e-3, 0.5)


def test_plot_explorer_runs_and_reports_divergence(capsys):
    cells = np.arange(-3.5 + 0.05, 3.5, 0.1)
    m = np.exp(-2 * (cells**2 - 1) ** 2 / 4 / SIGMA**2)
    m /= m.sum() * 0.1
    edges = np.linspace(-3.0, 3.0, 31)
    grad = lambda X: X * (X * X - 1)  # noqa: E731
    x0 = -1.0 + 0.1 * torch.randn(500, 1, generator=torch.Generator().manual_seed(0))
    ld.plot_explorer(
        x0, SIGMA, 0.02, 10, double_well, grad, torch.Generator().manual_seed(1), edges, cells, m, m, 4.0
    )
    ld.plot_explorer(x0 + 50, SIGMA, 1.0, 10, double_well, grad, None, edges, cells, m, m, 4.0)
    assert "diverged" in capsys.readouterr().out
