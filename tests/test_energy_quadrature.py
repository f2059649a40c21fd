"""Quadrature of the step energy (gradflows.experiments.energy_quadrature) and the cost harnesses of
gradflows.dgm
(best_seconds, cost_sweep, cost_report)."""

import numpy as np
import pytest
import torch
from gradflows import dgm
from gradflows import pricing_pdes as pp
from gradflows.experiments import energy_quadrature as eq


def test_gauss_legendre_and_grid_converge():
    m = pp.BasketBlackScholes(1)
    x, w = eq.tensor_gauss_legendre(m, 20)
    assert x.shape == (20, 1) and float(w.sum()) == pytest.approx(m.hi[0] - m.lo[0])
    q = eq.quadrature_errors(m, [16, 64], 200, 2, torch.Generator().manual_seed(0), 0.2)
    assert q["grid_abs"].shape == (2,) and q["grid_abs"][1] < q["grid_abs"][0] / 4  # second order
    assert q["mc_abs"].shape == (2,) and q["ref_move"] < 1e-8
    quad = eq.quadrature_table({1: m}, [(1, [16, 64], 200)], 2, torch.Generator().manual_seed(0), 0.2)
    assert np.allclose(quad[1]["grid"] * q["I_ref"], q["grid_abs"])  # same draws order: same grid errors
    est = eq.mc_spread(m, [8, 16], 3, torch.Generator().manual_seed(0), 0.2)
    assert est.shape == (2, 3)
    with pytest.raises(ValueError):
        eq.closed_form_step_energy(m, x, w[:-1], 0.2)
    with pytest.raises(ValueError):
        eq.quadrature_errors(m, [16], 20, 0, torch.Generator(), 0.2)


def test_cost_sweep_and_report(capsys):
    assert dgm.best_seconds(lambda: None, repeat=2) >= 0
    models = {1: pp.BasketBlackScholes(1), 2: pp.BasketBlackScholes(2)}
    secs = dgm.cost_sweep(models, 1, 4, 1, 16, torch.Generator().manual_seed(0))
    assert set(secs) == {1, 2} and all(v.shape == (4,) and np.all(v > 0) for v in secs.values())
    rep = dgm.cost_report((1, 2), secs)
    assert rep["ratio"].shape == (2,) and isinstance(rep["model_off"], str)
    assert "ratio" in capsys.readouterr().out
    with pytest.raises(ValueError):
        dgm.cost_report((1, 3), secs)
    with pytest.raises(ValueError):
        dgm.cost_sweep(models, 0, 4, 1, 16)
