"""Benchmarks of :mod:`gradflows.tdgf` (chapter 5): ``python -m gradflows.bench --only pricing [--quick]``.

* :func:`bench_bs_quantlib`: Black--Scholes prices of ``n`` options, :func:`gradflows.pricing.bs_call`
  (one vectorized call) against a loop over QuantLib's ``AnalyticEuropeanEngine``, with the largest
  difference between the two.
* :func:`bench_iteration_cost`: seconds per training iteration (loss + backward) of the DGM and
  of the TDGF on the ``d``-asset basket, same network, same points, measured in the same run,
  for ``d`` in 1, 2, 5, 10; the ratio DGM/TDGF is what claim TDGF-6 is about.
* :func:`bench_heston_seeds`: the TDGF configuration of notebook ``05-tdgf/02-tdgf-vs-dgm`` on
  Heston (increment form), one run per network seed: the error against QuantLib, the median and
  worst over the seeds, and the CPU seconds of each run (claim TDGF-5).
* :func:`bench_heston_time_to_accuracy`: wall time each method needs to price the Heston call
  (the paper's parameters) within a given max error over ``S`` in ``[0.8, 1.2]`` at ``V = 0.03``,
  ``tau = 1``, against QuantLib; both are trained with growing budgets (fresh runs) and the
  first budget that reaches the accuracy is reported.

Runs on the CPU, and on CUDA when present. Goals are reported, never asserted.
"""

from __future__ import annotations

import argparse
import time

import torch

from .. import dgm, pricing, tdgf
from .. import pricing_pdes as pp
from ..device import generator, seed  # noqa: F401
from ._timing import best as _best
from ._timing import device_name as _device_name
from ._timing import record


def bench_bs_quantlib(device: torch.device, n: int) -> dict:
    """Seconds to price ``n`` calls (spot, strike, rate, volatility, maturity drawn on a grid):
    ``bs_call`` once on the whole batch against QuantLib one option at a time."""
    import QuantLib as ql

    g = generator(0)
    u = torch.rand(5, n, generator=g, dtype=torch.float64)
    S, K = 0.5 + u[0], 0.5 + u[1]
    r, sig = 0.1 * u[2], 0.1 + 0.4 * u[3]
    days = (30 + (700 * u[4]).round()).to(torch.int64)
    tau = days.double() / 365
    args = [a.to(device) for a in (S, K, r, sig, tau)]
    ours = _best(lambda: pricing.bs_call(*args), device)
    today = ql.Date(2, 1, 2001)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()

    def peer():
        out = []
        for i in range(n):
            spot = ql.QuoteHandle(ql.SimpleQuote(float(S[i])))
            rate = ql.YieldTermStructureHandle(ql.FlatForward(today, float(r[i]), dc))
            div = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc))
            vol = ql.BlackVolTermStructureHandle(
                ql.BlackConstantVol(today, ql.NullCalendar(), float(sig[i]), dc)
            )
            option = ql.VanillaOption(
                ql.PlainVanillaPayoff(ql.Option.Call, float(K[i])),
                ql.EuropeanExercise(today + int(days[i])),
            )
            option.setPricingEngine(
                ql.AnalyticEuropeanEngine(ql.BlackScholesMertonProcess(spot, div, rate, vol))
            )
            out.append(option.NPV())
        return out

    t0 = time.perf_counter()
    ref = torch.tensor(peer(), dtype=torch.float64)
    peer_s = time.perf_counter() - t0
    diff = float((pricing.bs_call(S, K, r, sig, tau) - ref).abs().max())
    return {"n": n, "seconds": {"gradflows.pricing.bs_call": ours, "QuantLib loop": peer_s}, "max diff": diff}


def bench_iteration_cost(
    device: torch.device,
    dims=(1, 2, 5, 10),
    points: int = 1000,
    width: int = 50,
    layers: int = 3,
    repeat: int = 5,
) -> list[dict]:
    """Per-iteration seconds of both methods and their ratio for each ``d``.

    float32 on CUDA, float64 on the CPU."""
    dtype = torch.float32 if device.type == "cuda" else torch.float64
    rows = []
    for d in dims:
        m = pp.BasketBlackScholes(d)
        gen = generator(d)
        kw = dict(
            points=points,
            width=width,
            layers=layers,
            repeat=repeat,
            dtype=dtype,
            device=device,
            generator=gen,
        )
        t_tdgf = dgm.time_per_iteration(m, "tdgf", **kw)
        t_dgm = dgm.time_per_iteration(m, "dgm", **kw)
        rows.append({"d": d, "tdgf s": t_tdgf, "dgm s": t_dgm, "ratio": t_dgm / t_tdgf})
    return rows


def _heston_error(model, price) -> float:
    S = torch.linspace(0.8, 1.2, 21, dtype=torch.float64)
    x = torch.stack([S, torch.full_like(S, 0.03)], 1)
    return float((price(x).cpu() - model.reference(x, 1.0)).abs().max())


HESTON_TDGF = {
    "fit_iters": 300,
    "first_iters": 600,
    "iters": 100,
    "increments": True,
    "increment_scale": 0.005,
}


def bench_heston_seeds(device: torch.device, seeds=range(5), budget: dict | None = None) -> list[dict]:
    """The notebook's Heston TDGF (5 steps, width 30, 200 x 24 grid, L-BFGS, increment form) per seed.

    Each run starts from ``seed(s)`` (``GRADFLOWS_SEED + s``) and is timed in CPU seconds of this
    process with one torch thread, as in the notebook.
    """
    budget = HESTON_TDGF if budget is None else budget
    m = pp.Heston()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for s in seeds:
            seed(s)
            net = tdgf.make_net(m, 30, 1, gated=False, center=[1.0, 0.05], scale=[0.5, 0.03], device=device)
            t0 = time.process_time()
            res = tdgf.tdgf_solve(m, 1.0, 5, points=[200, 24], net=net, progress=False, **budget)
            rows.append({"seed": s, "cpu s": time.process_time() - t0, "error": _heston_error(m, res.price)})
    finally:
        torch.set_num_threads(threads)
    return rows


def bench_heston_time_to_accuracy(
    device: torch.device,
    tol: float = 3.98e-3,
    tdgf_budgets=((300, 600, 100), (500, 800, 150), (800, 1200, 250)),
    dgm_budgets=(100, 200, 400, 800),
) -> dict:
    """Wall time each method needs to reach ``tol`` on Heston (rho = 0, the paper's parameters).

    TDGF: the configuration of notebook ``05-tdgf/02-tdgf-vs-dgm`` (5 steps, a 2-hidden-layer tanh
    network of width 30, a 200 x 24 midpoint grid, L-BFGS) with growing budgets
    ``(fit_iters, first_iters, iters)``. DGM: the same network class (width 50, time input) on a
    10 x 60 x 15 midpoint grid of ``(tau, S, V)``, L-BFGS, one fresh run per budget of iterations
    (no restarts). The default ``tol`` is one volatility point at the money (notebook 02).
    """
    m = pp.Heston()
    out: dict = {"tol": tol, "tdgf": [], "dgm": []}
    for fit, first, iters in tdgf_budgets:
        net = tdgf.make_net(m, 30, 1, gated=False, center=[1.0, 0.05], scale=[0.5, 0.03], device=device)
        t0 = time.perf_counter()
        res = tdgf.tdgf_solve(
            m,
            1.0,
            5,
            iters,
            [200, 24],
            net=net,
            first_iters=first,
            fit_iters=fit,
            generator=generator(0),
            progress=False,
        )
        out["tdgf"].append((f"{fit}/{first}/{iters}", time.perf_counter() - t0, _heston_error(m, res.price)))
        if out["tdgf"][-1][2] <= tol:
            break
    for iters in dgm_budgets:
        seed(0)
        net = tdgf.make_net(
            m, 50, 1, time_input=1.0, gated=False, center=[1.0, 0.05], scale=[0.5, 0.03], device=device
        )
        t0 = time.perf_counter()
        res = dgm.dgm_solve(m, 1.0, iters, (10, 60, 15), sampling="grid", net=net, progress=False)
        out["dgm"].append((str(iters), time.perf_counter() - t0, _heston_error(m, res.price)))
        if out["dgm"][-1][2] <= tol:
            break
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for dev in devices:
        print(f"\n== {_device_name(dev)} ==")
        res = bench_bs_quantlib(dev, 2000 if args.quick else 20000)
        sec = res["seconds"]
        record(
            "pricing",
            dev,
            f"Black-Scholes calls, {res['n']:,} options",
            seconds=sec,
            ours="gradflows.pricing.bs_call",
            unit="s",
            max_diff=res["max diff"],
        )
        ours_s, ql_s = sec["gradflows.pricing.bs_call"], sec["QuantLib loop"]
        print(
            f"Black-Scholes, {res['n']:,} calls: bs_call {ours_s * 1e3:.2f} ms, QuantLib loop "
            f"{ql_s * 1e3:.1f} ms ({ql_s / ours_s:.0f}x); largest difference {res['max diff']:.1e}"
        )
        points, width, repeat = (256, 16, 2) if args.quick else (1000, 50, 5)
        print(f"Time per iteration, basket call, {points} points, DGM network width {width}, 3 gated layers:")
        print(f"  {'d':>3} {'TDGF ms':>9} {'DGM ms':>9} {'DGM/TDGF':>9}")
        rows = bench_iteration_cost(dev, points=points, width=width, repeat=repeat)
        record(
            "pricing",
            dev,
            f"Time per iteration, basket call, {points} points",
            dims=[r["d"] for r in rows],
            tdgf_seconds=[r["tdgf s"] for r in rows],
            dgm_seconds=[r["dgm s"] for r in rows],
        )
        for row in rows:
            print(f"  {row['d']:3d} {row['tdgf s'] * 1e3:9.2f} {row['dgm s'] * 1e3:9.2f} {row['ratio']:9.2f}")
        plain = {k: v for k, v in HESTON_TDGF.items() if k != "increment_scale"} | {"increments": False}
        for form, full in (("increment form", HESTON_TDGF), ("plain form", plain)):
            budget = {**full, "fit_iters": 10, "first_iters": 10, "iters": 5} if args.quick else full
            rows = bench_heston_seeds(dev, seeds=range(2) if args.quick else range(5), budget=budget)
            errs = sorted(r["error"] for r in rows)
            record(
                "pricing",
                dev,
                f"Heston TDGF, {form}",
                errors=[r["error"] for r in rows],
                cpu_seconds=[r["cpu s"] for r in rows],
                seeds=[r["seed"] for r in rows],
            )
            print(f"Heston TDGF, {form}, 5 steps, width 30, 200 x 24 grid ({budget}), per seed:")
            for r in rows:
                print(f"  seed {r['seed']}: error {r['error']:.2e}, {r['cpu s']:.1f} CPU s")
            print(f"  median {errs[len(errs) // 2]:.2e}, worst {errs[-1]:.2e} (bar: 2e-3 and 3e-3)")
        if args.quick:
            res = bench_heston_time_to_accuracy(
                dev, tol=5e-2, tdgf_budgets=((20, 20, 10),), dgm_budgets=(20,)
            )
        else:
            res = bench_heston_time_to_accuracy(dev)
        print(
            f"Heston (paper's parameters), time to max error <= {res['tol']:g} "
            "over S in [0.8, 1.2] at V = 0.03:"
        )
        record(
            "pricing",
            dev,
            "Heston, time to accuracy",
            tol=res["tol"],
            **{name: [[b, s_, e] for b, s_, e in res[name]] for name in ("tdgf", "dgm")},
        )
        units = (("tdgf", "L-BFGS iterations: fit/step 1/steps 2-5"), ("dgm", "L-BFGS iterations"))
        for name, unit in units:
            for budget, secs, err in res[name]:
                print(f"  {name.upper():5s} {budget:>12s} {unit}: {secs:7.1f} s, error {err:.2e}")
            hit = [s for _, s, e in res[name] if e <= res["tol"]]
            print(f"  {name.upper():5s} time to accuracy: " + (f"{hit[0]:.1f} s" if hit else "not reached"))


if __name__ == "__main__":
    main()
