"""gradflows.experiments.batch_sgd: plateaus, SGD with replacement, stationary mean, figures.

Notebook 01-sgd/03-batches-and-initialization.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import batches  # noqa: E402
from gradflows.experiments import batch_sgd as bex  # noqa: E402


@pytest.fixture
def data():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(20, 3, generator=g, dtype=torch.float64)
    Y = X @ torch.randn(2, 3, generator=g, dtype=torch.float64).T + 0.1 * torch.randn(
        20, 2, generator=g, dtype=torch.float64
    )
    alpha = torch.full((20,), 1 / 20, dtype=torch.float64)
    return X, Y, alpha, batches.least_squares_minimizer(X, Y, alpha)


def test_distance_and_plateaus(data):
    X, Y, alpha, W = data
    assert float(bex.distance(W[None] + 1, W)[0]) == pytest.approx(np.sqrt(6))
    plateau, halves, first = bex.constant_step_plateaus(
        X, Y, alpha, 4, [0.4, 0.2], 10.0, W, exact=False, n_draws=2
    )
    assert len(plateau) == 2 and set(halves) == set(first) == {0.4, 0.2} and first[0.4].ndim == 1
    repl = bex.replacement_plateaus(X, Y, alpha, 4, [0.4], 10.0, W)
    assert len(repl) == 1 and repl[0] > 0
    assert bex.sgd_with_replacement(X, Y, alpha, 4, 0.1, 3, n_chains=2).shape == (2, 3, 2, 3)
    with pytest.raises(ValueError):
        bex.distance(torch.zeros(2, 2), W)
    with pytest.raises(ValueError):
        bex.sgd_with_replacement(X, Y[:5], alpha, 4, 0.1, 3)


def test_stationary_mean_of_exact_flow_vanishes_on_consistent_data(data):
    X, _, alpha, _ = data
    W = torch.randn(2, 3, dtype=torch.float64)
    Y = X @ W.T  # every batch has the same minimizer: the epoch map fixes W, the mean error is 0
    for exact in (False, True):
        mean, groups = bex.stationary_mean(X, Y, alpha, W, 4, 0.1, exact, n_mc=16, n_groups=4)
        assert np.abs(mean).max() < 1e-12 and groups.shape == (4, 2, 3)
    with pytest.raises(ValueError):
        bex.stationary_mean(X, Y, alpha, W, 4, 0.1, True, n_mc=15, n_groups=4)


def test_figures(data):
    dts = [0.4, 0.2]
    e = torch.rand(6, 3, dtype=torch.float64) + 0.1
    full = {m: e[:, 0] for m in ("exact", "Euler")}
    const = {(m, dt): e[:, 0] for m in ("exact", "Euler") for dt in dts}
    bex.plot_batch_errors(
        {m: e for m in full}, full, {m: e for m in full}, const, {m: [0.1, 0.2] for m in full}, dts
    )
    names = [
        "reshuffled, exact",
        "reshuffled, Euler",
        "fixed order, exact",
        "fixed order, Euler",
        "with replacement (rms)",
    ]
    bex.plot_plateaus(dts, dict.fromkeys(names, [0.1, 0.05]), dict.fromkeys(names, 1.0))
    plt.close("all")


def test_euler_bias_rows_and_table(data, capsys):
    X, Y, alpha, W = data
    rows = bex.euler_bias_rows(X, Y, alpha, W, 4, [0.2], np.ones((2, 3)))
    assert len(rows) == 1 and len(rows[0]) == 5 and rows[0][4] >= 0
    bex.print_bias_table(rows, np.ones((2, 3)), [0.1])
    assert "rms plateau" in capsys.readouterr().out
