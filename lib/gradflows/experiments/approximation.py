"""Universal approximation in one dimension: random features, the staircase of the proof, trained tanh nets.

Three one-hidden-layer tanh networks approximate a continuous target ``g`` on ``[-1, 1]``
(Theorem "Universal approximation" of notebook ``03-mfld/01-networks-as-measures``):

* random features ``sum_i c_i tanh(w_i (z - t_i)) + c_0`` with ``w_i ~ N(0, scale^2)``,
  ``t_i ~ U(-1, 1)`` and the outer weights fitted by least squares (:func:`rf_fit`);
* the staircase of the proof ``g(x_0) + sum_k (g(x_k) - g(x_{k-1})) expit((kappa/h)(z - xi_k))``
  and its error bound (:func:`staircase`, :func:`staircase_bound`);
* networks whose every weight is trained by Levenberg-Marquardt from random-feature starts
  (:func:`train_tanh_nets`).

The fits are NumPy/SciPy computations (``numpy.linalg.lstsq``) on NumPy grids; the random draws
go through a :class:`torch.Generator` so that they follow ``GRADFLOWS_SEED``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy.special import expit

from .._validation import check_finite, check_int, check_positive
from ..rates import loglog_slope

__all__ = [
    "rf_draw",
    "rf_features",
    "rf_fit",
    "random_feature_errors",
    "jackknife_slope_se",
    "staircase",
    "staircase_bound",
    "tanh_nets",
    "levenberg_marquardt",
    "train_tanh_nets",
]

Target = Callable[[np.ndarray], np.ndarray]


def _grid(name: str, z) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    if z.ndim != 1 or z.size < 2 or not np.all(np.isfinite(z)):
        raise ValueError(f"{name} must be a finite 1-D grid of >= 2 points, got shape {z.shape}")
    return z


def rf_features(z: np.ndarray, w: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Features ``tanh(w_i (z - t_i))`` of each neuron and a constant column, shape ``(len(z), n + 1)``.

    Notebook ``03-mfld/01-networks-as-measures``.
    """
    z, w, t = np.asarray(z, dtype=float), np.asarray(w, dtype=float), np.asarray(t, dtype=float)
    if z.ndim != 1 or w.ndim != 1 or w.shape != t.shape:
        raise ValueError(f"z must be 1-D and w, t 1-D of one length, got {z.shape}, {w.shape}, {t.shape}")
    return np.hstack([np.tanh(np.outer(z, w) - w * t), np.ones((len(z), 1))])


def rf_draw(n: int, scale: float, generator: torch.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """Inner weights ``w ~ N(0, scale^2)`` then shifts ``t ~ U(-1, 1)`` of ``n`` random features (NumPy).

    Notebook ``03-mfld/01-networks-as-measures``.
    """
    n, scale = check_int("n", n), check_positive("scale", scale)
    w = scale * torch.randn(n, generator=generator)
    t = 2 * torch.rand(n, generator=generator) - 1
    return w.numpy(), t.numpy()


def rf_fit(
    g: Target, n: int, scale: float, generator: torch.Generator | None, z_fit: np.ndarray, z_eval: np.ndarray
) -> tuple[np.ndarray, float]:
    """Random-feature network of width ``n`` fitted to ``g`` by least squares on ``z_fit``.

    The outer weights minimise ``mean_{z_fit} (f(z) - g(z))^2`` (``numpy.linalg.lstsq``). Returns
    the fitted network on ``z_eval`` and its RMS error on ``z_fit``.
    Notebook ``03-mfld/01-networks-as-measures``.
    """
    z_fit, z_eval = _grid("z_fit", z_fit), _grid("z_eval", z_eval)
    w, t = rf_draw(n, scale, generator)
    A = rf_features(z_fit, w, t)
    coef, *_ = np.linalg.lstsq(A, g(z_fit), rcond=None)
    return rf_features(z_eval, w, t) @ coef, np.sqrt(np.mean((A @ coef - g(z_fit)) ** 2))


def random_feature_errors(
    g: Target,
    widths,
    scale: float,
    n_draws: int,
    generator: torch.Generator | None,
    z_fit: np.ndarray,
    z_sup: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Sup errors on ``z_sup`` and RMS errors on ``z_fit`` of :func:`rf_fit`, each ``(len(widths), n_draws)``.

    The draws are made width by width, ``n_draws`` at each width. Notebook
    ``03-mfld/01-networks-as-measures`` (the rate ``n^{-alpha}`` of a Hölder-``alpha`` target).
    """
    n_draws = check_int("n_draws", n_draws)
    fits = [[rf_fit(g, int(n), scale, generator, z_fit, z_sup) for _ in range(n_draws)] for n in widths]
    sup = np.array([[np.abs(f - g(z_sup)).max() for f, _ in row] for row in fits])
    return sup, np.array([[e for _, e in row] for row in fits])


def jackknife_slope_se(widths, errors: np.ndarray) -> float:
    """Jackknife standard error of the log-log slope of the mean over draws of ``errors`` ``(widths, draws)``.

    Leave one draw out at a time: ``sqrt((k - 1) var(slopes))``. Notebook ``03-mfld/01-networks-as-measures``.
    """
    errors = np.asarray(errors, dtype=float)
    if errors.ndim != 2 or errors.shape[1] < 2 or errors.shape[0] != len(widths):
        raise ValueError(f"errors must have shape (len(widths), >= 2 draws), got {errors.shape}")
    k = errors.shape[1]
    slopes = [loglog_slope(widths, np.delete(errors, j, 1).mean(1)) for j in range(k)]
    return float(np.sqrt((k - 1) * np.var(slopes)))


def staircase(g: Target, n: int, z: np.ndarray, kappa: float = 10.0) -> np.ndarray:
    """The network of the proof on ``z``: ``g(x_0) + sum_k (g(x_k) - g(x_{k-1})) expit((kappa/h)(z - xi_k))``.

    Nodes ``x_k = -1 + k h``, ``h = 2/n``, midpoints ``xi_k``. Notebook ``03-mfld/01-networks-as-measures``.
    """
    n, kappa, z = check_int("n", n), check_positive("kappa", kappa), _grid("z", z)
    h = 2.0 / n
    x_nodes = -1.0 + h * np.arange(n + 1)
    xi = x_nodes[1:] - h / 2
    return g(x_nodes[0]) + (np.diff(g(x_nodes)) * expit(kappa / h * (z[:, None] - xi))).sum(1)


def staircase_bound(modulus: Callable[[float], float], n: int, kappa: float = 10.0) -> float:
    """Bound of the proof on the sup error of :func:`staircase`: ``w(h/2) + (1/2 + eps_kappa) w(h)``.

    ``w`` the modulus of continuity of the target, ``eps_kappa = 3 e^{-kappa} / (1 - e^{-kappa})``.
    Notebook ``03-mfld/01-networks-as-measures``.
    """
    n, kappa = check_int("n", n), check_positive("kappa", kappa)
    h, eps_k = 2.0 / n, 3 * np.exp(-kappa) / (1 - np.exp(-kappa))
    return modulus(h / 2) + (0.5 + eps_k) * modulus(h)


def tanh_nets(p: torch.Tensor, n: int, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Features ``tanh(w_i z + b_i)`` ``(S, len(z), n)``, outputs ``sum_i c_i tanh(.) + c_0`` ``(S, len(z))``.

    Rows of ``p`` are ``(w, b, c, c_0)``, shape ``(S, 3n + 1)``. Notebook ``03-mfld/01-networks-as-measures``.
    """
    if p.ndim != 2 or p.shape[1] != 3 * n + 1:
        raise ValueError(f"p must have shape (S, {3 * n + 1}), got {tuple(p.shape)}")
    H = torch.tanh(z[:, None] * p[:, None, :n] + p[:, None, n : 2 * n])
    return H, (H * p[:, None, 2 * n : 3 * n]).sum(2) + p[:, 3 * n :]


def levenberg_marquardt(
    p: torch.Tensor, y: torch.Tensor, n: int, z: torch.Tensor, iters: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """``S`` least-squares problems ``min_p mean_z (net_p(z) - y)^2`` at once, by Levenberg-Marquardt.

    Gauss-Newton steps damped by ``lam`` (one per problem, divided by 3 after a success, doubled
    after a failure); a step is taken only where it lowers the loss. Returns the parameters and the
    RMS errors ``(S,)``. Notebook ``03-mfld/01-networks-as-measures``.
    """
    iters = check_int("iters", iters, minimum=0)
    check_finite("p", p)

    def residual_jacobian(p):
        H, out = tanh_nets(p, n, z)
        dH = (1 - H * H) * p[:, None, 2 * n : 3 * n]  # derivative of the output in w_i z + b_i
        return out - y, torch.cat([dH * z[:, None], dH, H, torch.ones_like(H[..., :1])], 2)

    r, J = residual_jacobian(p)
    lam = torch.full((len(p), 1), 1e-3, dtype=p.dtype, device=p.device)
    for _ in range(iters):
        JtJ = J.mT @ J
        diag = JtJ.diagonal(dim1=1, dim2=2)
        damped = JtJ + torch.diag_embed(lam * (diag + 1e-9 * diag.mean(1, keepdim=True)))
        step = torch.linalg.solve(damped, -(J.mT @ r[..., None])[..., 0])
        r_try, J_try = residual_jacobian(p + step)
        ok = (r_try.square().sum(1) < r.square().sum(1))[:, None]
        p, r = torch.where(ok, p + step, p), torch.where(ok, r_try, r)
        J = torch.where(ok[..., None], J_try, J)
        lam = torch.where(ok, lam / 3, lam * 2).clamp(1e-12, 1e8)
    return p, r.square().mean(1).sqrt()


def train_tanh_nets(
    g: Target,
    n: int,
    n_starts: int,
    scale: float,
    generator: torch.Generator | None,
    z_fit: np.ndarray,
    z_sup: np.ndarray,
    iters: int = 100,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_starts`` tanh networks of width ``n`` with every weight trained (Levenberg-Marquardt, float64).

    Each starts from an independent random-feature draw with its least-squares outer weights.
    Returns the RMS errors on ``z_fit`` and the sup errors on ``z_sup``, shape ``(n_starts,)`` each.
    Notebook ``03-mfld/01-networks-as-measures``.
    """
    n_starts, z_fit, z_sup = check_int("n_starts", n_starts), _grid("z_fit", z_fit), _grid("z_sup", z_sup)
    p0 = []
    for _ in range(n_starts):
        w, t = rf_draw(n, scale, generator)
        coef = np.linalg.lstsq(rf_features(z_fit, w, t), g(z_fit), rcond=None)[0]
        p0.append(np.concatenate([w, -w * t, coef]))
    p, rms = levenberg_marquardt(
        torch.from_numpy(np.array(p0)), torch.from_numpy(g(z_fit)), n, torch.from_numpy(z_fit), iters
    )
    sup = (tanh_nets(p, n, torch.from_numpy(z_sup))[1] - torch.from_numpy(g(z_sup))).abs().max(1).values
    return rms.numpy(), sup.numpy()
