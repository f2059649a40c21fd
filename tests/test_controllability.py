"""gradflows.experiments.controllability: lower bounds for interpolating weights and constant controls."""

import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows.experiments import controllability as CT


def test_data_bound_closed_form():
    x = torch.tensor([[-0.2, 0.0], [0.0, 0.0], [0.2, 0.0]])
    y = torch.tensor([-1.0, 1.0, -1.0])
    assert CT.data_bound(x, y, 1.0) == pytest.approx(np.log(2 / 0.2))
    assert CT.data_bound(x, y, 0.25) == pytest.approx(4 * np.log(2 / 0.2))
    assert CT.data_bound(x, y, 1.0, torch.full((3,), 0.5)) == pytest.approx(np.log(1 / 0.2))
    with pytest.raises(ValueError):
        CT.data_bound(x, torch.ones(3), 1.0)


def test_endpoint_jacobian_is_T_dw_sigma():
    x = torch.tensor([[0.3, -0.5], [0.8, 0.1]])
    J = CT.endpoint_jacobian(x, 2.0)
    assert J.shape == (4, 4)
    # d x_i(T) / d w_(ab) at w = 0 is T delta_(a, .) tanh(x_i)_b
    expected = torch.zeros(4, 4)
    for i in range(2):
        for a in range(2):
            expected[2 * i + a, 2 * a : 2 * a + 2] = 2.0 * torch.tanh(x[i])
    torch.testing.assert_close(J, expected, atol=1e-10, rtol=1e-10)
    with pytest.raises(ValueError):
        CT.endpoint_jacobian(x, 0.0)


def test_min_norm_constant_control_reaches_target():
    x1 = torch.tensor([[0.5, -0.3], [0.2, 0.6]])
    w = torch.tensor([[0.3, 0.0], [0.1, -0.2]])
    x0 = C.flow(C.Controls(-w[None], None, 1.0), x1, "outer", "tanh", "rk4", 32, record=False).last
    out = CT.min_norm_constant_control(x0, x1, 1.0, np.array([[0.1, 0.0, 0.0, 0.1]]))
    assert len(out) == 1 and (np.isnan(out[0]) or out[0] > 0)
    with pytest.raises(ValueError):
        CT.min_norm_constant_control(x0, x1, 1.0, np.zeros((1, 3)))


def test_plot_weight_scaling():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    panel = ([1.0, 2.0], [1.0, 0.5], [1.0, 0.5], "steer", "T", "title")
    CT.plot_weight_scaling(axes, [panel, panel])
    assert len(axes[0].lines) == 2
    with pytest.raises(ValueError):
        CT.plot_weight_scaling(axes, [panel])
    plt.close(fig)


def test_tolerance_sweep(capsys):
    x1 = torch.tensor([[0.8, -0.3], [-0.8, 0.3]])
    x0 = x1 + 1e-3 * torch.tensor([[0.6, 0.0], [0.0, 0.8]])
    out = CT.tolerance_sweep(x0, x1, 1.0, [1e-10], lambda w: np.full(2, 1e-4))
    v = out[1e-10]
    assert v["w_op"] <= v["w"] + 1e-12 and v["log"] == pytest.approx(
        np.log(np.linalg.norm(x0.sum(0)) / v["s"])
    )
    assert capsys.readouterr().out.startswith("  tol = 1e-10")
    with pytest.raises(ValueError):
        CT.tolerance_sweep(x0, x1, 1.0, [0.0], lambda w: np.ones(2))
