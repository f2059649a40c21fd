"""gradflows.references.local_gibbs_quad and the harness experiments.local_entropy_figures.

Closed forms for a quadratic loss: F, the Gibbs mean and variance, the asymptotic variance 2 / a^2
and the Poisson solution u(x) = (x - <y>) / a of the Ornstein--Uhlenbeck process (E) with rate
a = kappa + gamma. Notebook 04-global/02-local-entropy.
"""

from __future__ import annotations

import math

import gradflows.experiments.local_entropy_figures as lef
import numpy as np
import pytest
import torch
from gradflows.references.local_gibbs_quad import ergodic_variance, gibbs_moments_quad, local_entropy_quad

KAPPA, B = 3.0, 0.4


def _f(y):
    return 0.5 * KAPPA * (y - B) ** 2


def _F(x, g):
    return 0.5 * math.log(2 * math.pi / (KAPPA + g)) - KAPPA * g / (2 * (KAPPA + g)) * (x - B) ** 2


def test_quadratic_closed_forms() -> None:
    for x, g in ((0.0, 1.0), (1.5, 4.0)):
        a = KAPPA + g
        mean = (KAPPA * B + g * x) / a
        assert abs(local_entropy_quad(_f, x, g) - _F(x, g)) < 1e-12
        m, v, k3 = gibbs_moments_quad(_f, x, g)
        assert abs(m - mean) < 1e-12 and abs(v - 1 / a) < 1e-12 and abs(k3) < 1e-12
        m2, s2, u = ergodic_variance(_f, x, g)
        assert abs(m2 - mean) < 1e-9 and abs(s2 - 2 / a**2) < 1e-7 and abs(u - (x - mean) / a) < 1e-7


def test_harness_on_a_quadratic() -> None:
    g, x = 2.0, np.array([-0.5, 0.3])
    d_h, d_2h = lef.fd_gradient(_f, x, g, 1e-3)
    exact = -KAPPA * g / (KAPPA + g) * (x - B)
    assert np.abs(d_h - exact).max() < 1e-8 and np.abs(d_2h - exact).max() < 1e-8
    h_h, _ = lef.fd_hessian(_f, x, g, 2e-3)
    assert np.abs(h_h + KAPPA * g / (KAPPA + g)).max() < 1e-5
    assert abs(lef.spectral_gap(_f, 0.3, g) - (KAPPA + g)) < 1e-3 * (KAPPA + g)
    # linear drift: the Euler chain is AR(1) with phi = 1 - a dt; unbiased mean and, in closed form,
    # dt^2 Var(increment) / (1 - phi)^2 = 2 / a^2 = sigma_as^2 exactly
    b, s2 = lef.em_ergodic(_f, lambda y: KAPPA * (y - B), 0.3, g, 0.01)
    assert abs(b) < 1e-8 and abs(s2 - 2 / (KAPPA + g) ** 2) < 1e-6
    f_t = lambda y: 0.5 * KAPPA * ((y - B) ** 2).sum(-1)  # noqa: E731
    ((xm, Fm, edge),) = lef.region_maxima(f_t, g, [(-1.0, 2.0)], lo=-8.0, hi=8.0, n_points=1601)
    assert abs(xm - B) < 1e-6 and abs(Fm - _F(B, g)) < 1e-10 and not edge
    ((xe, Fe, edge),) = lef.region_maxima(f_t, g, [(1.0, 2.0)], n_grid=11, lo=-8.0, hi=8.0, n_points=1601)
    assert edge and xe == 1.0 and abs(Fe - _F(1.0, g)) < 1e-10  # no interior maximum: the edge, flagged
    ((m, fm, f2),) = lef.valley_bottoms(_f, [(-1.0, 2.0)])
    assert abs(m - B) < 1e-8 and abs(fm) < 1e-12 and abs(f2 - KAPPA) < 1e-5
    assert abs(lef.barrier_top(lambda y: -_f(y), -1.0, 2.0) - B) < 1e-8
    assert abs(lef.quad_region_max(_f, g, B + 0.02) - _F(B, g)) < 1e-12


def test_switch_gamma_on_two_valleys() -> None:
    import gradflows as gf

    wn = gf.landscapes.wide_narrow()
    g, _ = lef.switch_gamma(
        wn, (10.0, 100.0), [(-1.8, -1.0), (1.2, 1.8)], rtol=1e-4, n_grid=101, lo=-10.0, hi=10.0, n_points=2001
    )
    assert 25 < g < 45
    with pytest.raises(ValueError):
        lef.switch_gamma(
            wn, (100.0, 300.0), [(-1.8, -1.0), (1.2, 1.8)], n_grid=51, lo=-10.0, hi=10.0, n_points=2001
        )


def test_ergodic_study_shapes() -> None:
    import gradflows as gf

    s = lef.ergodic_study(
        [0.0, 1.0],
        2.0,
        lambda y: KAPPA * (y - B),
        0.01,
        [1.0, 2.0, 4.0],
        [0.8 * B, (0.6 * B + 0.4)],
        [2 / 25, 2 / 25],
        replicas=40,
        n_burn=10,
        batches=4,
        generator=gf.generator(0),
        dtype=torch.float64,
    )
    assert s["r"].shape == (3,) and s["A"].shape == (40, 2) and s["r_batches"].shape == (3, 4)
    assert np.isfinite(s["slope"]) and s["se"] > 0 and s["r_se"].shape == (3,)
    c = np.log([5.0, 10.0, 20.0]) - np.log([5.0, 10.0, 20.0]).mean()
    expected = (c[c > 0] / (c**2).sum()).sum() * 0.5 * math.log(1 / (1 - 1 / 10.0))
    assert abs(lef.slope_bias_bound([5.0, 10.0, 20.0], 2.0) - expected) < 1e-14


@pytest.mark.parametrize(
    "call",
    [
        lambda: local_entropy_quad(_f, 0.0, 0.0),
        lambda: local_entropy_quad(_f, float("nan"), 1.0),
        lambda: local_entropy_quad(_f, 0.0, 1.0, lo=-0.5, hi=0.5),  # mass at the ends
        lambda: ergodic_variance(_f, 0.0, 1.0, n_points=10),
        lambda: lef.quad_region_max(_f, 2.0, 3.0),  # maximum not inside x_guess +- width
        lambda: lef.fd_gradient(_f, [0.0], 1.0, 0.0),
        lambda: lef.fd_hessian(_f, [0.0], 1.0, 1e-3, reach=-1.0),
        lambda: lef.spectral_gap(_f, 0.0, 1.0, half=0.0),
        lambda: lef.spectral_gap(_f, 0.0, 1.0, h=1.0),
        lambda: lef.slope_bias_bound([1.0, 2.0], 0.5),  # lam1 T_1 <= 1
        lambda: lef.ergodic_study(
            [0.0],
            2.0,
            lambda y: y,
            0.01,
            [1.0, 1.5],
            [0.0],
            [1.0],
            replicas=4,
            n_burn=0,
            batches=2,
            generator=None,
        ),  # 1.5 is not a multiple of 1
        lambda: lef.ergodic_study(
            [0.0, 1.0],
            2.0,
            lambda y: y,
            0.01,
            [1.0, 2.0],
            [0.0],
            [1.0],
            replicas=4,
            n_burn=0,
            batches=2,
            generator=None,
        ),  # one mean for two points
    ],
)
def test_bad_arguments_raise_value_error(call) -> None:
    with pytest.raises(ValueError):
        call()
