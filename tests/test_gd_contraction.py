"""gradflows.experiments.gd_contraction: contraction factors of GD, measured factors, figures (notebook
01-sgd/01)."""

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import landscapes, ode_optimizers  # noqa: E402
from gradflows.experiments import gd_contraction as gdc  # noqa: E402


def test_rho_lemma_and_sharp_closed_forms():
    assert gdc.rho_lemma(0.5, 5.0, 0.01) == pytest.approx(math.sqrt(1 - 0.01 + 25e-4))
    assert gdc.rho_sharp(1.0, 10.0, 0.19) == pytest.approx(0.9)
    grid = np.array([0.01, 0.1])
    assert gdc.rho_sharp(1.0, 10.0, grid) == pytest.approx([0.99, 0.9])
    assert gdc.rho_lemma(1.0, 10.0, grid).shape == (2,)
    with pytest.raises(ValueError):
        gdc.rho_sharp(1.0, 10.0, -0.1)
    with pytest.raises(ValueError):
        gdc.rho_lemma(0.0, 10.0, 0.1)


def test_worst_step_factor_is_sharp_on_a_diagonal_quadratic():
    A = torch.diag(torch.tensor([1.0, 4.0], dtype=torch.float64))
    flow = ode_optimizers.gradient_flow(landscapes.quadratic(A))
    W0 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    obs, e = gdc.worst_step_factor(flow, W0, torch.zeros(2, dtype=torch.float64), 0.1, 10)
    assert obs == pytest.approx(gdc.rho_sharp(1.0, 4.0, 0.1), rel=1e-12)
    assert e.shape == (11, 2)
    assert gdc.fitted_factors(e) == pytest.approx([0.9, 0.6], rel=1e-10)
    assert gdc.fitted_factors(e[:, 0], start=5) == pytest.approx([0.9], rel=1e-10)
    with pytest.raises(ValueError):
        gdc.worst_step_factor(flow, W0, torch.zeros(3), 0.1, 10)
    with pytest.raises(ValueError):
        gdc.fitted_factors(e, start=10)


def test_figures_and_table(capsys):
    A2 = landscapes.rotated_quadratic(1.0, 10.0)
    J2 = landscapes.quadratic(A2)
    flow2 = ode_optimizers.gradient_flow(J2)
    W0 = torch.tensor([-2.5, 1.5], dtype=A2.dtype)
    flow_path = ode_optimizers.integrate(flow2, W0, 0.05, 20, method="rk4")
    gd_paths = {dt: ode_optimizers.integrate(flow2, W0, dt, 20, method="euler") for dt in (0.05, 0.1, 0.15)}
    fits = gdc.decay_rates(J2, gd_paths, 1.0, 10.0)
    assert set(fits) == set(gd_paths) and "predicted" in capsys.readouterr().out
    gdc.plot_gd_vs_flow(J2, flow_path, gd_paths, 1.0, 10.0)
    rel = torch.rand(5, 4, dtype=torch.float64) + 0.1
    gdc.plot_flow_errors(torch.linspace(0, 1, 5), rel, 0.5, "t")
    gdc.plot_contraction_factors(0.5, 5.0, np.array([0.01, 0.1]), np.array([0.99, 0.9]))
    with pytest.raises(ValueError):
        gdc.plot_contraction_factors(0.5, 5.0, np.array([0.01]), np.array([0.99, 0.9]))
    plt.close("all")
