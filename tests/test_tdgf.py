"""Pricing PDEs in divergence form, the TDGF/DGM solvers, the finite-element reference (chapter 5)."""

import math

import gradflows as gf
import numpy as np
import pytest
import torch
from gradflows import dgm, finite_elements, nets, pricing, tdgf
from gradflows import pricing_pdes as pp

MODELS = [
    pp.BlackScholes(),
    pp.Heston(rho=-0.5),
    pp.Heston(rho=0.6, taper=0.02),
    pp.BasketBlackScholes(3, rho=0.4),
]


def _inside(model, n=64):
    x, _ = model.sample(n, torch.Generator().manual_seed(1))
    return x


def _smooth_u(x):
    """A smooth test function with non-trivial mixed derivatives."""
    return torch.sin(x).sum(1) * torch.exp(-0.3 * (x**2).sum(1)) + x.prod(1)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_divA_is_the_divergence_of_A(model):
    x = _inside(model).requires_grad_(True)
    A = model.A(x)
    div = torch.stack(
        [
            sum(
                torch.autograd.grad(A[:, i, j].sum(), x, retain_graph=True)[0][:, j] for j in range(model.dim)
            )
            for i in range(model.dim)
        ],
        1,
    )
    torch.testing.assert_close(model.divA(x), div.detach(), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(A, A.transpose(1, 2))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_divergence_form_equals_non_divergence_form(model):
    """div(A grad u) - r u - b . grad u == tr(A D^2 u) + mu . grad u - r u for a smooth u (TDGF-1)."""
    x = _inside(model).requires_grad_(True)
    u = _smooth_u(x)
    (g,) = torch.autograd.grad(u.sum(), x, create_graph=True)
    H = torch.stack(
        [torch.autograd.grad(g[:, j].sum(), x, create_graph=True)[0] for j in range(model.dim)], 2
    )
    flux = (model.A(x) @ g[:, :, None])[:, :, 0]
    div = sum(torch.autograd.grad(flux[:, j].sum(), x, create_graph=True)[0][:, j] for j in range(model.dim))
    lhs = div - model.r * u - (model.b(x) * g).sum(1)
    rhs = (model.A(x) * H).sum((1, 2)) + (model.mu(x) * g).sum(1) - model.r * u
    torch.testing.assert_close(lhs, rhs, rtol=1e-10, atol=1e-10)


def test_heston_taper_only_acts_near_the_variance_faces():
    m, t = pp.Heston(rho=-0.5), pp.Heston(rho=-0.5, taper=0.02)
    V = torch.tensor([0.001, 0.011, 0.021, 0.05, 0.079, 0.09, 0.1])
    x = torch.stack([torch.ones_like(V), V], 1)
    inside = (V >= 0.021) & (V <= 0.08)
    torch.testing.assert_close(t.A(x)[inside], m.A(x)[inside])
    torch.testing.assert_close(t.b(x)[inside], m.b(x)[inside])
    assert float(t.A(x)[0, 0, 1]) == 0 and float(t.A(x)[-1, 0, 1]) == 0
    with pytest.raises(ValueError, match="taper"):
        pp.Heston(taper=0.2)


def test_heston_matrices_are_the_slides():
    m = pp.Heston(r=0.03, kappa=1.5, theta=0.04, eta=0.3, rho=-0.7)
    S, V = 1.2, 0.05
    x = torch.tensor([[S, V]])
    A = 0.5 * torch.tensor([[S * S * V, m.rho * m.eta * S * V], [m.rho * m.eta * S * V, m.eta**2 * V]])
    b = torch.tensor(
        [
            S * V - m.r * S + 0.5 * m.rho * m.eta * S,
            m.kappa * (V - m.theta) + 0.5 * m.rho * m.eta * V + 0.5 * m.eta**2,
        ]
    )
    torch.testing.assert_close(m.A(x)[0], A)
    torch.testing.assert_close(m.b(x)[0], b)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.name)
def test_payoff_grad_is_the_autograd_gradient(model):
    x = _inside(model).requires_grad_(True)
    (g,) = torch.autograd.grad(model.payoff(x).sum(), x)
    torch.testing.assert_close(model.payoff_grad(x.detach()), g)


def test_grid_and_samples_cover_the_domain():
    m = pp.Heston()
    x, w = m.grid([7, 5])
    assert x.shape == (35, 2) and math.isclose(float(w.sum()), m.volume, rel_tol=1e-12)
    xs, ws = m.sample(1000, torch.Generator().manual_seed(0))
    lo, hi = m.bounds(xs)
    assert bool(((xs >= lo) & (xs <= hi)).all()) and math.isclose(float(ws.sum()), m.volume, rel_tol=1e-12)
    # the midpoint rule integrates a bilinear function exactly
    torch.testing.assert_close(
        (w * x[:, 0] * x[:, 1]).sum(), torch.tensor((3**2 - 0.01**2) / 2 * (0.1**2 - 0.001**2) / 2)
    )


def test_bad_models_are_rejected():
    with pytest.raises(ValueError, match="rho"):
        pp.Heston(rho=1.0)
    with pytest.raises(ValueError, match="lo < hi"):
        pp.BlackScholes(lo=2.0, hi=1.0)
    with pytest.raises(ValueError, match="sigma"):
        pp.BlackScholes(sigma=-0.1)
    with pytest.raises(ValueError, match="shape"):
        pp.Heston().A(torch.ones(3, 3))
    with pytest.raises(ValueError, match="positive definite"):
        pp.BasketBlackScholes(3, rho=-0.9)


def test_heston_reference_tends_to_black_scholes():
    """eta -> 0 with V0 = theta: constant variance, the Black–Scholes price with sigma = sqrt(theta)."""
    p = pricing.heston_call(torch.tensor([0.9, 1.0, 1.1]), 0.04, 1.0, 0.02, 1.0, 0.04, 1e-4, 0.0, 1.0)
    ref = pricing.bs_call(torch.tensor([0.9, 1.0, 1.1]), 1.0, 0.02, 0.2, 1.0)
    torch.testing.assert_close(p, ref, rtol=0, atol=2e-6)


def test_heston_reference_vs_mixing_monte_carlo():
    """rho = 0: the Heston price is E[BS(S, sigma^2 = (1/T) int V dt)] (Hull–White mixing).

    Only V is simulated."""
    S, V0, K, r, kappa, theta, eta, T = 1.0, 0.03, 1.0, 0.0, 2.0, 0.01, 0.1, 1.0
    ql = float(pricing.heston_call(S, V0, K, r, kappa, theta, eta, 0.0, T))
    rng = np.random.default_rng(0)
    n, steps = 20000, 400
    dt = T / steps
    V = np.full(n, V0)
    integral = np.zeros(n)
    for _ in range(steps):  # full-truncation Euler
        Vp = np.maximum(V, 0)
        integral += 0.5 * Vp * dt
        V = V + kappa * (theta - Vp) * dt + eta * np.sqrt(Vp * dt) * rng.standard_normal(n)
        integral += 0.5 * np.maximum(V, 0) * dt
    prices = pricing.bs_call(S, K, r, torch.as_tensor(np.sqrt(integral / T)), T).numpy()
    se = prices.std() / math.sqrt(n)
    assert abs(prices.mean() - ql) < 4 * se + 1e-4, (prices.mean(), ql, se)


def test_heston_reference_bad_tau():
    with pytest.raises(ValueError, match="1/365"):
        pricing.heston_call(1.0, 0.03, 1.0, 0.0, 2.0, 0.01, 0.1, 0.0, 0.1234)


def test_dgm_residual_vanishes_on_the_black_scholes_formula():
    m = pp.BlackScholes()
    z = torch.stack([torch.rand(50) * 0.9 + 0.1, torch.rand(50) + 0.5], 1).requires_grad_(True)
    u = pricing.bs_call(z[:, 1], m.K, m.r, m.sigma, z[:, 0])
    (g,) = torch.autograd.grad(u.sum(), z, create_graph=True)
    (H,) = torch.autograd.grad(g[:, 1].sum(), z)
    x = z[:, 1:].detach()
    res = dgm.dgm_residual(
        g[:, 0].detach(), g[:, 1:].detach(), H[:, 1:, None], u.detach(), m.A(x), m.mu(x), m.r
    )
    assert float(res.abs().max()) < 1e-10


def test_tdgf_energy_identity_on_a_grid():
    """I(w) - I(w*) = (1 + h r)/2 |w - w*|^2 + h/2 |sqrt(A) grad(w - w*)|^2, discrete energy (TDGF-4)."""
    m = pp.BlackScholes()
    x = np.linspace(0.01, 3, 201)
    M, S, B = finite_elements.fem_matrices(m, x)
    h, U = 0.1, np.maximum(x - 1, 0)
    L = ((1 + h * m.r) * M + h * S).toarray()
    rhs = M @ U - h * (B @ U)
    wstar = np.linalg.solve(L, rhs)

    def energy(w):
        return 0.5 * (w - U) @ M @ (w - U) + h * (0.5 * w @ S @ w + 0.5 * m.r * w @ M @ w + w @ (B @ U))

    rng = np.random.default_rng(0)
    for _ in range(3):
        e = rng.standard_normal(x.size)
        w = wstar + e
        ident = 0.5 * (1 + h * m.r) * e @ M @ e + 0.5 * h * e @ S @ e
        assert abs(energy(w) - energy(wstar) - ident) < 1e-10 * max(1, ident)


def test_fem_time_stepping_is_first_order():
    m = pp.BlackScholes()
    errs = []
    for steps in (10, 20, 40):
        x, U = finite_elements.fem_imex_1d(m, 1.0, steps, 2001)
        sel = (x >= 0.8) & (x <= 1.2)
        errs.append(np.abs(U[-1, sel] - m.reference(torch.as_tensor(x[sel])[:, None], 1.0).numpy()).max())
    slope = gf.rates.loglog_slope([10, 20, 40], errs)
    assert -1.15 < slope < -0.85, (errs, slope)


def test_tdgf_energy_checks_shapes():
    with pytest.raises(ValueError, match="shape"):
        tdgf.tdgf_energy(
            torch.zeros(3),
            torch.zeros(3, 1),
            torch.zeros(2),
            torch.zeros(3),
            torch.zeros(3, 1, 1),
            torch.ones(3),
            0.1,
            0.0,
        )


def test_tdgf_solve_small_run_decreases_energy_and_prices():
    m = pp.BlackScholes()
    gen = gf.seed(0)
    res = tdgf.tdgf_solve(
        m,
        T=0.2,
        n_steps=2,
        iters=30,
        points=200,
        net=tdgf.make_net(m, 16, 1, gated=False),
        generator=gen,
        progress=False,
    )
    assert len(res.states) == 2 and all(e[-1] <= e[0] for e in res.energies)
    S = torch.linspace(0.8, 1.2, 9)[:, None]
    err = (res.price(S) - m.reference(S, 0.2)).abs().max()
    assert float(err) < 0.05  # a 16-unit net, 30 iterations: only a smoke test of the plumbing
    with pytest.raises(ValueError, match="k must be"):
        res.price(S, k=5)


def test_tdgf_adam_mc_and_bound_output_run():
    m = pp.Heston()
    res = tdgf.tdgf_solve(
        m,
        T=0.1,
        n_steps=1,
        iters=5,
        points=64,
        sampling="mc",
        optimizer="adam",
        output="bound",
        net=tdgf.make_net(m, 8, 1),
        generator=torch.Generator().manual_seed(0),
        progress=False,
    )
    x = torch.tensor([[1.0, 0.03]])
    assert float(res.price(x)) >= float(m.lower_bound(x, 0.1))


def test_solvers_reject_bad_arguments():
    m = pp.BlackScholes()
    with pytest.raises(ValueError, match="sampling"):
        tdgf.tdgf_solve(m, sampling="sobol")
    with pytest.raises(ValueError, match="optimizer"):
        dgm.dgm_solve(m, optimizer="sgd")
    with pytest.raises(TypeError, match="model"):
        tdgf.tdgf_solve("heston")
    with pytest.raises(ValueError, match="grid sizes"):
        dgm.dgm_solve(m, sampling="grid", points=100)
    with pytest.raises(ValueError, match="lower bound"):
        pp.BasketBlackScholes(2).lower_bound(torch.ones(1, 2), 0.1)


def test_dgm_solve_small_run():
    m = pp.BlackScholes()
    res = dgm.dgm_solve(
        m,
        T=0.2,
        iters=20,
        points=(4, 50),
        sampling="grid",
        net=tdgf.make_net(m, 8, 1, time_input=0.2),
        progress=False,
    )
    assert res.losses[-1] < res.losses[0] and res.price(torch.ones(3, 1)).shape == (3,)


def test_time_per_iteration_dgm_costs_more_in_higher_dimension():
    m = pp.BasketBlackScholes(4)
    t_tdgf = dgm.time_per_iteration(m, "tdgf", points=256, width=16, layers=1, repeat=3)
    t_dgm = dgm.time_per_iteration(m, "dgm", points=256, width=16, layers=1, repeat=3)
    assert t_tdgf > 0 and t_dgm > 0


def test_dgm_net_and_mean_field_net():
    net = nets.DGMNet(3, width=8, layers=2)
    assert net(torch.rand(5, 3)).shape == (5,)
    plain = nets.DGMNet(3, width=8, layers=2, gated=False)
    assert sum(p.numel() for p in plain.parameters()) < sum(p.numel() for p in net.parameters())
    with pytest.raises(ValueError, match="shape"):
        net(torch.rand(5, 2))
    mf = nets.MeanFieldNet(100, delta=0.75, generator=torch.Generator().manual_seed(0))
    assert math.isclose(mf.lr_scale, 100**0.5)
    x = torch.rand(4, 1)
    manual = (mf.beta * torch.tanh(x @ mf.alpha.T + mf.c)).sum(1) / 100**0.75
    torch.testing.assert_close(mf(x), manual)
    with pytest.raises(ValueError, match="delta"):
        nets.MeanFieldNet(10, delta=2.0)


def test_param_jacobian_matches_autograd():
    mf = nets.MeanFieldNet(7, generator=torch.Generator().manual_seed(0))
    x = torch.rand(3, 1)
    J = nets.param_jacobian(mf, x, input_grad=True)
    for i in range(3):
        xi = x[i : i + 1].clone().requires_grad_(True)
        y = mf(xi)
        g = torch.autograd.grad(y.sum(), list(mf.parameters()), retain_graph=True)
        torch.testing.assert_close(J[i, 0], torch.cat([t.reshape(-1) for t in g]))
        (dx,) = torch.autograd.grad(y.sum(), xi, create_graph=True)
        g2 = torch.autograd.grad(dx.sum(), list(mf.parameters()))
        torch.testing.assert_close(J[i, 1], torch.cat([t.reshape(-1) for t in g2]))


def test_tdgf_on_device(device):
    m = pp.BlackScholes()
    net = tdgf.make_net(m, 8, 1, device=device)
    res = tdgf.tdgf_solve(m, T=0.1, n_steps=1, iters=5, points=64, net=net, progress=False)
    assert torch.isfinite(res.price(torch.ones(2, 1, device=device))).all()


def test_increment_form_composes_and_its_energy_is_the_step_energy():
    """U^k = U^{k-1} + c N^k: the result sums the networks, and each increment starts at zero."""
    m = pp.BlackScholes()
    seen = []
    res = tdgf.tdgf_solve(
        m,
        T=0.2,
        n_steps=3,
        iters=10,
        points=200,
        net=tdgf.make_net(m, 8, 1, gated=False),
        fit_iters=20,
        first_iters=20,
        increments=True,
        increment_scale=0.1,
        progress=False,
        callback=lambda k, net: seen.append(net),
    )
    assert res.increment_scale == 0.1 and len(res.states) == 3
    assert seen[1] is not seen[0] and seen[2] is not seen[1]  # a new network per increment
    S = torch.linspace(0.5, 1.5, 11)[:, None]
    with torch.no_grad():
        by_hand = seen[0](S) + 0.1 * (seen[1](S) + seen[2](S))
    torch.testing.assert_close(res.price(S), by_hand)
    torch.testing.assert_close(res.price(S, 1), seen[0](S).detach())
    # each increment lowered the energy of its step from the value at U^{k-1} (zero increment)
    assert all(e[-1] <= e[0] for e in res.energies)
    with pytest.raises(TypeError, match="increments"):
        tdgf.tdgf_solve(m, increments=1)
    with pytest.raises(ValueError, match="output='plain'"):
        tdgf.tdgf_solve(m, increments=True, output="bound")
    with pytest.raises(ValueError, match="increment_scale"):
        tdgf.tdgf_solve(m, increments=True, increment_scale=0.0)


def test_boundary_grid_covers_the_faces():
    m = pp.Heston()
    x, w, n = m.boundary_grid([5, 4])
    assert x.shape == (2 * 4 + 2 * 5, 2)
    perimeter = 2 * sum(h - lo for lo, h in zip(m.lo, m.hi, strict=True))
    assert math.isclose(float(w.sum()), perimeter, rel_tol=1e-12)
    on_face = [(x[:, i] == v) & (n[:, i] == s) for i in range(2) for v, s in ((m.lo[i], -1), (m.hi[i], 1))]
    assert bool(torch.stack(on_face).any(0).all()) and bool(((n**2).sum(1) == 1).all())
    with pytest.raises(ValueError, match="grid sizes"):
        m.boundary_grid([3])


def test_dgm_boundary_term_is_the_zero_flux_penalty():
    """A function with zero normal flux on the faces adds nothing; the call price (u_S = 1 at S_max) does."""
    m = pp.BlackScholes()
    zb, wb, nb = dgm._dgm_boundary(m, 1.0, (4, 10), torch.float64, "cpu")
    inner, w_in, x0, w0 = dgm._dgm_points(m, 1.0, "grid", (4, 10), None, torch.float64, "cpu")

    def flat(z):  # u = tau (written so that autograd keeps a graph in x): zero flux everywhere
        return z[:, 0] * (1 + 0 * z[:, 1])

    def call(z):
        return pricing.bs_call(z[:, 1], m.K, m.r, m.sigma, z[:, 0].clamp_min(1e-3))

    for u, expect_zero in ((flat, True), (call, False)):
        extra = (
            dgm.dgm_loss(u, m, inner, w_in, x0, w0, boundary=(zb, wb, nb))
            - dgm.dgm_loss(u, m, inner, w_in, x0, w0)
        ).detach()
        assert (abs(extra.item()) < 1e-14) == expect_zero
    with pytest.raises(ValueError, match="boundary"):
        dgm.dgm_solve(m, sampling="mc", boundary=True)


def test_dgm_callback_counts_evaluations():
    m = pp.BlackScholes()
    calls = []
    res = dgm.dgm_solve(
        m,
        T=0.2,
        iters=5,
        points=(4, 20),
        sampling="grid",
        net=tdgf.make_net(m, 8, 1, time_input=0.2),
        boundary=True,
        callback=lambda n, loss, net: calls.append((n, loss)),
        progress=False,
    )
    assert [n for n, _ in calls] == list(range(1, len(res.losses) + 1))
    assert [loss for _, loss in calls] == res.losses


def test_heston_tensor_elements_converge_to_quantlib_at_first_order():
    # the IMEX steps with tensor P1 elements against QuantLib (Heston rho = 0, the paper's case): the error
    # at tau = 1 is the first-order time-stepping error, C h with C ~ 6e-3 on this window (notebook
    # 05-tdgf/02), so 5 and 10 steps give ~1.2e-3 and ~6e-4 and halving h halves it (ratio 2 +- 0.4)
    m = pp.Heston()
    S = torch.linspace(0.8, 1.2, 41, dtype=torch.float64)
    x = torch.stack([S, torch.full_like(S, 0.03)], 1)
    ref = m.reference(x, 1.0)
    errs = []
    for n in (5, 10):
        fem = finite_elements.fem_imex_heston(m, 1.0, n)
        assert fem.U.shape == (n + 1, 301, 41)
        np.testing.assert_allclose(fem.U[0], np.maximum(fem.S - 1.0, 0)[:, None] * np.ones(41))
        errs.append(float((finite_elements.fem_interpolate(fem, n, x) - ref).abs().max()))
    assert errs[1] < 1e-3 and 1.6 < errs[0] / errs[1] < 2.4, errs
    with pytest.raises(TypeError, match="Heston"):
        finite_elements.fem_imex_heston(pp.BlackScholes(), 1.0, 5)
