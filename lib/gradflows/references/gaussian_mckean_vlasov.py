"""The solvable mean-field Langevin dynamics in one dimension: Gaussian laws in closed form.

For ``F(m) = (1/2)(int x dm - a)^2 + (kappa/2) int x^2 dm`` and the confinement ``U = x^2/2``, the
McKean-Vlasov SDE ``dX = -((mu_t - a) + lam X) dt + sigma dW`` with ``lam = kappa + sigma^2/2`` keeps
Gaussian laws ``N(mu_t, v_t)``: ``mu' = a - (1 + lam) mu``, ``v' = sigma^2 - 2 lam v``; the stationary
law is ``N(a / (1 + lam), sigma^2 / (2 lam))``. The free energy is
``V(N(mu, v)) = F + (sigma^2/2) H(N(mu, v) | N(0, 1))``. Also the exact moments of the Euler-Maruyama
scheme (whose laws are Gaussian too) and the dissipation integral by ``scipy.integrate.quad``.
NumPy/SciPy only. Used in notebooks/03-mfld/03.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import quad, solve_ivp

from .._validation import check_int, check_nonnegative, check_positive

__all__ = [
    "stationary_law",
    "free_energy",
    "moment_ode",
    "moments",
    "ode_moments",
    "em_moments",
    "dissipation_quad",
]


def _params(kappa: float, sigma: float) -> float:
    return check_nonnegative("kappa", kappa) + check_positive("sigma", sigma) ** 2 / 2


def stationary_law(a: float, kappa: float, sigma: float) -> tuple[float, float]:
    """``(mu*, v*) = (a / (1 + lam), sigma^2 / (2 lam))``. Used in notebooks/03-mfld/03."""
    lam = _params(kappa, sigma)
    return a / (1 + lam), sigma**2 / (2 * lam)


def free_energy(mu, v, a: float, kappa: float, sigma: float):
    """``V^sigma(N(mu, v)) = (mu - a)^2/2 + kappa (mu^2 + v)/2 + (sigma^2/4)(mu^2 + v - 1 - log v)``.

    Arrays broadcast. Used in notebooks/03-mfld/03.
    """
    return 0.5 * (mu - a) ** 2 + 0.5 * kappa * (mu**2 + v) + 0.25 * sigma**2 * (mu**2 + v - 1 - np.log(v))


def moment_ode(t: float, s, a: float, kappa: float, sigma: float) -> list[float]:
    """Right-hand side ``(mu', v') = (a - (1 + lam) mu, sigma^2 - 2 lam v)``. Used in notebooks/03-mfld/03."""
    lam = kappa + sigma**2 / 2
    return [a - (1 + lam) * s[0], sigma**2 - 2 * lam * s[1]]


def moments(t: float, m0: float, v0: float, a: float, kappa: float, sigma: float) -> tuple[float, float]:
    """Closed-form ``(mu_t, v_t)`` from ``(m0, v0)`` at the time ``t``. Used in notebooks/03-mfld/03."""
    lam = _params(kappa, sigma)
    mu_star, v_star = a / (1 + lam), sigma**2 / (2 * lam)
    return mu_star + (m0 - mu_star) * math.exp(-(1 + lam) * t), v_star + (v0 - v_star) * math.exp(
        -2 * lam * t
    )


def ode_moments(m0: float, v0: float, T: float, t_eval, a: float, kappa: float, sigma: float) -> np.ndarray:
    """``(mu_t, v_t)`` at ``t_eval`` in ``[0, T]`` by ``scipy.integrate.solve_ivp`` (rtol 1e-11), ``(2, n)``.

    Used in notebooks/03-mfld/03.
    """
    _params(kappa, sigma)
    t_eval = np.asarray(t_eval, dtype=float)
    return solve_ivp(
        moment_ode,
        (0, check_positive("T", T)),
        [m0, v0],
        t_eval=t_eval,
        rtol=1e-11,
        atol=1e-13,
        args=(a, kappa, sigma),
    ).y


def em_moments(
    m0: float, v0: float, dt: float, n_steps: int, a: float, kappa: float, sigma: float, record_every: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean and variance of the Euler-Maruyama scheme at steps ``0, r, 2r, ...``.

    ``mu_{k+1} = mu_k + dt (a - (1 + lam) mu_k)``, ``v_{k+1} = (1 - lam dt)^2 v_k + sigma^2 dt``.
    Used in notebooks/03-mfld/03.
    """
    lam, dt = _params(kappa, sigma), check_positive("dt", dt)
    n_steps, record_every = check_int("n_steps", n_steps, minimum=0), check_int("record_every", record_every)
    mu_d, v_d = [m0], [v0]
    for _ in range(n_steps):
        mu_d.append(mu_d[-1] + dt * (a - (1 + lam) * mu_d[-1]))
        v_d.append((1 - lam * dt) ** 2 * v_d[-1] + sigma**2 * dt)
    return np.array(mu_d[::record_every]), np.array(v_d[::record_every])


def dissipation_quad(mu: float, v: float, a: float, kappa: float, sigma: float) -> float:
    """``int |D_mF(m, x) + (sigma^2/2) (d/dx log m(x) + x)|^2 m(dx)`` for ``m = N(mu, v)``, by ``quad``.

    Over ``mu +- 12 sd``, epsrel 1e-12. Used in notebooks/03-mfld/03.
    """
    lam = _params(kappa, sigma)
    v = check_positive("v", v)

    def integrand(x):
        return ((mu - a) + lam * x - 0.5 * sigma**2 * (x - mu) / v) ** 2 * np.exp(-0.5 * (x - mu) ** 2 / v)

    s = math.sqrt(v)
    return quad(integrand, mu - 12 * s, mu + 12 * s, epsabs=0, epsrel=1e-12, limit=200)[0] / math.sqrt(
        2 * math.pi * v
    )


def dissipation_identity_errors(
    starts, T: float, a: float, kappa: float, sigma: float, n_times: int = 17
) -> tuple[float, float]:
    """Largest relative errors of ``dV/dt = -D(m_t)`` and of ``V(m_t) - V(m_0) = -int_0^t D(m_s) ds``.

    Along the exact Gaussian laws from each ``(m0, v0)`` in ``starts``, at ``n_times`` times in
    ``[0, T]``: ``dV/dt`` by the chain rule through ``(mu, v)``, the dissipation ``D`` by
    :func:`dissipation_quad`, its time integral by an outer ``quad`` (epsrel 1e-10).
    Used in notebooks/03-mfld/03 (Theorem 3).
    """
    lam, n_times = _params(kappa, sigma), check_int("n_times", n_times, minimum=2)
    diss_err, integ_err = 0.0, 0.0
    for m0, v0 in starts:
        for t in np.linspace(0.0, check_positive("T", T), n_times):
            mu, v = moments(t, m0, v0, a, kappa, sigma)
            dmu, dv = moment_ode(t, [mu, v], a, kappa, sigma)
            dV = ((1 + lam) * mu - a) * dmu + (
                0.5 * lam - 0.25 * sigma**2 / v
            ) * dv  # chain rule through (mu, v)
            D = dissipation_quad(mu, v, a, kappa, sigma)
            diss_err = max(diss_err, abs(dV + D) / D)
            if t > 0:  # integrated form: V(m_t) - V(m_0) = -int_0^t dissipation (outer quad in time)

                def D_at(s, m0=m0, v0=v0):
                    return dissipation_quad(*moments(s, m0, v0, a, kappa, sigma), a, kappa, sigma)

                lost = quad(D_at, 0, t, epsabs=0, epsrel=1e-10, limit=100)[0]
                V0, Vt = free_energy(m0, v0, a, kappa, sigma), free_energy(mu, v, a, kappa, sigma)
                integ_err = max(integ_err, abs(Vt - V0 + lost) / abs(V0 - Vt))
    return diss_err, integ_err
