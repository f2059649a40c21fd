"""Benchmarks of :mod:`gradflows.particles`: ``python -m gradflows.bench_particles [--quick]``.

* :func:`bench_langevin`: Euler-Maruyama for the 1-D double well ``f(x) = (x^2 - 1)^2 / 4``,
  :func:`gradflows.particles.langevin` against ``torchsde.sdeint(method="euler")`` with the same
  number of paths, steps and ``dt``, in the same run; both final-time statistics are printed with
  their Monte Carlo standard errors, so that one sees they sample the same law.
* :func:`bench_mean_field_step`: one :func:`gradflows.mean_field.mf_drift` and one full
  :func:`gradflows.particles.mean_field_langevin` step, as GFLOP/s and GB/s next to the machine's
  measured peaks (:func:`matmul_peak`, :func:`stream_bandwidth`) in the same run.

Runs on the CPU, and on CUDA when present. Timings are the best of a few repeats; goals are
reported, never asserted.
"""

from __future__ import annotations

import argparse
import math

import torch

from .. import mean_field as MF
from .. import particles as P
from ..device import generator, seed  # noqa: F401
from ._timing import best as _best
from ._timing import device_name as _device_name
from ._timing import record


def _double_well_grad(x: torch.Tensor) -> torch.Tensor:
    return x.pow(3).sub_(x)


class _DoubleWellSDE(torch.nn.Module):
    """``dX = -(X^3 - X) dt + sigma dW`` in torchsde's interface (diagonal Ito noise)."""

    noise_type = "diagonal"
    sde_type = "ito"

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.sigma = sigma

    def f(self, t, y):
        return -_double_well_grad(y)

    def g(self, t, y):
        return torch.full_like(y, self.sigma)


def _moments(x: torch.Tensor) -> dict[str, float]:
    x = x.double().reshape(-1)
    n = x.numel()
    x2, pos = x * x, (x > 0).double()
    p = pos.mean().item()
    return {
        "mean x^2": x2.mean().item(),
        "se x^2": x2.std().item() / math.sqrt(n),
        "P(x > 0)": p,
        "se P": math.sqrt(p * (1 - p) / n),
    }


def bench_langevin(
    device: torch.device,
    n_paths: int = 10**5,
    n_steps: int = 1000,
    dt: float = 1e-3,
    sigma: float = 1.0,
    dtype: torch.dtype = torch.float32,
    repeat: int = 3,
) -> dict[str, object]:
    """Seconds for ``n_paths`` Euler-Maruyama paths of the double well, ours against torchsde.

    Both start in the left well ``x0 = -1`` and run ``n_steps`` steps of size ``dt`` to
    ``T = n_steps dt``; torchsde gets ``ts = [0, T]`` (so that it stores only the end points) and a
    seeded Brownian interval. Returns the seconds, their ratio, and for both the final-time mean of
    ``x^2`` and the fraction of paths with ``x > 0`` (the paths that crossed the barrier), each
    with its standard error.
    """
    import torchsde

    device = torch.device(device)
    x0 = torch.full((n_paths, 1), -1.0, dtype=dtype, device=device)
    gen = generator(0, device=device)
    out: dict[str, object] = {}

    def ours():
        out["ours_x"] = P.langevin(
            x0, sigma, dt, n_steps, grad=_double_well_grad, generator=gen, progress=False
        ).last

    sde = _DoubleWellSDE(sigma)

    def peer(steps: int = n_steps):
        ts = torch.tensor([0.0, steps * dt], dtype=dtype, device=device)
        bm = torchsde.BrownianInterval(
            t0=0.0, t1=ts[-1].item(), size=(n_paths, 1), dtype=dtype, device=device, entropy=1234
        )
        with torch.no_grad():
            out["torchsde_x"] = torchsde.sdeint(sde, x0, ts, method="euler", dt=dt, bm=bm)[-1]

    t_ours = _best(ours, device, repeat)
    peer(max(1, n_steps // 50))  # warm-up on a short run: a full one would double the cost
    t_peer = _best(peer, device, max(1, repeat - 1), warmup=False)
    return {
        "n_paths": n_paths,
        "n_steps": n_steps,
        "dt": dt,
        "sigma": sigma,
        "dtype": dtype,
        "gradflows.langevin s": t_ours,
        "torchsde.sdeint s": t_peer,
        "speed-up": t_peer / t_ours,
        "ours": _moments(out["ours_x"]),
        "torchsde": _moments(out["torchsde_x"]),
    }


def matmul_peak(device: torch.device, n: int = 2048, repeat: int = 5) -> dict[torch.dtype, float]:
    """GFLOP/s of an ``n x n`` matrix product (``2 n^3`` flops) in float32 and float64."""
    device = torch.device(device)
    res = {}
    for dtype in (torch.float32, torch.float64):
        a = torch.randn(n, n, dtype=dtype, device=device)
        b = torch.randn(n, n, dtype=dtype, device=device)
        c = torch.empty(n, n, dtype=dtype, device=device)
        res[dtype] = 2 * n**3 / _best(lambda a=a, b=b, c=c: torch.mm(a, b, out=c), device, repeat) / 1e9
    return res


def stream_bandwidth(device: torch.device, mbytes: int = 256, repeat: int = 5) -> dict[str, float]:
    """GB/s of ``y.copy_(x)`` (2 arrays moved) and ``y.add_(x, alpha=s)`` (3), float32, ``mbytes`` MB each."""
    device = torch.device(device)
    n = mbytes * 2**20 // 4
    x = torch.rand(n, device=device)
    y = torch.empty_like(x)
    y.copy_(x)  # touch every page before timing
    t_copy = _best(lambda: y.copy_(x), device, repeat)
    t_add = _best(lambda: y.add_(x, alpha=1e-9), device, repeat)
    nbytes = n * 4
    return {"copy": 2 * nbytes / t_copy / 1e9, "add": 3 * nbytes / t_add / 1e9}


def bench_mean_field_step(
    device: torch.device,
    N: int = 4096,
    M: int = 4096,
    D: int = 3,
    dtypes: tuple[torch.dtype, ...] = (torch.float32, torch.float64),
    activation: str = "tanh",
    repeat: int = 5,
) -> dict[torch.dtype, dict[str, float]]:
    """Seconds, GFLOP/s and GB/s of one :func:`~gradflows.mean_field.mf_drift` and one full step.

    ``N`` neurons, ``M`` data points in ``D`` input dimensions (the last one the constant bias
    feature of :func:`~gradflows.mean_field.with_bias`). Counted work of one drift:

    * FLOPs ``= 4 M N D + 7 M N``: the two ``M x N x D`` products (pre-activations ``Z A^T`` and
      ``sum_m r_m phi'(a . z_m) z_m``, ``2 M N D`` each), the two ``M x N`` matrix-vector
      products (``H c`` and ``H^T r``, ``2 M N`` each) and ``3 M N`` elementwise (``phi``
      counted as one operation, ``phi' = 1 - phi^2`` as two);
    * bytes ``= 8 M N s`` (``s`` bytes per number): the ``M x N`` intermediates written three
      times (pre-activations, ``phi``, ``phi'``) and read five times (``phi``, ``H c``,
      ``H^T r``, ``phi'``, the last product) by an unfused implementation. The CPU code works on
      blocks of rows that stay in cache, so this rate can exceed the memory bandwidth.
    """
    device = torch.device(device)
    res = {}
    flops, passes = 4 * M * N * D + 7 * M * N, 8 * M * N
    for dtype in dtypes:
        g = generator(0, device=device)
        X = torch.randn(N, 1 + D, dtype=dtype, device=device, generator=g)
        Z = MF.with_bias(torch.randn(M, D - 1, dtype=dtype, device=device, generator=g))
        Y = torch.sin(3 * Z[:, 0])
        t_drift = _best(lambda X=X, Z=Z, Y=Y: MF.mf_drift(X, Z, Y, activation), device, repeat)
        t_step = _best(
            lambda X=X, Z=Z, Y=Y, g=g: P.mean_field_langevin(
                X, Z, Y, 0.1, 0.1, 1, activation=activation, generator=g, progress=False
            ),
            device,
            repeat,
        )
        nbytes = passes * torch.finfo(dtype).bits // 8
        res[dtype] = {
            "drift s": t_drift,
            "step s": t_step,
            "GFLOP/s": flops / t_drift / 1e9,
            "GB/s": nbytes / t_drift / 1e9,
        }
    return res


def _print_langevin(r: dict) -> None:
    print(
        f"Langevin, double well (x^2-1)^2/4 from x0 = -1, {r['n_paths']:,} paths x {r['n_steps']} "
        f"Euler-Maruyama steps, dt = {r['dt']:g}, sigma = {r['sigma']:g}, {str(r['dtype'])[6:]}:"
    )
    for name, key, stats in (
        ("gradflows.langevin", "gradflows.langevin s", r["ours"]),
        ("torchsde.sdeint(euler)", "torchsde.sdeint s", r["torchsde"]),
    ):
        print(
            f"  {name:24s} {r[key]:8.3f} s   E[x^2] = {stats['mean x^2']:.4f} +- {stats['se x^2']:.4f}"
            f"   P(x>0) = {stats['P(x > 0)']:.4f} +- {stats['se P']:.4f}"
        )
    print(f"  speed-up over torchsde: {r['speed-up']:.1f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    n_paths, n_steps = (10**4, 200) if args.quick else (10**5, 1000)
    size, mm_n, mbytes = (1024, 1024, 64) if args.quick else (4096, 2048, 256)
    for dev in devices:
        print(f"\n== {_device_name(dev)} ==")
        try:
            r = bench_langevin(dev, n_paths, n_steps)
            _print_langevin(r)
            record(
                "particles",
                dev,
                f"Langevin, {r['n_paths']:,} paths x {r['n_steps']} steps",
                seconds={
                    "gradflows.langevin": r["gradflows.langevin s"],
                    "torchsde.sdeint": r["torchsde.sdeint s"],
                },
                ours="gradflows.langevin",
                unit="s",
            )
        except ImportError as err:  # torchsde is the peer, not a dependency of gradflows
            print(f"Langevin benchmark skipped: {err}")
        peak, bw = matmul_peak(dev, mm_n), stream_bandwidth(dev, mbytes)
        res = bench_mean_field_step(dev, size, size)
        print(f"Mean-field drift, N = M = {size} neurons x data, D = 3 (2 inputs + bias), tanh:")
        print(
            f"  machine: matmul {mm_n}^2 {peak[torch.float32]:.1f} GFLOP/s (float32), "
            f"{peak[torch.float64]:.1f} GFLOP/s (float64); stream copy {bw['copy']:.1f} GB/s, "
            f"add {bw['add']:.1f} GB/s ({mbytes} MB arrays)"
        )
        record(
            "particles",
            dev,
            f"Mean-field drift, N = M = {size}",
            fraction_of_matmul={
                str(d).removeprefix("torch."): v["GFLOP/s"] / peak[d] for d, v in res.items()
            },
            drift_seconds={str(d).removeprefix("torch."): v["drift s"] for d, v in res.items()},
        )
        for dtype, v in res.items():
            name = str(dtype).removeprefix("torch.")
            print(
                f"  {name:8s} mf_drift {v['drift s'] * 1e3:8.2f} ms  {v['GFLOP/s']:7.1f} GFLOP/s "
                f"({v['GFLOP/s'] / peak[dtype]:5.1%} of matmul)  {v['GB/s']:7.1f} GB/s   "
                f"full step {v['step s'] * 1e3:8.2f} ms"
            )


if __name__ == "__main__":
    main()
