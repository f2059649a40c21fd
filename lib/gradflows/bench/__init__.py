"""Benchmarks: ``python -m gradflows.bench [--quick] [--only SECTION]`` (``make bench``).

Sections: ``sgd``, ``particles``, ``deep_relaxation``, ``pricing``.

Every benchmark times a kernel of :mod:`gradflows` against a peer measured in the same
run and prints the ratio; timing goals are reported, never asserted.

* :mod:`gradflows.bench.sgd` (chapter 1): ``adam`` against ``torch.optim.Adam``; batched
  RK4 for the Nesterov ODE against a loop over ``scipy.integrate.solve_ivp``.
* :mod:`gradflows.bench.particles` (chapters 3 and 4): ``langevin`` against
  ``torchsde.sdeint(method="euler")``; the mean-field drift as GFLOP/s and GB/s next to
  the machine's measured matmul rate and memory bandwidth.
* :mod:`gradflows.bench.deep_relaxation` (chapter 4): the two-scale system ``two_scale`` against
  a plain torch loop of the same scheme and ``torchsde.sdeint(method="euler")`` (with its default
  and with a lean Brownian motion); Entropy-SGD's outer step against ``L`` and ``L + 1`` steps of
  ``torch.optim.SGD``.
* :mod:`gradflows.bench.pricing` (chapter 5): time per training iteration of the DGM and the
  TDGF for a basket call in dimension 1 to 10 (their ratio), and the time each needs to reach a
  given accuracy on the Heston call.

Runs on the CPU, and on CUDA when present. ``--json PATH`` also saves every comparison, with the
machine it ran on (``make bench`` writes ``book/results/bench.json``, which the appendix
"Performance and reliability" plots).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

SECTIONS = ("sgd", "particles", "deep_relaxation", "pricing")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gradflows benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
    parser.add_argument("--json", type=Path, default=None, help="also save the results to this file")
    args = parser.parse_args(argv)
    rest = ["--quick"] if args.quick else []
    for name in args.only or SECTIONS:
        print(f"\n##### {name} #####")
        if name == "sgd":
            from . import sgd

            sgd.main(rest)
        elif name == "particles":
            from . import particles

            particles.main(rest)
        elif name == "deep_relaxation":
            from . import deep_relaxation

            deep_relaxation.main(rest)
        else:
            from . import pricing

            pricing.main(rest)
    if args.json is not None:
        _save(args.json, args)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _save(path: Path, args) -> None:
    import torch

    from . import _timing

    data = {
        "date": time.strftime("%Y-%m-%d"),
        "commit": _commit(),
        "quick": bool(args.quick),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "torch threads": torch.get_num_threads(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
        "results": _timing.RESULTS,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"\nsaved {path}")
