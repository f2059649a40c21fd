"""gradflows.experiments.chatter and gradflows.experiments.kruzkov: GD on |w|, test functions, tables,
figures.

Notebook 01-sgd/04-regularity.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from gradflows import weak_solutions  # noqa: E402
from gradflows.experiments import chatter  # noqa: E402
from gradflows.experiments import kruzkov as kt  # noqa: E402
from gradflows.ode_optimizers import gradient_flow  # noqa: E402


def test_gd_on_abs_ends_in_the_two_cycle(capsys):
    assert chatter.sign_with(1.0)(torch.tensor([0.0, -2.0])).tolist() == [1.0, -1.0]
    flows = {"0": gradient_flow(lambda W: W.abs().sum(-1), grad=chatter.sign_with(0.0))}
    w0 = torch.tensor([[0.33], [0.71]], dtype=torch.float64)
    gd = chatter.chatter_sweep(flows, w0, [0.1], 2.0, 1.5)
    amp, flips = gd["0", 0.1]
    r = np.mod(w0[:, 0].numpy(), 0.1)
    assert amp == pytest.approx(np.maximum(r, 0.1 - r), abs=1e-12) and (flips == 1.0).all()
    chatter.print_chatter_table(gd, ["0"], [0.1], {0.1: np.maximum(r, 0.1 - r)})
    smooth = chatter.smoothed_sweep(gradient_flow(weak_solutions.smoothed_abs(0.4)), w0, [0.1], 2.0, 1.5, 0.4)
    assert smooth[0.1][1] == 0 and smooth[0.1][2] and "mean amplitude" in capsys.readouterr().out
    with pytest.raises(ValueError):
        chatter.chatter_sweep(flows, w0, [0.1], -1.0, 0.5)


def test_test_functions_family_and_candidates():
    tests, labels = kt.test_functions([1.0], [0.5], R=0.3)
    t = torch.linspace(0, 2, 2001, dtype=torch.float64)
    phi, dphi = kt.test_family(tests, t)
    assert phi.shape == dphi.shape == (2, 2001) and len(labels) == 2
    # the derivatives integrate back to the functions (trapezoid rule)
    integral = torch.cumulative_trapezoid(dphi, t, dim=1)
    assert (phi[:, 1:] - phi[:, :1] - integral).abs().max() < 1e-3
    cands = kt.candidates(1.0, t)
    assert list(cands)[0] == "weak solution (5.43)" and len(cands) == 5
    with pytest.raises(ValueError):
        kt.test_functions([1.0], [0.5], R=0.0)


def test_report_and_figures(capsys):
    tests, labels = kt.test_functions([1.0, 2.0], [0.5])
    y = np.linspace(-1, 1, 5)
    names = list(kt.candidates(1.0, torch.zeros(3)))
    F = {(1.0, m, n): torch.linspace(-1, 1, 15).reshape(3, 5) for m in (3001, 6001) for n in names}
    Fe = {1.0: np.random.default_rng(0).random((3, 5))}
    kt.print_report(F, Fe, Fe, Fe, names, [1.0], labels, y)
    assert "wrong candidates" in capsys.readouterr().out
    kt.plot_kruzkov_map({n: F[1.0, 6001, n].numpy() for n in names}, y, 2, [1.0, 2.0], 1.0)
    eps = np.array([0.1, 0.05])
    chatter.plot_smoothed_convergence(eps, np.ones((2, 3)), np.ones((2, 3)), 0.5)
    f = gradient_flow(lambda W: W.abs().sum(-1))
    chatter.plot_chatter(
        f, f, 0.05, np.array([0.1, 0.05]), [np.ones(3), np.ones(3)], np.array([0.05]), [1e-3], 1.0
    )
    plt.close("all")


def test_print_lasso_table(capsys):
    a, eps = np.array([1.3, 0.2]), np.array([0.1, 0.05])
    W_star = np.array([0.8, 0.0])
    W_end = np.array([[0.79, 0.01], [0.795, 0.005]])
    chatter.print_lasso_table(a, W_star, 0.0, 0.4, eps, W_end, W_end, 0.5)
    out = capsys.readouterr().out
    assert "C = 0.4000" in out and out.count("eps=") == 2
