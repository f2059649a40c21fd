"""gradflows.local_entropy: local entropy, Gibbs mean, entropic gradient and Hessian.

References: scipy.integrate.quad in one dimension, closed forms for a quadratic loss in two.
Notebook 04-global/02-local-entropy.
"""

from __future__ import annotations

import math

import gradflows as gf
import numpy as np
import pytest
import torch
from gradflows.local_entropy import (
    entropic_gradient,
    gibbs_mean,
    local_entropy,
    local_entropy_hessian,
    local_gibbs_weights,
    quadrature_nodes,
)
from scipy.integrate import quad

torch.set_default_dtype(torch.float64)
WN = gf.landscapes.wide_narrow()


def _wn_np(y: float) -> float:
    return 0.1 * y * y - 2.0 * math.exp(-((y + 1.5) ** 2) / 1.28) - 2.6 * math.exp(-((y - 1.5) ** 2) / 0.045)


def _quad_moments(x: float, gamma: float) -> tuple[float, float, float]:
    w = lambda y, p: y**p * math.exp(-_wn_np(y) - 0.5 * gamma * (x - y) ** 2)  # noqa: E731
    pts = [-1.5, 1.5, x]
    z, m1, m2 = (
        quad(w, -30, 30, args=(p,), points=pts, limit=400, epsabs=1e-13, epsrel=1e-12)[0] for p in (0, 1, 2)
    )
    return math.log(z), m1 / z, m2 / z - (m1 / z) ** 2


@pytest.mark.parametrize("gamma", [0.5, 3.0, 40.0])
def test_one_dimension_against_quad(gamma: float) -> None:
    xs = [-2.0, -0.4, 1.3]
    box = dict(lo=-15.0, hi=15.0, n_points=3001)
    F = local_entropy(WN, torch.tensor(xs), gamma, **box)
    m = gibbs_mean(WN, torch.tensor(xs), gamma, **box)[:, 0]
    g = entropic_gradient(WN, torch.tensor(xs), gamma, **box)[:, 0]
    H = local_entropy_hessian(WN, torch.tensor(xs), gamma, **box)[:, 0, 0]
    for i, x in enumerate(xs):
        logz, mean, var = _quad_moments(x, gamma)
        assert abs(F[i].item() - logz) < 1e-9
        assert abs(m[i].item() - mean) < 1e-9
        assert abs(g[i].item() + gamma * (x - mean)) < 1e-8
        assert abs(H[i].item() - (-gamma + gamma**2 * var)) < 1e-7 * max(1.0, gamma**2)


def test_quadratic_in_two_dimensions_closed_form() -> None:
    kappa, b, gamma = torch.tensor([0.5, 6.0]), torch.tensor([1.0, -0.5]), 2.0
    f = lambda y: 0.5 * ((y - b) ** 2 * kappa).sum(-1)  # noqa: E731
    x = torch.tensor([[0.0, 0.0], [2.0, 1.0], [-1.0, -1.5]])
    box = dict(lo=-8.0, hi=8.0, n_points=401)
    F = local_entropy(f, x, gamma, **box)
    F_exact = (
        0.5 * torch.log(2 * math.pi / (kappa + gamma)) - kappa * gamma / (2 * (kappa + gamma)) * (x - b) ** 2
    ).sum(-1)
    assert torch.allclose(F, F_exact, atol=1e-10)
    mean = (kappa * b + gamma * x) / (kappa + gamma)
    assert torch.allclose(gibbs_mean(f, x, gamma, **box), mean, atol=1e-10)
    assert torch.allclose(entropic_gradient(f, x, gamma, **box), -gamma * (x - mean), atol=1e-9)
    H = local_entropy_hessian(f, x, gamma, **box)
    assert H.shape == (3, 2, 2)
    assert torch.allclose(H, torch.diag(-kappa * gamma / (kappa + gamma)).expand(3, 2, 2), atol=1e-9)
    nodes, w = local_gibbs_weights(f, x, gamma, **box)
    assert nodes.shape == (401**2, 2) and w.shape == (3, 401**2)
    assert torch.allclose(w.sum(1), torch.ones(3), atol=1e-12)


def test_hessian_is_bounded_below_by_minus_gamma_on_a_rough_loss() -> None:
    rq = gf.landscapes.rough_quadratic()
    x = torch.linspace(-2, 2, 301)
    for gamma in (1.0, 10.0):
        H = local_entropy_hessian(rq, x, gamma, lo=-8.0, hi=8.0, n_points=3201)[:, 0, 0]
        assert bool((H >= -gamma).all()) and H.min().item() < -0.3 * gamma


def test_hessian_of_a_stiff_quadratic_is_accurate_in_float32() -> None:
    # f = kappa (y - 3)^2 / 2 far from 0, large gamma: Cov = 1 / (kappa + gamma) ~ 1e-4 next to <y>^2 ~ 9;
    # E[y^2] - <y>^2 would lose all digits in float32, the centred sum keeps them
    kappa, gamma = 4000.0, 6000.0
    x = torch.tensor([[3.0], [3.01]], dtype=torch.float32)
    H = local_entropy_hessian(
        lambda y: 0.5 * kappa * ((y - 3.0) ** 2).sum(-1), x, gamma, lo=2.8, hi=3.2, n_points=4001
    )
    exact = -kappa * gamma / (kappa + gamma)
    want = torch.full((2,), exact, dtype=torch.float32)  # the uncentred formula is off by ~5 % here
    assert H.dtype == torch.float32 and torch.allclose(H[:, 0, 0], want, rtol=1e-3)


def test_quadrature_nodes_and_float32() -> None:
    nodes, log_cell, edge = quadrature_nodes(2, -1.0, 1.0, 5)
    assert nodes.shape == (25, 2) and abs(log_cell - 2 * math.log(0.5)) < 1e-15 and int(edge.sum()) == 16
    F32 = local_entropy(WN, torch.tensor([0.3], dtype=torch.float32), 2.0, lo=-10, hi=10, n_points=2001)
    assert F32.dtype == torch.float32
    assert (
        abs(F32.item() - local_entropy(WN, torch.tensor([0.3]), 2.0, lo=-10, hi=10, n_points=2001).item())
        < 1e-4
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: local_entropy(WN, torch.zeros(3), 0.0),
        lambda: local_entropy(WN, torch.zeros(3), -1.0),
        lambda: local_entropy(WN, torch.zeros(2, 2, 1), 1.0),
        lambda: local_entropy(WN, torch.tensor([float("nan")]), 1.0),
        lambda: local_entropy(WN, torch.zeros(1), 1.0, lo=-1.0, hi=1.0),  # Gibbs mass on the boundary
        lambda: local_entropy(lambda y: y, torch.zeros(1), 1.0),  # wrong output shape
        lambda: local_entropy_hessian(WN, torch.zeros(2), float("inf")),
        lambda: quadrature_nodes(1, 1.0, -1.0, 11),
    ],
)
def test_bad_arguments_raise_value_error(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_a_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="f must be callable"):
        local_entropy("not a function", torch.zeros(3), 1.0)


def test_matches_numpy_quadrature_of_the_definition() -> None:
    # a plain numpy Riemann sum on a finer grid, as a second independent check of the log-sum-exp bookkeeping
    y = np.linspace(-15, 15, 60001)
    fy = np.array([_wn_np(v) for v in y[::10]])
    yy = y[::10]
    x, gamma = 0.7, 1.5
    ref = math.log(np.trapezoid(np.exp(-fy - 0.5 * gamma * (x - yy) ** 2), yy))
    assert abs(local_entropy(WN, torch.tensor([x]), gamma, lo=-15, hi=15, n_points=3001).item() - ref) < 1e-8
