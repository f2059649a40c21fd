"""The one training helper of the library: L-BFGS or Adam on a loss closure, with one set of tolerances.

Used by :func:`gradflows.tdgf.tdgf_solve` (every time step), :func:`gradflows.dgm.dgm_solve` and
:func:`gradflows.training.fit_controls`. The parameters, a closure ``loss(i) -> scalar tensor``
(``i`` the iteration; Adam may draw fresh samples from it), the optimizer's name, the number of
iterations and the learning rate go in; the loss history comes out, and a non-finite loss raises
one :class:`~gradflows.DivergenceError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from tqdm.auto import tqdm

from ._errors import DivergenceError
from ._validation import check_positive

__all__ = ["OPTIMIZERS", "LBFGS_TOLERANCES", "minimize"]

#: The training algorithms the solvers offer (``optimizer=``); :func:`minimize` also runs plain
#: gradient descent (``"sgd"``) for experiments that study it.
OPTIMIZERS = ("lbfgs", "adam")

#: Stop L-BFGS only on its iteration budget, not on small gradients or changes: the budgets of the
#: book are small, and the losses are compared at equal cost.
LBFGS_TOLERANCES = {"tolerance_grad": 1e-12, "tolerance_change": 1e-15}


def minimize(
    params: Sequence[torch.Tensor],
    loss: Callable[[int], torch.Tensor],
    iters: int,
    optimizer: str = "lbfgs",
    lr: float | Callable[[int], float] = 1e-3,
    *,
    after_step: Callable[[int], None] | None = None,
    history_size: int = 50,
    chunk: int | None = None,
    progress: bool = False,
    desc: str = "training",
    advice: str = "lower lr",
) -> list[float]:
    """Minimize ``loss`` over ``params``; return the loss history.

    ``optimizer="lbfgs"``: ``torch.optim.LBFGS`` with strong-Wolfe line search, ``history_size``
    and :data:`LBFGS_TOLERANCES`, on ``loss(0)``. Without ``chunk``: one call of ``iters``
    iterations (at most ``1.25 iters + 1`` evaluations); the history holds every evaluated loss.
    With ``chunk``: the same optimizer called ``ceil(iters / chunk)`` times for ``chunk`` iterations
    (torch's default budget of evaluations), the loss evaluated again without gradient after each
    call; the history holds one value per call, and a progress bar advances by ``chunk``.

    ``optimizer="adam"``: ``iters`` steps of ``torch.optim.Adam`` with learning rate ``lr`` on
    ``loss(i)``; the history holds the loss of every step. ``optimizer="sgd"``: the same with plain
    gradient descent (``torch.optim.SGD``), where ``lr`` may be a schedule ``i -> lr_i``. For both,
    ``after_step(i)`` runs after step ``i`` (e.g. a projection of the parameters).

    Raises :class:`~gradflows.DivergenceError` (message: ``desc``, the value, the iteration,
    ``advice``) as soon as a recorded loss is not finite.
    """
    if optimizer not in (*OPTIMIZERS, "sgd"):
        raise ValueError(f"optimizer must be one of {(*OPTIMIZERS, 'sgd')}, got {optimizer!r}")
    if optimizer in ("adam", "sgd") and not callable(lr):
        check_positive("lr", lr)
    params, hist = list(params), []

    def check(value: float | None = None) -> None:
        value = hist[-1] if value is None else value
        if not math.isfinite(value):  # raised at once: torch's line search fails on non-finite values
            raise DivergenceError(
                f"{desc} diverged: the loss became {value} at iteration {len(hist)}; {advice}"
            )

    if optimizer in ("adam", "sgd"):
        bar = tqdm(range(iters), desc=f"{desc} ({optimizer})", leave=False, disable=not progress)
        _first_order(params, loss, optimizer, lr, hist, check, bar, after_step)
    elif chunk is None:
        if progress:
            with tqdm(total=int(1.25 * iters) + 1, desc=f"{desc} (L-BFGS evaluations)", leave=False) as bar:
                _lbfgs(params, loss, iters, history_size, hist, check, bar)
        else:
            _lbfgs(params, loss, iters, history_size, hist, check)
    else:
        with tqdm(total=iters, desc=f"{desc} (L-BFGS)", leave=False, disable=not progress) as bar:
            _lbfgs_chunked(params, loss, iters, chunk, history_size, hist, check, bar)
    return hist


def _first_order(params, loss, optimizer, lr, hist, check, steps, after_step) -> None:
    """Adam or gradient-descent steps on ``loss(i)``, one history value per step."""
    schedule = lr if callable(lr) else None
    first = schedule(0) if schedule else lr
    opt = torch.optim.Adam(params, lr=first) if optimizer == "adam" else torch.optim.SGD(params, lr=first)
    for i in steps:
        if schedule:
            opt.param_groups[0]["lr"] = schedule(i)
        opt.zero_grad()
        value = loss(i)
        value.backward()
        opt.step()
        hist.append(value.item())
        check()
        if after_step is not None:
            after_step(i)


def _lbfgs(params, loss, iters, history_size, hist, check, bar=None) -> None:
    """One L-BFGS call of ``iters`` iterations; every evaluated loss goes into the history (and
    advances ``bar``, counting loss evaluations, at most ``1.25 iters + 1``)."""
    opt = torch.optim.LBFGS(
        params,
        max_iter=iters,
        max_eval=int(1.25 * iters) + 1,
        history_size=history_size,
        line_search_fn="strong_wolfe",
        **LBFGS_TOLERANCES,
    )

    def closure():
        opt.zero_grad()
        value = loss(0)
        hist.append(value.item())
        check()
        value.backward()
        if bar is not None:
            bar.update()
        return value

    opt.step(closure)


def _lbfgs_chunked(params, loss, iters, chunk, history_size, hist, check, bar) -> None:
    """``ceil(iters / chunk)`` L-BFGS calls of ``chunk`` iterations, one history value per call."""
    opt = torch.optim.LBFGS(
        params, max_iter=chunk, history_size=history_size, line_search_fn="strong_wolfe", **LBFGS_TOLERANCES
    )

    def closure():
        opt.zero_grad()
        value = loss(0)
        check(value.item())
        value.backward()
        return value

    for _ in range(math.ceil(iters / chunk)):
        opt.step(closure)
        with torch.no_grad():
            hist.append(float(loss(0)))
        bar.update(chunk)
        check()
