"""Additions to landscapes, backprop and weak_solutions for chapter 1 (notebooks 01-sgd/01, 02, 04)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import backprop, landscapes, nets, ode_optimizers, weak_solutions  # noqa: E402


def test_rotated_quadratic_and_random_spd_spectra():
    A = landscapes.rotated_quadratic(1.0, 10.0)
    assert torch.linalg.eigvalsh(A).tolist() == pytest.approx([1.0, 10.0])
    lam = torch.linspace(0.5, 5.0, 6, dtype=torch.float64)
    S, Q = landscapes.random_spd(lam, generator=torch.Generator().manual_seed(0))
    assert torch.equal(S, S.T) and torch.linalg.eigvalsh(S) == pytest.approx(lam, abs=1e-12)
    assert (Q.T @ Q - torch.eye(6, dtype=torch.float64)).abs().max() < 1e-12
    with pytest.raises(ValueError):
        landscapes.rotated_quadratic(-1.0, 10.0)
    with pytest.raises(ValueError):
        landscapes.random_spd(torch.ones(2, 2))


def test_closed_form_gradients_match_autograd():
    W = torch.rand(7, 2, dtype=torch.float64) * 2 - 1
    auto = ode_optimizers.autograd_gradient(landscapes.six_hump)(W)
    assert (landscapes.grad_six_hump(W) - auto).abs().max() < 1e-12
    J, grad = landscapes.quartic(torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert (grad(W) - ode_optimizers.autograd_gradient(J)(W)).abs().max() < 1e-12
    with pytest.raises(ValueError):
        landscapes.grad_six_hump(torch.zeros(3, 3))


def test_smoothed_abs_rows_matches_smoothed_abs():
    eps = np.array([0.1, 0.01])
    J, grad = weak_solutions.smoothed_abs_rows(eps)
    W = torch.randn(2, 3, dtype=torch.float64)
    for i, e in enumerate(eps):
        assert float(J(W)[i]) == pytest.approx(float(weak_solutions.smoothed_abs(float(e))(W[i])))
    assert (grad(W) - ode_optimizers.autograd_gradient(J)(W)).abs().max() < 1e-12
    with pytest.raises(ValueError):
        weak_solutions.smoothed_abs_rows(np.array([0.1, -0.1]))


def test_bias_gradients_orders_agree_with_jacobian_backprop():
    g = torch.Generator().manual_seed(0)
    net = nets.MLP([4, 4, 4, 4], activation="sigmoid", init="normal", dtype=torch.float64, generator=g)
    x, y = torch.randn(4, generator=g, dtype=torch.float64), torch.randn(4, generator=g, dtype=torch.float64)
    ref = backprop.jacobian_backprop(net, x, lambda f: f - y)["b"]
    for order in ("forward", "backward"):
        gb, flops = backprop.bias_gradients(net, x, lambda f: f - y, order)
        assert max((a - b).abs().max().item() for a, b in zip(gb, ref, strict=True)) < 1e-12 and flops > 0
    with pytest.raises(ValueError):
        backprop.bias_gradients(net, x, lambda f: f - y, "sideways")


def test_cost_sweep_table_gap_and_plot():
    rows, times = backprop.bias_gradient_costs(
        [3, 5], 2, generator=torch.Generator().manual_seed(0), repeat=1
    )
    assert [r[0] for r in rows] == [3, 5] and len(times["forward"]) == 2
    assert rows[0][1] > rows[0][2]  # the forward order costs more multiply-adds
    assert "orders agree" in backprop.cost_table(rows)
    backprop.plot_costs([3, 5], times, 2)
    plt.close("all")
    net = nets.MLP([3, 4, 2], activation="tanh", init="normal", dtype=torch.float64)
    xs = torch.randn(3, 3, dtype=torch.float64)
    y = torch.zeros(2, dtype=torch.float64)
    assert backprop.autograd_gap(net, xs, lambda f: 0.5 * ((f - y) ** 2).sum(), lambda f: f - y) < 1e-12
    # a wrong gradient of the cost is detected
    assert backprop.autograd_gap(net, xs, lambda f: 0.5 * ((f - y) ** 2).sum(), lambda f: 2 * (f - y)) > 1e-6
    with pytest.raises(ValueError):
        backprop.autograd_gap(net, torch.zeros(3), lambda f: f.sum(), lambda f: f)
