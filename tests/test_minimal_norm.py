"""gradflows.experiments.minimal_norm: minimal-norm interpolants (SLSQP with certificate), Newton polish
and branches."""

import numpy as np
import pytest
import torch
from gradflows import control as C
from gradflows import training as TR
from gradflows.experiments import minimal_norm as MN


@pytest.fixture(scope="module")
def problem():
    torch.set_default_dtype(torch.float64)
    x0 = torch.tensor([[0.5, 0.2], [-0.4, 0.3]])
    y = torch.tensor([1.0, -1.0])
    return x0, y


def test_vectors_round_trip():
    c = C.random_controls(2, 3, 1.5, generator=torch.Generator().manual_seed(0))
    back = MN.to_controls(MN.to_vec(c), 1.5, 3)
    torch.testing.assert_close(back.w, c.w)
    torch.testing.assert_close(back.b, c.b)
    with pytest.raises(ValueError):
        MN.to_controls(torch.zeros(5), 1.0, 3)
    with pytest.raises(ValueError):
        MN.to_vec(C.Controls(c.w, None, 1.5))


def test_interpolant_certificate_and_branch(problem):
    x0, y = problem
    fit = TR.fit_controls(
        x0, y, 1.0, 2, lam=1e-4, iters=10, generator=torch.Generator().manual_seed(1), progress=False
    )
    s = MN.min_norm_interpolant(MN.to_vec(fit.controls).numpy(), x0, y, 2)
    assert s["feas"] < 1e-10 and s["kkt"] < 1e-6 and s["certified"]
    np.testing.assert_allclose(
        MN.residual(torch.from_numpy(s["theta"]), 1.0, x0, y, 2).numpy(), 0, atol=1e-10
    )
    theta1, kappa = MN.first_order(s)
    assert theta1.shape == s["theta"].shape and np.isfinite(kappa)
    B = MN.branch(s, theta1, [1e-6, 1e-5], x0, y, 2)
    # phi ~ N |nu|^2 lam^2 / 4 along the branch, and the norm stays below ||u*||^2
    C_rate = 2 * float(s["nu"] @ s["nu"]) / 4
    assert abs(B[1e-6]["phi"] / (C_rate * 1e-12) - 1) < 1e-3
    assert B[1e-5]["norm"] < B[1e-6]["norm"] < s["norm"] and B[1e-5]["on_branch"]
    polished, nit = MN.newton_polish(fit, 1e-4, x0, y)
    assert polished.objective <= fit.objective + 1e-12 and nit >= 0
    with pytest.raises(ValueError):
        MN.newton(s["theta"], 1.0, 0.0, x0, y, 2)
