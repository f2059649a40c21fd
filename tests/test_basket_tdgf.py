"""Seeded basket TDGF runs and their errors (gradflows.experiments.basket_tdgf)."""

import pytest
import torch
from gradflows import pricing_pdes as pp
from gradflows.experiments import basket_tdgf as bt

CFG = dict(steps=1, optimizer="lbfgs", width=4, layers=1, gated=False)


def test_seeded_runs_repeat_and_errors_shape():
    m = pp.BasketBlackScholes(2)
    r1 = bt.seeded_tdgf(m, 0.2, CFG, 16, "mc", 2, seed_offset=0)
    r2 = bt.seeded_tdgf(m, 0.2, CFG, 16, "mc", 2, seed_offset=0)
    diag = torch.linspace(0.9, 1.1, 3)[:, None].repeat(1, 2)
    assert torch.equal(r1.price(diag), r2.price(diag))  # same seed: same network and samples
    e = bt.price_errors(m, r1.price, diag, diag, m.reference(diag, 0.2), 0.2)
    assert set(e) == {"diag", "near", "train"} and e["diag"] == pytest.approx(e["train"])
    with pytest.raises(ValueError):
        bt.price_errors(m, r1.price, diag, diag, torch.zeros(2), 0.2)
    with pytest.raises(ValueError):
        bt.seeded_tdgf(m, 0.2, {"steps": 1}, 16, "mc", 2)
