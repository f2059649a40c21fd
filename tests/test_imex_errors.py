"""Error harnesses of gradflows.finite_elements (in_window, window_max_error, imex_error_table,
imex_error_over_steps) against the Black-Scholes formula."""

import numpy as np
import pytest
from gradflows import finite_elements as fe
from gradflows import pricing_pdes as pp


def test_window_and_max_error():
    bs = pp.BlackScholes()
    x = np.linspace(0.5, 1.5, 11)
    assert fe.in_window(x).sum() in (4, 5) and not fe.in_window(np.array([0.5, 1.5])).any()
    exact = bs.reference(__import__("torch").as_tensor(x)[:, None], 0.5).numpy()
    assert fe.window_max_error(bs, x, exact + 1e-3, 0.5) == pytest.approx(1e-3)
    with pytest.raises(ValueError):
        fe.window_max_error(bs, x, exact[:-1], 0.5)
    with pytest.raises(ValueError):
        fe.window_max_error(bs, x, exact, 0.5, lo=5, hi=6)


def test_tables_have_first_order_and_shapes():
    bs = pp.BlackScholes()
    err, final = fe.imex_error_table({"a": (bs, 601)}, 1.0, (4, 8))
    assert err["a"].shape == (2,) and len(final["a"]) == 2 and final["a"][0][1].shape == (601,)
    assert 1.5 < err["a"][0] / err["a"][1] < 2.5  # first order in h
    sup, l2, worst = fe.imex_error_over_steps(bs, 1.0, (2, 4), 601)
    assert sup.shape == l2.shape == (2,) and len(worst) == 2 and all(1 <= k <= 4 for k in worst[1])
    with pytest.raises(ValueError):
        fe.imex_error_table({"a": (bs, 601)}, -1.0, (4,))
