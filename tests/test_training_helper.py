"""The one training helper: against torch.optim, histories, divergence, one place for optimizers."""

import ast
import math
import pathlib

import gradflows as gf
import pytest
import torch
from gradflows import _training as TH

LIB = pathlib.Path(gf.__file__).parent


def _quadratic():
    # J(p) = sum_i (lambda_i p_i^2 / 2 - p_i) with eigenvalues from 1e-4 to 1: not solved to round-off
    # within the budgets below
    lam = torch.logspace(-4, 0, 40, dtype=torch.float64)
    p = torch.zeros(40, dtype=torch.float64, requires_grad=True)
    return lam, p, lambda i: (0.5 * lam * p**2 - p).sum()


@pytest.mark.parametrize("chunk", [None, 5])
def test_lbfgs_is_torch_lbfgs_with_the_library_settings(chunk):
    lam, p, loss = _quadratic()
    hist = TH.minimize([p], loss, 20, "lbfgs", chunk=chunk)
    # the same run with torch.optim.LBFGS called directly
    q = torch.zeros(40, dtype=torch.float64, requires_grad=True)
    kw = {"max_iter": 20, "max_eval": 26} if chunk is None else {"max_iter": chunk}
    opt = torch.optim.LBFGS([q], history_size=50, line_search_fn="strong_wolfe", **TH.LBFGS_TOLERANCES, **kw)

    def closure():
        opt.zero_grad()
        value = (0.5 * lam * q**2 - q).sum()
        value.backward()
        return value

    for _ in range(1 if chunk is None else 20 // chunk):
        opt.step(closure)
    assert torch.equal(p.detach(), q.detach())
    assert len(hist) == (4 if chunk else len(hist)) and hist[-1] < hist[0]
    assert hist[-1] <= float(closure()) + 1e-15


def test_adam_records_every_step_and_decreases_the_loss():
    _, p, loss = _quadratic()
    hist = TH.minimize([p], loss, 300, "adam", lr=0.05)
    assert len(hist) == 300 and hist[-1] < hist[0]


def test_a_non_finite_loss_raises_divergence_with_advice():
    p = torch.ones(2, requires_grad=True)
    msg = r"demo diverged: the loss became nan at iteration 1; do this"
    with pytest.raises(gf.DivergenceError, match=msg):
        TH.minimize([p], lambda i: (p * math.nan).sum(), 5, "adam", desc="demo", advice="do this")
    with pytest.raises(gf.DivergenceError, match="demo diverged"):
        TH.minimize([p], lambda i: (p * math.inf).sum(), 5, "lbfgs", desc="demo")
    with pytest.raises(ValueError, match="optimizer must be one of"):
        TH.minimize([p], lambda i: p.sum(), 5, "newton")


def test_sgd_follows_its_step_schedule_and_runs_the_hook():
    # gradient descent on |p|^2 / 2 with steps lr_i: p_(i+1) = (1 - lr_i) p_i, in closed form
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    lrs, seen = [0.5, 0.25, 0.125], []
    hist = TH.minimize(
        [p], lambda i: 0.5 * (p * p).sum(), 3, "sgd", lambda i: lrs[i], after_step=lambda i: seen.append(i)
    )
    factor = (1 - 0.5) * (1 - 0.25) * (1 - 0.125)
    assert torch.allclose(
        p.detach(), factor * torch.tensor([1.0, -2.0], dtype=torch.float64), rtol=0, atol=1e-15
    )
    assert seen == [0, 1, 2] and len(hist) == 3 and hist[0] == 2.5


def test_one_training_helper():
    # optimizers for training are built in one place; gradflows.adam re-implements Adam on purpose,
    # the independent references and the benchmarks' peers call torch.optim (what they are checked against)
    for path in LIB.rglob("*.py"):
        if path.name == "_training.py" or path.parent.name in ("references", "bench"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("LBFGS", "Adam", "SGD"):
                base = node.value
                assert not (isinstance(base, ast.Attribute) and base.attr == "optim"), (
                    f"{path.name} builds a torch optimizer: use gradflows._training.minimize"
                )
