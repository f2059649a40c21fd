"""Wide against narrow minima: Entropy-SGD and (stochastic) gradient descent at equal gradient cost.

* :func:`wide_narrow_1d` -- the loss of :func:`gradflows.landscapes.wide_narrow` in one dimension,
  elementwise on a tensor of any shape, and its closed-form derivative (``n`` independent 1-D
  problems are one parameter tensor of shape ``(n,)``: the sum of the losses is separable);
* :func:`entropy_sgd_final`, :func:`langevin_final` -- the final iterates of
  :class:`gradflows.entropy_sgd.EntropySGD` and of SGLD / gradient descent
  (:func:`gradflows.particles.langevin`) from many starts at once;
* :func:`wilson_interval`, :func:`sample_size` -- binomial confidence intervals (scipy) and the
  number of starts for which two non-overlapping intervals fail with a given probability;
* :func:`train_mlp`, :func:`flatness`, :func:`mlp_comparison` -- a small network on two moons
  trained by SGD and by Entropy-SGD with the same number of gradient evaluations, over seeds.

Notebook ``04-global/03-deep-relaxation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._training import minimize
from ..datasets import two_moons
from ..device import generator as make_generator
from ..entropy_sgd import EntropySGD
from ..nets import MLP
from ..particles import langevin

__all__ = [
    "wide_narrow_1d",
    "entropy_sgd_final",
    "langevin_final",
    "wilson_interval",
    "sample_size",
    "train_mlp",
    "flatness",
    "mlp_comparison",
]

Tensor = torch.Tensor


def wide_narrow_1d(
    wide: tuple[float, float, float] = (-1.5, 0.8, 2.0),
    narrow: tuple[float, float, float] = (1.5, 0.15, 2.6),
    confinement: float = 0.2,
) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """``(f, f')`` elementwise: ``f(y) = c y^2/2 - sum_j a_j exp(-(y - m_j)^2 / (2 s_j^2))`` (same
    parameters as :func:`gradflows.landscapes.wide_narrow`), ``f'`` written out (no autograd)."""
    wells = (wide, narrow)

    def f(y: Tensor) -> Tensor:
        out = 0.5 * confinement * y * y
        for m, s, a in wells:
            u = y - m
            out = out - a * torch.exp(u * u * (-0.5 / (s * s)))
        return out

    def grad(y: Tensor) -> Tensor:
        out = y * confinement
        for m, s, a in wells:
            u = y - m
            out = out.addcmul(u, torch.exp(u * u * (-0.5 / (s * s))), value=a / (s * s))
        return out

    return f, grad


def entropy_sgd_final(
    x0: Tensor,
    f: Callable,
    grad: Callable,
    outer_steps: int,
    generator: torch.Generator | None = None,
    **hyper,
) -> Tensor:
    """The final ``x`` of :class:`~gradflows.entropy_sgd.EntropySGD` (``hyper``: its keyword
    arguments) on ``sum_i f(x_i)`` from ``x0`` ``(n,)``.

    The closure sets the gradient in closed form: ``inner_steps`` gradient evaluations per outer step.
    """
    x = torch.nn.Parameter(x0.detach().clone())
    opt = EntropySGD([x], generator=generator, **hyper)

    def closure() -> Tensor:
        with torch.no_grad():
            x.grad = grad(x)
            return f(x).sum()

    for _ in range(outer_steps):
        opt.step(closure)
    return x.detach()


def langevin_final(
    x0: Tensor,
    grad: Callable,
    lr: float,
    n_steps: int,
    noise_scale: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    """The final iterate of ``x <- x - lr f'(x) + sqrt(2 lr) noise_scale xi`` (SGLD; gradient descent for
    ``noise_scale = 0``) from ``x0`` ``(n,)``: :func:`gradflows.particles.langevin` with
    ``sigma = sqrt(2) noise_scale``."""
    sigma = math.sqrt(2.0) * noise_scale
    return langevin(x0[:, None], sigma, lr, n_steps, grad=grad, generator=generator, progress=False).last[
        :, 0
    ]


def wilson_interval(k: int, n: int, level: float = 0.999) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` (``scipy.stats.binomtest``)."""
    from scipy.stats import binomtest

    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def sample_size(p_high: float, p_low: float, level: float = 0.999, fail: float = 1e-3) -> int:
    """Smallest ``n`` such that two ``level`` intervals (half-widths ``z sqrt(p(1-p)/n)``) around
    proportions with true values ``p_high > p_low`` overlap with probability below ``fail``.

    The check ``phat_1 - z s_1 > phat_2 + z s_2`` fails when ``phat_1 - phat_2 < z (s_1 + s_2)``; with
    ``phat_1 - phat_2 ~ N(p_high - p_low, s_1^2 + s_2^2)`` (normal approximation) this has probability
    below ``fail`` when ``sqrt(n) (p_high - p_low) >= z (sd_1 + sd_2) + z_fail sqrt(sd_1^2 + sd_2^2)``.
    """
    from scipy.stats import norm

    if not 0 <= p_low < p_high <= 1:
        raise ValueError(f"need 0 <= p_low < p_high <= 1, got {p_low!r}, {p_high!r}")
    z, zf = norm.ppf(0.5 + level / 2), norm.ppf(1 - fail)
    s1, s2 = math.sqrt(p_high * (1 - p_high)), math.sqrt(p_low * (1 - p_low))
    return math.ceil(((z * (s1 + s2) + zf * math.hypot(s1, s2)) / (p_high - p_low)) ** 2)


def _logistic_loss(net: torch.nn.Module, x: Tensor, y: Tensor) -> Tensor:
    return torch.nn.functional.softplus(-y * net(x)[:, 0]).mean()


class _Converged(Exception):
    """Raised after a step of :func:`_sgd_until` once the training loss is low enough."""


def _sgd_until(params: list[Tensor], batch_loss, budget: int, lr: float, converged) -> int:
    """``budget`` steps of gradient descent on ``batch_loss()`` by :func:`gradflows._training.minimize`,
    stopped after the first step where ``converged()``; returns the gradient evaluations used."""
    used = 0

    def after(i: int) -> None:
        nonlocal used
        used = i + 1
        if converged():
            raise _Converged

    try:
        minimize(params, lambda i: batch_loss(), budget, optimizer="sgd", lr=lr, after_step=after)
    except _Converged:
        pass
    return used


def train_mlp(
    method: str,
    seed: int,
    data: tuple[Tensor, Tensor],
    budget: int,
    *,
    hidden: int = 32,
    batch: int = 32,
    lr: float = 0.2,
    esgd: dict | None = None,
    stop_below: float | None = None,
) -> torch.nn.Module:
    """A ``2 - hidden - 1`` tanh MLP trained on the logistic loss with ``budget`` minibatch gradient
    evaluations: ``method="sgd"`` (``torch.optim.SGD``, step ``lr``) or ``"entropy_sgd"`` (``esgd``:
    keyword arguments of :class:`~gradflows.entropy_sgd.EntropySGD`, whose inner step is ``lr`` unless given).
    The initialization and the minibatches are drawn from generators seeded by ``seed``. With
    ``stop_below``, training stops at the first step (tested every step) where the full training loss
    is ``<= stop_below``: a comparison at equal training loss instead of equal cost.
    The gradient evaluations used are in ``net.gradient_evaluations``."""
    x, y = data
    net = MLP([2, hidden, 1], activation="tanh", dtype=x.dtype, generator=make_generator(seed), init="normal")
    gen_batch = make_generator(seed + 1000)

    def batch_loss() -> Tensor:
        idx = torch.randint(0, x.shape[0], (batch,), generator=gen_batch)
        return _logistic_loss(net, x[idx], y[idx])

    def converged() -> bool:
        with torch.no_grad():
            return stop_below is not None and _logistic_loss(net, x, y).item() <= stop_below

    if method == "sgd":  # the library's one training helper (torch.optim.SGD), stopped early if asked
        used = _sgd_until(list(net.parameters()), batch_loss, budget, lr, converged)
    elif method == "entropy_sgd":
        hyper = {"inner_lr": lr} | (esgd or {})
        opt = EntropySGD(net.parameters(), generator=make_generator(seed + 2000), **hyper)

        def closure() -> Tensor:
            opt.zero_grad()
            loss = batch_loss()
            loss.backward()
            return loss

        used = 0
        for _ in range(budget // opt.inner_steps):
            opt.step(closure)
            used += opt.inner_steps
            if converged():
                break
    else:
        raise ValueError(f"method must be 'sgd' or 'entropy_sgd', got {method!r}")
    net.gradient_evaluations = used
    return net


@torch.no_grad()
def flatness(
    net: torch.nn.Module, data: tuple[Tensor, Tensor], radius: float, n_draws: int, seed: int
) -> float:
    """Mean increase of the full training loss when every weight moves by ``radius`` times an
    independent standard Gaussian (``n_draws`` draws): a large value is a sharp minimum."""
    x, y = data
    base = _logistic_loss(net, x, y).item()
    params = list(net.parameters())
    saved = [p.clone() for p in params]
    gen, rises = make_generator(seed), []
    for _ in range(n_draws):
        for p, s in zip(params, saved, strict=True):
            p.copy_(s + radius * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        rises.append(_logistic_loss(net, x, y).item() - base)
    for p, s in zip(params, saved, strict=True):
        p.copy_(s)
    return float(np.mean(rises))


def mlp_comparison(
    seeds,
    budget: int = 2000,
    n_train: int = 200,
    n_test: int = 2000,
    noise: float = 0.2,
    radius: float = 0.1,
    esgd: dict | None = None,
    **train,
) -> dict[str, dict[str, np.ndarray]]:
    """For each seed: data (two moons), then Entropy-SGD and SGD with ``budget`` gradient evaluations each,
    and SGD stopped at Entropy-SGD's final training loss (``"sgd, equal loss"``, at most ``budget``);
    returns ``{method: {"train loss", "test error", "flatness", "gradient evaluations"}: arrays over
    the seeds}``."""
    keys = ("train loss", "test error", "flatness", "gradient evaluations")
    out = {m: {k: [] for k in keys} for m in ("entropy_sgd", "sgd", "sgd, equal loss")}
    for s in seeds:
        g = make_generator(s + 3000)
        train_set = two_moons(n_train, noise, generator=g, dtype=torch.get_default_dtype())
        xt, yt = two_moons(n_test, noise, generator=g, dtype=torch.get_default_dtype())
        for m in out:
            stop = out["entropy_sgd"]["train loss"][-1] if m == "sgd, equal loss" else None
            net = train_mlp(m.split(",")[0], s, train_set, budget, esgd=esgd, stop_below=stop, **train)
            with torch.no_grad():
                out[m]["train loss"].append(_logistic_loss(net, *train_set).item())
                out[m]["test error"].append((torch.sign(net(xt)[:, 0]) != yt).double().mean().item())
            out[m]["flatness"].append(flatness(net, train_set, radius, 20, s + 4000))
            out[m]["gradient evaluations"].append(net.gradient_evaluations)
    return {m: {k: np.array(v) for k, v in d.items()} for m, d in out.items()}
