"""Tests of gradflows.exit_times and the harness gradflows.experiments.noise_exploration."""

import math

import gradflows as gf
import gradflows.experiments.noise_exploration as ne
import numpy as np
import pytest
import torch
from gradflows.exit_times import exit_times


def _zero(X):
    return torch.zeros_like(X)


def test_brownian_exit_time_from_an_interval_matches_a2_over_sigma2():
    # dX = sigma dW from 0, exit of (-a, a): E tau = a^2 / sigma^2 (closed form); small dt, 4000 paths
    res = exit_times(torch.zeros(4000, 1, dtype=torch.float64), 1.0, 1e-3, 20_000, grad=_zero,
                     exited=lambda X: X[:, 0].abs() >= 1.0, generator=gf.generator(0))  # fmt: skip
    assert res.fraction == 1.0 and res.times.dtype == torch.float64
    mean, se = res.mean().item(), res.stderr().item()
    assert abs(mean - 1.0) < 5 * se + 0.06  # 0.06: discrete monitoring at dt = 1e-3 (~0.58 sqrt(dt) per side)


def test_per_path_noise_levels_and_groups():
    sig = torch.tensor([1.0] * 2000 + [0.5] * 2000)
    out = lambda X: X[:, 0].abs() >= 0.5  # noqa: E731
    res = exit_times(
        torch.zeros(4000, 1), sig, 2e-3, 50_000, grad=_zero, exited=out, generator=gf.generator(1), chunk=37
    )
    m = res.mean(2)
    assert m.shape == (2,) and m[1] / m[0] == pytest.approx(4.0, rel=0.15)  # a^2 / sigma^2


def test_gradient_descent_never_exits_and_censoring_is_reported():
    res = exit_times(torch.full((5, 1), 1.0), 1e-9, 0.01, 300, grad=lambda X: X * (X * X - 1),
                     exited=lambda X: X[:, 0] <= 0.0, generator=gf.generator(2))  # fmt: skip
    assert res.fraction == 0.0 and torch.isinf(res.times).all() and res.T == pytest.approx(3.0)
    with pytest.raises(ValueError, match="censored"):
        res.mean()


def test_matches_the_exact_chain_of_the_reference():
    g = ne.tilted_well(0.1)
    ref = gf.references.first_passage.em_mean_exit_time(lambda x: x * (x * x - 1), 0.0, -0.5, 0.5, 0.1, 0.01)
    res = exit_times(torch.zeros(4000, 2), 0.1, 0.01, 10_000,
                     grad=lambda X: torch.stack([X[:, 0] * (X[:, 0] ** 2 - 1), X[:, 1]], 1),
                     exited=lambda X: X[:, 0].abs() >= 0.5, generator=gf.generator(3))  # fmt: skip
    assert abs(res.mean().item() - ref) < 5 * res.stderr().item()
    assert g["b"] < g["s"] < g["m"] and g["barrier"] > 0 and g["f2_saddle"] < 0 < g["f2_min"]
    assert abs(g["grad"](g["s"])) < 1e-12


def test_divergence_is_reported():
    with pytest.raises(gf.DivergenceError):
        exit_times(
            torch.full((3, 1), 5.0), 0.1, 1.0, 50, grad=lambda X: X**5, exited=lambda X: X[:, 0] <= -100.0
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sigma": 0.0},
        {"sigma": torch.tensor([1.0, -1.0, 1.0])},
        {"sigma": torch.ones(2)},
        {"dt": 0.0},
        {"n_steps": 0},
        {"x0": torch.zeros(3)},
        {"x0": torch.tensor([[0.0], [float("nan")], [0.0]])},
        {"x0": torch.full((3, 1), 2.0)},  # already in the exit set
        {"exited": None},
        {"chunk": 0},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(TypeError if "exited" in kwargs else ValueError):  # a wrong type: TypeError
        _call(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exited": lambda X: X >= 1.0}, "booleans of shape"),  # (n, 1), not (n,)
        ({"exited": lambda X: (X[:, 0] >= 1.0).double()}, "booleans of shape"),  # not bool
        ({"exited": lambda X: [False] * 3}, "booleans of shape"),  # not a tensor
        ({"grad": lambda X: X[:, 0]}, "same shape"),
        ({"grad": lambda X: 0.0}, "same shape"),
    ],
)
def test_wrong_outputs_of_the_callables_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _call(kwargs)


def _call(kwargs):
    args = {"x0": torch.zeros(3, 1), "sigma": 1.0, "dt": 0.01, "n_steps": 10, "grad": _zero,
            "exited": lambda X: X[:, 0] >= 1.0}  # fmt: skip
    args.update(kwargs)
    x0, sigma, dt, n_steps = args.pop("x0"), args.pop("sigma"), args.pop("dt"), args.pop("n_steps")
    exit_times(x0, sigma, dt, n_steps, **args)


def test_sweep_reports_censored_paths_instead_of_raising():
    g = ne.saddle_landscape()
    x = torch.tensor([[0.3, -0.2]], dtype=torch.float64)
    assert g["f"](x).item() == pytest.approx(g["f_x"](0.3) + 0.02) and torch.allclose(
        g["grad"](x), torch.tensor([[g["grad_x"](0.3), -0.2]], dtype=torch.float64)
    )
    # sigma = 1e-6 from x = 0.3 towards the minimum 1: no path reaches 0 within 500 steps; sigma = 5: all do
    mean, se, res = ne.exit_sweep(torch.tensor([0.3]), [1e-6, 5.0], 50, 0.01, 500, lambda X: X * (X * X - 1),
                                  lambda X: X[:, 0] <= 0.0, gf.generator(4))  # fmt: skip
    assert int((~res.exited[:50]).sum()) == 50 and math.isinf(mean[0]) and math.isnan(se[0])
    assert np.isfinite(mean[1]) and bool(res.exited[50:].all())


def test_line_fit_propagates_errors():
    u = np.array([1.0, 2.0, 3.0, 4.0])
    c, a, sc, sa = ne.line_fit(u, 2 + 3 * u, np.full(4, 0.1))
    assert c == pytest.approx(3.0) and a == pytest.approx(2.0)
    assert sc == pytest.approx(0.1 / math.sqrt(5.0))  # sum (u - mean)^2 = 5
    with pytest.raises(ValueError):
        ne.line_fit(u, u[:3], u)
    with pytest.raises(ValueError):
        ne.tilted_well(1.0)
