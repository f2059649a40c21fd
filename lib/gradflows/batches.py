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

import numbers
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ._stepping import Trajectory, run
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_bool,
    check_finite,
    check_generator,
    check_int,
    check_memory,
    check_positive,
)

__all__ = ["least_squares_minimizer", "least_squares_objective", "random_batch_splitting"]


def _check_data(X, Y, alpha):
    X = as_real_tensor("X", X, ndim=2)
    Y = as_real_tensor("Y", Y, X.dtype, ndim=2).to(X.device)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"X and Y must have the same number of rows (samples): {X.shape[0]} vs {Y.shape[0]}")
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
    W = as_real_tensor("W", W, X.dtype)
    if W.ndim < 2 or W.shape[-2:] != (Y.shape[1], X.shape[1]):
        raise ValueError(f"W must have shape (..., {Y.shape[1]}, {X.shape[1]}) (n, m), got {tuple(W.shape)}")
    R = W @ X.T - Y.T  # (..., n, N)
    out = 0.5 * (alpha * (R * R).sum(-2)).sum(-1)
    if not all_finite(out):
        raise ValueError("the objective overflows: W, X, Y or alpha have entries too large")
    return out


def least_squares_minimizer(X, Y, alpha=None) -> torch.Tensor:
    """The unique minimizer ``W* = C A^{-1}`` of the least-squares objective.

    ``X`` is ``(N, m)``, ``Y`` is ``(N, n)``; returns ``W*`` of shape ``(n, m)``.
    Raises if ``A = sum alpha_i x_i x_i^T`` is singular (the minimizer is not unique).
    """
    X, Y, alpha = _check_data(X, Y, alpha)
    A = (X * alpha[:, None]).T @ X
    C = (Y * alpha[:, None]).T @ X
    if not bool(torch.isfinite(A).all() & torch.isfinite(C).all()):
        raise ValueError("X, Y or alpha have entries too large: sum_i alpha_i x_i x_i^T overflows")
    if torch.linalg.matrix_rank(A) < A.shape[0]:
        raise ValueError("sum_i alpha_i x_i x_i^T is singular: the minimizer is not unique")
    W = torch.linalg.solve(A, C.T).T
    if not all_finite(W):
        raise ValueError("the minimizer overflows: X, Y or alpha have entries too large")
    return W


def _batch_flow_maps(A: torch.Tensor, C: torch.Tensor, dt: float):
    """Exact flow maps of ``W' = -(W A - C)`` over time ``dt``: ``W -> W E + C P``.

    ``A`` is symmetric positive semi-definite, ``A = V diag(mu) V^T``, so
    ``E = exp(-A dt) = V diag(exp(-mu dt)) V^T`` and
    ``P = int_0^dt exp(-A s) ds = V diag((1 - exp(-mu dt)) / mu) V^T``, which stays
    finite (``dt``) for ``mu = 0``: a singular batch matrix is no problem. Batched over the
    leading dimensions of ``A``; returns ``E`` and ``C P``.
    """
    mu, V = torch.linalg.eigh(A)
    x = mu * dt
    phi = torch.where(x.abs() < 1e-8, 1 - x / 2, -torch.expm1(-x) / torch.where(x == 0, 1.0, x))
    Vt = V.transpose(-1, -2)
    return (V * torch.exp(-x)[..., None, :]) @ Vt, C @ ((V * (dt * phi)[..., None, :]) @ Vt)


def _step_sizes(dt, n_epochs: int) -> Callable[[int], float]:
    """``k -> dt_k`` from a number, a sequence or ``k -> dt_k``, each step checked positive.

    A number or a sequence is checked up front; a callable is called (and its value checked) once per
    epoch, when the epoch is run, so that a long run allocates nothing per epoch in advance.
    """
    if callable(dt):
        last: dict[int, float] = {}

        def step(k: int) -> float:
            if k not in last:  # the epoch, then the recorded time, ask for the same step
                last.clear()
                last[k] = check_positive(f"dt({k})", dt(k))
            return last[k]

        return step
    if (
        isinstance(dt, numbers.Number | np.generic | str | bytes)
        or dt is None
        or (isinstance(dt, torch.Tensor | np.ndarray) and dt.ndim == 0)
    ):
        value = check_positive("dt", dt)
        return lambda k: value
    if isinstance(dt, torch.Tensor | np.ndarray):
        seq = as_real_tensor("dt", dt, ndim=1).tolist()
    else:
        try:
            seq = list(dt)
        except TypeError:
            raise TypeError(
                "dt must be a positive number, a sequence of them or a callable k -> dt_k, "
                f"got {type(dt).__name__}"
            ) from None
    if len(seq) < n_epochs:
        raise ValueError(f"dt has {len(seq)} entries, need n_epochs={n_epochs}")
    seq = [check_positive(f"dt[{k}]", seq[k]) for k in range(n_epochs)]
    return seq.__getitem__


def random_batch_splitting(
    X,
    Y,
    n_batches: int,
    dt: float | Sequence[float] | Callable[[int], float],
    n_epochs: int,
    W0: torch.Tensor | None = None,
    alpha=None,
    exact: bool = False,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    n_draws: int | None = None,
) -> Trajectory:
    """Stochastic gradient method as the splitting (5.29) of the least-squares flow.

    Each epoch ``k`` shuffles the samples into ``n_batches`` disjoint batches and,
    batch after batch, advances ``W`` by a time ``dt_k`` along the flow of that
    batch's objective: exactly (``exact=True``, the continuous splitting (5.29))
    or by one gradient step (``exact=False``, its fully discrete version).

    ``dt`` is a constant step, a sequence ``dt_0, dt_1, ...`` or a callable
    ``k -> dt_k`` (called once per epoch, when the epoch runs). Returns a
    :class:`~gradflows.Trajectory` whose ``W`` holds the iterates ``W_0, ..., W_{n_epochs}``,
    shape ``(n_epochs + 1, n, m)``, at the times
    ``t_k = dt_0 + ... + dt_{k-1}``. With ``n_draws = R`` it runs ``R`` independent chains at
    once, each with its own partitions (all drawn from ``generator``), and ``W`` has shape
    ``(n_epochs + 1, R, n, m)``. Raises :class:`~gradflows.DivergenceError` when the iterates
    stop being finite. Notebook ``01-sgd/03-batches-and-initialization``.
    """
    X, Y, alpha = _check_data(X, Y, alpha)
    N, m = X.shape
    n = Y.shape[1]
    n_batches = check_int("n_batches", n_batches)
    if n_batches > N:
        raise ValueError(f"n_batches={n_batches} exceeds the number of samples {N}")
    n_epochs = check_int("n_epochs", n_epochs, minimum=0)
    R = 1 if n_draws is None else check_int("n_draws", n_draws)
    check_memory(f"n_draws={R} chains", 2.0 * R * N * (m * m + n * m), X.dtype)
    exact = check_bool("exact", exact)
    check_generator(generator, torch.device("cpu"), "the random partitions (drawn on the CPU)")
    dts = _step_sizes(dt, n_epochs)
    if W0 is None:
        W = torch.zeros(R, n, m, dtype=X.dtype, device=X.device)
    else:
        W = check_finite("W0", as_tensor("W0", W0, X.dtype)).to(X.device)
        if W.shape != (n, m):
            raise ValueError(f"W0 must have shape {(n, m)}, got {tuple(W.shape)}")
        W = W.expand(R, n, m).clone()
    # per-sample terms of A^r and C^r, and the 0/1 matrix that sums the positions of each batch
    a_i = alpha[:, None, None] * X[:, :, None] * X[:, None, :]  # (N, m, m)
    c_i = alpha[:, None, None] * Y[:, :, None] * X[:, None, :]  # (N, n, m)
    if not bool(torch.isfinite(a_i).all() & torch.isfinite(c_i).all()):
        raise ValueError(
            "X, Y or alpha have entries too large: alpha_i x_i x_i^T or alpha_i y_i x_i^T overflows"
        )
    member = torch.zeros(n_batches, N, dtype=X.dtype, device=X.device)
    for r, idx in enumerate(torch.tensor_split(torch.arange(N), n_batches)):
        member[r, idx] = 1.0

    def epoch(k: int, state):
        (W,) = state
        perm = torch.argsort(torch.rand(R, N, generator=generator), dim=1).to(X.device)
        Ab = (member @ a_i[perm].reshape(R, N, m * m)).reshape(R, n_batches, m, m)
        Cb = (member @ c_i[perm].reshape(R, N, n * m)).reshape(R, n_batches, n, m)
        dt_k = dts(k)
        if exact:
            E, F = _batch_flow_maps(Ab, Cb, dt_k)
            for r in range(n_batches):
                W = torch.baddbmm(F[:, r], W, E[:, r])
        else:
            for r in range(n_batches):
                W = torch.baddbmm(W, W, Ab[:, r], alpha=-dt_k).add_(Cb[:, r], alpha=dt_k)
        return (W,)

    traj = run(
        epoch,
        (W,),
        n_epochs,
        names=("W",),
        dt=dts,
        progress=progress,
        desc="random batch splitting",
        unit="epoch",
        advice="reduce dt",
    )
    if n_draws is None:  # one chain: drop the chain dimension
        return Trajectory(traj.times, (traj.W[:, 0],), None, (traj.last[0],), ("W",))
    return traj
