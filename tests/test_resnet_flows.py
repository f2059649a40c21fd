"""gradflows.experiments.resnet_flows: error tables of the ResNet against the neural ODE, and its figures."""

import matplotlib
import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows.experiments import resnet_flows as RF

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_euler_and_rk4_errors_on_a_linear_ode():
    # outer, relu, positive states, w = a I, b = 0: x(T) = x0 e^(aT); Euler error ~ h, RK4 ~ (h/s)^4
    x0 = torch.tensor([[1.0, 2.0], [0.5, 0.3]])
    a, T = 0.7, 1.0
    exact = x0.numpy() * np.exp(a * T)
    w = lambda t: a * np.eye(2)  # noqa: E731
    b = lambda t: np.zeros(2)  # noqa: E731
    errs = RF.euler_errors(w, b, x0, T, [16, 32, 64], "outer", "relu", exact)
    assert errs.shape == (3,) and 1.8 < errs[0] / errs[1] < 2.2
    c = C.sample_controls(lambda t: torch.from_numpy(w(t)), lambda t: torch.from_numpy(b(t)), T, 2)
    rk = RF.rk4_errors(c, x0, "outer", "relu", [2, 4], exact)
    assert 12 < rk[0] / rk[1] < 20
    with pytest.raises(ValueError):
        RF.euler_errors(w, b, x0, T, [16, 0], "outer", "relu", exact)
    with pytest.raises(ValueError):
        RF.rk4_errors(c, x0, "outer", "relu", [2], exact[:1])


def test_figures_draw():
    c = C.random_controls(2, 3, 1.0, generator=torch.Generator().manual_seed(0))
    g1, g2, score = RF.pulled_back(c, 2, n=11)
    assert score.shape == (11, 11)
    x = torch.randn(6, 2, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([1.0, -1.0] * 3)
    fig, axes = plt.subplots(1, 3)
    RF.draw_pullback(axes[0], c, x, y, 2, "t")
    RF.plot_point_paths(axes[1], C.flow(c, x).x, y, (-1, 1), "paths")
    errs = {("outer", "tanh"): np.array([1e-2, 5e-3])}
    RF.plot_orders(
        axes[2], [0.1, 0.05], errs, {("outer", "tanh"): 1.0}, 1, marker="o-", word="slope", guide="h"
    )
    assert len(axes[1].lines) >= 6
    plt.close(fig)
    fig = plt.figure()
    fit = type("F", (), {"states": C.flow(c, x).x})()
    rings = torch.randn(4, 2000, 2, generator=torch.Generator().manual_seed(2))
    RF.plot_ring_snapshots(fig, 0, fit, rings, y, torch.ones(2000), [0, 3])
    plt.close(fig)
    with pytest.raises(ValueError):
        RF.pulled_back(c, 1)


def test_plot_fit_and_rescaled_paths(monkeypatch):
    from gradflows import datasets as DS
    from gradflows import training as TR

    monkeypatch.setattr(plt, "show", lambda: None)
    x, y = DS.two_moons(8, generator=torch.Generator().manual_seed(0))
    fit = TR.fit_controls(x, y, 1.0, 2, iters=1, generator=torch.Generator().manual_seed(1), progress=False)
    RF.plot_fit(fit, y, 1e-2)
    fig, ax = plt.subplots()
    s = np.linspace(0, 1, 5)
    RF.plot_rescaled_paths(ax, np.zeros((5, 2, 1)), np.zeros((5, 2, 1)), s, "t")
    assert len(ax.lines) == 6
    plt.close("all")


def test_rings_dataset():
    from gradflows import datasets as DS

    x, y = DS.rings(100, radii=(0.5, 1.0))
    assert x.shape == (200, 2) and y.shape == (200,)
    np.testing.assert_allclose(x.norm(dim=1).numpy(), np.r_[np.full(100, 0.5), np.ones(100)])
    assert float(y[:100].max()) == -1.0 and float(y[100:].min()) == 1.0
    with pytest.raises(ValueError):
        DS.rings(100, radii=(1.0, 0.5))


def test_oscillation_table_and_ode_deviation(capsys):
    RF.oscillation_table([1, 2], 2.0)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and out[1].startswith("   1 |")
    # the inner ReLU end point is 1.5 e - 0.5 for every n (closed form): the first column is round-off
    assert abs(float(out[1].split("|")[1])) < 1e-8
    with pytest.raises(ValueError):
        RF.oscillation_table([0])
    c = C.random_controls(2, 4, 1.0, generator=torch.Generator().manual_seed(0))
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    fit = type("F", (), {"controls": c, "states": C.flow(c, x).x})()
    dev = RF.ode_deviation(fit, x)
    assert dev["hK"] == pytest.approx(dev["KT"] / 4) and 0 < dev["dev"] < dev["size"]
    with pytest.raises(ValueError):
        RF.ode_deviation(fit, x, substeps=0)


def test_ridge_snapshots_and_circle_flows(capsys):
    from gradflows import datasets as DS

    x, y = DS.circles(8, generator=torch.Generator().manual_seed(0))
    fig, axes = plt.subplots(1, 3)
    RF.plot_ridge(axes[:1], {"circles": (x, y)}, {"circles": np.array([1.0, 0.5])})
    c = C.random_controls(2, 2, 1.0, generator=torch.Generator().manual_seed(1))
    RF.plot_snapshots(axes[1:], C.flow(c, x).x, y, [0, 2], 0.5)
    assert axes[2].get_title() == "layer 2, t = 1"
    plt.close(fig)
    xr, yr = DS.rings(10)
    circ = RF.fit_circle_flows(x, y, xr, yr, (2, 3), 1.0, 2, generator=torch.Generator().manual_seed(2))
    assert circ[3]["rings"].shape == (3, 20, 3) and 0 <= circ[2]["acc_rings"] <= 1
    assert len(capsys.readouterr().out.splitlines()) == 2
    with pytest.raises(ValueError):
        RF.fit_circle_flows(x, y, xr, yr, (1,), 1.0, 2)
