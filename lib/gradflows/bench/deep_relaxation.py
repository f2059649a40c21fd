"""Benchmarks of deep relaxation: ``python -m gradflows.bench --only deep_relaxation [--quick]``.

* :func:`bench_two_scale`: the two-scale system (Se) for the landscape ``wide_narrow(narrow=(1.5, 0.5,
  2.6))`` with ``gamma = 12``: :func:`gradflows.deep_relaxation.two_scale` against a plain ten-line
  torch loop of the same staggered scheme (noise drawn per step), and against
  ``torchsde.sdeint(method="euler")`` on the same system (state ``(X, Y)``, diagonal noise ``(0,
  sqrt(2/eps))`` precomputed, drift in a preallocated buffer), once with torchsde's
  ``BrownianInterval`` and once with the leanest Brownian motion torchsde accepts (a fresh increment
  per step). Same paths, steps and ``dt``, in the same run, one full-length warm-up and the best of
  the same number of interleaved repeats for every side; the final-time means of ``X`` and ``Y`` are printed
  with their standard errors, so that one sees they sample the same law (torchsde's Euler scheme is
  not staggered: it differs by ``O(dt)``).
* :func:`bench_entropy_sgd`: seconds per outer step of :class:`gradflows.entropy_sgd.EntropySGD`
  (``L`` inner steps, ``L`` forward-backward passes) against ``L`` steps of ``torch.optim.SGD`` (the
  equal-backprop unit) and against ``L + 1`` steps, on the same MLP and data.

Runs on the CPU, and on CUDA when present. Timings are the best of a few repeats; goals (speed-up
``>= 10x`` over torchsde, Entropy-SGD ``<= 1.2x`` the cost of ``L`` SGD steps) are reported, never
asserted. Notebook ``04-global/03-deep-relaxation``.
"""

from __future__ import annotations

import argparse
import math

import torch

try:  # torchsde is the peer, not a dependency of gradflows
    from torchsde import BaseBrownian
except ImportError:  # pragma: no cover
    BaseBrownian = None

from ..deep_relaxation import two_scale
from ..device import generator
from ..entropy_sgd import EntropySGD
from ..experiments.wide_minima import wide_narrow_1d
from ..nets import MLP
from ._timing import best as _best
from ._timing import device_name as _device_name
from ._timing import record

_F, _GRAD = wide_narrow_1d(narrow=(1.5, 0.5, 2.6))


class _TwoScaleSDE(torch.nn.Module):
    """(Se) in torchsde's interface, as lean as it allows: state ``(X, Y)`` as ``(n, 2)``, diagonal Ito
    noise ``(0, sqrt(2/eps))`` precomputed once, the drift written into one preallocated buffer."""

    noise_type = "diagonal"
    sde_type = "ito"

    def __init__(self, gamma: float, eps: float, like: torch.Tensor) -> None:
        super().__init__()
        self.gamma, self.eps = gamma, eps
        self._g = torch.zeros_like(like)
        self._g[:, 1] = math.sqrt(2 / eps)
        self._f = torch.empty_like(like)

    def f(self, t, s):
        x, y = s[:, :1], s[:, 1:]
        gd = (y - x).mul_(self.gamma)  # -gamma (x - y)
        self._f[:, :1] = gd
        self._f[:, 1:] = (_GRAD(y) + gd).div_(-self.eps)  # -(f'(y) + gamma (y - x)) / eps
        return self._f

    def g(self, t, s):
        return self._g


class _StepBrownian(BaseBrownian if BaseBrownian is not None else object):  # type: ignore[misc]
    """The leanest Brownian motion torchsde accepts for a fixed-step Euler run: each call draws the
    increment ``sqrt(tb - ta) N(0, I)`` afresh (valid because the solver asks each interval once)."""

    def __init__(self, shape, dtype, device, gen: torch.Generator) -> None:
        self._shape, self._dtype, self._device, self._gen = tuple(shape), dtype, device, gen

    def __call__(self, ta, tb=None, return_U=False, return_A=False):
        dt = float(tb - ta)
        return torch.randn(self._shape, dtype=self._dtype, device=self._device, generator=self._gen).mul_(
            math.sqrt(dt)
        )

    def __repr__(self) -> str:
        return f"_StepBrownian(shape={self._shape})"

    dtype = property(lambda self: self._dtype)
    device = property(lambda self: self._device)
    shape = property(lambda self: self._shape)
    levy_area_approximation = property(lambda self: "none")


def _plain_loop(x0, gamma, eps, dt, n_steps, gen):
    """The plain-torch baseline: the same staggered Euler--Maruyama scheme, noise drawn per step."""
    x, y, fast, s = x0.clone(), x0.clone(), dt / eps, math.sqrt(2 * dt / eps)
    for _ in range(n_steps):
        xi = torch.randn(y.shape, dtype=y.dtype, device=y.device, generator=gen)
        y = y - fast * (_GRAD(y) + gamma * (y - x)) + s * xi
        x = x - (dt * gamma) * (x - y)
    return x, y


def _best_interleaved(fns: dict, device: torch.device, repeat: int) -> dict[str, float]:
    """One full warm-up call of each side, then ``repeat`` rounds in which every side runs once in turn;
    the best time of each. Interleaving spreads a change of machine load over all sides alike."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            times[k].append(_best(fn, device, 1, warmup=False))
    return {k: min(v) for k, v in times.items()}


def _mean_se(v: torch.Tensor) -> tuple[float, float]:
    v = v.double().reshape(-1)
    return v.mean().item(), v.std().item() / math.sqrt(v.numel())


def bench_two_scale(
    device: torch.device,
    n_paths: int = 10**5,
    n_steps: int = 1000,
    eps: float = 0.05,
    gamma: float = 12.0,
    x0: float = -0.5,
    dtype: torch.dtype = torch.float32,
    repeat: int = 3,
) -> dict[str, object]:
    """Seconds for ``n_paths`` paths of ``n_steps`` steps of ``dt = eps / 50`` (horizon ``n_steps dt``):
    ours; a plain torch loop of the same scheme; torchsde with its ``BrownianInterval``; torchsde with
    the leanest Brownian motion (:class:`_StepBrownian`). Every side gets one full-length warm-up and the
    best of ``repeat`` runs. Also the final means of ``X`` and ``Y`` with their standard errors."""
    import torchsde

    device = torch.device(device)
    dt = eps / 50
    x = torch.full((n_paths, 1), x0, dtype=dtype, device=device)
    gen = generator(0, device=device)
    out: dict[str, object] = {}
    sde = _TwoScaleSDE(gamma, eps, torch.cat([x, x], 1))
    s0 = torch.cat([x, x], 1)
    ts = torch.tensor([0.0, n_steps * dt], dtype=dtype, device=device)  # only the end points are stored

    def ours():
        out["ours"] = two_scale(
            x, x, gamma, eps, dt, n_steps, grad=_GRAD, generator=gen, progress=False
        ).final

    def plain():
        out["plain torch"] = _plain_loop(x, gamma, eps, dt, n_steps, gen)

    def peer(lean: bool):
        if lean:
            bm = _StepBrownian((n_paths, 2), dtype, device, gen)
        else:
            bm = torchsde.BrownianInterval(
                t0=0.0, t1=ts[-1].item(), size=(n_paths, 2), dtype=dtype, device=device, entropy=1234
            )
        with torch.no_grad():
            sT = torchsde.sdeint(sde, s0, ts, method="euler", dt=dt, bm=bm)[-1]
        out["torchsde, lean" if lean else "torchsde"] = (sT[:, :1], sT[:, 1:])

    times = _best_interleaved(
        {
            "ours": ours,
            "plain torch": plain,
            "torchsde": lambda: peer(False),
            "torchsde, lean": lambda: peer(True),
        },
        device,
        repeat,
    )
    stats = {k: {"X": _mean_se(out[k][0]), "Y": _mean_se(out[k][1])} for k in times}
    return {
        "n_paths": n_paths,
        "n_steps": n_steps,
        "eps": eps,
        "dt": dt,
        "gamma": gamma,
        "dtype": dtype,
        "repeat": repeat,
        "seconds": times,
        "stats": stats,
    }


def bench_entropy_sgd(
    device: torch.device, inner_steps: int = 5, width: int = 256, n_data: int = 1024, repeat: int = 5
) -> dict[str, float]:
    """Seconds per outer step of Entropy-SGD (``inner_steps`` closure calls) against ``inner_steps`` steps
    of ``torch.optim.SGD`` (the same number of forward-backward passes: the fair unit) and against
    ``inner_steps + 1`` steps, on a ``2 - width - width - 1`` tanh MLP with ``n_data`` points (float32)."""
    device = torch.device(device)
    g = generator(0, device=device)
    x = torch.randn(n_data, 2, generator=g, device=device)
    y = torch.sin(3 * x[:, :1])
    net = MLP([2, width, width, 1], dtype=torch.float32, device=device)

    def make_closure(opt):
        def closure():
            opt.zero_grad()
            loss = ((net(x) - y) ** 2).mean()
            loss.backward()
            return loss

        return closure

    esgd = EntropySGD(
        net.parameters(),
        lr=0.1,
        inner_lr=1e-3,
        gamma=0.1,
        inner_steps=inner_steps,
        noise_scale=1e-3,
        generator=generator(1, device=device),
    )
    sgd = torch.optim.SGD(net.parameters(), lr=1e-3)
    c_esgd, c_sgd = make_closure(esgd), make_closure(sgd)

    def sgd_steps(k: int) -> None:
        for _ in range(k):
            sgd.step(c_sgd)

    times = _best_interleaved(
        {
            "esgd": lambda: esgd.step(c_esgd),
            "sgd L": lambda: sgd_steps(inner_steps),
            "sgd L+1": lambda: sgd_steps(inner_steps + 1),
        },
        device,
        repeat,
    )
    t_esgd, t_l, t_l1 = times["esgd"], times["sgd L"], times["sgd L+1"]
    return {
        "inner_steps": inner_steps,
        "width": width,
        "esgd s": t_esgd,
        "sgd L s": t_l,
        "sgd L+1 s": t_l1,
        "ratio L": t_esgd / t_l,
        "ratio L+1": t_esgd / t_l1,
    }


def _print_two_scale(r: dict) -> None:
    print(
        f"Two-scale system (Se), wide_narrow(narrow=(1.5, 0.5, 2.6)), gamma = {r['gamma']:g}, "
        f"eps = {r['eps']:g}, {r['n_paths']:,} paths x {r['n_steps']} steps, dt = {r['dt']:g}, "
        f"{str(r['dtype'])[6:]}, best of {r['repeat']} after one full warm-up each:"
    )
    sec = r["seconds"]
    for name in sec:
        (mx, sx), (my, sy) = r["stats"][name]["X"], r["stats"][name]["Y"]
        print(
            f"  {name:16s} {sec[name]:8.3f} s  ({sec[name] / sec['ours']:5.2f}x ours)   "
            f"E[X_T] = {mx:.4f} +- {sx:.4f}   E[Y_T] = {my:.4f} +- {sy:.4f}"
        )
    print(
        f"  speed-up of gradflows.two_scale: {sec['plain torch'] / sec['ours']:.2f}x over the plain loop, "
        f"{sec['torchsde'] / sec['ours']:.1f}x over torchsde, {sec['torchsde, lean'] / sec['ours']:.1f}x "
        "over lean torchsde (torchsde's Euler is not staggered: its means differ by O(dt))"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds)")
    args = parser.parse_args(argv)
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    n_paths, n_steps, width = (10**4, 100, 64) if args.quick else (10**5, 1000, 256)
    for dev in devices:
        print(f"\n== {_device_name(dev)} ==")
        try:
            r = bench_two_scale(dev, n_paths, n_steps, repeat=1 if args.quick else 3)
            _print_two_scale(r)
            record(
                "deep_relaxation",
                dev,
                f"Two-scale system, {r['n_paths']:,} paths x {r['n_steps']} steps",
                seconds=dict(r["seconds"]),
                ours="ours",
                unit="s",
            )
        except ImportError as err:  # torchsde is the peer, not a dependency of gradflows
            print(f"Two-scale benchmark skipped: {err}")
        r = bench_entropy_sgd(dev, width=width)
        L = r["inner_steps"]
        record(
            "deep_relaxation",
            dev,
            f"Entropy-SGD outer step, L = {L}, MLP width {r['width']}",
            seconds={"EntropySGD": r["esgd s"], f"SGD x {L}": r["sgd L s"], f"SGD x {L + 1}": r["sgd L+1 s"]},
            ours="EntropySGD",
            unit="s/step",
        )
        print(
            f"Entropy-SGD, MLP 2-{r['width']}-{r['width']}-1, L = {L}: {r['esgd s'] * 1e3:.2f} ms per outer "
            f"step; {L} SGD steps (equal backprops) {r['sgd L s'] * 1e3:.2f} ms: ratio {r['ratio L']:.2f} "
            f"(goal <= 1.2); {L + 1} SGD steps {r['sgd L+1 s'] * 1e3:.2f} ms: ratio {r['ratio L+1']:.2f}"
        )


if __name__ == "__main__":
    main()
