"""The TDGF on a geometric basket: a seeded run and its errors on the diagonal and near the money.

Notebook ``05-tdgf/03-dimension`` trains the same network on the same samples for several numbers of
points and iterations (:func:`seeded_tdgf`) and scores each run at ``tau = T`` (:func:`price_errors`)
against the closed form, on the diagonal ``S_i = s`` and at random points near the money, and against
the time-stepping solution ``U^N`` on the diagonal (the training error).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._validation import check_positive
from ..device import generator, seed
from ..tdgf import TDGFResult, make_net, tdgf_solve

__all__ = ["seeded_tdgf", "price_errors"]


def seeded_tdgf(
    model, T: float, cfg: dict, points: int, sampling: str, iters: int, seed_offset: int = 0, device="cpu"
) -> TDGFResult:
    """:func:`~gradflows.tdgf.tdgf_solve` after ``gf.seed(seed_offset)``: the same initial network, and the
    same samples (``gf.generator(seed_offset)``) for the same number of points, in every run.

    ``cfg`` holds ``steps, optimizer, width, layers, gated``.
    """
    missing = {"steps", "optimizer", "width", "layers", "gated"} - set(cfg)
    if missing:
        raise ValueError(f"cfg lacks {sorted(missing)}")
    seed(seed_offset)
    net = make_net(model, cfg["width"], cfg["layers"], gated=cfg["gated"], device=device)
    return tdgf_solve(model, T=T, n_steps=cfg["steps"], iters=iters, points=points, sampling=sampling,
                      optimizer=cfg["optimizer"], net=net, generator=generator(seed_offset),
                      progress=False)  # fmt: skip


def price_errors(
    model, price: Callable[[torch.Tensor], torch.Tensor], diag: torch.Tensor, near: torch.Tensor,
    U_N_diag: torch.Tensor, T: float,
) -> dict[str, float]:  # fmt: skip
    """Largest errors at ``tau = T``: ``diag`` and ``near`` against ``model.reference``, and ``train``, the
    diagonal against the time-stepping solution ``U_N_diag`` (values at the rows of ``diag``)."""
    T = check_positive("T", T)
    if U_N_diag.shape != diag.shape[:1]:
        raise ValueError(f"U_N_diag must have shape {tuple(diag.shape[:1])}, got {tuple(U_N_diag.shape)}")
    p_diag, p_near = price(diag).cpu(), price(near).cpu()
    return dict(
        diag=(p_diag - model.reference(diag, T)).abs().max().item(),
        near=(p_near - model.reference(near, T)).abs().max().item(),
        train=(p_diag - U_N_diag).abs().max().item(),
    )
