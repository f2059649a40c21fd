"""Independent replicas of a mean-field Langevin system, batched, and the cost of a finite width.

The sweeps of notebook ``03-mfld/03-mean-field-langevin`` run ``R`` independent systems of ``N``
neurons ``(c, a)`` of the network ``f(z) = (1/N) sum_i c_i tanh(a_i z)`` (one input, no bias) as one
Euler-Maruyama run of :func:`gradflows.particles.langevin` on ``R N`` particles: the drift of
replica ``r`` is ``-D_mF(m^N_r, x) - (sigma^2/2) x`` (:func:`mf_drift_replicas`,
:func:`mean_field_langevin_replicas`), and their time-averaged losses at stationarity are
:func:`stationary_losses`. The cost of a finite width is measured by :func:`iid_loss_gap` (``N``
neurons drawn i.i.d. from a measure: ``E F(m^N) - F(m) = int Var_m(phi_hat) dnu / (2N)``) and the fit
``F_N = F_inf + C u(N)`` by :func:`weighted_affine_fit`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .._stepping import Trajectory
from .._validation import as_tensor, check_finite, check_int, check_ndim, check_nonnegative, check_positive
from ..particles import langevin

__all__ = [
    "mf_drift_replicas",
    "replica_losses",
    "mean_field_langevin_replicas",
    "stationary_losses",
    "iid_loss_gap",
    "weighted_affine_fit",
    "best_fixed_features_loss",
]

Tensor = torch.Tensor


def _check_data(X: Tensor, Z: Tensor, Y: Tensor) -> None:
    if X.ndim != 3 or X.shape[2] != 2:
        raise ValueError(f"X must have shape (R, N, 2) (neurons (c, a)), got {tuple(X.shape)}")
    if Z.ndim != 2 or Z.shape[1] != 1 or Y.shape != (Z.shape[0],):
        raise ValueError(f"Z must have shape (M, 1) and Y shape (M,), got {tuple(Z.shape)}, {tuple(Y.shape)}")


def mf_drift_replicas(X: Tensor, Z: Tensor, Y: Tensor) -> Tensor:
    """``-D_mF(m^N_r, x_i)`` for ``R`` independent networks at once, ``X`` of shape ``(R, N, 2)``.

    c-component ``mean_z r(z) tanh(a z)``, a-component ``c mean_z r(z) (1 - tanh^2(a z)) z``, with the
    residuals ``r = y - f`` of each network: :func:`gradflows.mean_field.mf_drift` per replica.
    Used in notebooks/03-mfld/03.
    """
    _check_data(X, Z, Y)
    c, a = X[..., 0], X[..., 1]
    H = torch.tanh(a[:, None, :] * Z)  # (R, M, N)
    r = Y - (H @ c[..., None])[..., 0] / X.shape[1]  # (R, M)
    return torch.stack(
        [(r[:, None, :] @ H)[:, 0], c * ((r * Z[:, 0])[:, None, :] @ (1 - H * H))[:, 0]], -1
    ) / len(Z)


def replica_losses(X: Tensor, Z: Tensor, Y: Tensor) -> Tensor:
    """``F(m^N_r) = (1/2) mean_z (y - f_r(z))^2`` of each of the ``R`` networks ``X`` ``(R, N, 2)``: ``(R,)``.

    Used in notebooks/03-mfld/03.
    """
    _check_data(X, Z, Y)
    f = (torch.tanh(X[..., 1][:, None, :] * Z) @ X[..., 0][..., None])[..., 0] / X.shape[1]
    return 0.5 * (Y - f).square().mean(1)


def mean_field_langevin_replicas(
    X0: Tensor,
    Z: Tensor,
    Y: Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    record_every: int | None = None,
    stats: Callable[[Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> Trajectory:
    """``R`` independent mean-field Langevin systems ``X0`` ``(R, N, 2)``, one run of :func:`~.langevin`.

    ``X_{k+1} = X_k + dt (-D_mF(m^N_r, X_k) - (sigma^2/2) X_k) + sigma sqrt(dt) xi_k`` per replica.
    The states are recorded flat, ``(n_rec, R N, 2)``; ``stats`` receives ``X`` as ``(R, N, 2)``.
    Used in notebooks/03-mfld/03.
    """
    X0 = check_finite("X0", as_tensor("X0", X0))
    _check_data(X0, Z, Y)
    sigma = check_nonnegative("sigma", sigma)
    R, N = X0.shape[:2]

    def grad(X):  # minus the drift of the scheme: D_mF + (s^2/2) grad U
        return 0.5 * sigma**2 * X - mf_drift_replicas(X.view(R, N, 2), Z, Y).view(-1, 2)

    rec = None if stats is None else (lambda X: stats(X.view(R, N, 2)))
    return langevin(
        X0.reshape(R * N, 2), sigma, dt, n_steps, grad=grad, record_every=record_every, stats=rec,
        generator=generator, progress=False,
    )  # fmt: skip


def stationary_losses(
    X0: Tensor,
    Z: Tensor,
    Y: Tensor,
    sigma: float,
    dt: float,
    T: float,
    t_avg: float,
    generator: torch.Generator | None = None,
    record_every: int = 10,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Tensor]:
    """Time averages of ``F`` over ``(t_avg, T]`` for ``R`` systems run to ``T``, and the final neurons.

    Returns per system the average over the window, over its first and over its second half
    (for a drift check), each ``(R,)``, and the final neurons ``(R, N, 2)``. Used in notebooks/03-mfld/03.
    """
    T, t_avg = check_positive("T", T), check_nonnegative("t_avg", t_avg)
    p = mean_field_langevin_replicas(
        X0, Z, Y, sigma, dt, int(round(T / dt)), record_every, lambda X: replica_losses(X, Z, Y), generator
    )
    Fs = p.stats[p.times >= t_avg].double().numpy()[1:]  # (records, R)
    half = len(Fs) // 2
    return Fs.mean(0), Fs[:half].mean(0), Fs[half:].mean(0), p.last.view(X0.shape)


def iid_loss_gap(
    Phi: Tensor,
    Y: Tensor,
    f_pool: Tensor,
    F_pool: float,
    Ns,
    R: int,
    chunk: int,
    generator: torch.Generator | None = None,
) -> dict[str, np.ndarray | Tensor]:
    """``F(m^N) - F(m)`` for ``N`` neurons drawn i.i.d. from the empirical measure ``m`` of a pool.

    ``Phi`` holds the features ``phi_hat(x_i, z_j)`` of the pool ``(n_pool, M)``, ``f_pool`` its output
    ``(M,)`` and ``F_pool`` its loss. For each ``N`` in
    ``Ns``, ``R`` subsamples (``chunk`` at a time, indices by ``torch.randint``) give the mean gap and
    its standard error, raw and with the control variate ``-(mean_z r (f_N - f_m))`` (the linear term
    of the expansion, of mean exactly zero): keys ``gap_raw``, ``se_raw``, ``gap_cv``, ``se_cv``; and
    ``idx``, ``F_N`` of the last chunk. Used in notebooks/03-mfld/03 (Theorem 6).
    """
    Phi = check_finite("Phi", check_ndim("Phi", as_tensor("Phi", Phi), 2))
    R, chunk = check_int("R", R), check_int("chunk", chunk)
    if f_pool.shape != (Phi.shape[1],) or Y.shape != (Phi.shape[1],):
        raise ValueError(f"f_pool and Y must have shape ({Phi.shape[1]},)")
    r_pool = Y - f_pool
    out = {k: [] for k in ("gap_raw", "se_raw", "gap_cv", "se_cv")}
    for n in Ns:
        raw, cv = [], []
        for _ in range(R // chunk):
            idx = torch.randint(len(Phi), (chunk, n), generator=generator, device=Phi.device)
            f_N = Phi[idx].mean(1)  # outputs of the subsampled networks, (chunk, M)
            F_N = 0.5 * (Y - f_N).square().mean(1)  # F(m^N)
            lin = -(r_pool * (f_N - f_pool)).mean(1)  # linear term: mean exactly zero
            raw.append(F_N - F_pool)
            cv.append(F_N - F_pool - lin)
        raw, cv = torch.cat(raw).cpu().numpy(), torch.cat(cv).cpu().numpy()
        for key, v in (("raw", raw), ("cv", cv)):
            out[f"gap_{key}"].append(v.mean())
            out[f"se_{key}"].append(v.std() / math.sqrt(R))
    return {k: np.array(v) for k, v in out.items()} | {"idx": idx, "F_N": F_N}


def weighted_affine_fit(u, y, se) -> tuple[float, float, float, float]:
    """Weighted least squares ``y ~ b0 + b1 u`` with weights ``1 / se^2``: ``(b0, b1, se(b1), chi2)``.

    Used in notebooks/03-mfld/03 (the fit ``F_N = F_inf + C / N`` of the trained systems).
    """
    u, y, se = (np.asarray(v, dtype=float) for v in (u, y, se))
    if not (u.ndim == 1 and u.shape == y.shape == se.shape and len(u) >= 3 and np.all(se > 0)):
        raise ValueError("u, y, se must be 1-D of one length >= 3, with se > 0")
    A = np.stack([np.ones(len(u)), u], 1) / se[:, None]
    coef, *_ = np.linalg.lstsq(A, y / se, rcond=None)
    cov = np.linalg.inv(A.T @ A)
    return coef[0], coef[1], math.sqrt(cov[1, 1]), ((A @ coef - y / se) ** 2).sum()


def best_fixed_features_loss(inner: Tensor, Z: Tensor, Y: Tensor) -> float:
    """``min_c (1/2) mean_j (y_j - sum_k c_k tanh(a_k z_j))^2`` over the outer weights, ``a_k`` fixed.

    Least squares (``numpy.linalg.lstsq``) on the features ``tanh(a_k z_j)`` (one input ``Z`` ``(M, 1)``):
    an upper bound on ``inf F^N`` for ``N = len(inner)`` neurons. Used in notebooks/03-mfld/03.
    """
    from ..mean_field import mf_features

    inner = check_finite("inner", check_ndim("inner", as_tensor("inner", inner), 1))
    A = (
        mf_features(torch.stack([torch.ones(len(inner), dtype=inner.dtype), inner], 1), Z).T.cpu().numpy()
    )  # (M, n)
    y = Y.cpu().numpy()
    return 0.5 * np.mean((y - A @ np.linalg.lstsq(A, y, rcond=None)[0]) ** 2)
