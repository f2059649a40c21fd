"""Benchmarks: ``python -m gradflows.bench`` (``make bench``).

Times the chapter-1 kernels against peers measured in the same run and prints
ratios (a ratio above 1 means gradflows is slower than the peer):

* ``adam`` over a parameter vector of ``q`` entries against ``torch.optim.Adam``
  (single-tensor and ``foreach``), per step;
* ``integrate`` (RK4, Nesterov ODE) on ``n`` initial conditions of a 2-D landscape
  at once against a Python loop over ``scipy.integrate.solve_ivp`` (RK45, on a
  subsample, scaled up), per initial condition.

Runs on CPU, and on CUDA when present. Timing goals are reported, never asserted.
"""

from __future__ import annotations

import argparse

import numpy as np
import scipy.integrate
import torch

from .. import adam as ad
from .. import landscapes as L
from .. import ode_optimizers as oo
from ..device import generator, seed  # noqa: F401
from ._timing import best as _best
from ._timing import record


def bench_adam(device: torch.device, q: int, steps: int) -> dict[str, float]:
    """Seconds per step: gradflows.adam vs torch.optim.Adam on J(W) = |W|^2/2 (grad = W)."""
    W0 = torch.randn(q, device=device)

    def ours():
        ad.adam(lambda W: W, W0, steps, lr=1e-3, record_every=steps)

    def peer(foreach: bool):
        p = torch.nn.Parameter(W0.clone())
        opt = torch.optim.Adam([p], lr=1e-3, foreach=foreach)

        def run():
            for _ in range(steps):
                p.grad = p.detach().clone()
                opt.step()

        return run

    out = {"gradflows.adam": _best(ours, device) / steps}
    out["torch.optim.Adam"] = _best(peer(False), device) / steps
    out["torch.optim.Adam(foreach)"] = _best(peer(True), device) / steps
    return out


def bench_integrate(device: torch.device, n: int, steps: int, n_scipy: int = 20) -> dict[str, float]:
    """Seconds per initial condition: batched RK4 vs scipy solve_ivp, Nesterov on Rosenbrock."""
    J = L.rosenbrock()
    g = generator(0)
    W0 = (torch.rand(n, 2, generator=g) * 2 - 1).to(device)
    flow = oo.nesterov(J, 0.1)
    dt = 1e-3

    def ours():
        oo.integrate(flow, (W0, torch.zeros_like(W0)), dt, steps, record_every=steps)

    def grad_np(w):
        x, y = w
        return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])

    def rhs(_t, s):
        w, z = s[:2], s[2:]
        return np.concatenate([z, -grad_np(w + 0.1 * z)])

    starts = W0[:n_scipy].double().cpu().numpy()

    def peer():
        for w0 in starts:
            scipy.integrate.solve_ivp(
                rhs, (0, steps * dt), np.concatenate([w0, [0, 0]]), rtol=1e-8, atol=1e-10
            )

    return {
        "gradflows.integrate (rk4, batched)": _best(ours, device, 2) / n,
        "scipy solve_ivp loop": _best(peer, torch.device("cpu"), 1) / n_scipy,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    q, steps = (10**5, 50) if args.quick else (10**6, 100)
    n, isteps = (10**4, 200) if args.quick else (10**5, 1000)
    for dev in devices:
        cpu = f"cpu ({torch.get_num_threads()} threads)"
        name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu
        print(f"\n== {name} ==")
        res = bench_adam(dev, q, steps)
        record("sgd", dev, f"Adam step, {q:,} parameters", seconds=res, ours="gradflows.adam", unit="s/step")
        base = res["torch.optim.Adam"]
        print(f"Adam step, q = {q:,} parameters (float32):")
        for k, v in res.items():
            print(f"  {k:32s} {v * 1e3:9.3f} ms/step   ratio to torch.optim.Adam {v / base:5.2f}")
        res = bench_integrate(dev, n, isteps)
        record(
            "sgd",
            dev,
            f"Nesterov ODE, {isteps} RK4 steps, per trajectory",
            seconds=res,
            ours="gradflows.integrate (rk4, batched)",
            unit="s/trajectory",
        )
        base = res["scipy solve_ivp loop"]
        print(f"Nesterov ODE on Rosenbrock, {isteps} RK4 steps, {n:,} initial conditions:")
        for k, v in res.items():
            print(f"  {k:36s} {v * 1e6:10.2f} us/trajectory   speed-up vs scipy {base / v:8.1f}x")


if __name__ == "__main__":
    main()
