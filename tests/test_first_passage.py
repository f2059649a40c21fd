"""Tests of gradflows.references.first_passage: exact and asymptotic mean exit times, the scheme's chain."""

import math

import gradflows.references.first_passage as fpt
import numpy as np
import pytest
from scipy.integrate import dblquad


def test_constant_drift_passage_time_is_distance_over_speed():
    # dX = -c dt + sigma dW from x to b < x: E tau = (x - b) / c exactly, for every sigma
    for sigma in (0.3, 1.0, 2.0):
        assert fpt.mean_first_passage_time(lambda x: 0.5 * x, 1.0, 0.0, sigma) == pytest.approx(2.0, rel=1e-8)


def test_brownian_motion_between_a_wall_and_a_level():
    # f = 0, wall at 0, level a: E tau from 0 = a^2 / sigma^2; the mirrored direction too
    assert fpt.mean_first_passage_time(lambda x: 0.0, 0.0, 0.5, 0.7, reflect=0.0) == pytest.approx(
        0.25 / 0.49, rel=1e-9
    )
    assert fpt.mean_first_passage_time(lambda x: 0.0, 0.0, -0.5, 0.7, reflect=0.0) == pytest.approx(
        0.25 / 0.49, rel=1e-9
    )


def test_passage_time_matches_dblquad_for_a_double_well():
    f = lambda x: (x * x - 1) ** 2 / 4 + 0.1 * x  # noqa: E731
    sigma, b, m = 0.5, -1.0466805318046, 0.9456492739
    ref = 2 / sigma**2 * dblquad(lambda y, z: math.exp(2 * (f(z) - f(y)) / sigma**2), b, m, lambda z: z,
                                 lambda z: 4.0, epsrel=1e-11)[0]  # fmt: skip
    got = fpt.mean_first_passage_time(f, m, b, sigma, points=(0.101,))
    assert got == pytest.approx(ref, rel=1e-7)
    # the same passage to the right (mirror the landscape)
    assert fpt.mean_first_passage_time(lambda x: f(-x), -m, -b, sigma) == pytest.approx(ref, rel=1e-7)


def test_kramers_is_the_small_noise_limit():
    f = lambda x: (x * x - 1) ** 2 / 4  # noqa: E731  minima +-1 (f'' = 2), saddle 0 (f'' = -1), barrier 1/4
    ratios = [fpt.mean_first_passage_time(f, 1.0, -1.0, s, points=(0.0,)) / fpt.kramers_time(2, -1, 0.25, s)
              for s in (0.2, 0.14, 0.1)]  # fmt: skip
    assert abs(ratios[-1] - 1) < 0.02 and abs(ratios[-1] - 1) < abs(ratios[0] - 1)
    assert fpt.kramers_time(2.0, -2.0, 4 / 3, 0.5) == pytest.approx(
        math.pi * math.exp(8 / (3 * 0.25)), rel=1e-14
    )


def test_em_chain_converges_to_the_diffusion_and_resolves_its_grid():
    g = lambda x: x * (x * x - 1)  # noqa: E731
    exact = fpt.mean_first_passage_time(lambda x: (x * x - 1) ** 2 / 4, 0.0, 0.5, 0.1, reflect=0.0)
    errs = [abs(fpt.em_mean_exit_time(g, 0.0, -0.5, 0.5, 0.1, dt) - exact) for dt in (0.02, 0.01, 0.005)]
    # discrete monitoring (exit seen only at the steps) makes the bias decay like sqrt(dt)
    assert errs[0] > errs[1] > errs[2] and errs[2] / exact < 1e-2 and errs[2] / errs[0] < 0.75
    coarse = fpt.em_mean_exit_time(g, 0.0, -0.5, 0.5, 0.1, 0.01, cells_per_sd=6)
    fine = fpt.em_mean_exit_time(g, 0.0, -0.5, 0.5, 0.1, 0.01, cells_per_sd=12)
    assert abs(coarse / fine - 1) < 1e-4


def test_em_chain_pure_noise_is_a_random_walk_exit():
    # f' = 0: Gaussian random walk; its mean exit time from (-a, a) tends to a^2 / sigma^2 as dt -> 0
    got = fpt.em_mean_exit_time(lambda x: np.zeros_like(x), 0.0, -1.0, 1.0, 1.0, 1e-3)
    assert got == pytest.approx(1.0, rel=0.06) and got > 1.0  # discrete monitoring overshoots: later exits


@pytest.mark.parametrize(
    "call",
    [
        lambda: fpt.mean_first_passage_time(lambda x: x, 0.0, 1.0, 0.0),
        lambda: fpt.mean_first_passage_time(lambda x: x, 0.0, 1.0, -1.0),
        lambda: fpt.mean_first_passage_time(lambda x: x, float("nan"), 1.0, 1.0),
        lambda: fpt.mean_first_passage_time(lambda x: x, 0.0, 1.0, 1.0, reflect=2.0),
        lambda: fpt.mean_first_passage_time("f", 0.0, 1.0, 1.0),
        lambda: fpt.kramers_time(-1.0, -1.0, 0.1, 0.3),
        lambda: fpt.kramers_time(1.0, 1.0, 0.1, 0.3),
        lambda: fpt.kramers_time(1.0, -1.0, 0.0, 0.3),
        lambda: fpt.em_mean_exit_time(lambda x: x, 2.0, -1.0, 1.0, 0.3, 0.01),
        lambda: fpt.em_mean_exit_time(lambda x: x, 0.0, -1.0, 1.0, 0.3, 0.0),
        lambda: fpt.kramers_correction((-1.0, 0.0, 0.0), (-1.0, 0.0, 0.0)),
        lambda: fpt.kramers_correction((1.0, 0.0, 0.0), (1.0, 0.0, 0.0)),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(ValueError):
        call()


def test_em_grid_too_fine_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="max_cells"):
        fpt.em_mean_exit_time(lambda x: x, 0.0, -1.0, 1.0, 1e-4, 1e-6)


@pytest.mark.parametrize("f", [lambda x: 0.0, lambda x: -x * x, lambda x: -x])
def test_non_integrable_gibbs_weight_without_a_wall_is_refused(f):
    # x0 = 1 > b = 0: the inner integral runs to +inf, where exp(-2 f / sigma^2) is not integrable
    with pytest.raises(ValueError, match="not integrable"):
        fpt.mean_first_passage_time(f, 1.0, 0.0, 1.0)
    assert fpt.mean_first_passage_time(f, 1.0, 0.0, 1.0, reflect=2.0) > 0  # a wall makes it finite


def test_kramers_correction_matches_the_quadrature_at_small_noise():
    # f = (x^2 - 1)^2 / 4 from m = 1 to b = -1: (f2, f3, f4) = (2, 6, 6) at 1 and (-1, 0, 6) at 0
    a = fpt.kramers_correction((2.0, 6.0, 6.0), (-1.0, 0.0, 6.0))
    assert a == pytest.approx(0.5 * (5 * 36 / (24 * 8) - 6 / 32 + 6 / 8), rel=1e-14)
    f = lambda x: (x * x - 1) ** 2 / 4  # noqa: E731
    sig = np.array([0.09, 0.08, 0.07, 0.06])
    r = [
        fpt.mean_first_passage_time(f, 1.0, -1.0, s, points=(0.0,)) / fpt.kramers_time(2, -1, 0.25, s)
        for s in sig
    ]
    a_fit = np.polyfit(sig**2, r, 2)[1]  # quadratic fit: the sigma^4 term does not bias the slope
    assert a_fit == pytest.approx(a, abs=0.03)


def test_gibbs_moments_of_a_gaussian_and_a_restricted_well():
    from gradflows.references.gibbs_quadrature import gibbs_moments

    mo = gibbs_moments(lambda x: (x - 0.5) ** 2, 0.3, -5.0, 5.0, points=(0.5,))  # N(0.5, sigma^2 / 4)
    assert mo["mean_x"] == pytest.approx(0.5, rel=1e-10) and mo["var_x"] == pytest.approx(0.0225, rel=1e-9)
    assert mo["mean_f"] == pytest.approx(0.0225, rel=1e-9)
    half = gibbs_moments(lambda x: x * x, 1.0, 0.0, 8.0)  # half of N(0, 1/4): mean 1 / sqrt(2 pi)
    assert half["mean_x"] == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-9)
    with pytest.raises(ValueError):
        gibbs_moments(lambda x: x, 0.3, 1.0, 0.0)
