"""Claims checks that report how much of their tolerance they use.

A notebook's claims check compares a measured quantity with a tolerance derived before the
run. ``check_le("TDGF-5", err, tol, "Heston rho = 0, median over 5 seeds")`` asserts
``err <= tol`` and prints the fraction of the tolerance used, ``err / tol``; ``check_ge``
asserts ``value >= bound`` (fraction ``bound / value``) and ``check_close`` asserts
``|value - target| <= tol`` (fraction ``|value - target| / tol``). A fraction near 1 is a
pass by luck: over the seeds of ``make test-seeds`` the largest fraction should stay well
below 1.

With ``GRADFLOWS_CLAIMS_LOG`` set to a file, every check appends one JSON line (claim,
description, value, bound, fraction, base seed), whether it passes or not;
:func:`report` prints the largest fraction of every check over the seeds (``make test-seeds``
calls it).

:func:`glue` publishes a measured number for the prose of a notebook (MyST-NB's
``{glue:text}`` role), as ``myst_nb.glue(name, value, display=False)`` does, without the
seconds that importing ``myst_nb``'s notebook machinery costs each kernel.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import defaultdict

from .device import base_seed

__all__ = [
    "check_le",
    "check_ge",
    "check_close",
    "glue",
    "glue_values",
    "summary",
    "report",
    "seeds_json",
]


def _number(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name} is NaN")
    return v


def _record(claim: str, what: str, value: float, bound: float, relation: str, used: float) -> None:
    if not isinstance(claim, str) or not claim:
        raise ValueError(f"claim must be a non-empty string such as 'TDGF-5', got {claim!r}")
    ok = used <= 1.0
    print(
        f"claim {claim} ({what}): {value:.4g} {relation} {bound:.4g}: "
        f"{'holds' if ok else 'FAILS'}, {100 * used:.0f} % of the tolerance used"
    )
    log = os.environ.get("GRADFLOWS_CLAIMS_LOG", "").strip()
    if log:
        line = {
            "claim": claim,
            "what": what,
            "value": value,
            "bound": bound,
            "relation": relation,
            "used": used,
            "seed": base_seed(),
        }
        with open(log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
    if not ok:
        raise AssertionError(f"claim {claim} ({what}) fails: {value:.6g} {relation} {bound:.6g} is false")


def check_le(claim: str, value: float, bound: float, what: str = "") -> None:
    """Assert ``value <= bound`` (``bound > 0``); the fraction used is ``max(value, 0) / bound``."""
    value, bound = _number("value", value), _number("bound", bound)
    if bound <= 0:
        raise ValueError(f"bound must be positive, got {bound}")
    _record(claim, what, value, bound, "<=", max(value, 0.0) / bound)


def check_ge(claim: str, value: float, bound: float, what: str = "") -> None:
    """Assert ``value >= bound`` (``bound > 0``); the fraction used is ``bound / value``."""
    value, bound = _number("value", value), _number("bound", bound)
    if bound <= 0:
        raise ValueError(f"bound must be positive, got {bound}")
    _record(claim, what, value, bound, ">=", bound / value if value > 0 else math.inf)


def check_close(claim: str, value: float, target: float, tol: float, what: str = "") -> None:
    """Assert ``|value - target| <= tol``; the fraction used is ``|value - target| / tol``."""
    value, target, tol = _number("value", value), _number("target", target), _number("tol", tol)
    if tol <= 0:
        raise ValueError(f"tol must be positive, got {tol}")
    _record(
        claim,
        f"{what}, target {target:.4g}".lstrip(", "),
        value,
        tol,
        "|. - target| <=",
        abs(value - target) / tol,
    )


_GLUE_PREFIX = "application/papermill.record/"  # MyST-NB's mime prefix for hidden glue outputs


def glue(name: str, value) -> None:
    """Publish ``value`` under ``name`` for the notebook's prose: ``{glue:text}`name:.2e```.

    Writes the same hidden display output as ``myst_nb.glue(name, value, display=False)``
    (the value's mime bundle under the prefix ``application/papermill.record/``, with
    ``scrapbook`` metadata), which the book build reads. ``myst_nb.glue`` imports ``nbformat``
    and with it ``jsonschema``'s format checkers, whose grammar takes seconds to build in
    every kernel; this function needs only IPython.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    from IPython.core.formatters import format_display_data
    from IPython.display import display

    bundle, metadata = format_display_data(value)
    metadata["scrapbook"] = {"name": name, "mime_prefix": _GLUE_PREFIX}
    display({_GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glue_values(prefix: str = "", /, **values) -> None:
    """Publish each ``values[name]`` as a Python float under ``prefix_name`` (or ``name`` without
    a prefix), for the prose: ``{glue:text}`prefix_name:.3g```. Floats, so that the text can format
    tensors and NumPy scalars alike."""
    if not isinstance(prefix, str):
        raise ValueError(f"prefix must be a string, got {prefix!r}")
    for name, value in values.items():
        glue(f"{prefix}_{name}" if prefix else name, float(value))


def summary(log: str) -> list[tuple[str, str, int, float, list[int]]]:
    """``(claim, description, checks, largest fraction used, seeds)`` for every check in ``log``."""
    rows: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    with open(log, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                rows[(d["claim"], d["what"])].append((d["seed"], d["used"]))
    return [
        (claim, what, len(v), max(u for _, u in v), sorted({s for s, _ in v}))
        for (claim, what), v in sorted(rows.items())
    ]


def seeds_json(path: str, logs: list[str], run: str = "make test-seeds") -> dict:
    """Write (and return) the per-claim summary of one or more claims logs as JSON: for every claim
    (``SGD-1``, ...) the number of checks recorded, the largest fraction of a tolerance used and the
    seeds; for every log, its date and seeds. The appendix "Performance and reliability" reads it."""
    import time

    claims: dict[str, dict] = {}
    runs = []
    for log in logs:
        seeds: set[int] = set()
        parts: set[str] = set()
        for claim, what, n, used, s in summary(log):
            parts.add(claim.partition("-")[0])
            c = claims.setdefault(claim, {"checks": 0, "max_used": 0.0, "seeds": [], "worst": ""})
            c["checks"] += n
            if used >= c["max_used"]:
                c["max_used"], c["worst"] = used, what
            c["seeds"] = sorted(set(c["seeds"]) | set(s))
            seeds |= set(s)
        mtime = time.strftime("%Y-%m-%d %H:%M", time.gmtime(os.path.getmtime(log)))
        runs.append(
            {
                "log": os.path.basename(os.path.dirname(log)) or log,
                "date": mtime,
                "seeds": sorted(seeds),
                "claims": sorted(parts, key=lambda c: _claim_key(c + "-0")),
            }
        )
    data = {
        "run": run,
        "runs": runs,
        "claims": dict(sorted(claims.items(), key=lambda kv: _claim_key(kv[0]))),
    }
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=1) + "\n")
    return data


def _claim_key(claim: str) -> tuple:
    prefix, _, num = claim.partition("-")
    order = ("SGD", "TURN", "MFLD", "GLOB", "TDGF")
    return (order.index(prefix) if prefix in order else len(order), prefix, int(num) if num.isdigit() else 0)


def report(argv: list[str]) -> int:
    """Print the closing line of each pytest log and the :func:`summary` of a claims log.

    ``argv = [CLAIMS_LOG, PYTEST_LOG, ...]``; returns a process exit code."""
    if not argv:
        print("usage: report([CLAIMS_LOG, PYTEST_LOG, ...])", file=sys.stderr)
        return 2
    for path in argv[1:]:  # the closing line of each pytest run
        with open(path, encoding="utf-8", errors="replace") as f:
            last = [ln.strip() for ln in f if (" passed" in ln or " failed" in ln) and " in " in ln]
        print(f"{os.path.basename(path)}: {last[-1] if last else 'no pytest summary'}")
    if not os.path.exists(argv[0]):
        print("no claims were recorded (no check went through gradflows.claims)")
        return 0
    print(f"\n{'claim':10s} {'checks':>6s} {'max used':>9s}  seeds  description")
    for claim, what, n, used, seeds in summary(argv[0]):
        print(f"{claim:10s} {n:6d} {100 * used:8.0f}%  {','.join(map(str, seeds)):5s}  {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(report(sys.argv[1:]))
