"""Particle estimates for the solvable Gaussian mean-field model, and their exact sampling errors.

For ``F(m) = (1/2)(int x dm - a)^2 + (kappa/2) int x^2 dm`` on the line, the free energy
``V(m) = F(m) + (sigma^2/2) H(m | N(0, 1))`` of a cloud ``x`` is estimated by ``F`` of its empirical
measure plus the nearest-neighbour estimate :func:`~gradflows.energies.relative_entropy_to_gaussian`
(:func:`free_energy_estimate`). For i.i.d. samples of ``N(mu, v)`` the estimator is equivariant:
``x = mu + sqrt(v) z`` gives ``h_hat(x) = h_hat(z) + log sqrt(v)``, so a few standard normal samples
give its exact error distribution at every ``(mu, v)`` (:func:`iid_free_energy_sd`), against which
the particles of the mean-field Langevin dynamics are compared (:func:`largest_deviations`).
Used in notebooks/03-mfld/03.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np
import torch

from .._validation import check_int, check_nonnegative, check_positive
from ..energies import relative_entropy_to_gaussian, w2, w2_gaussian
from ..particles import langevin
from ..rates import semilog_slope
from ..references import gaussian_mckean_vlasov as gmv

__all__ = [
    "free_energy_estimate",
    "iid_free_energy_sd",
    "largest_deviations",
    "gaussian_runs",
    "plot_gaussian_runs",
    "gaussian_w2",
]


def free_energy_estimate(x: torch.Tensor, a: float, kappa: float, sigma: float, k: int = 3) -> float:
    """``F(empirical measure of x) + (sigma^2/2) H_hat(x | N(0, 1))`` for a 1-D cloud ``x`` ``(n,)``.

    Used in notebooks/03-mfld/03.
    """
    if x.ndim != 1:
        raise ValueError(f"x must be a 1-D cloud, got shape {tuple(x.shape)}")
    F_e = 0.5 * (x.mean() - a) ** 2 + 0.5 * kappa * x.square().mean()
    return (F_e + 0.5 * sigma**2 * relative_entropy_to_gaussian(x, k=k)).item()


def iid_free_energy_sd(
    n: int,
    reps: int,
    a: float,
    kappa: float,
    sigma: float,
    generator: torch.Generator | None = None,
    k: int = 3,
) -> Callable[[float, float], float]:
    """``sd(mu, v)``: the standard deviation of :func:`free_energy_estimate` for ``n`` i.i.d. ``N(mu, v)``.

    ``reps`` standard normal samples of size ``n`` are drawn once (one ``randn(reps, n)``); by
    equivariance they give the estimator's exact error distribution at every ``(mu, v)``.
    Used in notebooks/03-mfld/03.
    """
    n, reps = check_int("n", n, minimum=2), check_int("reps", reps, minimum=2)
    kappa, sigma = check_nonnegative("kappa", kappa), check_positive("sigma", sigma)
    Zc = torch.randn(reps, n, generator=generator)
    zbar, z2 = Zc.mean(1), Zc.square().mean(1)
    # = -(h_hat(z) - h(N(0, 1)))
    dh = torch.stack(
        [relative_entropy_to_gaussian(z, k=k) - 0.5 * (z2_i - 1) for z, z2_i in zip(Zc, z2, strict=True)]
    )

    def sd(mu: float, v: float) -> float:
        m1, m2 = mu + math.sqrt(v) * zbar, mu**2 + 2 * mu * math.sqrt(v) * zbar + v * z2
        h_hat = 0.5 * math.log(2 * math.pi * math.e * v) - dh
        V = (
            0.5 * (m1 - a) ** 2
            + 0.5 * kappa * m2
            + 0.5 * sigma**2 * (-h_hat + 0.5 * m2 + 0.5 * math.log(2 * math.pi))
        )
        return V.std().item()

    return sd


def largest_deviations(
    runs, n: int, sd_V: Callable[[float, float], float], V: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> dict[str, float]:
    """Largest deviations of particle mean, variance, free energy from the scheme's laws, in sampling sds.

    ``runs`` holds dicts with the particle ``mean``, ``var``, ``V_hat`` and the exact ``mu_em``,
    ``v_em`` at the recorded times; the sds are ``sqrt(v/n)``, ``v sqrt(2/n)`` and ``sd_V(mu, v)``.
    Used in notebooks/03-mfld/03.
    """
    n = check_int("n", n)
    z_g = {"mean": 0.0, "var": 0.0, "V_hat": 0.0}
    for r in runs:
        sd = np.array([sd_V(m, v) for m, v in zip(r["mu_em"], r["v_em"], strict=True)])
        z_g["mean"] = max(z_g["mean"], np.max(np.abs(r["mean"] - r["mu_em"]) / np.sqrt(r["v_em"] / n)))
        z_g["var"] = max(z_g["var"], np.max(np.abs(r["var"] - r["v_em"]) / (r["v_em"] * math.sqrt(2 / n))))
        z_g["V_hat"] = max(z_g["V_hat"], np.max(np.abs(r["V_hat"] - V(r["mu_em"], r["v_em"])) / sd))
    return z_g


def gaussian_runs(
    laws: dict[str, tuple[float, float]],
    n: int,
    n_sub: int,
    dt: float,
    T: float,
    every: int,
    t: np.ndarray,
    a: float,
    kappa: float,
    sigma: float,
    grad: Callable[[torch.Tensor], torch.Tensor],
    V: Callable[[np.ndarray, np.ndarray], np.ndarray],
    generator: torch.Generator | None,
) -> dict[str, dict]:
    """Mean-field Langevin particles of the Gaussian model from each initial law ``N(m0, v0)`` and exact laws.

    For each law: ``n`` particles in float32 (one ``randn`` draw, then :func:`gradflows.particles.langevin`
    with the drift ``grad``, recorded every ``every`` steps at the times ``t``); their mean, variance and
    free-energy estimate (:func:`free_energy_estimate` on the first ``n_sub``); the moments of the ODE
    (``solve_ivp``) and of the scheme (exact recursion), and ``V`` along the ODE. Prints the distance of
    the closed form ``mu* + (m0 - mu*) e^{-(1 + lam) t}``, ``v* + (v0 - v*) e^{-2 lam t}`` to the ODE and
    the bias of the scheme. Used in notebooks/03-mfld/03 (claims MFLD-6, MFLD-7, MFLD-8).
    """
    n, n_sub, every = check_int("n", n), check_int("n_sub", n_sub), check_int("every", every)
    check_positive("dt", dt)
    n_steps = int(round(T / dt))
    lam = kappa + sigma**2 / 2
    mu_star, v_star = a / (1 + lam), sigma**2 / (2 * lam)
    runs = {}
    for name, (m0, v0) in laws.items():
        x0 = (m0 + math.sqrt(v0) * torch.randn(n, 1, generator=generator)).float()
        path = langevin(
            x0, sigma, dt, n_steps, grad=grad, record_every=every, generator=generator, progress=False
        )
        x = path.X[:, :, 0].double()
        mu_t, v_t = gmv.ode_moments(
            m0, v0, T, t, a, kappa, sigma
        )  # mu' = a - (1 + lam) mu, v' = sigma^2 - 2 lam v
        mu_d, v_d = gmv.em_moments(
            m0, v0, dt, n_steps, a, kappa, sigma, every
        )  # the scheme's law is Gaussian too
        V_hat = np.array([free_energy_estimate(xi[:n_sub], a, kappa, sigma, k=3) for xi in x])
        runs[name] = dict(x=x, mean=x.mean(1).numpy(), var=x.var(1).numpy(), V_hat=V_hat, mu=mu_t, v=v_t,
                          V=V(mu_t, v_t), mu_em=mu_d, v_em=v_d)  # fmt: skip
        cf_dev = max(
            np.abs(mu_star + (m0 - mu_star) * np.exp(-(1 + lam) * t) - mu_t).max(),
            np.abs(v_star + (v0 - v_star) * np.exp(-2 * lam * t) - v_t).max(),
        )
        print(
            f"{name:16s} closed form vs solve_ivp: {cf_dev:.1e};  Euler-Maruyama bias (scheme - ODE): "
            f"{np.abs(mu_d - mu_t).max():.1e} (mean), {np.abs(v_d - v_t).max():.1e} (variance)"
        )
    return runs


def plot_gaussian_runs(
    runs: dict[str, dict], t: np.ndarray, mu_star: float, v_star: float, V_star: float, sd_star: float
) -> None:
    """Mean, variance and free-energy gap of the particles (markers) and of the exact laws (lines).

    ``runs`` from :func:`gaussian_runs`. Used in notebooks/03-mfld/03.
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
    for (name, r), col in zip(runs.items(), ("C0", "C2", "C3"), strict=True):
        axes[0].plot(t, r["mean"], "o", ms=3, color=col, label=f"particles, {name}")
        axes[0].plot(t, r["mu"], "-", color=col, lw=1)
        axes[1].plot(t, r["var"], "o", ms=3, color=col)
        axes[1].plot(t, r["v"], "-", color=col, lw=1)
        axes[2].semilogy(t, np.abs(r["V_hat"] - V_star), "o", ms=3, color=col)
        axes[2].semilogy(t, r["V"] - V_star, "-", color=col, lw=1)
    axes[0].axhline(mu_star, color="k", ls=":", lw=0.8)
    axes[1].axhline(v_star, color="k", ls=":", lw=0.8)
    axes[2].axhline(sd_star, color="k", ls=":", lw=0.8, label="sampling sd at $m^*$")
    axes[0].set(xlabel="$t$", title="mean $\\mu_t$ (lines: ODE)")
    axes[1].set(xlabel="$t$", title="variance $v_t$")
    title = "$|V^\\sigma(m_t)-V^\\sigma(m^*)|$ (markers: particles)"
    axes[2].set(xlabel="$t$", title=title, ylim=(1e-5, 20))
    axes[0].legend(fontsize=8)
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    plt.show()


def gaussian_w2(
    runs: dict[str, dict], t: np.ndarray, n: int, lam: float, t_floor: float = 4.0, t_fit: float = 3.0
) -> SimpleNamespace:
    """``W_2`` between the clouds from the narrow and the wide law, its floor, and its fitted rate.

    ``Wg`` (mean over the two narrow runs), the floor ``Wg_floor`` (two independent narrow runs),
    ``Wg_em`` and ``Wg_exact`` between the exact laws of the scheme and of the ODE, the relative sd
    ``sd_Wg`` of the particle ``W_2`` (delta method), the floor ``floor_g`` (mean for ``t >= t_floor``), the
    window ``win_g`` (``t >= t_fit``, exact ``W_2`` above ten floors) and the semilog rates there; prints two
    lines. Used in notebooks/03-mfld/03 (MFLD-7, MFLD-8).
    """
    n = check_int("n", n)

    def w2_runs(a: str, b: str, i: int) -> float:  # 1-D: exact, by quantiles
        return w2(runs[a]["x"][i], runs[b]["x"][i]).item()

    g = SimpleNamespace()
    g.Wg = np.array(
        [0.5 * (w2_runs("narrow", "wide", i) + w2_runs("narrow, replica", "wide", i)) for i in range(len(t))]
    )
    g.Wg_floor = np.array([w2_runs("narrow", "narrow, replica", i) for i in range(len(t))])
    nar, wid = runs["narrow"], runs["wide"]
    mu1, v1, mu2, v2 = nar["mu_em"], nar["v_em"], wid["mu_em"], wid["v_em"]
    g.Wg_em = np.sqrt(
        (mu1 - mu2) ** 2 + (np.sqrt(v1) - np.sqrt(v2)) ** 2
    )  # W2 between the exact laws of the scheme
    g.Wg_exact = np.array(
        [w2_gaussian(*u).item() for u in zip(nar["mu"], nar["v"], wid["mu"], wid["v"], strict=True)]
    )
    # relative sd of the particle W2 (delta method; sample means and sds of i.i.d. clouds: sds sqrt(v/n),
    # sqrt(v/(2n)))
    g.sd_Wg = (
        np.sqrt((mu1 - mu2) ** 2 * (v1 + v2) / n + (np.sqrt(v1) - np.sqrt(v2)) ** 2 * (v1 + v2) / (2 * n))
        / g.Wg_em**2
    )
    g.floor_g = g.Wg_floor[t >= t_floor].mean()
    g.win_g = win = (t >= t_fit) & (g.Wg_exact >= 10 * g.floor_g)
    g.rate_g = -semilog_slope(t[win], g.Wg[win])
    g.rate_g_em = -semilog_slope(t[win], g.Wg_em[win])
    g.rate_g_exact = -semilog_slope(t[win], g.Wg_exact[win])
    g.rate_g_asym = min(1 + lam, 2 * lam)
    print(
        f"floor {g.floor_g:.4f};  W2 at t = 0: {g.Wg[0]:.3f} (exact {g.Wg_exact[0]:.3f}), at T = {t[-1]:g}: "
        f"{g.Wg[-1]:.4f};  max |particles - scheme| = {np.abs(g.Wg - g.Wg_em).max():.4f}, "
        "max |scheme - ODE| = "
        f"{np.abs(g.Wg_em - g.Wg_exact).max():.4f}"
    )
    print(
        f"fitted rate on t in [{t[win].min():g}, {t[win].max():g}]: particles {g.rate_g:.4f}, "
        f"the scheme's exact W2 {g.rate_g_em:.4f}, the ODE's {g.rate_g_exact:.4f}, "
        f"asymptotic min(1 + lambda, 2 lambda) = {g.rate_g_asym:.4f}"
    )
    return g
