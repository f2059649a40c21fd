"""Random batches as a splitting method for the least-squares gradient flow.

For data ``(x_i, y_i)`` with weights ``alpha_i > 0`` the objective is

``J(W) = 1/2 sum_i alpha_i |W x_i - y_i|^2``,  ``W`` an ``n x m`` matrix,

whose gradient flow is ``W' = -(W A - C)`` with ``A = sum alpha_i x_i x_i^T``
and ``C = sum alpha_i y_i x_i^T`` (the factor 1/2 matches the matrix ``A`` of
the proof of Theorem 5.3.1). One epoch of the splitting (5.29) runs the flow
of each batch's ``J^r`` for a time ``dt_k``, batch after batch, with batches
drawn afresh at random each epoch. Theorem 5.3.1: if ``dt_k -> 0`` and
``sum dt_k = inf`` the iterates converge to the minimizer ``W*`` whatever the
batches. Notebook ``01-sgd/03-batches-and-initialization``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from tqdm.auto import tqdm

from ._validation import as_tensor, check_finite, check_int, check_ndim, check_positive
from .device import show_progress

__all__ = ["least_squares_minimizer", "least_squares_objective", "random_batch_splitting"]


def _check_data(X, Y, alpha):
    X = check_finite("X", check_ndim("X", as_tensor("X", X), 2))
    Y = check_finite("Y", check_ndim("Y", as_tensor("Y", Y, X.dtype), 2))
    if Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and Y must have the same number of rows (samples): {X.shape[0]} vs {Y.shape[0]}"
        )
    if alpha is None:
        alpha = torch.ones(X.shape[0], dtype=X.dtype, device=X.device)
    else:
        alpha = check_finite("alpha", as_tensor("alpha", alpha, X.dtype)).to(X.device)
        if alpha.shape != (X.shape[0],) or bool((alpha <= 0).any()):
            raise ValueError(f"alpha must be a positive vector of length {X.shape[0]}")
    return X, Y, alpha


def least_squares_objective(W: torch.Tensor, X, Y, alpha=None) -> torch.Tensor:
    """``J(W) = 1/2 sum_i alpha_i |W x_i - y_i|^2`` for ``W`` of shape ``(..., n, m)``."""
    X, Y, alpha = _check_data(X, Y, alpha)
    R = W @ X.T - Y.T  # (..., n, N)
    return 0.5 * (alpha * (R * R).sum(-2)).sum(-1)


def least_squares_minimizer(X, Y, alpha=None) -> torch.Tensor:
    """The unique minimizer ``W* = C A^{-1}`` of the least-squares objective.

    ``X`` is ``(N, m)``, ``Y`` is ``(N, n)``; returns ``W*`` of shape ``(n, m)``.
    Raises if ``A = sum alpha_i x_i x_i^T`` is singular (the minimizer is not unique).
    """
    X, Y, alpha = _check_data(X, Y, alpha)
    A = (X * alpha[:, None]).T @ X
    C = (Y * alpha[:, None]).T @ X
    if torch.linalg.matrix_rank(A) < A.shape[0]:
        raise ValueError("sum_i alpha_i x_i x_i^T is singular: the minimizer is not unique")
    return torch.linalg.solve(A, C.T).T


def _batch_flow_map(A: torch.Tensor, C: torch.Tensor, dt: float):
    """Exact flow map of ``W' = -(W A - C)`` over time ``dt``: ``W -> W E + C P``.

    ``E = exp(-A dt)`` and ``P = int_0^dt exp(-A s) ds``, both read off one
    matrix exponential of the block matrix ``[[-A dt, dt I], [0, 0]]``, so a
    singular batch matrix ``A`` is no problem.
    """
    m = A.shape[0]
    M = torch.zeros(2 * m, 2 * m, dtype=A.dtype, device=A.device)
    M[:m, :m] = -A * dt
    M[:m, m:] = dt * torch.eye(m, dtype=A.dtype, device=A.device)
    Ex = torch.linalg.matrix_exp(M)
    return Ex[:m, :m], Ex[:m, m:]


def random_batch_splitting(
    X,
    Y,
    n_batches: int,
    steps: float | Sequence[float] | Callable[[int], float],
    n_epochs: int,
    W0: torch.Tensor | None = None,
    alpha=None,
    exact: bool = False,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> torch.Tensor:
    """Stochastic gradient method as the splitting (5.29) of the least-squares flow.

    Each epoch ``k`` shuffles the samples into ``n_batches`` disjoint batches and,
    batch after batch, advances ``W`` by a time ``dt_k`` along the flow of that
    batch's objective: exactly (``exact=True``, the continuous splitting (5.29))
    or by one gradient step (``exact=False``, its fully discrete version).

    ``steps`` is a constant ``dt``, a sequence ``dt_0, dt_1, ...`` or a callable
    ``k -> dt_k``. Returns the iterates ``W_0, ..., W_{n_epochs}``, shape
    ``(n_epochs + 1, n, m)``. Notebook ``01-sgd/03-batches-and-initialization``.
    """
    X, Y, alpha = _check_data(X, Y, alpha)
    N, m = X.shape
    n = Y.shape[1]
    n_batches = check_int("n_batches", n_batches)
    if n_batches > N:
        raise ValueError(f"n_batches={n_batches} exceeds the number of samples {N}")
    n_epochs = check_int("n_epochs", n_epochs, minimum=0)
    if callable(steps):
        step_fn = steps
    elif isinstance(steps, int | float):
        c = check_positive("steps", steps)

        def step_fn(k):
            return c
    else:
        seq = list(steps)
        if len(seq) < n_epochs:
            raise ValueError(f"steps has {len(seq)} entries, need n_epochs={n_epochs}")

        def step_fn(k):
            return seq[k]

    if W0 is None:
        W = torch.zeros(n, m, dtype=X.dtype, device=X.device)
    else:
        W = check_finite("W0", as_tensor("W0", W0, X.dtype)).to(X.device).clone()
        if W.shape != (n, m):
            raise ValueError(f"W0 must have shape {(n, m)}, got {tuple(W.shape)}")
    out = [W]
    epochs = range(n_epochs)
    if show_progress(progress, n_epochs):
        epochs = tqdm(epochs, desc="epochs", leave=False)
    for k in epochs:
        dt = check_positive(f"steps[{k}]", step_fn(k))
        perm = torch.randperm(N, generator=generator).to(X.device)
        for idx in torch.tensor_split(perm, n_batches):
            xb, yb, ab = X[idx], Y[idx], alpha[idx]
            Ab = (xb * ab[:, None]).T @ xb
            Cb = (yb * ab[:, None]).T @ xb
            if exact:
                E, P = _batch_flow_map(Ab, Cb, dt)
                W = W @ E + Cb @ P
            else:
                W = W - dt * (W @ Ab - Cb)
        if not bool(torch.isfinite(W).all()):
            raise ValueError(f"splitting diverged at epoch {k}: reduce the step dt_k={dt:g}")
        out.append(W)
    return torch.stack(out)
