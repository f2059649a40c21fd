"""The references of chapter 2 (gradflows.references.neural_ode, linear_classifiers, scalar_l1_control,
scalar_lq, scalar_resnet) against closed forms and known limits."""

import numpy as np
import pytest
from gradflows.references import linear_classifiers as LC
from gradflows.references import neural_ode as NO
from gradflows.references import scalar_l1_control as L1
from gradflows.references import scalar_lq as LQ
from gradflows.references import scalar_resnet as SR


def test_solve_neural_ode_linear_closed_form():
    # outer with relu on positive states and b = 0, w = a I: x' = a x, x(T) = x0 e^(aT)
    x0 = np.array([[1.0, 2.0], [0.5, 0.3]])
    w = lambda t: 0.7 * np.eye(2)  # noqa: E731
    b = lambda t: np.zeros(2)  # noqa: E731
    out = NO.solve_neural_ode(w, b, "outer", "relu", x0, 1.5)
    np.testing.assert_allclose(out, x0 * np.exp(0.7 * 1.5), rtol=1e-10)
    path = NO.solve_neural_ode(w, b, "outer", "relu", x0, 1.5, t_eval=np.array([0.0, 1.5]))
    assert path.shape == (2, 2, 2)
    layers = NO.solve_layers(np.stack([0.7 * np.eye(2)] * 3), None, 0.5, "outer", "relu", x0)
    np.testing.assert_allclose(layers, out, rtol=1e-10)
    with pytest.raises(ValueError):
        NO.solve_neural_ode(w, b, "middle", "relu", x0, 1.0)
    with pytest.raises(ValueError):
        NO.solve_neural_ode(w, b, "outer", "relu", x0[0], 1.0)
    with pytest.raises(ValueError):
        NO.solve_layers(np.zeros((3, 3, 3)), None, 0.5, "outer", "tanh", x0)


def test_smooth_and_time_rescaled_controls():
    A, B = np.ones((3, 2, 2)), np.ones((3, 2))
    w, b = NO.smooth_controls(A, B, 2.0)
    np.testing.assert_allclose(w(0.0), 2 * np.ones((2, 2)))  # A0 + A2
    np.testing.assert_allclose(b(0.0), 2 * np.ones(2))  # B0 + B1
    w1, b1 = NO.time_rescaled(w, b, 2.0)
    np.testing.assert_allclose(w1(0.25), 2.0 * w(0.5))
    with pytest.raises(ValueError):
        NO.smooth_controls(np.ones((2, 2, 2)), B, 1.0)
    with pytest.raises(ValueError):
        NO.time_rescaled(w, b, 0.0)


def test_pair_sum_and_log_ratio():
    x0 = np.array([[0.3, -0.2], [0.1, 0.4]])
    w = np.array([[0.5, 0.1], [-0.2, 0.3]])
    end = NO.solve_layers(w[None], None, 1.0, "outer", "tanh", x0)
    np.testing.assert_allclose(NO.pair_sum_endpoint(w, x0, 1.0), end.sum(0), atol=1e-10)
    assert NO.max_log_distance_ratio(x0, 2 * x0) == pytest.approx(np.log(2.0))
    with pytest.raises(ValueError):
        NO.pair_sum_endpoint(w, np.zeros((3, 2)))


def test_linear_classifiers():
    x = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, 0.5], [-2.0, -1.0]])
    y = np.array([1.0, 1.0, -1.0, -1.0])
    w = LC.ridge_classifier(x, y, lam=0.0 + 1e-12)
    np.testing.assert_allclose(w, np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-8)
    assert LC.linearly_separable(x, y)
    assert not LC.linearly_separable(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, -1.0, 1.0]))
    svm = LC.hard_margin_svm(np.array([[1.0, 0.0], [1.0, 1.0], [2.0, -1.0]]))
    np.testing.assert_allclose(
        svm["w"], [1.0, 0.0], atol=1e-6
    )  # the two support vectors z_1, z_2... margin 1
    assert svm["kkt"] < 1e-8
    with pytest.raises(ValueError):
        LC.ridge_classifier(x, np.array([1.0, 2.0, 1.0, 1.0]))


def test_scalar_l1_control_closed_forms():
    for T in (2.0, 4.0):
        delta, n_mid = L1.solve_squared(T, h=0.02)
        assert abs(delta / L1.stop_squared(T) - 1) < 2e-2 and n_mid <= 1
    assert abs(L1.solve_distance(2.0, h=0.02)) < 1e-9
    assert L1.stop_distance(1.05) == pytest.approx(0.05)
    with pytest.raises(ValueError):
        L1.solve_squared(-1.0)


def test_scalar_lq_matches_closed_form():
    t, e, u = LQ.lq_turnpike_fd(0.05, 4.0, 1.0, 4000)
    s = np.sqrt(0.05)
    np.testing.assert_allclose(e, np.cosh((4.0 - t) / s) / np.cosh(4.0 / s), rtol=1e-4, atol=1e-12)
    assert u[-1] == 0.0 and u[0] < 0
    with pytest.raises(ValueError):
        LQ.lq_turnpike_fd(0.0, 4.0)


def test_scalar_resnet_references():
    w = SR.constant_steering_weight(200)
    delta = np.log(np.sinh(1.5) / np.sinh(0.5))  # the ODE limit: w = Delta / T
    assert abs(w - delta / 2.0) < 1e-2
    x_small, x_large = SR.logistic_endpoint(1e-2), SR.logistic_endpoint(1e-4)
    assert 1.0 < x_small < x_large  # weaker regularization pushes the point further
    with pytest.raises(ValueError):
        SR.constant_steering_weight(0)
