"""Every bad variant of every entry of the table, classified; a summary and optionally JSON.

    python tests/api/sweep.py [--only MODULE ...] [--json PATH] [--show deep,silent,hang]

The JSON (``book/results/robustness.json`` for the appendix) holds the counts per outcome, per
module and per kind, and every variant that was not ``clear`` or ``accepted``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gradflows as gf  # noqa: E402
import torch  # noqa: E402

from api.engine import _Timeout, classify, materialize, public_callables, table, time_limit, variants  # noqa: E402

ABSURD = 10**9


def absurd_count(call, arg: str, seconds: float = 3.0) -> dict:
    """Call with ``arg = 10**9`` iterations for a few seconds: the loop may run (a user may want
    it) but must show a progress bar, and must not fail by allocating for every step up front."""
    old = os.environ.get("GRADFLOWS_PROGRESS")
    os.environ["GRADFLOWS_PROGRESS"] = "1"
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), time_limit(seconds):
            call.run(**{arg: ABSURD})
        outcome = "returned"
    except _Timeout:
        outcome = "progress bar" if re.search(r"\d+/\d+ \[", err.getvalue()) else "no progress bar"
    except (ValueError, TypeError) as e:
        outcome, err = "refused", io.StringIO(str(e))
    except Exception as e:  # noqa: BLE001
        outcome, err = "deep", io.StringIO(f"{type(e).__name__}: {e}")
    finally:
        if old is None:
            os.environ.pop("GRADFLOWS_PROGRESS", None)
        else:
            os.environ["GRADFLOWS_PROGRESS"] = old
    return {"name": call.name, "arg": arg, "outcome": outcome, "detail": err.getvalue()[-200:]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="module names (e.g. pricing tdgf)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--show", default="deep,silent,hang")
    ap.add_argument("--no-absurd", action="store_true", help="skip the absurd iteration counts")
    args = ap.parse_args(argv)
    torch.set_default_dtype(torch.float64)
    show = set(args.show.split(","))
    calls = [c for c in table() if args.only is None or c.name.split(".")[0] in args.only]
    results, t0 = [], time.perf_counter()
    for call in calls:
        for arg, label, bad, must in variants(call):
            try:
                value = materialize(call, arg, bad)
            except Exception as err:  # noqa: BLE001
                print(f"cannot build {call.name}({arg}={label}): {err}")
                continue
            out = classify(call, arg, label, value, must)
            results.append(out)
            if out.outcome in show:
                print(f"{out.outcome:8s} {call.name}({arg}={label}): {out.detail}")
    counts = collections.Counter(r.outcome for r in results)
    n = len(results)
    print(f"\n{n} variants of {len(calls)} callables in {time.perf_counter() - t0:.1f} s")
    for k in ("clear", "accepted", "deep", "silent", "hang"):
        print(f"  {k:9s} {counts.get(k, 0):6d}  ({100 * counts.get(k, 0) / max(n, 1):.1f} %)")
    absurd = []
    if not args.no_absurd:
        for call in calls:
            for arg, kind in call.kinds.items():
                if kind in ("count", "count?"):
                    absurd.append(absurd_count(call, arg))
                    a = absurd[-1]
                    if a["outcome"] in ("no progress bar", "deep"):
                        print(f"absurd   {call.name}({arg}=10**9): {a['outcome']} {a['detail']}")
        seen = collections.Counter(a["outcome"] for a in absurd)
        print(f"{len(absurd)} absurd iteration counts (10**9): {dict(seen)}")
    missing = sorted(set(public_callables()) - {c.name for c in table()})
    if args.only is None:
        print(f"public callables without an entry: {len(missing)}")
    if args.json:
        by_module = collections.defaultdict(collections.Counter)
        by_label = collections.defaultdict(collections.Counter)
        for r in results:
            by_module[r.name.split(".")[0]][r.outcome] += 1
            by_label[r.label][r.outcome] += 1
        data = {
            "gradflows": gf.__version__,
            "torch": torch.__version__,
            "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
            "date": time.strftime("%Y-%m-%d"),
            "callables": len(calls),
            "public_callables": len(public_callables()),
            "variants": n,
            "counts": dict(counts),
            "by_module": {k: dict(v) for k, v in sorted(by_module.items())},
            "by_label": {k: dict(v) for k, v in sorted(by_label.items())},
            "defects": [r.__dict__ for r in results if r.outcome in ("deep", "silent", "hang")],
            "absurd_counts": absurd,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
