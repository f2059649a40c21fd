"""Convexity of the mean-field loss along mixtures of measures, and its failure along segments of parameters.

Notebook ``03-mfld/01-networks-as-measures`` (Proposition "F is convex", claim MFLD-3): the loss
``F(m) = (1/2) E_nu (y - f_m(z))^2`` is a convex parabola along the mixtures ``(1 - a) m + a m'``
(:func:`mixture_convexity`), while ``L(theta) = F(m^N_theta)`` along the segments ``theta -> -theta``
and ``theta -> `` permuted ``theta`` is not convex (:func:`parameter_segments`); :func:`plot_convexity`
draws both.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

from .._validation import check_int
from ..mean_field import mf_loss, mf_output, mixture_losses

__all__ = ["mixture_convexity", "parameter_segments", "plot_convexity"]


def mixture_convexity(
    X0: torch.Tensor, X1: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor, K: int
) -> SimpleNamespace:
    """``F`` along the mixtures ``(1 - a) m + a m'``, ``a = k/K``, against the exact parabola.

    With ``d = E_nu (f_m' - f_m)^2`` the identities ``chord - F(m_a) = a (1 - a) d / 2`` and
    ``second differences = d / K^2`` hold exactly. Returns ``alphas``, ``F_mix``, ``mix_output_dev``,
    ``rescaled_dev`` (:func:`gradflows.mean_field.mixture_losses`), ``dist_f``, ``chord_gap``, ``gap_dev``,
    ``second_diff``, ``second_dev``. Used in notebooks/03-mfld/01.
    """
    K = check_int("K", K)
    mixtures = mixture_losses(X0, X1, Z, Y, K)  # validates the shapes
    c = SimpleNamespace(alphas=np.arange(K + 1) / K, F_mix=mixtures["F"])
    c.mix_output_dev, c.rescaled_dev = mixtures["output_dev"], mixtures["rescaled_dev"]
    c.dist_f = ((mf_output(X1, Z) - mf_output(X0, Z)) ** 2).mean().item()  # E_nu (f_m' - f_m)^2
    a, F = c.alphas, c.F_mix
    c.chord_gap = (1 - a) * F[0] + a * F[-1] - F
    c.gap_dev = np.abs(c.chord_gap - 0.5 * a * (1 - a) * c.dist_f).max()
    c.second_diff = np.diff(F, 2)
    c.second_dev = np.abs(c.second_diff - c.dist_f / K**2).max()
    return c


def parameter_segments(
    X: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor, K: int, n_t: int = 41
) -> SimpleNamespace:
    """``L`` along the segments from ``theta`` to ``-theta`` and to ``theta`` rolled by ``N/2``.

    Also ``F`` along the mixtures of ``m_theta`` and ``m_{-theta}``.

    Returns ``ts``, ``L_flip``, ``L_perm``, ``F_flip_mix`` and the summaries ``flip_symmetry``
    (``|L(-theta) - L(theta)|``), ``midpoint_excess``, ``flip_second_min``, ``perm_excess`` (midpoint
    above the chord) and ``flip_mix_spread``. Used in notebooks/03-mfld/01.
    """
    K, n_t = check_int("K", K), check_int("n_t", n_t, minimum=3)
    mf_loss(X, Z, Y)  # validates the shapes
    s = SimpleNamespace(ts=np.linspace(0.0, 1.0, n_t))
    perm = torch.roll(torch.arange(len(X)), len(X) // 2)
    s.L_flip = np.array([mf_loss((1 - 2 * t) * X, Z, Y).item() for t in s.ts])  # (1-t) theta + t (-theta)
    s.L_perm = np.array([mf_loss((1 - t) * X + t * X[perm], Z, Y).item() for t in s.ts])
    s.F_flip_mix = np.array(
        [mf_loss(torch.cat([X.repeat(K - k, 1), (-X).repeat(k, 1)]), Z, Y).item() for k in range(K + 1)]
    )  # mixtures (1 - a) m_theta + a m_{-theta}
    s.flip_symmetry = abs(s.L_flip[-1] - s.L_flip[0])
    s.midpoint_excess = s.L_flip[n_t // 2] - s.L_flip[0]
    s.flip_second_min = np.diff(s.L_flip, 2).min()
    s.perm_excess = s.L_perm[n_t // 2] - 0.5 * (s.L_perm[0] + s.L_perm[-1])
    s.flip_mix_spread = s.F_flip_mix.max() - s.F_flip_mix.min()
    return s


def plot_convexity(c: SimpleNamespace, s: SimpleNamespace) -> None:
    """Left: ``F`` along mixtures of measures and its chord; right: ``L`` along segments of parameters.

    ``c`` from :func:`mixture_convexity`, ``s`` from :func:`parameter_segments`. Used in notebooks/03-mfld/01.
    """
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    ax1.plot(c.alphas, c.F_mix, "o-", ms=3, label="$F((1-\\alpha)m + \\alpha m')$")
    ax1.plot(c.alphas, (1 - c.alphas) * c.F_mix[0] + c.alphas * c.F_mix[-1], "k--", lw=1, label="chord")
    ax1.set(xlabel="$\\alpha$", ylabel="loss", title="mixtures of measures: convex")
    ax1.legend()
    ax2.plot(s.ts, s.L_flip, label="segment $\\theta \\to -\\theta$ (sign flip)")
    ax2.plot(s.ts, s.L_perm, label="segment $\\theta \\to$ permuted $\\theta$")
    ax2.plot(c.alphas, s.F_flip_mix, "k:", label="mixture $m_\\theta \\to m_{-\\theta}$")
    ax2.set(xlabel="$t$", ylabel="loss", title="segments in parameter space: not convex")
    ax2.legend(fontsize=8)
    plt.show()
