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

Runs on the CPU, and on CUDA when present.
"""

from __future__ import annotations

import argparse

SECTIONS = ("sgd", "particles", "deep_relaxation", "pricing")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="gradflows benchmarks")
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run only these sections")
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
