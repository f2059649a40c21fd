"""gradflows.fast_langevin: time averages of the fast process (E).

For a quadratic loss f = kappa y^2 / 2 the process is Ornstein--Uhlenbeck with rate a = kappa + gamma,
Gibbs mean gamma x / a (also the mean of the Euler--Maruyama invariant law: the drift is linear) and
asymptotic variance 2 / a^2. Notebook 04-global/02-local-entropy.
"""

from __future__ import annotations

import math

import gradflows as gf
import pytest
import torch
from gradflows.fast_langevin import ergodic_average


def test_time_averages_of_ornstein_uhlenbeck() -> None:
    kappa, gamma, dt, R = 1.0, 2.0, 0.01, 2000
    a = kappa + gamma
    x = torch.tensor([-1.0, 0.5])
    tr = ergodic_average(
        x,
        gamma,
        dt,
        2000,
        grad=lambda y: kappa * y,
        replicas=R,
        n_burn=300,
        record_every=500,
        generator=gf.generator(3),
        progress=False,
    )
    assert tr.stats.shape == (4, R, 2, 1) and torch.allclose(tr.times, torch.tensor([5.0, 10.0, 15.0, 20.0]))
    Y, A = tr.final
    assert Y.shape == (R, 2, 1) and torch.equal(A, tr.stats[-1])
    mean = gamma * x / a
    err = tr.stats[-1, :, :, 0] - mean
    se = math.sqrt(2 / a**2 / 20.0 / R)  # sigma_as / sqrt(T R)
    assert bool((err.mean(0).abs() < 5 * se).all())
    ratio = (err**2).mean().item() * 20.0 / (2 / a**2)  # T * MSE / sigma_as^2, ~1 - 1/(aT) - O(dt)
    assert 0.85 < ratio < 1.1


def test_autograd_and_closed_form_gradient_agree() -> None:
    rq = gf.landscapes.rough_quadratic()
    kw = dict(replicas=3, record_every=10, progress=False)
    a = ergodic_average(torch.tensor([0.2]), 2.0, 0.005, 50, f=rq, generator=gf.generator(1), **kw)
    b = ergodic_average(
        torch.tensor([0.2]),
        2.0,
        0.005,
        50,
        grad=lambda y: 2 * y + 3 * math.pi * torch.cos(2 * math.pi * y),
        generator=gf.generator(1),
        **kw,
    )
    assert torch.allclose(a.stats, b.stats, atol=1e-12)


def test_divergence_is_reported() -> None:
    with pytest.raises(gf.DivergenceError):
        ergodic_average(
            torch.tensor([0.0]),
            1.0,
            0.5,
            200,
            grad=lambda y: 100 * y,
            generator=gf.generator(0),
            progress=False,
        )


@pytest.mark.parametrize(
    "kw",
    [
        dict(gamma=0.0),
        dict(dt=-0.1),
        dict(gamma=100.0, dt=0.05),  # dt gamma >= 2
        dict(n_steps=0),
        dict(replicas=0),
        dict(n_burn=-1),
        dict(f=lambda y: y.sum(-1)),  # both f and grad
        dict(grad=None),  # neither
        dict(y0=torch.zeros(3)),  # wrong shape
        dict(x=torch.zeros(2, 1, 1)),
        dict(x=torch.tensor([float("nan")])),
    ],
)
def test_bad_arguments_raise_value_error(kw) -> None:
    args = dict(x=torch.zeros(2), gamma=1.0, dt=0.01, n_steps=5, grad=lambda y: y) | kw
    x, gamma, dt, n = args.pop("x"), args.pop("gamma"), args.pop("dt"), args.pop("n_steps")
    with pytest.raises(ValueError):
        ergodic_average(x, gamma, dt, n, **args)
