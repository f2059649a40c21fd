"""gradflows.hamilton_jacobi: the monotone HJ solver against closed forms and scipy."""

import math

import numpy as np
import pytest
import torch
from gradflows.hamilton_jacobi import HJSolution, solve_hj
from scipy.integrate import solve_ivp


def test_constant_speeds_give_min_over_interval():
    # H = a p^+ + b p^- with constant a, b: v(0, x) = min f over [x - a T, x + b T]; f = x^2 -> exact values
    x = torch.linspace(-4, 4, 1601, dtype=torch.float64)
    a, b, T = 1.0, 0.5, 1.0
    sol = solve_hj(x, x**2, T, speeds=(torch.full_like(x, a), torch.full_like(x, b)), progress=False)
    xe = torch.linspace(-2, 2, 41, dtype=torch.float64)
    lo, hi = xe - a * T, xe + b * T
    exact = torch.where(lo > 0, lo**2, torch.where(hi < 0, hi**2, torch.zeros_like(xe)))
    assert (sol.value(0.0, xe) - exact).abs().max() < 0.03
    assert torch.allclose(sol.v[-1], x**2) and sol.times[0] == 0 and abs(float(sol.times[-1]) - T) < 1e-12


def test_variable_speed_linear_data_first_order_vs_solve_ivp():
    # f = x: v(0, x) = x_-(T) with x_-' = -a(x_-): error O(dx), halves with dx
    def a_fn(z):
        return 1 + 0.5 * np.sin(z)

    xe = np.linspace(-1, 1, 21)
    ref = solve_ivp(lambda t, z: -a_fn(z), (0, 1.0), xe, rtol=1e-11, atol=1e-12).y[:, -1]
    errs = []
    for n in (401, 801):
        x = torch.linspace(-4, 4, n, dtype=torch.float64)
        a = torch.as_tensor(a_fn(x.numpy()))
        sol = solve_hj(x, x.clone(), 1.0, speeds=(a, torch.zeros_like(a) + 0.3), progress=False)
        errs.append(float((sol.value(0.0, torch.as_tensor(xe)) - torch.as_tensor(ref)).abs().max()))
    assert errs[1] < 0.6 * errs[0] and errs[1] < 0.02


def test_lax_friedrichs_matches_upwind():
    x = torch.linspace(-3, 3, 601, dtype=torch.float64)
    f = torch.cos(2 * x)
    up = solve_hj(x, f, 0.5, speeds=(torch.ones_like(x), torch.ones_like(x)), progress=False)
    lf = solve_hj(x, f, 0.5, hamiltonian=lambda x, p: p.abs(), lipschitz=1.0, progress=False)
    inner = x.abs() < 2
    assert (up.v[0][inner] - lf.v[0][inner]).abs().max() < 0.05
    assert isinstance(up, HJSolution) and up.gradient(0.2, torch.tensor([0.1])).shape == (1,)


def test_validation():
    x = torch.linspace(-1, 1, 11, dtype=torch.float64)
    s = (torch.ones_like(x), torch.ones_like(x))
    with pytest.raises(ValueError):
        solve_hj(x, x, 1.0)  # neither speeds nor hamiltonian
    with pytest.raises(ValueError):
        solve_hj(x, x, -1.0, speeds=s)
    with pytest.raises(ValueError):
        solve_hj(x, x, 1.0, speeds=s, n_steps=2)  # violates CFL
    with pytest.raises(ValueError):
        solve_hj(x, x, 1.0, speeds=(-torch.ones_like(x), torch.ones_like(x)))
    with pytest.raises(ValueError):
        solve_hj(torch.tensor([0.0, 0.1, 0.5]), torch.zeros(3), 1.0, speeds=(torch.ones(3), torch.ones(3)))
    with pytest.raises(ValueError):
        solve_hj(x, x, 1.0, hamiltonian=lambda x, p: p.abs())  # no lipschitz
    with pytest.raises(ValueError):
        solve_hj(x, x[:-1], 1.0, speeds=s)
    with pytest.raises(ValueError):
        solve_hj(x, x * math.nan, 1.0, speeds=s)


def test_solution_outside_the_grid_raises():
    x = torch.linspace(-1, 1, 21, dtype=torch.float64)
    sol = solve_hj(x, x**2, 0.1, speeds=(torch.ones_like(x), torch.ones_like(x)), progress=False)
    assert sol.value(0.0, torch.tensor([1.0], dtype=torch.float64)).shape == (1,)
    with pytest.raises(ValueError):
        sol.value(0.0, torch.tensor([1.5]))
    with pytest.raises(ValueError):
        sol.gradient(0.0, torch.tensor([-1.01]))
