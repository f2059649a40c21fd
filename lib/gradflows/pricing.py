"""Black–Scholes prices: closed forms and the Feynman–Kac Monte Carlo estimator.

Model: ``d`` assets driven by a ``d'``-dimensional Brownian motion ``B``,

    dX^i = X^i mu^i dt + X^i sum_j sigma^{ij} dB^j,   sigma a (d, d') matrix,

so that ``X_T^i = x^i exp((mu^i - |sigma_i|^2 / 2) T + sigma_i . B_T)`` with ``sigma_i`` the
``i``-th row. Under the pricing measure ``mu = r`` and, by Feynman–Kac, the price of the payoff
``phi`` is ``u(0, x) = e^{-rT} E[phi(X_T)]``, which Monte Carlo estimates with an error
``O(N^{-1/2})`` whatever ``d`` (claim MFLD-2, notebook ``03-mfld/01-networks-as-measures``;
the option-pricing chapter uses the closed forms as references).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
from torch.special import ndtr
from tqdm.auto import tqdm

from ._errors import DivergenceError
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_callable,
    check_finite,
    check_generator,
    check_int,
    check_memory,
    check_nonnegative,
    check_positive,
    check_range,
    check_real,
)
from .device import show_progress

__all__ = [
    "bs_call",
    "bs_put",
    "geometric_basket_call",
    "correlated_vol",
    "terminal_samples",
    "mc_price",
    "geometric_basket_payoff",
    "arithmetic_basket_payoff",
    "heston_call",
    "bs_vega",
    "bs_implied_vol",
]

Payoff = Callable[[torch.Tensor], torch.Tensor]
Arg = float | torch.Tensor


def _common(**named) -> list[torch.Tensor]:
    """Convert numbers/tensors to tensors of one floating dtype on one device (the first tensor's)."""
    ref = next((v for v in named.values() if isinstance(v, torch.Tensor) and v.is_floating_point()), None)
    dtype = ref.dtype if ref is not None else torch.get_default_dtype()
    device = ref.device if ref is not None else torch.device("cpu")
    out = []
    for name, v in named.items():
        if isinstance(v, bool | np.bool_):
            raise TypeError(f"{name} must be a number or a tensor of real numbers, got {v!r} (bool)")
        t = as_tensor(name, v, dtype)
        if isinstance(v, torch.Tensor) and t.device != device:
            raise ValueError(f"{name} is on {t.device} but the other arguments are on {device}")
        out.append(check_finite(name, t.to(device)))
    return out


def _broadcast(*tensors: torch.Tensor, names: str) -> list[torch.Tensor]:
    """``torch.broadcast_tensors``, with an error that names the arguments."""
    try:
        return list(torch.broadcast_tensors(*tensors))
    except RuntimeError:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ValueError(f"{names} must broadcast to one shape, got shapes {shapes}") from None


def _finite_price(what: str, value: torch.Tensor, hint: str) -> torch.Tensor:
    """``value``, or a ``ValueError`` if the formula overflowed (NaN/inf from finite arguments)."""
    if not all_finite(value):
        raise ValueError(f"{what} is not finite for these arguments: {hint}")
    return value


def _black(F: torch.Tensor, K: torch.Tensor, v: torch.Tensor, disc: torch.Tensor, call: bool) -> torch.Tensor:
    """``disc * E[(F e^{v Z - v^2/2} - K)^+]`` (call) or ``(K - ...)^+`` (put), ``Z ~ N(0, 1)``.

    ``v = 0`` gives the intrinsic value ``disc * (F - K)^+`` exactly.
    """
    pos = v > 0
    vs = torch.where(pos, v, torch.ones_like(v))
    d1 = (torch.log(F / K) + 0.5 * vs**2) / vs
    d2 = d1 - vs
    if call:
        val, lim = F * ndtr(d1) - K * ndtr(d2), (F - K).clamp_min(0)
    else:
        val, lim = K * ndtr(-d2) - F * ndtr(-d1), (K - F).clamp_min(0)
    return disc * torch.where(pos, val, lim)


def _bs(S, K, r, sigma, tau, call: bool) -> torch.Tensor:
    S, K, r, sigma, tau = _broadcast(
        *_common(S=S, K=K, r=r, sigma=sigma, tau=tau), names="S, K, r, sigma and tau"
    )
    for name, t, bad, what in (
        ("S", S, S < 0, ">= 0"),
        ("K", K, K <= 0, "> 0"),
        ("sigma", sigma, sigma <= 0, "> 0"),
        ("tau", tau, tau < 0, ">= 0"),
    ):
        if bool(bad.any()):
            raise ValueError(f"{name} must be {what}, got min {float(t.min())!r}")
    price = _black(S * torch.exp(r * tau), K, sigma * tau.sqrt(), torch.exp(-r * tau), call)
    return _finite_price(
        "the Black-Scholes price", price, "S * exp(r * tau) or sigma^2 * tau overflows (values too large)"
    )


def bs_call(S: Arg, K: Arg, r: Arg, sigma: Arg, tau: Arg) -> torch.Tensor:
    """Black–Scholes call ``C = S N(d1) - K e^{-r tau} N(d2)``.

    ``d1,2 = (log(S/K) + (r ± sigma^2/2) tau) / (sigma sqrt(tau))``, ``N`` the normal cdf.

    Arguments broadcast (numbers or tensors, e.g. ``S`` a grid and ``tau`` a column); ``tau = 0``
    returns the payoff ``(S - K)^+`` exactly. Notebook ``03-mfld/01-networks-as-measures``.
    """
    return _bs(S, K, r, sigma, tau, call=True)


def bs_put(S: Arg, K: Arg, r: Arg, sigma: Arg, tau: Arg) -> torch.Tensor:
    """Black–Scholes put ``P = K e^{-r tau} N(-d2) - S N(-d1)`` (see :func:`bs_call`).

    Satisfies put–call parity ``C - P = S - K e^{-r tau}``. Notebook ``03-mfld/01-networks-as-measures``.
    """
    return _bs(S, K, r, sigma, tau, call=False)


def _vol(sigma, d: int | None, like: torch.Tensor) -> torch.Tensor:
    s = as_real_tensor("sigma", sigma, like.dtype, ndim=2)
    if isinstance(sigma, torch.Tensor) and sigma.device != like.device:
        raise ValueError(f"sigma is on {sigma.device} but S0 is on {like.device}")
    if d is not None and s.shape[0] != d:
        raise ValueError(
            f"sigma must have shape (d, d') with d={d} rows (S0 has d={d} assets), got {tuple(s.shape)}"
        )
    return s.to(like.device)


def _spot(S0, ndims=(1, 2)) -> torch.Tensor:
    S0 = as_real_tensor("S0", S0, ndim=ndims)
    if bool((S0 <= 0).any()):
        raise ValueError("S0 must be positive")
    return S0


def geometric_basket_call(S0: torch.Tensor, K: float, r: Arg, sigma: torch.Tensor, tau: Arg) -> torch.Tensor:
    """Call on the geometric average ``G = (prod_i X^i)^{1/d}``: ``e^{-rT} E[(G_T - K)^+]``.

    ``log G_T = mean_i log S0_i + (r - a/2) T + sbar . B_T`` with ``a = mean_i |sigma_i|^2`` and
    ``sbar = mean_i sigma_i``, so ``log G_T ~ N(log G_0 + (r - a/2) T, s^2 T)``, ``s = |sbar|``:
    the Black–Scholes call on ``G_0 e^{-qT}`` with volatility ``s`` and yield ``q = (a - s^2)/2``.
    ``S0`` is ``(d,)`` or a batch ``(n, d)`` (result ``()`` or ``(n,)``); ``tau`` broadcasts
    against the batch. Notebook ``03-mfld/01-networks-as-measures``.
    """
    S0 = _spot(S0)
    d = S0.shape[-1]
    sig = _vol(sigma, d, S0)
    K = check_positive("K", K)
    r, tau = _common(S0=S0, r=r, tau=tau)[1:]
    if bool((tau < 0).any()):
        raise ValueError(f"tau must be >= 0, got min {float(tau.min())!r}")
    a = sig.square().sum(1).mean()
    s2 = sig.mean(0).square().sum()
    G0 = torch.exp(torch.log(S0).mean(-1))
    _broadcast(G0, r, tau, names="S0 (its batch), r and tau")
    F = G0 * torch.exp((r - 0.5 * a + 0.5 * s2) * tau)  # E[G_T]
    price = _black(F, torch.full_like(F, K), (s2 * tau).sqrt(), torch.exp(-r * tau), call=True)
    return _finite_price(
        "the geometric basket price", price, "S0, sigma^2 * tau or r * tau overflows (values too large)"
    )


def correlated_vol(vols: torch.Tensor, rho: Arg) -> torch.Tensor:
    """Volatility matrix ``sigma = diag(vols) chol(C)`` for the correlation matrix ``C``.

    Then ``sigma sigma^T = diag(vols) C diag(vols)``: asset ``i`` has volatility ``vols[i]``.

    ``rho`` is a number (``C = (1 - rho) I + rho 1 1^T``, positive definite iff
    ``-1/(d-1) < rho < 1``) or a ``(d, d)`` correlation matrix. Notebook
    ``03-mfld/01-networks-as-measures``.
    """
    v = as_real_tensor("vols", vols, ndim=1, nonempty=False)
    if v.numel() == 0 or bool((v <= 0).any()):
        raise ValueError("vols must be a non-empty 1-D tensor of positive volatilities")
    d = v.numel()
    if isinstance(rho, torch.Tensor | np.ndarray | list | tuple) and not (
        isinstance(rho, torch.Tensor | np.ndarray) and rho.ndim < 2 and math.prod(rho.shape) == 1
    ):
        C = as_real_tensor("rho", rho, like=v, ndim=2)
        ok = C.shape == (d, d) and torch.allclose(C, C.T) and torch.allclose(C.diagonal(), torch.ones_like(v))
        if not ok:
            raise ValueError(f"rho must be a number or a symmetric ({d}, {d}) matrix with unit diagonal")
        hint = ""
    else:
        rho_f = check_real("rho", rho)
        C = (1 - rho_f) * torch.eye(d, dtype=v.dtype, device=v.device) + rho_f
        hint = f"; a constant correlation needs -1/(d-1) < rho < 1 (d={d}), got rho={rho_f:g}"
    L, info = torch.linalg.cholesky_ex(C)
    if int(info) != 0:
        raise ValueError("the correlation matrix is not positive definite" + hint)
    return v[:, None] * L


def _sampler(S0, r, sigma, tau, mu):
    """Validate once; return ``(draw, r, tau, device)``, ``draw(n, generator)`` giving ``(n, d)`` samples."""
    S0 = _spot(S0, 1)
    sig = _vol(sigma, S0.shape[0], S0)
    tau = check_nonnegative("tau", tau)
    check_real("r", r)
    r = float(as_tensor("r", r).reshape(()))  # as before: through a tensor of the default dtype
    if isinstance(mu, bool | np.bool_):
        raise TypeError(f"mu must be a number, a tensor or None, got {mu!r} (bool)")
    rate = torch.tensor(r, dtype=S0.dtype) if mu is None else as_tensor("mu", mu, S0.dtype)
    check_finite("mu", rate)
    if rate.ndim > 1 or rate.numel() not in (1, S0.shape[0]):
        raise ValueError(f"mu must be a number or a ({S0.shape[0]},) tensor, got shape {tuple(rate.shape)}")
    drift = (rate.to(S0.device) - 0.5 * sig.square().sum(1)) * tau
    scale = math.sqrt(tau) * sig.T

    def draw(n: int, generator: torch.Generator | None) -> torch.Tensor:
        Z = torch.randn(n, sig.shape[1], generator=generator, dtype=S0.dtype, device=S0.device)
        return S0 * torch.exp(drift + Z @ scale)

    return draw, r, tau, S0.device


def terminal_samples(
    S0: torch.Tensor,
    r: float,
    sigma: torch.Tensor,
    tau: float,
    n_paths: int,
    generator: torch.Generator | None = None,
    mu: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """Exact samples of ``X_T^i = S0_i exp((mu_i - |sigma_i|^2/2) tau + sqrt(tau) sigma_i . Z)``.

    ``Z ~ N(0, I_{d'})``; ``S0`` ``(d,)``, ``sigma`` ``(d, d')``; ``mu`` (number or ``(d,)``)
    defaults to ``r`` (pricing measure). Returns ``(n_paths, d)``.
    Notebook ``03-mfld/01-networks-as-measures``.
    """
    draw, _, _, device = _sampler(S0, r, sigma, tau, mu)
    check_generator(generator, device, "S0")
    n_paths = check_int("n_paths", n_paths)
    S0 = as_tensor("S0", S0)
    check_memory(f"n_paths={n_paths} samples", n_paths * (S0.numel() + as_tensor("sigma", sigma).shape[-1]))
    X = draw(n_paths, generator)
    return _finite_price(
        "the terminal samples", X, "exp((mu - |sigma|^2/2) tau + sqrt(tau) sigma Z) overflows"
    )


def mc_price(
    payoff: Payoff,
    S0: torch.Tensor,
    r: float,
    sigma: torch.Tensor,
    tau: float,
    n_paths: int,
    generator: torch.Generator | None = None,
    chunk: int = 2**16,
    progress: bool | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Feynman–Kac Monte Carlo price ``e^{-r tau} mean_k payoff(X_T^k)`` and its standard error.

    The paths are drawn exactly (:func:`terminal_samples` with ``mu = r``) ``chunk`` at a time;
    mean and variance are merged chunk by chunk (Chan et al.), so memory is ``O(chunk * d)``
    for any ``n_paths``. The standard error is ``e^{-r tau} s / sqrt(n)`` with ``s`` the sample
    standard deviation of the payoffs. ``payoff`` maps ``(n, d) -> (n,)``. Notebook
    ``03-mfld/01-networks-as-measures`` (claim MFLD-2).
    """
    check_callable("payoff", payoff)
    draw, r, tau, device = _sampler(S0, r, sigma, tau, None)
    check_generator(generator, device, "S0")
    n_paths = check_int("n_paths", n_paths, minimum=2)
    chunk = check_int("chunk", chunk)
    width = as_tensor("S0", S0).numel() + as_tensor("sigma", sigma).shape[-1]
    check_memory(f"chunk={chunk} paths", chunk * width)
    if -r * tau > 700:
        raise ValueError(f"the discount factor exp(-r tau) overflows: r * tau = {r * tau:g}")
    starts = range(0, n_paths, chunk)
    bar = None
    if show_progress(progress, len(starts)):
        bar = tqdm(total=n_paths, desc="paths", unit="path", leave=False)
    count, mean, m2 = 0, 0.0, 0.0
    for i, start in enumerate(starts):
        m = min(chunk, n_paths - start)
        if bar is not None:
            bar.update(m)
        p = payoff(draw(m, generator))
        if not isinstance(p, torch.Tensor) or p.shape != (m,):
            shape = tuple(p.shape) if isinstance(p, torch.Tensor) else type(p).__name__
            raise ValueError(f"payoff must return a tensor of shape ({m},) for {m} paths, got {shape}")
        if not all_finite(p):
            raise DivergenceError(
                f"payoff is NaN/inf on chunk {i} (paths {start}..{start + m}): check the payoff, "
                "or lower sigma^2 * tau / use float64 if exp overflows"
            )
        bm = p.mean()
        delta = bm - mean
        total = count + m
        mean = mean + delta * (m / total)
        m2 = m2 + (p - bm).square().sum() + delta.square() * (count * m / total)
        count = total
    if bar is not None:
        bar.close()
    disc = math.exp(-r * tau)
    price, se = disc * mean, disc * torch.sqrt(m2 / (count - 1) / count)
    if not (bool(torch.isfinite(price)) and bool(torch.isfinite(se))):
        raise ValueError("the payoffs are too large: their mean or variance overflows (S0 or r too large?)")
    return price, se


def geometric_basket_payoff(K: float) -> Payoff:
    """Payoff ``(prod_i x_i^{1/d} - K)^+`` of the geometric basket call, ``(..., d) -> (...)``.

    Its price is :func:`geometric_basket_call`. Notebook ``03-mfld/01-networks-as-measures``.
    """
    K = check_positive("K", K)

    def payoff(X: torch.Tensor) -> torch.Tensor:
        return (torch.exp(torch.log(X).mean(-1)) - K).clamp_min(0)

    return payoff


def arithmetic_basket_payoff(K: float, weights: torch.Tensor | None = None) -> Payoff:
    """Payoff ``(sum_i w_i x_i - K)^+`` of the arithmetic basket call (``w_i = 1/d`` by default).

    No closed form; priced by :func:`mc_price`. Notebook ``03-mfld/01-networks-as-measures``.
    """
    K = check_positive("K", K)
    w = None
    if weights is not None:
        w = as_real_tensor("weights", weights, ndim=1)

    def payoff(X: torch.Tensor) -> torch.Tensor:
        if w is None:
            return (X.mean(-1) - K).clamp_min(0)
        if X.shape[-1] != w.numel():
            raise ValueError(f"the basket has {w.numel()} weights but X has last dimension {X.shape[-1]}")
        return (X @ w.to(X) - K).clamp_min(0)

    return payoff


def heston_call(
    S: Arg, V: Arg, K: float, r: float, kappa: float, theta: float, eta: float, rho: float, tau: float
) -> torch.Tensor:
    """Heston call price from QuantLib's ``AnalyticHestonEngine`` (an independent reference).

    Model ``dS = r S dt + sqrt(V) S dW``, ``dV = kappa (theta - V) dt + eta sqrt(V) dB``,
    ``d<W, B> = rho dt``; ``S`` and ``V`` broadcast to a 1-D batch. ``tau`` is converted to a
    whole number of days (Actual/365 Fixed), so it must be a multiple of 1/365 up to 1e-9.
    Notebooks ``05-tdgf/01-pdes-and-energies`` and ``05-tdgf/02-tdgf-vs-dgm``.
    """
    import QuantLib as ql  # imported here: only the Heston reference needs it

    S_t, V_t = _broadcast(*_common(S=S, V=V), names="S and V")
    if S_t.ndim > 1:
        raise ValueError(f"S and V must broadcast to a 1-D batch, got shape {tuple(S_t.shape)}")
    for name, t in (("S", S_t), ("V", V_t)):
        if bool((t <= 0).any()):
            raise ValueError(f"{name} must be positive, got min {float(t.min())!r}")
    K = check_positive("K", K)
    r = check_real("r", r)
    kappa, theta, eta = (
        check_positive(name, v) for name, v in (("kappa", kappa), ("theta", theta), ("eta", eta))
    )
    rho = check_range("rho", rho, -1.0, 1.0, lo_open=True, hi_open=True)
    tau = check_positive("tau", tau)
    days = tau * 365
    if not math.isfinite(days) or days > 1e6 or abs(days - round(days)) > 1e-9 * max(1.0, days):
        raise ValueError(
            f"tau must be a positive multiple of 1/365, at most 1e6 days (QuantLib counts days); got {tau!r}"
        )
    today = ql.Date(2, 1, 2001)
    ql.Settings.instance().evaluationDate = today
    dc = ql.Actual365Fixed()
    try:
        rates = ql.YieldTermStructureHandle(ql.FlatForward(today, r, dc))
        divs = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, dc))
        expiry = ql.EuropeanExercise(today + int(round(days)))
        option = ql.VanillaOption(ql.PlainVanillaPayoff(ql.Option.Call, K), expiry)
        out = []
        for s, v in zip(S_t.reshape(-1).tolist(), V_t.reshape(-1).tolist(), strict=True):
            spot = ql.QuoteHandle(ql.SimpleQuote(s))
            process = ql.HestonProcess(rates, divs, spot, v, kappa, theta, eta, rho)
            option.setPricingEngine(ql.AnalyticHestonEngine(ql.HestonModel(process)))
            out.append(option.NPV())
    except RuntimeError as err:  # QuantLib's own errors (e.g. its integration failing to converge)
        raise ValueError(f"QuantLib cannot price these Heston parameters: {err}") from None
    price = torch.tensor(out, dtype=S_t.dtype, device=S_t.device).reshape(S_t.shape)
    return _finite_price("the Heston price", price, "QuantLib returned NaN/inf (parameters too extreme)")


def bs_vega(S: float, K: float, r: float, sigma: float, tau: float) -> float:
    """Vega ``dC/dsigma`` of the Black–Scholes call (:func:`bs_call`) by autograd; scalar arguments.

    Converts price tolerances into volatility points (notebook ``05-tdgf/02-tdgf-vs-dgm``).
    """
    S_f = check_nonnegative("S", S)
    check_positive("K", K), check_real("r", r), check_nonnegative("tau", tau)
    sig = torch.tensor(check_positive("sigma", sigma), requires_grad=True)
    (g,) = torch.autograd.grad(bs_call(torch.tensor(S_f), K, r, sig, tau), sig)
    vega = g.item()
    if not math.isfinite(vega):
        raise ValueError(
            f"the vega is not finite for S={S!r}, sigma={sigma!r}, tau={tau!r} (values too large)"
        )
    return vega


def bs_implied_vol(price: float, S: float, K: float, r: float, tau: float) -> float:
    """The volatility in ``[1e-4, 3]`` at which :func:`bs_call` equals ``price`` (``scipy.optimize.brentq``,
    ``xtol = 1e-14``); scalar arguments. Notebook ``05-tdgf/02-tdgf-vs-dgm``."""
    from scipy.optimize import brentq

    check_real("price", price)
    check_nonnegative("S", S), check_positive("K", K), check_real("r", r), check_positive("tau", tau)
    low, high = (bs_call(S, K, r, s, tau).item() - price for s in (1e-4, 3.0))
    if low * high > 0:  # brentq needs a change of sign
        raise ValueError(
            f"price must lie between the call prices at sigma = 1e-4 and sigma = 3 "
            f"({low + price:.6g} and {high + price:.6g} for S={S!r}, K={K!r}, r={r!r}, tau={tau!r}); "
            f"got {price!r}"
        )
    return brentq(lambda s: bs_call(S, K, r, s, tau).item() - price, 1e-4, 3.0, xtol=1e-14)
