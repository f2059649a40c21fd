"""Independent references for gradient flows of non-smooth losses (notebook ``01-sgd/04-regularity``).

In NumPy/SciPy, sharing no code with :mod:`gradflows.weak_solutions`:

* the weak solution ``sign(w0)(|w0| - t)_+`` of ``w' = -sign(w)`` (5.43) and the smoothed flows
  ``w' = -w / sqrt(w^2 + eps^2)`` by DOP853;
* the constant ``a*`` of the sup error ``a* eps`` (root of ``sqrt(1 + a^2) = arcsinh(1/a)``);
* the Kruzkov functional (5.44) of the weak solution in closed form, up to integrals of the test
  function computed by ``scipy.integrate.quad``;
* the minimizers of the smoothed LASSO (``brentq``) and the soft-thresholding solution;
* the weak solution of ``J(w) = |w| + (w - a)^2 / 2`` by an event-stopped solve, the settled
  smoothed flow, and the smoothed flow by LSODA.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import quad, solve_ivp
from scipy.optimize import brentq

__all__ = [
    "weak_abs",
    "smoothed_abs_dop853",
    "sup_error_constant",
    "kruzkov_abs",
    "soft_threshold",
    "smoothed_lasso_minimizers",
    "kink_quadratic_weak",
    "kink_quadratic_settled",
    "kink_quadratic_lsoda",
]


def _positive(**kw: float) -> None:
    for name, v in kw.items():
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive finite number, got {v!r}")


def weak_abs(w0, t) -> np.ndarray:
    """Weak solution (5.43) ``sign(w0)(|w0| - t)_+`` for the starts ``w0`` (shape ``(k,)``): shape ``(k,
    times)``."""
    w0, t = np.asarray(w0, dtype=float), np.asarray(t, dtype=float)
    return np.sign(w0)[:, None] * np.maximum(np.abs(w0)[:, None] - t, 0.0)


def smoothed_abs_dop853(w0, eps: float, T: float, t_eval):
    """DOP853 (rtol 1e-11, atol 1e-13, dense output) for ``w' = -w / sqrt(w^2 + eps^2)`` from the starts
    ``w0``.

    Returns SciPy's solution object (``.y`` at ``t_eval``, ``.sol`` the dense output).
    """
    _positive(eps=eps, T=T)
    sol = solve_ivp(
        lambda t, w: -w / np.sqrt(w * w + eps * eps),
        (0.0, T),
        np.asarray(w0, dtype=float),
        method="DOP853",
        t_eval=t_eval,
        rtol=1e-11,
        atol=1e-13,
        dense_output=True,
    )
    if not sol.success:
        raise ValueError(f"DOP853 failed: {sol.message}")
    return sol


def sup_error_constant() -> float:
    """``a*``, the root of ``sqrt(1 + a^2) = arcsinh(1/a)``: the sup error of the smoothed flow is ``a*
    eps``."""
    return brentq(lambda a: np.sqrt(1 + a * a) - np.arcsinh(1 / a), 0.1, 2.0)


def kruzkov_abs(tests: Sequence[tuple[Callable, Callable, float]], w0: float, y, T: float):
    """Kruzkov functional (5.44) of the weak solution of ``w' = -sign(w)`` in closed form, and as printed.

    With ``A = int_0^{|w0|} phi`` and ``B = int_{|w0|}^T phi`` (``quad``, the kink of each test
    function ``(f, df, p)`` passed as a break point): ``F = (|y| - sign(w0) y) A + |y| B`` (the corrected
    last display) and ``(sign(w0) y - |y|) A + |y| B`` (the chapter's). Shapes ``(tests, len(y))``.
    """
    _positive(T=T)
    y = np.asarray(y, dtype=float)

    def integral(f, p, lo, hi):
        pts = [p] if lo < p < hi else None
        return quad(
            lambda x: float(f(np.array(x), p)), lo, hi, points=pts, epsabs=1e-13, epsrel=1e-12, limit=200
        )[0]

    sgm, t0 = np.sign(w0), abs(w0)
    A = np.array([integral(f, p, 0.0, t0) for f, _, p in tests])[:, None]
    B = np.array([integral(f, p, t0, T) for f, _, p in tests])[:, None]
    return (np.abs(y) - sgm * y) * A + np.abs(y) * B, (sgm * y - np.abs(y)) * A + np.abs(y) * B


def soft_threshold(a, lam: float) -> np.ndarray:
    """Minimizer ``sign(a) (|a| - lam)_+`` of ``|W - a|^2 / 2 + lam |W|_1`` (soft thresholding)."""
    a = np.asarray(a, dtype=float)
    return np.sign(a) * np.maximum(np.abs(a) - lam, 0.0)


def smoothed_lasso_minimizers(a, lam: float, eps) -> np.ndarray:
    """Minimizers of ``|W - a|^2/2 + lam sum sqrt(w^2 + eps^2)`` by ``brentq`` per entry: shape
    ``(len(eps), len(a))``."""
    _positive(lam=lam)
    a, eps = np.asarray(a, dtype=float), np.asarray(eps, dtype=float)
    return np.array(
        [
            [brentq(lambda w, aj=aj, e=e: w - aj + lam * w / np.sqrt(w * w + e * e), -3.0, 3.0) for aj in a]
            for e in eps
        ]
    )


def kink_quadratic_weak(w0s: Sequence[float], t, a: float = 0.5) -> np.ndarray:
    """Weak solution of ``J = |w| + (w - a)^2/2`` (``|a| < 1``): ``w' = -(w - a) - sign(w0)`` up to ``w =
    0``, then 0.

    RK45 (rtol 1e-12) stopped at the event ``w = 0``; shape ``(len(t), len(w0s))``.
    """
    t = np.asarray(t, dtype=float)

    def hit_zero(s, w):
        return w[0]

    hit_zero.terminal = True
    cols = []
    for w0 in w0s:
        force = 1.0 if w0 > 0 else -1.0
        sol = solve_ivp(
            lambda s, w, f=force: -(w - a) - f,
            (0.0, float(t[-1])),
            [w0],
            rtol=1e-12,
            atol=1e-14,
            dense_output=True,
            events=hit_zero,
        )
        t_hit = sol.t[-1]
        cols.append(np.where(t < t_hit, sol.sol(np.minimum(t, t_hit))[0], 0.0))
    return np.stack(cols, 1)


def kink_quadratic_settled(eps: Sequence[float], a: float = 0.5) -> np.ndarray:
    """Stationary points ``w_eps > 0`` of the smoothed flows: zeros of ``(w - a) + w / sqrt(w^2 + eps^2)``
    (brentq)."""
    return np.array(
        [brentq(lambda w, e=e: (w - a) + w / np.sqrt(w * w + e * e), 0.0, 1.0, xtol=1e-15) for e in eps]
    )


def kink_quadratic_lsoda(w0, eps: float, T: float, t, a: float = 0.5) -> np.ndarray:
    """The smoothed flow ``w' = -((w - a) + w / sqrt(w^2 + eps^2))`` by LSODA (rtol 1e-10): shape
    ``(len(t), k)``."""
    _positive(eps=eps, T=T)
    sol = solve_ivp(
        lambda s, w: -((w - a) + w / np.sqrt(w * w + eps**2)),
        (0.0, T),
        np.asarray(w0, dtype=float),
        method="LSODA",
        rtol=1e-10,
        atol=1e-12,
        dense_output=True,
    )
    return sol.sol(np.asarray(t, dtype=float)).T
