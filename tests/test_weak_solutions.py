"""Weak solution of w' = -sign(w): closed forms, scipy reference, the Kruzkov inequalities."""

import numpy as np
import pytest
import scipy.integrate
import torch
from gradflows import weak_solutions as ws


def test_weak_solution_formula():
    t = torch.tensor([0.0, 0.5, 1.0, 2.0])
    assert ws.weak_solution_abs(1.0, t).tolist() == [1.0, 0.5, 0.0, 0.0]
    assert ws.weak_solution_abs(-1.0, t).tolist() == [-1.0, -0.5, 0.0, 0.0]
    assert ws.weak_solution_abs(torch.tensor([[2.0], [-0.5]]), t).shape == (2, 4)


@pytest.mark.parametrize("w0", [1.3, -0.7])
def test_smoothed_flow_closed_form_matches_scipy(w0):
    eps = 0.05
    t = np.linspace(0, 2, 21)
    sol = scipy.integrate.solve_ivp(
        lambda _t, w: -w / np.sqrt(w * w + eps * eps), (0, 2), [w0], t_eval=t, rtol=1e-12, atol=1e-14
    )
    ours = ws.smoothed_abs_flow(w0, torch.from_numpy(t), eps).numpy()
    np.testing.assert_allclose(ours, sol.y[0], atol=1e-9)


def test_smoothed_abs_values():
    J = ws.smoothed_abs(0.1)
    assert float(J(torch.tensor([0.0, 0.0]))) == pytest.approx(0.2)
    assert J(torch.zeros(4, 3)).shape == (4,)


def _tests(t, T):
    centers = torch.linspace(0.1, 0.9, 5) * T
    width = 0.3 * T
    u = (t[None] - centers[:, None]) / width
    bump = torch.where(u.abs() < 1, (1 - u * u) ** 2, torch.zeros_like(u))
    dbump = torch.where(u.abs() < 1, -4 * u * (1 - u * u) / width, torch.zeros_like(u))
    ramp = torch.clamp(1 - t / T, min=0) ** 2
    dramp = -2 * torch.clamp(1 - t / T, min=0) / T
    return torch.cat([bump, ramp[None]]), torch.cat([dbump, dramp[None]])


def test_kruzkov_inequality_holds_for_weak_solution_and_fails_otherwise():
    T, w0 = 2.0, 0.8
    t = torch.linspace(0, T, 4001)
    phi, dphi = _tests(t, T)
    y = torch.linspace(-1.5, 1.5, 31)
    good = ws.kruzkov_functional(ws.weak_solution_abs(w0, t), t, w0, y, phi, dphi)
    assert good.shape == (6, 31)
    assert good.min() > -1e-6
    bad = ws.kruzkov_functional(w0 - t, t, w0, y, phi, dphi)  # runs through zero
    assert bad.min() < -1e-2


@pytest.mark.parametrize(
    "call, msg",
    [
        (lambda: ws.weak_solution_abs(1.0, -1.0), "t must be"),
        (lambda: ws.smoothed_abs(0.0), "eps"),
        (lambda: ws.smoothed_abs_flow(1.0, 1.0, -1.0), "eps"),
        (lambda: ws.smoothed_abs_flow(float("nan"), 1.0, 0.1), "NaN"),
        (
            lambda: ws.kruzkov_functional(
                torch.zeros(3), torch.arange(3.0), 0.0, torch.zeros(2), -torch.ones(3), torch.zeros(3)
            ),
            "non-negative",
        ),
        (
            lambda: ws.kruzkov_functional(
                torch.zeros(4), torch.arange(3.0), 0.0, torch.zeros(2), torch.ones(3), torch.zeros(3)
            ),
            "grid",
        ),
    ],
)
def test_weak_bad_inputs(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()
