"""gradflows.references.heat_equation: Crank--Nicolson heat solve and local entropy by Hopf--Cole.

Closed forms: a Gaussian spreads under w_t = w_xx / 2 with variance s^2 + t; the local entropy of a
quadratic loss. Notebook 04-global/02-local-entropy.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradflows.references.heat_equation import heat_crank_nicolson, local_entropy_heat


def _gauss(x: np.ndarray, v: float) -> np.ndarray:
    return np.exp(-(x**2) / (2 * v)) / math.sqrt(2 * math.pi * v)


def test_gaussian_spreads_with_second_order_error() -> None:
    errs = []
    for h, n in ((0.04, 20), (0.02, 40)):
        x = -10 + h * np.arange(1, int(round(20 / h)))
        w = heat_crank_nicolson(_gauss(x, 0.3), h, [0.5, 1.0], n)
        assert w.shape == (2, x.size)
        errs.append(max(np.abs(w[0] - _gauss(x, 0.8)).max(), np.abs(w[1] - _gauss(x, 1.3)).max()))
    assert errs[1] < 1e-4
    assert 3.5 < errs[0] / errs[1] < 4.5  # O(h^2 + dt^2)


def test_local_entropy_of_a_quadratic() -> None:
    kappa, b, gammas = 3.0, 0.4, [0.5, 2.0]
    errs = []
    for h, n in ((0.01, 200), (0.005, 400)):
        x, F = local_entropy_heat(lambda y: 0.5 * kappa * (y - b) ** 2, gammas, lo=-12, hi=12, h=h, n_steps=n)
        sel = np.abs(x) < 3
        exact = [
            0.5 * np.log(2 * np.pi / (kappa + g)) - kappa * g / (2 * (kappa + g)) * (x[sel] - b) ** 2
            for g in gammas
        ]
        errs.append(max(np.abs(F_g[sel] - e).max() for F_g, e in zip(F, exact, strict=True)))
    assert errs[1] < 1e-3
    assert (
        3.5 < errs[0] / errs[1] < 4.5
    )  # second order: the grid difference bounds the error of the finer grid


@pytest.mark.parametrize(
    "call",
    [
        lambda: heat_crank_nicolson(np.ones(2), 0.1, [1.0], 10),
        lambda: heat_crank_nicolson(np.ones(10), -0.1, [1.0], 10),
        lambda: heat_crank_nicolson(np.ones(10), 0.1, [1.0, 0.5], 10),
        lambda: heat_crank_nicolson(
            np.ones(10), 0.1, [0.25, 1.0], 10
        ),  # 0.25 is not a multiple of the step 0.1
        lambda: heat_crank_nicolson(np.array([1.0, np.nan, 1.0]), 0.1, [1.0], 10),
        lambda: local_entropy_heat(lambda y: y * y, [0.0]),
        lambda: local_entropy_heat(lambda y: y * y, [1.0], lo=1.0, hi=0.0),
        lambda: local_entropy_heat(
            lambda y: 0 * y + 800.0, [1.0], lo=-5.0, hi=5.0, h=0.1, n_steps=10
        ),  # underflow
        lambda: local_entropy_heat(  # one Crank-Nicolson step of a jump oscillates below 0
            lambda y: np.where(np.abs(y) < 1, 0.0, 1e3), [1.0], lo=-5.0, hi=5.0, h=0.01, n_steps=1
        ),
    ],
)
def test_bad_arguments_raise_value_error(call) -> None:
    with pytest.raises(ValueError):
        call()
