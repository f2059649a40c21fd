"""Mean first-passage times of a one-dimensional Langevin diffusion: exact, asymptotic, and for its scheme.

For ``dX = -f'(X) dt + sigma dW`` on the line the mean time ``T(x)`` to reach a level ``b`` solves
``(sigma^2/2) T'' - f' T' = -1`` with ``T(b) = 0``. With a reflecting wall at ``r`` on the far side of
``x`` (``r = +-infinity``: no wall; ``r = x``: a symmetry point) its solution is the double integral

``T(x) = (2/sigma^2) |int_b^x exp(2 f(z)/sigma^2) int_z^r exp(-2 f(y)/sigma^2) dy dz|``,

which :func:`mean_first_passage_time` evaluates by nested adaptive quadrature (``scipy.integrate.quad``),
with the exponent written as ``2 (f(z) - f(y)) / sigma^2`` so that nothing overflows. Its Laplace
asymptotics is the Eyring--Kramers formula (:func:`kramers_time`),
``T ~ 2 pi / sqrt(f''(m) |f''(s)|) exp(2 (f(s) - f(m)) / sigma^2)``, for a start in the minimum ``m``
and a level past the saddle ``s``. :func:`em_mean_exit_time` gives the mean exit time of the
Euler--Maruyama chain itself (the library's scheme) from an interval, by a sparse Nystrom solve, so
that the time-step bias of a simulation can be separated from its Monte Carlo error.
Independent of the library's samplers (NumPy/SciPy only). Notebook ``04-global/01-noise-as-exploration``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.integrate import quad
from scipy.sparse import coo_matrix, identity
from scipy.sparse.linalg import spsolve

from .._validation import check_positive

__all__ = ["mean_first_passage_time", "kramers_time", "kramers_correction", "em_mean_exit_time"]

Fn = Callable[[float], float]


def _real(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if math.isnan(v):
        raise ValueError(f"{name} must be a number, got NaN")
    return v


def mean_first_passage_time(
    f: Fn,
    x0: float,
    b: float,
    sigma: float,
    reflect: float | None = None,
    points: tuple[float, ...] = (),
    epsrel: float = 1e-10,
) -> float:
    """Exact mean time for ``dX = -f'(X) dt + sigma dW`` started at ``x0`` to reach ``b`` (see the module).

    ``f``: the potential, a scalar function. ``reflect``: a reflecting wall on the far side of ``x0``
    (None: none, i.e. ``+-inf``; ``f`` must then grow so that ``exp(-2f/sigma^2)`` is integrable).
    ``points``: where the outer integrand peaks (the saddle), passed to ``quad``.
    Notebook ``04-global/01-noise-as-exploration``.
    """
    x0, b = _real("x0", x0), _real("b", b)
    sigma = check_positive("sigma", sigma)
    if not callable(f):
        raise ValueError("f must be a callable float -> float")
    if x0 == b:
        return 0.0
    sgn = 1.0 if x0 > b else -1.0  # x0 > b: the path moves down to b, the wall lies above
    r = sgn * math.inf if reflect is None else _real("reflect", reflect)
    if sgn * (r - x0) < 0:
        raise ValueError(f"reflect must lie on the far side of x0 = {x0} from b = {b}, got {r}")
    beta = 2.0 / sigma**2
    if reflect is None:
        _check_integrable(f, x0, r, beta)

    def inner(z: float) -> float:  # int_z^r exp(beta (f(z) - f(y))) dy, oriented away from b
        fz = f(z)
        val = quad(lambda y: math.exp(beta * (fz - f(y))), z, r, epsrel=epsrel, limit=200)[0]
        return sgn * val

    lo, hi = min(b, x0), max(b, x0)
    pts = [p for p in points if lo < p < hi] or None
    outer = quad(inner, lo, hi, points=pts, epsrel=epsrel, limit=200)[0]
    return beta * outer


def _check_integrable(f: Fn, x0: float, r: float, beta: float) -> None:
    """Without a wall the inner integral runs to ``+-inf``: ``exp(-2 f / sigma^2)`` must be integrable."""
    msg = (f"exp(-2 f / sigma^2) is not integrable from x0 = {x0} to {r}: f must grow at infinity on "
           "that side, or give a reflecting wall (reflect=...)")  # fmt: skip
    f0 = f(x0)
    try:
        out = quad(lambda y: math.exp(beta * (f0 - f(y))), min(x0, r), max(x0, r), limit=200, full_output=1)
    except OverflowError:
        raise ValueError(msg) from None
    if len(out) > 3 or not math.isfinite(out[0]) or out[0] <= 0:  # a 4th entry: quad's warning message
        raise ValueError(msg)


def kramers_time(f2_min: float, f2_saddle: float, barrier: float, sigma: float) -> float:
    """Eyring--Kramers mean transition time ``2 pi / sqrt(f''(m) |f''(s)|) exp(2 barrier / sigma^2)``.

    ``f2_min > 0`` and ``f2_saddle < 0`` are the curvatures at the minimum and the saddle, ``barrier``
    the height ``f(s) - f(m) > 0``. Notebook ``04-global/01-noise-as-exploration``.
    """
    f2_min = check_positive("f2_min", f2_min)
    f2_saddle = -check_positive("-f2_saddle", -_real("f2_saddle", f2_saddle))
    barrier, sigma = check_positive("barrier", barrier), check_positive("sigma", sigma)
    return 2 * math.pi / math.sqrt(f2_min * abs(f2_saddle)) * math.exp(2 * barrier / sigma**2)


def kramers_correction(f_min: tuple[float, float, float], f_saddle: tuple[float, float, float]) -> float:
    """The coefficient ``a`` of ``E tau / Kramers = 1 + a sigma^2 + O(sigma^4)`` (Laplace, second order).

    ``f_min = (f2, f3, f4)``: the 2nd-4th derivatives of ``f`` at the minimum ``m``; ``f_saddle``: the same
    at the saddle ``s``. With ``eps = sigma^2 / 2``, Laplace's method gives, at a minimum ``x*`` of ``g``,
    ``int exp(-g / eps) = exp(-g(x*) / eps) sqrt(2 pi eps / g2) (1 + eps c + O(eps^2))`` with
    ``c = 5 g3^2 / (24 g2^3) - g4 / (8 g2^2)``. The double integral of the passage time is the product of
    this for ``g = f`` at ``m`` and ``g = -f`` at ``s`` (up to exponentially small terms), so
    ``a = (c_m + c_s) / 2``. Notebook ``04-global/01-noise-as-exploration``.
    """
    (h2, h3, h4), (k2, k3, k4) = ([_real("derivative of f", v) for v in t] for t in (f_min, f_saddle))
    h2, k2 = check_positive("f''(m)", h2), -check_positive("-f''(s)", -k2)
    c_m = 5 * h3**2 / (24 * h2**3) - h4 / (8 * h2**2)
    c_s = 5 * k3**2 / (24 * abs(k2) ** 3) + k4 / (8 * k2**2)  # g = -f: g2 = -f2 = |f2|, g3^2 = f3^2, g4 = -f4
    return 0.5 * (c_m + c_s)


def em_mean_exit_time(
    grad: Callable[[np.ndarray], np.ndarray],
    x0: float,
    lo: float,
    hi: float,
    sigma: float,
    dt: float,
    cells_per_sd: float = 6.0,
    width: float = 8.0,
    max_cells: int = 200_000,
) -> float:
    """Mean exit time from ``(lo, hi)`` of the chain ``X_{k+1} = X_k - dt f'(X_k) + sigma sqrt(dt) xi_k``.

    The exit time is ``dt`` times the first ``k`` with ``X_k`` outside ``(lo, hi)``; its mean solves
    ``T(x) = dt + int_lo^hi p(y | x) T(y) dy`` with the Gaussian kernel ``p(. | x) = N(x - dt f'(x),
    sigma^2 dt)``. Discretised by the midpoint rule on cells of width
    ``h = sigma sqrt(dt) / cells_per_sd`` (Nystrom; error ``O(h^2)``), kernel entries beyond ``width``
    standard deviations dropped, solved as a sparse system; ``T(x0)`` by the Nystrom interpolant.
    ``grad``: ``f'`` vectorized over NumPy arrays. A far wall (``hi`` where the Gibbs mass is
    negligible) makes it a one-sided passage time. A grid of more than ``max_cells`` cells (a long interval or
    a tiny ``sigma sqrt(dt)``) raises ``ValueError`` instead of building a huge system.
    Notebook ``04-global/01-noise-as-exploration``.
    """
    x0, lo, hi = _real("x0", x0), _real("lo", lo), _real("hi", hi)
    if not lo < x0 < hi:
        raise ValueError(f"x0 must lie inside (lo, hi) = ({lo}, {hi}), got {x0}")
    sigma, dt = check_positive("sigma", sigma), check_positive("dt", dt)
    cells_per_sd, width = check_positive("cells_per_sd", cells_per_sd), check_positive("width", width)
    s = sigma * math.sqrt(dt)
    n_exact = (hi - lo) * cells_per_sd / s
    if not n_exact <= max_cells:
        raise ValueError(
            f"the grid would need {n_exact:.3g} cells (> max_cells = {max_cells}): hi - lo = {hi - lo:g} is "
            f"{(hi - lo) / s:.3g} noise increments sigma sqrt(dt); shorten the interval or raise max_cells"
        )
    n = max(10, int(math.ceil(n_exact)))
    h = (hi - lo) / n
    x = lo + h * (np.arange(n) + 0.5)
    band = int(math.ceil(width * s / h)) + 1

    def kernel_rows(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # h p(x_i | y_j) for the cells i with |x_i - mean_j| < width s
        mean = y - dt * np.asarray(grad(y), dtype=float)
        centre = np.floor((mean - lo) / h).astype(int)
        cols = centre[:, None] + np.arange(-band, band + 1)[None, :]
        ok = (cols >= 0) & (cols < n)
        vals = (
            h
            * np.exp(-0.5 * ((x[np.clip(cols, 0, n - 1)] - mean[:, None]) / s) ** 2)
            / (s * math.sqrt(2 * math.pi))
        )
        return np.where(ok, cols, 0), np.where(ok, vals, 0.0)

    cols, vals = kernel_rows(x)
    rows = np.repeat(np.arange(n), cols.shape[1])
    K = coo_matrix((vals.ravel(), (rows, cols.ravel())), shape=(n, n)).tocsr()
    T = spsolve((identity(n, format="csr") - K).tocsc(), np.full(n, dt))
    c0, v0 = kernel_rows(np.array([x0]))
    return float(dt + v0[0] @ T[c0[0]])
