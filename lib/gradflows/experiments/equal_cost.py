"""TDGF against DGM at equal CPU cost: timed runs, and a DGM run scored at budgets fixed before it starts.

:func:`timed_tdgf` runs :func:`gradflows.tdgf.tdgf_solve` and measures its CPU time (payoff fit
included). :func:`dgm_at_budgets` runs :func:`gradflows.dgm.dgm_solve` once and keeps, at each budget
(CPU seconds, increasing), the parameters with the lowest *loss* evaluated so far, which is what a
user without a reference price would keep; :func:`dgm_price_at` prices with such a state. Claims TDGF-5
and TDGF-6, notebook ``05-tdgf/02-tdgf-vs-dgm``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._validation import check_positive
from ..dgm import DGMResult, dgm_solve
from ..tdgf import TDGFResult, tdgf_solve

__all__ = ["timed_tdgf", "dgm_at_budgets", "dgm_price_at", "max_err"]

Clock = Callable[[], float]


def timed_tdgf(
    model, T: float, n_steps: int, net: torch.nn.Module, points, clock: Clock = time.process_time, **options
) -> tuple[TDGFResult, float]:
    """:func:`~gradflows.tdgf.tdgf_solve` (no progress bar) and its time by ``clock`` (CPU time by default).

    ``options`` are passed on (iterations, optimizer, sampling, generator, ...).
    """
    t0 = clock()
    res = tdgf_solve(model, T, n_steps, points=points, net=net, progress=False, **options)
    return res, clock() - t0


class _BudgetSpent(Exception):
    """Raised by the callback of :func:`dgm_at_budgets` when the last budget is spent."""


def dgm_at_budgets(
    model,
    T: float,
    net: torch.nn.Module,
    budgets: Sequence[float],
    points,
    clock: Clock = time.process_time,
    max_iters: int = 100_000,
    **options,
) -> tuple[list[dict[str, torch.Tensor]], list[float], int]:
    """One DGM run scored at fixed budgets (seconds of ``clock``, increasing): at each, the parameters with
    the lowest loss so far. ``options`` go to :func:`~gradflows.dgm.dgm_solve` (``boundary``, ``generator``).

    ``max_iters`` is far more than any budget allows: the callback stops the run when the last budget is
    spent; a run that converges earlier keeps its last best state for the remaining budgets.
    Returns (parameter dicts, one per budget; the times at which they were taken; loss evaluations).
    """
    budgets = [check_positive("budget", b) for b in budgets]
    if not budgets or any(b1 < b0 for b0, b1 in zip(budgets, budgets[1:], strict=False)):
        raise ValueError(f"budgets must be a non-empty increasing sequence, got {budgets}")
    best, kept, t0, count = [np.inf, None], [], clock(), [0]

    def keep(n, loss, net_now):
        count[0] = n
        if loss < best[0]:
            best[:] = [loss, {k: v.detach().clone() for k, v in net_now.state_dict().items()}]
        while len(kept) < len(budgets) and clock() - t0 >= budgets[len(kept)]:
            kept.append((best[1], clock() - t0))
        if len(kept) == len(budgets):
            raise _BudgetSpent

    try:
        dgm_solve(model, T, max_iters, points, net=net, progress=False, callback=keep, **options)
    except _BudgetSpent:
        pass
    kept += [(best[1], clock() - t0)] * (len(budgets) - len(kept))  # converged before a budget: the last best
    return [s for s, _ in kept], [t for _, t in kept], count[0]


def dgm_price_at(
    model, net: torch.nn.Module, state: dict, x: torch.Tensor, T: float, tau: float | None = None
):
    """``u(tau, x)`` (default ``tau = T``) of the DGM network ``net`` with the parameters ``state``."""
    probe = copy.deepcopy(net)
    probe.load_state_dict(state)
    return DGMResult(model, probe, T, [], 0.0).price(x, T if tau is None else tau)


def max_err(a, b) -> float:
    """``max |a - b|`` of two arrays or tensors (broadcast)."""
    return (torch.as_tensor(a) - torch.as_tensor(b)).abs().max().item()
