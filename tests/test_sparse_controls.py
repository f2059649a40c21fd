"""gradflows.experiments.sparse_controls: optimality conditions of the bounded L1 problem (SL*)."""

import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows import datasets as DS
from gradflows.experiments import sparse_controls as SC


def _data():
    return DS.separable(4, 4, margin=0.2, generator=torch.Generator().manual_seed(0))


def test_smooth_gradient_matches_finite_differences():
    x, y = _data()
    c = C.random_controls(4, 3, 1.0, std=0.3, generator=torch.Generator().manual_seed(2))
    g = SC.smooth_gradient(c, x, y)
    assert g.shape == (3, 20)
    eps, k, j = 1e-6, 1, 5
    from gradflows.training import objective

    def val(dw):
        w = c.w.clone()
        w.view(3, -1)[k, j] += dw
        return float(objective(C.Controls(w, c.b, c.T), x, y, lam=0.0, running=True)[0])

    assert abs((val(eps) - val(-eps)) / (2 * eps) - float(g[k, j])) < 1e-7
    with pytest.raises(ValueError):
        SC.smooth_gradient(C.Controls(c.w, None, c.T), x, y)


def test_kkt_violation_and_stages():
    x, y = _data()
    fit, n = SC.fit_l1_stages(
        x,
        y,
        2.0,
        4,
        lam=0.05,
        M=2.0,
        n_stage=20,
        max_stages=2,
        verbose=False,
        generator=torch.Generator().manual_seed(1),
    )
    assert 1 <= n <= 2
    v = SC.kkt_violation(fit.controls, x, y, 0.05, 2.0)
    assert v.shape == (4,) and bool((v >= 0).all())
    zero = C.Controls(torch.zeros(4, 4, 4), torch.zeros(4, 4), 2.0)
    assert SC.kkt_violation(zero, x, y, 1e6, 2.0).max() == 0  # a huge lam: u = 0 is optimal
    r = SC.residual_gradient(fit, y)
    assert np.isfinite(r) and r >= 0
    with pytest.raises(ValueError):
        SC.kkt_violation(fit.controls, x, y, 0.0, 2.0)
    with pytest.raises(ValueError):
        SC.fit_l1_stages(x, y, 2.0, 4, lam=0.05, M=2.0, n_stage=0, max_stages=1)


def test_plot_bang_off():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x, y = _data()
    c = C.Controls(torch.cat([torch.ones(2, 4, 4), torch.zeros(2, 4, 4)]), torch.zeros(4, 4), 2.0)
    states = C.flow(c, x).x
    fig, axs = plt.subplots(1, 3)
    SC.plot_bang_off(axs, c, y, states, torch.ones(4), 0.5, 4.0)
    assert len(axs[2].lines) == 3
    plt.close(fig)
