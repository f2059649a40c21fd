"""The discrete TDGF step energy, its gap identity, and the gap along training
(gradflows.experiments.step_energy)."""

import numpy as np
import pytest
import torch
from gradflows import finite_elements as fe
from gradflows import pricing_pdes as pp
from gradflows import tdgf
from gradflows.experiments import step_energy as se


def _setup(n=101, h=0.1):
    bs = pp.BlackScholes()
    x = np.linspace(bs.lo[0], bs.hi[0], n)
    M, S, B = fe.fem_matrices(bs, x)
    U = fe.fem_imex_1d(bs, h, 1, x)[1]
    return bs, x, M, S, B, U, h


def test_gradient_matches_finite_differences_and_vanishes_at_the_step():
    bs, x, M, S, B, U, h = _setup()
    rng = np.random.default_rng(0)
    u, v = U[0] + 0.1 * rng.standard_normal(x.size), rng.standard_normal(x.size)
    eps = 1e-6
    fd = se.fem_step_energy(u + eps * v, M, S, B, U[0], h, bs.r) - se.fem_step_energy(
        u - eps * v, M, S, B, U[0], h, bs.r
    )
    assert np.isclose(fd / (2 * eps), se.fem_step_energy_grad(u, M, S, B, U[0], h, bs.r) @ v, rtol=1e-6)
    g1 = se.fem_step_energy_grad(U[1], M, S, B, U[0], h, bs.r)
    assert np.linalg.norm(g1) < 1e-10 * np.linalg.norm(se.fem_step_energy_grad(U[0], M, S, B, U[0], h, bs.r))


def test_identity_holds_on_random_vectors_and_rejects_bad_input():
    bs, x, M, S, B, U, h = _setup()
    rel = se.energy_identity_deviations(M, S, B, U[0], U[1], x, h, bs.r, np.random.default_rng(1), n_trials=6)
    assert rel.shape == (6,) and rel.max() < 1e-9
    assert se.weighted_distance(np.zeros(x.size), M, S, h, bs.r) == 0
    with pytest.raises(ValueError):
        se.energy_identity_deviations(M, S, B, U[0], U[1], x, -h, bs.r, np.random.default_rng(1))
    with pytest.raises(ValueError):
        se.fem_step_energy(U[1][:-1], M, S, B, U[0], h, bs.r)
    with pytest.raises(ValueError):
        se.weighted_distance(np.zeros(3), M, S, h, bs.r)


def test_gauss_rule_integrates_polynomials_exactly():
    x = np.linspace(0.0, 2.0, 7)
    xq, wq = se.gauss_rule(x, 4)
    assert xq.shape == (24, 1) and wq.shape == (24,)
    assert torch.isclose((wq * xq[:, 0] ** 7).sum(), torch.tensor(2.0**8 / 8))
    with pytest.raises(ValueError):
        se.gauss_rule(np.array([1.0, 0.0]))


def test_recorder_and_gap_along_training():
    bs, x, M, S, B, U, h = _setup(n=201)
    torch.manual_seed(0)
    net = tdgf.make_net(bs, 8, 1, gated=False)
    with se.IterateRecorder(net, {0, 3}) as rec:
        tdgf.tdgf_solve(bs, T=h, n_steps=1, iters=3, points=20, net=net, fit_iters=1, progress=False)
    assert set(rec.recorded) == {0, 3} and rec.n_calls >= 4
    I_star = se.fem_step_energy(U[1], M, S, B, U[0], h, bs.r)
    evals, gap, dist = se.energy_gap_along_training(net, rec.recorded, bs, x, M, S, U[1], I_star, h)
    assert list(evals) == [1, 4] and gap.shape == dist.shape == (2,)
    assert np.all(dist > 0) and np.all(np.abs(gap / dist - 1) < 0.2)  # gap = distance up to quadrature
