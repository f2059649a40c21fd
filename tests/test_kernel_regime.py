"""The step energy as a quadratic in the outputs and the kernel-regime training harness
(gradflows.experiments.kernel_regime), against a direct evaluation and the closed form of a quadratic."""

import numpy as np
import pytest
import torch
from gradflows import pricing_pdes as pp
from gradflows.experiments import kernel_regime as kr
from gradflows.nets import MeanFieldNet
from gradflows.tdgf import value_and_grad


@pytest.fixture
def sq():
    return kr.step_quadratic(pp.BlackScholes(), 0.1, 8)


def test_quadratic_form_equals_the_energy(sq):
    net = MeanFieldNet(20, 0.75, generator=torch.Generator().manual_seed(0))
    u, du = value_and_grad(net, sq.x)
    s = kr.outputs_to_s(sq, u, du)
    assert torch.isclose(0.5 * s.square().sum() + sq.I_free, sq.energy(u, du), rtol=1e-12)
    with pytest.raises(ValueError):
        kr.outputs_to_s(sq, u[:-1], du)
    with pytest.raises(ValueError):
        kr.step_quadratic(pp.BasketBlackScholes(2), 0.1, 8)


def test_kernel_is_symmetric_psd_and_eigs_descend(sq):
    net = MeanFieldNet(30, 0.75, generator=torch.Generator().manual_seed(0))
    M = kr.kernel_matrix(net, sq)
    assert M.shape == (16, 16) and torch.allclose(M, M.T)
    lam, V = kr.eig_desc(M)
    assert torch.all(lam[:-1] >= lam[1:]) and lam[-1] > -1e-10
    assert torch.allclose(V @ torch.diag(lam) @ V.T, M, atol=1e-10)


def test_step_sizes_and_training_shapes(sq):
    dts = kr.step_sizes(0.2, fast=0.1, dt_fast=0.05, dt_slow=0.05)
    assert dts.shape == (4,) and float(dts.sum()) == pytest.approx(0.2)
    with pytest.raises(ValueError):
        kr.step_sizes(1.0, dt_fast=0.0)
    run = kr.train_kernel_flow(sq, 20, 0.75, dts, seed=1, modes=2)
    assert run["C"].shape == (5, 16) and run["rates"].shape == (2,) and run["kernel_move"] >= 0
    assert torch.allclose(run["C_lin"][0], run["C"][0])
    with pytest.raises(ValueError):
        kr.train_kernel_flow(sq, 20, 0.75, -dts)
    means, slopes = kr.movement_slopes({20: [run], 40: [run, run], 80: [run]})
    assert means["kernel"].shape == (3,) and set(slopes) >= {"parameters", "kernel"}
    with pytest.raises(ValueError):
        kr.movement_slopes({})


def test_lln_errors_and_fem_outputs(sq):
    M_inf = kr.kernel_matrix(MeanFieldNet(50, 0.75, generator=torch.Generator().manual_seed(3)), sq).numpy()
    err = kr.kernel_lln_errors(sq, M_inf, [10, 20], 2, torch.Generator().manual_seed(0))
    assert set(err) == {10, 20} and all(e > 0 for e in err.values())
    with pytest.raises(ValueError):
        kr.kernel_lln_errors(sq, M_inf[:3], [10], 2, torch.Generator())
    nodes = np.linspace(0.01, 3.0, 301)
    f = kr.fem_outputs(nodes, 2 * nodes, sq)  # a linear function: values and slope 2 exactly
    assert torch.allclose(f[:8], 2 * sq.x[:, 0]) and torch.allclose(f[8:], torch.full((8,), 2.0))
    with pytest.raises(ValueError):
        kr.fem_outputs(nodes, nodes[:-1], sq)
