"""The Gibbs measure as the minimiser of the free energy, on a grid: competitors, families, first variations.

Notebook ``03-mfld/02-langevin-gibbs`` (claim MFLD-5): for ``V^sigma(m) = int f dm + (sigma^2/2) int m log m``
and the Gibbs density ``m*`` the identity ``V^sigma(m) - V^sigma(m*) = (sigma^2/2) H(m | m*)`` is measured on
explicit competitors (:func:`competitor_families`, :func:`free_energy_gaps`), along one-parameter families
through ``m*`` (:func:`family_gaps`, :func:`plot_families`), for the free energy relative to a reference
measure (:func:`relative_free_energies`), and the flat derivatives of linear, quadratic, interaction and
entropy functionals are checked by difference quotients (:func:`first_variation_errors`).
All densities are tensors on a 1-D grid, integrated by the trapezoid rule.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .._validation import check_finite, check_ndim
from ..energies import entropy_1d, free_energy_1d, relative_entropy_1d, trapezoid
from ..rates import loglog_slope

__all__ = [
    "normalise",
    "gauss",
    "competitor_families",
    "free_energy_gaps",
    "family_gaps",
    "plot_families",
    "relative_free_energies",
    "first_variation_errors",
]

Density = Callable[[float], torch.Tensor]


def _grid(x: torch.Tensor) -> torch.Tensor:
    return check_finite("x", check_ndim("x", x, 1))


def normalise(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``w / int w`` on the grid ``x`` (trapezoid rule). Used in notebooks/03-mfld/02."""
    return w / trapezoid(w, _grid(x))


def gauss(x: torch.Tensor, mu: float, s: float) -> torch.Tensor:
    """The density of ``N(mu, s^2)`` on the grid ``x``. Used in notebooks/03-mfld/02."""
    if not s > 0:
        raise ValueError(f"s must be > 0, got {s}")
    return torch.exp(-0.5 * ((_grid(x) - mu) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def competitor_families(
    f: Callable[[torch.Tensor], torch.Tensor], m_star: torch.Tensor, x: torch.Tensor, sigma: float
) -> dict[str, Density]:
    """One-parameter families of densities through the Gibbs density ``m* ∝ exp(-2 f / sigma^2)``.

    ``tilted(theta) ∝ m* e^{theta x}``, ``shifted(a) ∝ exp(-2 f(x - a) / sigma^2)``, ``widened(s) ∝
    exp(-2 f(x / s) / sigma^2)`` and ``mixed(eps) = (1 - eps) m* + eps N(0, 0.5^2)``, each normalised
    on the grid ``x``; ``f`` maps ``(n, 1)`` to ``(n,)``. Used in notebooks/03-mfld/02.
    """
    x = _grid(x)
    if m_star.shape != x.shape:
        raise ValueError(f"m_star must have the shape of x {tuple(x.shape)}, got {tuple(m_star.shape)}")
    return {
        "tilted": lambda th: normalise(m_star * torch.exp(th * x), x),
        "shifted": lambda a: normalise(torch.exp(-2 * f((x - a)[:, None]) / sigma**2), x),
        "widened": lambda s: normalise(torch.exp(-2 * f((x / s)[:, None]) / sigma**2), x),
        "mixed": lambda eps: (1 - eps) * m_star + eps * gauss(x, 0.0, 0.5),
    }


def free_energy_gaps(
    competitors: dict[str, torch.Tensor], f: torch.Tensor, x: torch.Tensor, sigma: float, m_star: torch.Tensor
) -> dict[str, tuple[float, float]]:
    """``(V(m) - V(m*), (sigma^2/2) H(m | m*))`` on the grid for each competitor, printed as a table.

    ``f`` holds the potential on the grid ``x``. Used in notebooks/03-mfld/02 (claim MFLD-5).
    """
    V_star = free_energy_1d(m_star, f, x, sigma).item()
    print(f"{'competitor':<25}{'V(m) - V(m*)':>14}{'(s^2/2) H(m|m*)':>17}{'difference':>12}")
    gaps = {}
    for name, m in competitors.items():
        gap = free_energy_1d(m, f, x, sigma).item() - V_star
        kl = 0.5 * sigma**2 * relative_entropy_1d(m, m_star, x).item()
        gaps[name] = (gap, kl)
        print(f"{name:<25}{gap:14.6f}{kl:17.6f}{gap - kl:12.1e}")
    return gaps


def family_gaps(
    families: dict[str, tuple[np.ndarray, Density, str]],
    f: torch.Tensor,
    x: torch.Tensor,
    sigma: float,
    m_star: torch.Tensor,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``V(m_p) - V(m*)`` and ``(sigma^2/2) H(m_p | m*)`` along each family ``name: (params, make, label)``.

    Used in notebooks/03-mfld/02 (each family is minimal at ``m*``).
    """
    V_star = free_energy_1d(m_star, f, x, sigma).item()
    fam_gap, fam_kl = {}, {}
    for name, (params, make, _) in families.items():
        dens = [make(float(p)) for p in params]
        fam_gap[name] = np.array([free_energy_1d(m, f, x, sigma).item() - V_star for m in dens])
        fam_kl[name] = np.array([0.5 * sigma**2 * relative_entropy_1d(m, m_star, x).item() for m in dens])
    return fam_gap, fam_kl


def plot_families(families: dict, fam_gap: dict[str, np.ndarray], fam_kl: dict[str, np.ndarray]) -> None:
    """Per family: the free-energy gap and ``(sigma^2/2) H`` (every 4th point) against its parameter.

    Used in notebooks/03-mfld/02.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(families), figsize=(15, 3.3))
    for ax, (name, (params, _, label)) in zip(axes, families.items(), strict=True):
        ax.plot(params, fam_gap[name], "C0", label="$V^\\sigma(m)-V^\\sigma(m^*)$")
        kl_label = "$\\frac{\\sigma^2}{2}H(m\\,|\\,m^*)$"
        ax.plot(params[::4], fam_kl[name][::4], "o", ms=4, color="C3", label=kl_label)
        ax.set(xlabel=label, title=name)
    axes[0].set_ylabel("free-energy gap")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def relative_free_energies(
    candidates: dict[str, torch.Tensor],
    f: torch.Tensor,
    x: torch.Tensor,
    sigma: float,
    U: torch.Tensor,
    m_U: torch.Tensor,
) -> tuple[dict[str, float], float, float]:
    """``V_g(m) = int f dm + (sigma^2/2) H(m | g)``, ``g = e^{-U}``, printed with its identities.

    Returns the values, the minimum ``V_g(m_U)`` and the largest deviation in the identities
    ``V_g(m) = V_{f + sigma^2 U / 2}(m)``
    (Lebesgue free energy) and ``V_g(m) - V_g(m_U) = (sigma^2/2) H(m | m_U)``. Used in notebooks/03-mfld/02.
    """
    g_ref, f_tilde = torch.exp(-U), f + 0.5 * sigma**2 * U
    V = {name: free_energy_1d(m, f, x, sigma, reference=g_ref).item() for name, m in candidates.items()}
    V_min = free_energy_1d(m_U, f, x, sigma, reference=g_ref).item()
    identity = 0.0
    for name, m in candidates.items():
        same = free_energy_1d(m, f_tilde, x, sigma).item()
        kl = 0.5 * sigma**2 * relative_entropy_1d(m, m_U, x).item()
        identity = max(identity, abs(V[name] - same), abs(V[name] - V_min - kl))
        print(f"{name:<34} V = {V[name]:.6f}   V - min = {V[name] - V_min:.6f}   (s^2/2) H(m|m_U) = {kl:.6f}")
    print(
        "max deviation in the identities V_g(m) = V_(f + s^2 U/2)(m) and V_g(m) - min = (s^2/2) H: "
        f"{identity:.1e}"
    )
    return V, V_min, identity


def first_variation_errors(
    examples: dict[str, tuple[Callable, torch.Tensor, float]],
    w_m: torch.Tensor,
    w_p: torch.Tensor,
    s_list: np.ndarray,
    entropy_pair: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> dict[str, float]:
    """Difference quotients ``(V(m + s(m' - m)) - V(m)) / s`` against the flat derivative ``<dV/dm, m' - m>``.

    ``examples[name] = (V on weights, dV/dm at m on the atoms, exact second-order coefficient c2)``
    for measures with weights ``w_m``, ``w_p`` on common atoms; the error is ``c2 s`` exactly for a
    quadratic ``V`` (slope 1 printed when ``c2 > 0``). ``entropy_pair = (m, m', x)``: densities on a grid,
    for ``int m log m`` with derivative ``log m + 1`` and second-order term ``(1/2) int (m' - m)^2 / m``.
    Prints one line per example and two for the entropy; returns the fitted slopes.
    Used in notebooks/03-mfld/02.
    """
    if w_m.shape != w_p.shape:
        raise ValueError(f"w_m and w_p must have one shape, got {tuple(w_m.shape)} and {tuple(w_p.shape)}")
    delta, slopes = w_p - w_m, {}
    for name, (V, dVdm, c2) in examples.items():
        pred = (dVdm @ delta).item()
        err = np.array([abs((V((1 - s) * w_m + s * w_p) - V(w_m)).item() / s - pred) for s in s_list])
        line = (
            f"{name:<20} |quotient - <dV/dm, m'-m>| for s = 1e-1..1e-6: {np.array2string(err, precision=1)}"
        )
        if c2 > 0:
            slopes[name] = loglog_slope(s_list, err)
            line += f"  slope {slopes[name]:.3f}, err/s at s=1e-3: {err[2] / 1e-3:.6f} vs {c2:.6f}"
        print(line)
    m_a, m_b, x = entropy_pair
    pred_E = trapezoid((torch.log(m_a) + 1) * (m_b - m_a), x).item()
    pred_E0 = trapezoid(torch.log(m_a) * (m_b - m_a), x).item()  # the other normalisation: the same number
    c2_E = 0.5 * trapezoid((m_b - m_a) ** 2 / m_a, x).item()
    err_E = np.array(
        [
            abs((entropy_1d((1 - s) * m_a + s * m_b, x) - entropy_1d(m_a, x)).item() / s - pred_E)
            for s in s_list[:5]
        ]
    )
    slopes["entropy"] = loglog_slope(s_list[:5], err_E)
    print(f"entropy: <log m + 1, m'-m> = {pred_E:.10f}, <log m, m'-m> = {pred_E0:.10f}")
    print(
        f"entropy: errors {np.array2string(err_E, precision=1)}, slope {slopes['entropy']:.3f}, "
        f"err/s at s=1e-3: {err_E[2] / 1e-3:.5f} vs (1/2) int (m'-m)^2/m = {c2_E:.5f}"
    )
    return slopes
