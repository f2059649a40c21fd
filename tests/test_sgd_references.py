"""gradflows.references for chapter 1: gradient_flow, momentum_odes, adam_ode, least_squares, sign_flows.

Each reference is checked against a closed form, a second SciPy method or a known limit.
"""

import numpy as np
import pytest
import scipy.linalg
from gradflows.references import adam_ode, gradient_flow, least_squares, momentum_odes, sign_flows


def test_gradient_flow_references():
    A = np.diag([1.0, 3.0])
    E0 = np.array([[1.0, 1.0]])
    t = np.array([0.0, 0.5])
    exact = gradient_flow.quadratic_flow(A, E0, t)
    assert exact[1, 0] == pytest.approx(scipy.linalg.expm(-0.5 * A) @ E0[0])
    c = np.array([0.3, -0.2])
    w, res = gradient_flow.logcosh_quadratic_minimizer(A, c)
    assert res < 1e-12 and np.abs(gradient_flow.logcosh_quadratic_grad(w, A, c)).max() < 1e-12
    Y = gradient_flow.dop853_gradient_flow(lambda W: W @ A, E0, t, rtol=1e-10)
    assert Y.shape == (2, 1, 2) and np.abs(Y - exact).max() < 1e-8
    path, slack = gradient_flow.double_well_descent(np.array([[0.5, 0.9]]), 0.1, 5)
    assert path.shape == (6, 1, 2) and (slack <= 1e-12).all()
    with pytest.raises(ValueError):
        gradient_flow.quadratic_flow(np.ones((2, 3)), E0, t)
    with pytest.raises(ValueError):
        gradient_flow.dop853_gradient_flow(lambda W: W, E0, t, rtol=2.0)


def test_momentum_references():
    w = np.array([0.3, -0.4])
    h = 1e-6
    fd = [
        (momentum_odes.six_hump(w + h * e) - momentum_odes.six_hump(w - h * e)) / (2 * h) for e in np.eye(2)
    ]
    assert momentum_odes.grad_six_hump(w) == pytest.approx(fd, rel=1e-7)
    y0 = np.array([2.0, -0.3, 0.0, 0.0])
    # the heavy ball conserves its energy; relaxation dissipates it at the stated rate (central differences)
    rhs, energy, _ = momentum_odes.heavy_ball_system()
    Y = momentum_odes.dop853(rhs, y0, np.linspace(0, 1, 11))
    assert np.abs(energy(Y.T) - energy(y0)).max() < 1e-8
    t, Y, errs, taylor = momentum_odes.energy_rate_errors(
        momentum_odes.relaxation_system(0.3), y0, 1e-3, 0.2, (1, 2)
    )
    assert errs[0] < 2 * taylor + 1e-9 and Y.shape == (4, len(t))
    dE, integral = momentum_odes.energy_balance(momentum_odes.friction_system(0.5, 0.1), y0, T=0.5)
    assert dE == pytest.approx(integral, abs=1e-8)
    lam, E = momentum_odes.heavy_ball_euler_energy(np.diag([4.0]), [1.0], [0.0], 0.1, 3)
    assert E == pytest.approx(2.0 * 1.04 ** np.arange(4))
    path = momentum_odes.semi_implicit_heavy_ball(lambda W: 4 * W, [1.0], 0.1, 2)
    assert path[:, 0] == pytest.approx([1.0, 0.96, 0.8816])
    with pytest.raises(ValueError):
        momentum_odes.nesterov_system(-0.1)


def test_adam_references():
    W0 = np.array([[2.0], [-0.3]])
    t = np.linspace(0.0, 0.2, 5)
    Y = adam_ode.adam_batch(W0, 0.1, 1.0, t)
    E = adam_ode.adam_energy(Y, 0.1)
    assert (
        Y.shape == (5, 3, 2, 1) and (np.diff(E, axis=0) <= 1e-9).all()
    )  # Lemma: E decreases for eps1 <= 4 eps2
    rhs = adam_ode.adam_rhs(0.1, 1.0, momentum_odes.grad_six_hump)
    Y1 = momentum_odes.dop853(rhs, np.r_[2.0, -0.3, 0, 0, 1, 1], t)
    assert np.abs(Y1[:, :2] - Y[:, 0, :, 0]).max() < 1e-8
    # without bias correction and with eps = 0 the limit system is (5.23)
    lim = adam_ode.adam_limit_rhs(0.1, 1.0, 0.0, False, momentum_odes.grad_six_hump)
    y = np.r_[2.0, -0.3, 0.1, 0.2, 1.0, 2.0]
    assert lim(0.3, y) == pytest.approx(rhs(0.3, y))
    W_T = adam_ode.bias_corrected_limit([1.0, -1.0], 0.05, 0.5, 1e-8, 0.1, t0=1e-7)
    assert W_T == pytest.approx(
        adam_ode.bias_corrected_limit([1.0, -1.0], 0.05, 0.5, 1e-8, 0.1, t0=1e-6), abs=1e-5
    )
    e1, e2 = adam_ode.torch_adam_time_scales(10)
    assert e1 == pytest.approx(0.01, rel=0.1) and e2 == pytest.approx(1.0, rel=0.01)
    with pytest.raises(ValueError):
        adam_ode.adam_batch(np.zeros(2), 0.1, 1.0, t)


def test_least_squares_references():
    g = np.random.default_rng(0)
    X, Y, a = g.normal(size=(12, 3)), g.normal(size=(12, 2)), np.full(12, 1 / 12)
    A, C = least_squares.batch_matrices(X, Y, a)
    W = np.linalg.solve(A, C.T).T
    assert least_squares.flow_from_zero(A, W, [0.0])[0] == pytest.approx(np.zeros((2, 3)))
    gd = least_squares.gd_from_zero(A, C, [0.5] * 400)
    assert np.abs(gd[-1] - W).max() < 1e-6
    # one batch: the fixed point of the epoch map is the minimizer itself
    assert least_squares.fixed_order_limit(X, Y, a, W, 1, 0.3, exact=True) < 1e-10
    assert least_squares.fixed_order_limit(X, Y, a, W, 1, 0.3, exact=False) < 1e-10
    coef, q = least_squares.euler_bias_coefficient(X, Y, a, W, A, 3)
    assert coef.shape == (2, 3) and q == pytest.approx(3 / 11)
    assert least_squares.expm_sym(A, 0.7) == pytest.approx(scipy.linalg.expm(-0.7 * A))
    A1, _ = least_squares.batch_matrices(X, Y, a, slice(0, 6))
    one, avg, ratio = least_squares.splitting_errors(A1, A - A1, [0.1, 0.05])
    assert one[1] < one[0] and avg[1] < avg[0] and ratio[1] == pytest.approx(1.0, abs=0.2)
    As, Cs = zip(
        *(least_squares.batch_matrices(X, Y, a, s) for s in (slice(0, 6), slice(6, 12))), strict=True
    )
    aff = least_squares.affine_splitting_errors(list(As), list(Cs), [0.1, 0.05])
    assert aff[1] < aff[0]
    with pytest.raises(ValueError):
        least_squares.batch_matrices(X, Y[:3], a)


def test_sign_flow_references():
    t = np.linspace(0, 2, 201)
    sol = sign_flows.smoothed_abs_dop853(np.array([1.0]), 1e-3, 2.0, t)
    assert np.abs(sol.y - sign_flows.weak_abs([1.0], t)).max() < 2e-3  # a* eps with a* < 2
    a_star = sign_flows.sup_error_constant()
    assert np.sqrt(1 + a_star**2) == pytest.approx(np.arcsinh(1 / a_star))
    tests = [(lambda s, p: np.clip(1 - s / p, 0, None), None, 2.0)]
    F, F_printed = sign_flows.kruzkov_abs(tests, 1.0, np.array([0.0, 1.0]), 3.0)
    assert F[0, 0] == 0.0 and F.shape == F_printed.shape == (1, 2)
    assert sign_flows.soft_threshold([1.3, 0.2], 0.5) == pytest.approx([0.8, 0.0])
    W = sign_flows.smoothed_lasso_minimizers([1.3, 0.2], 0.5, [1e-6])
    assert W[0] == pytest.approx([0.8, 0.0], abs=1e-5)
    w = sign_flows.kink_quadratic_weak([1.2], np.array([0.0, 3.0]))
    assert w[0, 0] == 1.2 and w[1, 0] == 0.0
    w_eps = sign_flows.kink_quadratic_settled([1e-3])
    assert (w_eps - 0.5) + w_eps / np.sqrt(w_eps**2 + 1e-6) == pytest.approx([0.0], abs=1e-12)
    ws = sign_flows.kink_quadratic_lsoda([1.2], 0.04, 3.0, np.array([0.0, 3.0]))
    assert ws.shape == (2, 1) and ws[1, 0] == pytest.approx(w_eps[0], abs=0.05)
    with pytest.raises(ValueError):
        sign_flows.smoothed_abs_dop853([1.0], -1.0, 2.0, t)


def test_quartic_relative_gap_is_small_on_the_slow_manifold_and_first_order():
    t = np.linspace(0.25, 1.0, 4)
    gaps = [
        adam_ode.quartic_relative_gap([1.0, 2.0], [3.0, -2.0], 0.004 * s, 0.01 * s, t).max() for s in (1, 2)
    ]
    assert gaps[0] < 1e-2 and gaps[1] / gaps[0] == pytest.approx(2.0, rel=0.25)
    with pytest.raises(ValueError):
        adam_ode.quartic_relative_gap([1.0], [3.0], -0.1, 0.01, t)
