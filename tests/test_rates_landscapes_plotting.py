import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import landscapes as L  # noqa: E402
from gradflows import plotting, rates  # noqa: E402


def test_slopes_recover_exponents():
    x = torch.logspace(-3, 0, 10)
    assert rates.loglog_slope(x, 3 * x**1.5) == pytest.approx(1.5)
    t = torch.linspace(0, 5, 11)
    assert rates.semilog_slope(t, 2 * torch.exp(-0.7 * t)) == pytest.approx(-0.7)


@pytest.mark.parametrize(
    "x, y, msg",
    [
        ([1.0, 2.0], [1.0, -1.0], "positive"),
        ([0.0, 2.0], [1.0, 1.0], "x must be positive"),
        ([1.0], [1.0], "length"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "length"),
        ([1.0, float("nan")], [1.0, 2.0], "NaN"),
    ],
)
def test_slope_bad_inputs(x, y, msg):
    with pytest.raises(ValueError, match=msg):
        rates.loglog_slope(x, y)


def test_landscapes_values_and_batching():
    assert float(L.rosenbrock()(torch.tensor([1.0, 1.0]))) == 0.0
    assert float(L.double_well(torch.tensor([1.0, -1.0]))) == 0.0
    assert L.six_hump(torch.zeros(5, 7, 2)).shape == (5, 7)
    assert float(L.six_hump(torch.tensor([0.0898, -0.7126]))) == pytest.approx(-1.0316, abs=1e-4)
    A = torch.diag(torch.tensor([1.0, 4.0]))
    J = L.quadratic(A, W_star=torch.tensor([1.0, 0.0]))
    assert float(J(torch.tensor([1.0, 1.0]))) == pytest.approx(2.0)
    Jt = L.tilted_double_well(0.3)
    assert float(Jt(torch.tensor([-1.0]))) < float(Jt(torch.tensor([1.0])))


def test_quadratic_bad_inputs():
    with pytest.raises(ValueError, match="symmetric"):
        L.quadratic(torch.tensor([[1.0, 2.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="W_star"):
        L.quadratic(torch.eye(2), W_star=torch.zeros(3))
    with pytest.raises(ValueError, match="b"):
        L.rosenbrock(b=-1.0)


def test_plots_draw():
    plotting.use_style()
    ax = plotting.plot_landscape(L.rosenbrock(), (-2, 2), (-1, 3), n=41, log=True)
    plotting.plot_paths(ax, {"path": torch.tensor([[0.0, 0.0], [0.5, 0.2], [1.0, 1.0]])})
    assert len(ax.lines) >= 3
    ax2 = plotting.plot_curves({"e": (torch.arange(1.0, 5.0), torch.exp(-torch.arange(4.0)))}, logy=True)
    assert ax2.get_yscale() == "log"
    assert plotting.to_numpy(torch.ones(2)).tolist() == [1.0, 1.0]
    assert math.isclose(plotting.to_numpy([1.5])[0], 1.5)
    plt.close("all")


def test_slope_standard_error_matches_numpy_polyfit():
    import numpy as np
    from gradflows import rates

    t = np.linspace(0, 5, 12)
    y = np.exp(-0.7 * t + 0.05 * np.sin(7 * t))
    slope, se = rates.semilog_slope(t, y, stderr=True)
    p, cov = np.polyfit(t, np.log(y), 1, cov="unscaled")
    resid = np.log(y) - np.polyval(p, t)
    assert slope == pytest.approx(p[0])
    assert se == pytest.approx(np.sqrt(cov[0, 0] * (resid @ resid) / (len(t) - 2)))
    assert rates.loglog_slope(t[1:], y[1:]) == pytest.approx(rates.loglog_slope(t[1:], y[1:], stderr=True)[0])


def test_interact_static_calls_update_once_with_initial_values(monkeypatch):
    import ipywidgets as widgets

    monkeypatch.setenv("GRADFLOWS_WIDGETS", "static")
    calls = []
    a, b = widgets.FloatSlider(value=0.25, min=0, max=1), widgets.Dropdown(options=["x", "y"], value="y")
    out = plotting.interact(lambda a, b: calls.append((a, b)) or len(calls), a=a, b=b)
    assert calls == [(0.25, "y")] and out == 1
    assert a.disabled and b.disabled


def test_interact_live_is_ipywidgets_interact(monkeypatch):
    import ipywidgets as widgets

    monkeypatch.delenv("GRADFLOWS_WIDGETS", raising=False)
    calls = []
    plotting.interact(lambda a: calls.append(a), a=widgets.IntSlider(value=3, min=0, max=5))
    assert calls == [3]  # ipywidgets.interact calls the function once on creation


@pytest.mark.parametrize(
    ("env", "kwargs", "msg"),
    [
        ("live", {"a": 1.0}, "value widget"),
        ("live", {}, "at least one control"),
        ("sometimes", None, "GRADFLOWS_WIDGETS"),
    ],
)
def test_interact_bad_input(monkeypatch, env, kwargs, msg):
    import ipywidgets as widgets

    monkeypatch.setenv("GRADFLOWS_WIDGETS", env)
    if kwargs is None:
        kwargs = {"a": widgets.IntSlider()}
    with pytest.raises(ValueError, match=msg):
        plotting.interact(lambda **k: None, **kwargs)
