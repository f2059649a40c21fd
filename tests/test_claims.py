"""The claims checks: pass/fail, the fraction of the tolerance used, the log and its summary."""

import json
import math

import pytest
from gradflows import claims


def test_checks_pass_and_fail(capsys):
    claims.check_le("X-1", 0.5, 1.0, "half")
    claims.check_ge("X-2", 4.0, 2.0, "twice")
    claims.check_close("X-3", 1.05, 1.0, 0.1, "near")
    out = capsys.readouterr().out
    assert "50 % of the tolerance used" in out and out.count("holds") == 3
    with pytest.raises(AssertionError, match="X-1"):
        claims.check_le("X-1", 1.5, 1.0)
    with pytest.raises(AssertionError, match="X-2"):
        claims.check_ge("X-2", -1.0, 2.0)
    with pytest.raises(AssertionError, match="X-3"):
        claims.check_close("X-3", 1.2, 1.0, 0.1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: claims.check_le("X", float("nan"), 1.0),
        lambda: claims.check_le("X", 1.0, 0.0),
        lambda: claims.check_ge("X", "a", 1.0),
        lambda: claims.check_close("X", 1.0, 1.0, -1.0),
        lambda: claims.check_le("", 1.0, 2.0),
    ],
)
def test_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


def test_log_and_summary(tmp_path, monkeypatch, capsys):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("GRADFLOWS_CLAIMS_LOG", str(log))
    for seed, value in ((0, 0.2), (1, 0.7)):
        monkeypatch.setenv("GRADFLOWS_SEED", str(seed))
        claims.check_le("Y-1", value, 1.0, "err")
    with pytest.raises(AssertionError):
        claims.check_le("Y-1", 2.0, 1.0, "err")  # a failure is logged too
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [d["seed"] for d in lines] == [0, 1, 1]
    (row,) = claims.summary(str(log))
    assert row[:3] == ("Y-1", "err", 3) and math.isclose(row[3], 2.0) and row[4] == [0, 1]
    assert claims.report([str(log)]) == 0
    assert "Y-1" in capsys.readouterr().out


def test_glue_writes_what_myst_nb_glue_writes(monkeypatch):
    # oracle: myst_nb's own glue, with IPython's display captured in both modules
    import IPython.display
    from myst_nb.ext import glue as myst_glue

    calls = []

    def capture(*objs, **kwargs):
        calls.append((objs, kwargs))

    monkeypatch.setattr(IPython.display, "display", capture)
    monkeypatch.setattr(myst_glue, "ipy_display", capture)
    for value in (0.125, 3, "text"):
        calls.clear()
        myst_glue.glue("x_1", value, display=False)
        claims.glue("x_1", value)
        assert len(calls) == 2 and calls[0] == calls[1]
        assert "application/papermill.record/text/plain" in calls[1][0][0]
    with pytest.raises(ValueError, match="name"):
        claims.glue("", 1.0)
