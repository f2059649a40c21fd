"""Controlled ResNets, their norms, training problems and toy data, against independent references."""

import numpy as np
import pytest
import scipy.integrate
import torch
from gradflows import DivergenceError
from gradflows import control as C
from gradflows import datasets as DS
from gradflows import training as TR


def _gen(s=0):
    return torch.Generator().manual_seed(s)


def test_euler_flow_is_the_resnet_loop():
    x, _ = DS.circles(20, generator=_gen())
    c = C.random_controls(2, 7, T=2.0, generator=_gen(1))
    for kind in C.KINDS:
        states = C.flow(c, x, kind=kind, activation="tanh").x
        xk = x.numpy()
        W, B = c.w.numpy(), c.b.numpy()
        for k in range(7):
            f = np.tanh(xk @ W[k].T + B[k]) if kind == "inner" else np.tanh(xk) @ W[k].T + B[k]
            xk = xk + c.h * f
            np.testing.assert_allclose(states[k + 1].numpy(), xk, atol=1e-13)
    assert states.shape == (8, 20, 2)
    assert C.flow(c, x, record=False).last.shape == (20, 2)


@pytest.mark.parametrize("kind", C.KINDS)
def test_rk4_matches_solve_ivp_for_piecewise_constant_controls(kind):
    x, _ = DS.two_moons(6, generator=_gen())
    c = C.random_controls(2, 4, T=1.5, generator=_gen(2))
    ours = C.flow(c, x, kind=kind, method="rk4", substeps=40, record=False).last.numpy()
    W, B = c.w.numpy(), c.b.numpy()
    state = x.numpy().ravel()
    for k in range(4):

        def rhs(_t, s, k=k):
            p = s.reshape(-1, 2)
            f = np.tanh(p @ W[k].T + B[k]) if kind == "inner" else np.tanh(p) @ W[k].T + B[k]
            return f.ravel()

        state = scipy.integrate.solve_ivp(rhs, (0, c.h), state, rtol=1e-12, atol=1e-12, method="DOP853").y[
            :, -1
        ]
    np.testing.assert_allclose(ours, state.reshape(-1, 2), atol=1e-9)


def test_resnet_of_smooth_controls_converges_at_first_order():
    x, _ = DS.circles(10, generator=_gen())

    def w(t):
        return torch.tensor([[np.cos(t), -np.sin(2 * t)], [0.5 * t, np.sin(t)]])

    def b(t):
        return torch.tensor([0.3 * np.cos(3 * t), -0.2])

    def rhs(t, s):
        p = s.reshape(-1, 2)
        return (np.tanh(p) @ w(t).numpy().T + b(t).numpy()).ravel()

    ref = scipy.integrate.solve_ivp(rhs, (0, 2.0), x.numpy().ravel(), rtol=1e-12, atol=1e-12).y[:, -1]
    errs = []
    Ls = [16, 32, 64, 128, 256]
    for L in Ls:
        out = C.flow(C.sample_controls(w, b, 2.0, L), x, record=False).last
        errs.append(np.abs(out.numpy().ravel() - ref).max())
    slope = np.polyfit(np.log(Ls), np.log(errs), 1)[0]
    assert abs(slope + 1) < 0.1, slope


def test_time_scaling_identity():
    x, _ = DS.circles(12, generator=_gen())
    c = C.random_controls(2, 9, T=5.0, generator=_gen(3))
    c1 = c.rescaled(1.0)
    for kind, act in (("outer", "tanh"), ("outer", "sigmoid"), ("inner", "relu"), ("inner", "leaky_relu")):
        torch.testing.assert_close(C.flow(c1, x, kind, act).x, C.flow(c, x, kind, act).x, atol=1e-12, rtol=0)
    assert float(C.l2_norm_sq(c1)) == pytest.approx(5.0 * float(C.l2_norm_sq(c)))
    assert float(C.l1_norm(c1)) == pytest.approx(float(C.l1_norm(c)))
    # not homogeneous: tanh inside
    assert (C.flow(c1, x, "inner", "tanh").x - C.flow(c, x, "inner", "tanh").x).abs().max() > 1e-3


def test_norms_match_numpy():
    c = C.random_controls(3, 5, T=2.0, generator=_gen(4))
    u = np.concatenate([c.w.numpy().reshape(5, -1), c.b.numpy()], 1)
    h = 0.4
    assert float(C.l2_norm_sq(c)) == pytest.approx(h * (u**2).sum())
    assert float(C.h1_norm_sq(c)) == pytest.approx(h * (u**2).sum() + (np.diff(u, axis=0) ** 2).sum() / h)
    assert float(C.l1_norm(c)) == pytest.approx(h * np.linalg.norm(u, axis=1).sum())
    spec = sum(np.linalg.norm(c.w.numpy()[k], 2) for k in range(5))
    assert float(C.weight_l1_norm(c)) == pytest.approx(h * spec)


def test_training_errors():
    x = torch.randn(8, 3, generator=_gen())
    y = torch.tensor([1.0, -1, 1, 1, -1, -1, 1, -1])
    assert float(C.training_error(x, y)) == pytest.approx(np.mean((x[:, 0].numpy() - y.numpy()) ** 2))
    P = torch.tensor([[0.5, -1.0, 2.0]])
    z = x.numpy() @ P.numpy()[0]
    assert float(C.training_error(x, y, P, "logistic")) == pytest.approx(
        np.mean(np.log1p(np.exp(-y.numpy() * z)))
    )
    traj = torch.stack([x, 2 * x, 3 * x])
    phis = [float(C.training_error(s, y)) for s in traj]
    assert float(C.running_cost(traj, y, T=1.0)) == pytest.approx(0.5 * (phis[0] / 2 + phis[1] + phis[2] / 2))
    with pytest.raises(ValueError, match="loss"):
        C.training_error(x, y, loss="hinge")


def test_interpolation_weight_bound_holds_along_flows():
    x, _ = DS.circles(15, generator=_gen())
    for s in range(5):
        c = C.random_controls(2, 30, T=3.0, std=2.0, generator=_gen(10 + s))
        for act in ("tanh", "sigmoid"):
            for kind in C.KINDS:
                xT = C.flow(c, x, kind, act, method="rk4", substeps=8, record=False).last
                bound = C.interpolation_weight_bound(x, xT, C.LIPSCHITZ[act])
                assert float(bound) <= float(C.weight_l1_norm(c)) + 1e-9
    with pytest.raises(ValueError, match="distinct"):
        C.interpolation_weight_bound(torch.zeros(3, 2), torch.randn(3, 2))


def test_steer_reaches_target_with_w_of_order_one_over_T():
    g = _gen(5)
    x1 = torch.randn(3, 4, generator=g)
    x0 = x1 + 0.05 * torch.randn(3, 4, generator=g)
    sizes = []
    for T in (0.5, 1.0, 4.0):
        c = C.steer(x0, x1, T)
        end = C.flow(c, x0, "outer", "tanh", "rk4", 64, record=False).last
        assert float((end - x1).abs().max()) < 1e-6
        sizes.append(float(c.w.abs().max()) * T)
    assert max(sizes) / min(sizes) < 1.01
    with pytest.raises(ValueError, match="N <= d"):
        C.steer(torch.randn(5, 2), torch.randn(5, 2), 1.0)


def test_fit_controls_decreases_and_respects_constraints():
    x, y = DS.two_moons(40, generator=_gen())
    fit = TR.fit_controls(x, y, 2.0, 8, lam=1e-3, iters=60, generator=_gen(1), progress=False)
    assert fit.history[-1] <= fit.history[0]
    assert fit.states.shape == (9, 40, 2)
    v, _ = TR.objective(fit.controls, x, y, lam=1e-3)
    assert float(v) == pytest.approx(fit.objective)
    fa = TR.fit_controls(x, y, 2.0, 8, lam=1e-3, optimizer="adam", iters=50, lr=1e-2, generator=_gen(1))
    assert fa.history[-1] < fa.history[0]
    fl = TR.fit_controls(
        x, y, 2.0, 8, lam=1e-2, reg="L1", bound=0.7, running=True, iters=40, generator=_gen(1)
    )
    assert float(fl.controls.pointwise_norm().max()) <= 0.7 + 1e-12
    assert np.all(np.diff(fl.history.numpy()) <= 1e-12)  # backtracking keeps the objective monotone
    with pytest.raises(ValueError, match="bound"):
        TR.fit_controls(x, y, 1.0, 4, reg="L2", bound=1.0)


def test_prox_l1_ball_matches_scalar_formula():
    u = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [1.2, 1.6]])
    out = TR.prox_l1_ball(u, 1.0, 2.5)
    r = np.clip(np.array([5.0, 0.5, 0.0, 2.0]) - 1.0, 0, 2.5)
    np.testing.assert_allclose(out.norm(dim=1).numpy(), r, atol=1e-14)
    np.testing.assert_allclose(out[0].numpy() / 2.5, [0.6, 0.8])


def test_bad_inputs_and_divergence():
    c = C.random_controls(2, 3, generator=_gen())
    with pytest.raises(ValueError, match="shape"):
        C.flow(c, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="kind"):
        C.flow(c, torch.zeros(4, 2), kind="middle")
    with pytest.raises(ValueError, match="method must be one of"):
        C.flow(c, torch.zeros(4, 2), method="rk5")
    with pytest.raises(ValueError, match="T"):
        C.Controls(c.w, c.b, -1.0)
    with pytest.raises(ValueError, match="b must"):
        C.Controls(c.w, torch.zeros(3, 5), 1.0)
    big = C.Controls(torch.full((3, 2, 2), 1e200), None, 1.0)
    with pytest.raises(DivergenceError):
        C.flow(big, torch.ones(2, 2), kind="inner", activation="relu")
    with pytest.raises(ValueError, match="rows"):
        TR.fit_controls(torch.zeros(4, 2), torch.zeros(3), 1.0, 2)
    with pytest.raises(ValueError, match="reg"):
        TR.fit_controls(torch.zeros(4, 2), torch.zeros(4), 1.0, 2, reg="L3")


def test_datasets():
    for make in (DS.circles, DS.two_moons, DS.shifted_sines):
        x, y = make(31, generator=_gen())
        assert x.shape == (31, 2) and y.shape == (31,)
        assert set(y.tolist()) == {-1.0, 1.0} and int((y < 0).sum()) == 16
        x2, _ = make(31, generator=_gen())
        torch.testing.assert_close(x, x2)
    x, y = DS.spheres(50, d=4, radii=(1.0, 2.0), noise=0.0, generator=_gen())
    np.testing.assert_allclose(x.norm(dim=1).numpy(), np.where(y.numpy() < 0, 1.0, 2.0))
    x, y = DS.separable(200, d=3, margin=0.3, generator=_gen())
    # independently: a linear program finds a strictly separating hyperplane through 0
    from scipy.optimize import linprog

    A = -(y[:, None] * x).numpy()
    res = linprog(np.zeros(3), A_ub=A, b_ub=-np.ones(200), bounds=[(None, None)] * 3)
    assert res.status == 0
    with pytest.raises(ValueError, match="radii"):
        DS.circles(10, radii=(1.0, 0.5))
    with pytest.raises(ValueError, match="n"):
        DS.two_moons(1)


def test_refined_controls_give_the_same_ode():
    x, _ = DS.circles(10, generator=_gen())
    c = C.random_controls(2, 5, T=2.0, generator=_gen(7))
    f = c.refined(3)
    assert f.n_layers == 15 and f.h == pytest.approx(c.h / 3)
    coarse = C.flow(c, x, method="rk4", substeps=12, record=False).last
    fine = C.flow(f, x, method="rk4", substeps=4, record=False).last
    torch.testing.assert_close(fine, coarse, atol=1e-13, rtol=0)
    assert float(C.l2_norm_sq(f)) == pytest.approx(float(C.l2_norm_sq(c)))
