"""The landscapes of Part 4: a wide shallow valley and a narrow deeper one; the rough bowl."""

import math

import pytest
import torch
from gradflows import landscapes as L


def test_wide_narrow_has_its_minima_where_stated():
    f = L.wide_narrow()
    y = torch.linspace(-4, 4, 16001, dtype=torch.float64)[:, None]
    v = f(y)
    left, right = y[:, 0] < 0, y[:, 0] > 0
    y_w = y[left][v[left].argmin()].item()
    y_n = y[right][v[right].argmin()].item()
    assert abs(y_w + 1.5) < 0.2 and abs(y_n - 1.5) < 0.05
    assert v[right].min() < v[left].min()  # the narrow valley is the deeper one


def test_wide_narrow_in_two_dimensions_and_against_its_formula():
    f = L.wide_narrow(wide=(-1.0, 0.5, 1.0), narrow=(2.0, 0.1, 3.0), confinement=0.5)
    y = torch.tensor([[0.3, -0.2], [2.0, 0.0]], dtype=torch.float64)
    expect = [
        0.25 * (yy[0] ** 2 + yy[1] ** 2)
        - math.exp(-((yy[0] + 1) ** 2 + yy[1] ** 2) / 0.5)
        - 3 * math.exp(-((yy[0] - 2) ** 2 + yy[1] ** 2) / 0.02)
        for yy in y.tolist()
    ]
    assert torch.allclose(f(y), torch.tensor(expect, dtype=torch.float64), atol=1e-14)


def test_rough_quadratic_matches_its_formula():
    f = L.rough_quadratic()
    y = torch.tensor([[0.1], [-0.7]], dtype=torch.float64)
    expect = torch.tensor([0.01 + 1.5 * math.sin(0.2 * math.pi), 0.49 + 1.5 * math.sin(-1.4 * math.pi)])
    assert torch.allclose(f(y), expect.double(), atol=1e-14)


@pytest.mark.parametrize(
    "call",
    [
        lambda: L.wide_narrow(confinement=0.0),
        lambda: L.wide_narrow(wide=(float("nan"), 1.0, 1.0)),
        lambda: L.wide_narrow(narrow=(1.0, -0.1, 1.0)),
        lambda: L.wide_narrow(narrow=(1.0, 0.1, 0.0)),
        lambda: L.rough_quadratic(amplitude=float("inf")),
        lambda: L.rough_quadratic(frequency=0.0),
    ],
)
def test_bad_parameters_are_refused(call):
    with pytest.raises(ValueError):
        call()


def test_one_gradient_takes_exactly_one_of_f_and_grad():
    from gradflows.ode_optimizers import one_gradient

    f = L.rough_quadratic()
    y = torch.tensor([[0.3], [-0.2]], dtype=torch.float64)
    g = one_gradient(f, None)
    expect = 2 * y + 1.5 * 2 * math.pi * torch.cos(2 * math.pi * y)
    assert torch.allclose(g(y), expect, atol=1e-12)
    assert one_gradient(None, torch.sin) is torch.sin
    for args in [(None, None), (f, torch.sin)]:
        with pytest.raises(ValueError):
            one_gradient(*args)
    for args in [("f", None), (None, 3.0)]:  # the one given is not callable: a type error
        with pytest.raises(TypeError):
            one_gradient(*args)
