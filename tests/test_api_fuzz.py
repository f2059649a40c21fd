"""Bad input gets a clear error, at every public entry point (property-based, with hypothesis).

The table of valid calls lives in ``tests/api/calls_*.py``; the harness and the outcome classes in
``tests/api/engine.py``. For each public callable, hypothesis replaces one argument at a time by a
bad value of its kind and the call must either raise a clear ``ValueError`` / ``TypeError`` /
``DivergenceError`` from gradflows' own code, or (for values a function may accept, such as a list
for a tensor) return finite values. A public callable without an entry fails
:func:`test_every_public_callable_has_an_entry`, so a function cannot join the API unvalidated.
"""

from __future__ import annotations

import math

import pytest
import torch
from api.engine import KINDS, check_valid, classify, materialize, public_callables, table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CALLS = table()
FUZZED = [c for c in CALLS if c.kinds]

# Values drawn beyond the fixed lists of KINDS, where a kind has a whole range of bad numbers.
_RICH = {
    "pos": st.floats(max_value=0.0, allow_nan=False).map(lambda v: ("<= 0", v, True)),
    "nonneg": st.floats(max_value=-1e-300, allow_nan=False).map(lambda v: ("< 0", v, True)),
    "real": st.sampled_from([math.nan, math.inf, -math.inf]).map(lambda v: ("non-finite", v, True)),
    "size": st.integers(max_value=0).map(lambda v: ("< 1", v, True)),
    "count": st.integers(max_value=0).map(lambda v: ("< 1", v, True)),
    "index": st.integers(max_value=-1).map(lambda v: ("< 0", v, True)),
}


def _bad_values(kind: str):
    fixed = st.sampled_from(KINDS[kind])
    base = kind.rstrip("?")
    return st.one_of(fixed, _RICH[base]) if base in _RICH else fixed


def test_every_public_callable_has_an_entry():
    names = {c.name for c in CALLS}
    missing = sorted(set(public_callables()) - names)
    assert not missing, f"public callables without a valid call in tests/api/calls_*.py: {missing}"
    assert len(names) == len(CALLS), "two entries of the table have the same name"


@pytest.mark.parametrize("call", CALLS, ids=lambda c: c.name)
def test_the_valid_call_runs(call):
    torch.set_default_dtype(torch.float64)
    check_valid(call)


@pytest.mark.parametrize("call", FUZZED, ids=lambda c: c.name)
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_bad_argument_gets_a_clear_error(call, data):
    arg = data.draw(st.sampled_from(sorted(call.kinds)), label="argument")
    label, bad, must = data.draw(_bad_values(call.kinds[arg]), label="bad value")
    value = materialize(call, arg, bad)
    out = classify(call, arg, label, value, must)
    assert out.outcome in ("clear", "accepted"), f"{call.name}({arg}={label}): {out.outcome}: {out.detail}"
