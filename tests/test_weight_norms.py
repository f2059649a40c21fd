"""gradflows.experiments.weight_norms: replicas trained at once, the weight-norm bound, figures (notebook
01-sgd/03)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import nets  # noqa: E402
from gradflows.experiments import weight_norms as wn  # noqa: E402


def _net(seed):
    return nets.MLP(
        [1, 5, 1], activation="tanh", init="normal", generator=torch.Generator().manual_seed(seed)
    )


def test_fit_replicas_equals_training_one_by_one():
    x = torch.linspace(-1, 1, 10).unsqueeze(1)
    y = torch.sin(2 * x)
    pair, single = [_net(1), _net(2)], [_net(2)]
    losses = wn.fit_replicas(pair, x, y, 20)
    loss_single = wn.fit_replicas(single, x, y, 20)
    assert losses.shape == (2,) and float(losses[1]) == pytest.approx(float(loss_single[0]), rel=1e-10)
    assert (pair[1].weights[0] - single[0].weights[0]).abs().max() < 1e-10
    with pytest.raises(ValueError):
        wn.fit_replicas(pair, x, y, 20, optimizer="lbfgs")


def test_bound_holds_and_projection_enforces_the_constraint():
    net = nets.MLP([3, 6, 2], activation="relu", init="normal", generator=torch.Generator().manual_seed(0))
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    norms = wn.jacobian_norms(net, x)
    rows = wn.bound_table({"n": net}, {"n": x})
    assert set(norms) == set(wn.ORDS) and all(r[4] <= 1 + 1e-12 for r in rows) and len(rows) == 3
    Ws = [torch.randn(4, 3, 3), torch.randn(4, 1, 3)]
    wn.row_projection(1.0, start=2)(Ws)
    assert float(Ws[0][2:].abs().sum(-1).max()) <= 1 + 1e-12
    with pytest.raises(ValueError):
        wn.row_projection(-1.0, start=0)
    with pytest.raises(ValueError):
        wn.jacobian_norms(net, torch.zeros(3))


def test_figures():
    x = torch.linspace(-1, 1, 6).unsqueeze(1)
    wn.plot_initialization(x, x, {"tanh": _net(0)}, [_net(1)])
    xs = torch.linspace(-1, 1, 11).unsqueeze(1)
    s = torch.ones(11)
    wn.plot_overfitting(
        x, x, xs, _net(0), _net(1), {"free": s, "normalized": s}, {"free": 2.0, "normalized": 1.0}, 2.0
    )
    plt.close("all")
    assert np.isfinite(float(s.sum()))


def test_print_overfitting(capsys):
    s = {"free": torch.ones(2, 3), "normalized": torch.ones(2, 3)}
    wn.print_overfitting(
        torch.tensor([3.0, 4.0]), torch.ones(4), s, {"free": torch.ones(2), "normalized": torch.ones(2)}
    )
    assert capsys.readouterr().out.count("draw") == 2
