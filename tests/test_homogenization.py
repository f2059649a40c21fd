"""gradflows.homogenization and its references (effective Hamiltonian, reachable sets) vs closed forms."""

import numpy as np
import pytest
import torch
from gradflows import homogenization as hg
from gradflows.deep_relaxation import two_scale
from gradflows.hamilton_jacobi import solve_hj
from gradflows.landscapes import quadratic
from gradflows.references import effective_hamiltonian as eh
from gradflows.references import reachable_sets as rs
from scipy.stats import norm

C, G = 0.5, 12.0
F = quadratic(torch.tensor([[C]], dtype=torch.float64))


def f_np(y):
    return 0.5 * C * np.asarray(y) ** 2


def gauss_AB(x):  # mu_x = N(G x / (G + C), 1 / (G + C)) for f = C y^2 / 2
    s, d = 1 / np.sqrt(G + C), C * x / (G + C)
    return d * norm.cdf(d / s) + s * norm.pdf(d / s), -d * norm.cdf(-d / s) + s * norm.pdf(d / s)


def test_hamiltonian_and_effective_hamiltonian_closed_form():
    assert float(hg.hamiltonian(1.0, 0.5, 2.0, G)) == pytest.approx(G)
    assert float(hg.hamiltonian(1.0, 0.5, -2.0, G)) == 0.0
    x = torch.tensor([-1.0, 0.0, 0.8], dtype=torch.float64)
    A, B = gauss_AB(x.numpy())
    kw = dict(lo=-8.0, hi=8.0, n_points=4001)
    Al, Bl = hg.one_sided_means(F, x, G, **kw)
    assert np.allclose(Al.numpy(), A, atol=1e-5) and np.allclose(Bl.numpy(), B, atol=1e-5)
    for p in (1.5, -0.4):
        hb = hg.effective_hamiltonian(F, x, p, G, **kw).numpy()
        assert np.allclose(hb, G * (max(p, 0) * A + max(-p, 0) * B), atol=1e-4)
        hc = hg.constant_control_hamiltonian(F, x, p, G, **kw).numpy()
        assert np.all(hc <= hb) and np.allclose(hb - hc, G * abs(p) * np.minimum(A, B), atol=1e-4)
    a, b = hg.extended_speeds(F, x, G, **kw)
    ac, bc = hg.constant_control_speeds(F, x, G, **kw)
    assert torch.allclose(a - b, ac - bc) and bool((ac <= a).all() & (bc <= b).all())


def test_references_closed_form():
    x = np.array([-1.0, 0.0, 0.8])
    mean, A, B, rho = eh.gibbs_moments_quad(f_np, x, G)
    A0, B0 = gauss_AB(x)
    assert np.allclose(A, A0, atol=1e-10) and np.allclose(B, B0, atol=1e-10)
    assert np.allclose(mean, G * x / (G + C), atol=1e-10)
    assert np.allclose(rho, norm.pdf(x, G * x / (G + C), 1 / np.sqrt(G + C)), atol=1e-10)
    assert eh.effective_hamiltonian_quad(f_np, 0.8, -0.4, G) == pytest.approx(G * 0.4 * B0[2], abs=1e-10)
    sl, sr, vel = eh.speed_splines(f_np, G, -3, 3, 121)
    assert abs(float(sl(0.8)) - G * A0[2]) < 1e-6 and abs(float(vel(0.8)) + G * C * 0.8 / (G + C)) < 1e-6


def test_corrector_solves_the_cell_problem():
    # L chi = chi'' - Phi' chi' = h - Hbar, checked by finite differences on [-0.5, 0.5]
    xb, pb = 0.3, 1.0
    y = np.linspace(-0.5, 0.5, 201)
    hy = 1e-3
    c = [eh.corrector_oscillation(f_np, xb, pb, G, y + k * hy) for k in (-1, 0, 1)]
    d1, d2 = (c[2] - c[0]) / (2 * hy), (c[2] - 2 * c[1] + c[0]) / hy**2
    phi1 = C * y - G * (xb - y)
    hbar = eh.effective_hamiltonian_quad(f_np, xb, pb, G)
    h = G * np.maximum((xb - y) * pb, 0)
    smooth = np.abs(y - xb) > 0.01
    assert np.abs((d2 - phi1 * d1) - (h - hbar))[smooth].max() < 1e-3


def test_reachable_sets():
    x = np.array([-1.0, 0.5])
    v, ends = rs.extended_control_value(
        lambda z: (np.asarray(z) - 2) ** 2, lambda z: 1 + 0 * z, lambda z: 0.5 + 0 * z, x, 1.0
    )
    assert np.allclose(ends, [[-2.0, -0.5], [-0.5, 1.0]]) and np.allclose(v, [2.5**2, 1.0])
    vc, end = rs.constant_control_value(lambda z: np.asarray(z) ** 2, lambda z: -np.asarray(z), x, 1.0)
    assert np.allclose(end, x * np.exp(-1)) and np.allclose(vc, (x * np.exp(-1)) ** 2)
    assert np.allclose(rs.min_on_intervals(np.cos, [0.0], [6.0]), [-1.0])
    with pytest.raises(ValueError):
        rs.min_on_intervals(np.cos, [1.0], [0.0])


def test_truncated_cell_problem_limit_and_monte_carlo():
    xb, pb = 0.2, 1.0
    hbar = float(G * gauss_AB(xb)[0])
    y, w = hg.truncated_cell_problem(F, xb, pb, G, 1e-3, 3.0, 0.004)
    assert abs(float(1e-3 * w[y.numel() // 2]) + hbar) < 1e-3 * hbar + 1e-3
    assert w[0] == 0 and w[-1] == 0
    yf, wf = hg.truncated_cell_problem(F, xb, pb, G, 4.0, 0.6, 0.001)
    y0 = torch.tensor([-0.2, 0.3], dtype=torch.float64)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small elementwise steps: threads only contend on a loaded machine
    try:
        m, se = hg.cell_problem_monte_carlo(
            F,
            xb,
            pb,
            G,
            4.0,
            0.6,
            y0,
            n_paths=2000,
            dt=0.004,
            horizon=3.0,
            grad=lambda y: C * y,
            generator=torch.Generator().manual_seed(0),
            progress=False,
        )
    finally:
        torch.set_num_threads(threads)
    ref = np.interp(y0.numpy(), yf.numpy(), wf.numpy())
    assert np.all(np.abs(m.numpy() - ref) < 5 * se.numpy() + 0.01 * np.abs(ref))


def test_feedback_and_validation():
    x = torch.linspace(-3, 3, 301, dtype=torch.float64)
    A, B = hg.one_sided_means(F, x, G)
    sol = solve_hj(x, (x - 1) ** 2, 1.0, speeds=(G * A, G * B), progress=False)
    u = hg.extended_feedback(sol)
    X = torch.tensor([[0.0], [0.0]], dtype=torch.float64)
    Y = torch.tensor([[1.0], [-1.0]], dtype=torch.float64)
    assert u(0.9, X, Y).tolist() == [
        [1.0],
        [0.0],
    ]  # v_x < 0 at 0 near T: follow Y only when Y is to the right
    tr = two_scale(
        X, Y, G, 0.05, 0.001, 10, f=F, control=u, generator=torch.Generator().manual_seed(1), progress=False
    )
    assert tr.last.shape == (2, 1)
    with pytest.raises(TypeError):
        hg.extended_feedback("not a solution")
    with pytest.raises(ValueError):
        hg.truncated_cell_problem(F, 0.0, 1.0, G, 0.1, 3.0, 0.5)  # |b| dx > 2
    with pytest.raises(ValueError):
        hg.truncated_cell_problem(F, 0.0, 1.0, G, -0.1, 3.0, 0.01)
    with pytest.raises(ValueError):
        hg.cell_problem_monte_carlo(F, 0.0, 1.0, G, 1.0, 0.5, [0.7], n_paths=10, dt=0.01)
    with pytest.raises(ValueError):
        hg.hamiltonian(0.0, 0.0, 1.0, 0.0)
    with pytest.raises(ValueError):
        eh.gibbs_moments_quad(f_np, [0.0], G, 1.0, -1.0)


def test_bang_bang_speed_matches_gamma_B():
    # u = 1{(X - Y) p > 0}, p < 0 (follow Y only when Y > X) moves X at the mean speed
    # gamma int (y - x)^+ dmu: here for the Euler chain of the fast variable, whose invariant law for
    # f = c y^2 / 2 is N(m, s^2 / (1 - r (gamma + c) / 2)), r = dt / eps (closed form), at the midpoint of the
    # motion. Budget: 4.5 se plus 2e-3 relative for the lag of Y behind mu_X (~2e-4 in d).
    c, x, eps, horizon, n = 0.05, 0.3, 0.002, 0.02, 4000
    for r in (0.02, 0.01):
        dt = r * eps
        s2 = 1 / (G + c) / (1 - r * (G + c) / 2)
        gen = torch.Generator().manual_seed(int(1 / r))
        X0 = torch.full((n, 1), x, dtype=torch.float64)
        Y0 = G * x / (G + c) + np.sqrt(s2) * torch.randn(n, 1, generator=gen, dtype=torch.float64)
        tr = two_scale(
            X0, Y0, G, eps, dt, round(horizon / dt), grad=lambda y: c * y,
            control=lambda t, X, Y: ((X - Y) * -1.0 > 0).to(X.dtype), generator=gen, progress=False,
        )  # fmt: skip
        speed = (tr.last[:, 0] - x) / horizon
        xm = x + 0.5 * float(speed.mean()) * horizon
        s, d = np.sqrt(s2), xm - G * xm / (G + c)
        ref = G * (-d * norm.cdf(-d / s) + s * norm.pdf(d / s))  # gamma B for the chain's invariant law
        se = float(speed.std()) / np.sqrt(n)
        assert abs(float(speed.mean()) - ref) < 4.5 * se + 2e-3 * ref, (r, float(speed.mean()), ref, se)


def test_target_feedback_and_more_validation():
    u = hg.target_feedback(1.0)
    X = torch.tensor([[0.0], [0.0], [2.0], [2.0]], dtype=torch.float64)
    Y = torch.tensor([[0.5], [-0.5], [1.5], [2.5]], dtype=torch.float64)
    assert u(0.0, X, Y)[:, 0].tolist() == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError):
        hg.target_feedback(float("nan"))
    x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    with pytest.raises(ValueError):
        hg.effective_hamiltonian(F, x, torch.tensor([1.0, 2.0, 3.0]), G)  # p of the wrong length
    with pytest.raises(ValueError):
        hg.constant_control_hamiltonian(F, x, torch.tensor([1.0, 2.0, 3.0]), G)
    with pytest.raises(ValueError):
        hg.one_sided_means(F, x, G, n_point=11)  # unknown quadrature key
    with pytest.raises(ValueError):
        hg.cell_problem_monte_carlo(F, 0.0, 1.0, G, 1e-9, 0.5, [0.0], n_paths=10, dt=1e-3)  # 2e10 steps
    hb = hg.effective_hamiltonian(F, x, torch.tensor([1.0, -1.0]), G)
    assert hb.shape == (2,) and bool((hb > 0).all())


def test_monte_carlo_without_bridge_is_biased():
    xb, pb, delta, n = 0.2, 1.0, 4.0, 0.6
    y0 = torch.tensor([0.0], dtype=torch.float64)
    ref = np.interp(0.0, *(v.numpy() for v in hg.truncated_cell_problem(F, xb, pb, G, delta, n, 0.001)))
    m, se = hg.cell_problem_monte_carlo(
        F, xb, pb, G, delta, n, y0, n_paths=2000, dt=0.01, horizon=3.0, grad=lambda y: C * y, bridge=False,
        generator=torch.Generator().manual_seed(2), progress=False,
    )  # fmt: skip
    assert float(m[0]) - ref < -5 * float(se[0])  # exits missed between steps: |w| too large


def test_resolvent_bvp_and_hitting_time():
    # closed forms: u = 1 - y^2 solves delta u - (-y u' + u'') = 2 - 2 y^2 + delta (1 - y^2), u(+-1) = 0, and
    # E_0[e^{-tau}] = 1 / cosh(1) for sqrt(2) W leaving (-1, 1)
    from gradflows.references import cell_problems as cp

    y = np.linspace(-1, 1, 11)
    d = 0.7
    u = cp.resolvent_bvp(lambda z: -z, lambda z: 2 - 2 * z**2 + d * (1 - z**2), d, 1.0, y)
    assert np.allclose(u, 1 - y**2, atol=1e-7)
    lap = cp.resolvent_bvp(lambda z: 0 * z, lambda z: 0 * z, 1.0, 1.0, np.array([0.0]), boundary=1.0)
    assert abs(lap[0] - 1 / np.cosh(1.0)) < 1e-7  # E_0 e^{-tau} for sqrt(2) W from (-1, 1): 1 / cosh(1)
    assert rs.hitting_time(lambda z: 1 + 0 * z, -1.0, 2.0) == pytest.approx(3.0)
    assert rs.hitting_time(lambda z: 2 + np.asarray(z), 0.0, 1.0) == pytest.approx(np.log(1.5))
    with pytest.raises(ValueError):
        rs.hitting_time(lambda z: np.asarray(z), -1.0, 1.0)
    with pytest.raises(ValueError):
        cp.resolvent_bvp(lambda z: z, lambda z: z, 1.0, 1.0, [2.0])
