"""Option-pricing PDEs in divergence form, in time-to-maturity ``tau``.

A model with ``d`` state variables ``x`` (prices, variance) has the pricing equation

    u_tau = tr(A D^2 u) + mu . grad u - r u                       (non-divergence form)
          = div(A grad u) - r u - b . grad u,   b_i = sum_j d_j A_ij - mu_i,     (5.1)

with ``u(0, x) = payoff(x)``. The second line is the splitting of the time-stepping deep
gradient flow (TDGF): the symmetric part ``div(A grad u) - r u`` is the gradient of an energy,
the rest ``F(u) = b . grad u`` is treated explicitly (claim TDGF-1, notebook
``05-tdgf/01-pdes-and-energies``). Each model exposes ``A(x)`` (``(n, d, d)``), ``b(x)`` and
``mu(x)`` (``(n, d)``), ``r``, ``payoff``, a box ``domain`` to sample from, and ``reference``:
a price that is *not* computed by our solvers (closed form or QuantLib).

* :class:`BlackScholes` -- one asset, ``A = sigma^2 S^2 / 2``, ``b = (sigma^2 - r) S``.
* :class:`Heston` -- ``x = (S, V)``, the matrices ``A`` and ``b`` of the source's Heston slide.
* :class:`BasketBlackScholes` -- ``d`` correlated assets, call on the geometric average
  (lognormal, so priced in closed form in any dimension).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from . import pricing
from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_choice,
    check_generator,
    check_int,
    check_memory,
    check_ndim,
    check_nonempty,
    check_nonnegative,
    check_positive,
    check_range,
    check_real,
)
from .device import _check_device

__all__ = ["PricingPDE", "BlackScholes", "Heston", "BasketBlackScholes", "check_model"]

_FLOAT_DTYPES = (torch.float32, torch.float64)


def _real_array(name: str, v, ndim: int | Sequence[int] = 1, nonempty: bool = True) -> np.ndarray:
    """``v`` (numbers, a list, an array or a tensor) as a finite float64 NumPy array, by the type rules
    of :func:`~gradflows._validation.as_tensor`; Python numbers are converted exactly (not through
    torch's default dtype), as ``np.asarray(v, dtype=float)`` does."""
    if isinstance(v, list | tuple) and any(isinstance(e, bool | np.bool_) for e in v):
        raise TypeError(f"{name} must hold real numbers, got booleans in {v!r}")
    t = as_tensor(name, v)
    check_ndim(name, t, ndim)
    if nonempty:
        check_nonempty(name, t)
    if isinstance(v, torch.Tensor):
        a = v.detach().cpu().double().numpy()
    else:
        a = np.asarray(v, dtype=float)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def _dtype(dtype) -> torch.dtype:
    """``dtype`` if it is ``torch.float32`` or ``torch.float64``."""
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return check_choice("dtype", dtype, _FLOAT_DTYPES)


def _like(name: str, like) -> torch.Tensor:
    """``like`` if it is a real floating tensor (its dtype and device are what is used)."""
    if not isinstance(like, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor (its dtype and device are used), got {type(like).__name__}"
        )
    if like.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"{name} must be a float32 or float64 tensor, got dtype {like.dtype}")
    return like


def _finite_out(what: str, value: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``value``, or a ``ValueError`` if it overflowed at finite states ``x``."""
    if not all_finite(value):
        big = float(x.abs().max()) if x.numel() else 0.0
        raise ValueError(f"{what} is not finite at these states (largest |x| = {big:.3g}): x is too large")
    return value


class PricingPDE:
    """Base class: a pricing equation (5.1) on the box ``domain = (lo, hi)`` (each a length-``d`` list)."""

    name = "pricing PDE"
    coords: tuple[str, ...] = ()

    def __init__(self, r: float, K: float, lo: Sequence[float], hi: Sequence[float]) -> None:
        self.r = check_real("r", r)
        self.K = check_positive("K", K)
        lo = _real_array("lo", lo).tolist()
        hi = _real_array("hi", hi).tolist()
        if len(lo) != len(hi) or not all(a < b for a, b in zip(lo, hi, strict=True)):
            raise ValueError(f"domain must satisfy lo < hi in every coordinate, got lo={lo}, hi={hi}")
        if lo[0] <= 0:
            raise ValueError(f"the price coordinate must start above 0 (log-prices appear), got {lo[0]}")
        sides = np.subtract(hi, lo)
        if not (np.isfinite(sides).all() and math.isfinite(float(np.prod(sides)))):
            raise ValueError(f"the domain box is too large (its size overflows): lo={lo}, hi={hi}")
        self.lo, self.hi = lo, hi

    @property
    def dim(self) -> int:
        """Number of state variables ``d``."""
        return len(self.lo)

    @property
    def volume(self) -> float:
        """Lebesgue measure of the domain box."""
        return float(np.prod(np.subtract(self.hi, self.lo)))

    def _x(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` checked: a finite real ``(n, d)`` tensor (lists are converted)."""
        x = as_real_tensor("x", x, ndim=2, nonempty=False)
        if x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}) for {self.name}, got {tuple(x.shape)}")
        return x

    def x_like(self, x: torch.Tensor, like: torch.Tensor | None = None) -> torch.Tensor:
        """``x`` checked to be a ``(n, d)`` array of states; with ``like``, on its dtype and device."""
        x = self._x(x)
        if like is None:
            return x
        x = x.to(_like("like", like))
        if not all_finite(x):
            raise ValueError(f"x has entries too large for the dtype of like ({like.dtype})")
        return x

    def bounds(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(lo, hi)`` as tensors with the dtype and device of ``like``."""
        like = _like("like", like)
        return (
            torch.tensor(self.lo, dtype=like.dtype, device=like.device),
            torch.tensor(self.hi, dtype=like.dtype, device=like.device),
        )

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` uniform points of the domain and their Monte Carlo weights ``volume / n``."""
        return self._sample(n, generator, dtype, device)

    def _sample(self, n, generator, dtype, device, name: str = "n"):
        """:meth:`sample`, with ``n`` named ``name`` in the errors (``points`` for the solvers)."""
        n = check_int(name, n)
        check_memory(f"{name}={n} points", n * (self.dim + 1), torch.float64)
        check_generator(generator, torch.device("cpu"), "the samples (drawn on the CPU)")
        dtype, device = _dtype(dtype), _check_device("device", device)
        u = torch.rand(n, self.dim, generator=generator, dtype=dtype)
        lo, hi = self.bounds(u)
        x = (lo + (hi - lo) * u).to(device)
        return x, torch.full((n,), self.volume / n, dtype=dtype, device=device)

    def _midpoint_axes(
        self, n: int | Sequence[int], dtype: torch.dtype, name: str = "n"
    ) -> list[torch.Tensor]:
        """Midpoints of ``n`` cells per coordinate (a number or one per coordinate)."""
        if isinstance(n, Sequence | np.ndarray | torch.Tensor) and not isinstance(n, str) and np.ndim(n) > 0:
            ns = [check_int(f"{name}[{i}]", m) for i, m in enumerate(n)]
            if len(ns) != self.dim:
                raise ValueError(f"{name} must give {self.dim} grid sizes, got {list(n)}")
        else:
            ns = [check_int(name, n)] * self.dim
        check_memory(f"a grid of {' x '.join(map(str, ns))} points", math.prod(ns) * (self.dim + 1), dtype)
        return [
            lo + (torch.arange(m, dtype=dtype) + 0.5) * (hi - lo) / m
            for m, lo, hi in zip(ns, self.lo, self.hi, strict=True)
        ]

    def grid(
        self, n: int | Sequence[int], dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Tensor midpoint rule: ``n`` points per coordinate (a number or one per coordinate)."""
        return self._grid(n, dtype, device)

    def _grid(self, n, dtype, device, name: str = "n"):
        """:meth:`grid`, with ``n`` named ``name`` in the errors (``points`` for the solvers)."""
        dtype, device = _dtype(dtype), _check_device("device", device)
        x = torch.cartesian_prod(*self._midpoint_axes(n, dtype, name)).reshape(-1, self.dim)
        return x.to(device), torch.full((x.shape[0],), self.volume / x.shape[0], dtype=dtype, device=device)

    def boundary_grid(
        self, n: int | Sequence[int], dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Midpoint rule on the ``2 d`` faces of the box: points, weights (face measure / count)
        and outer unit normals, with ``n`` points per coordinate along each face (as :meth:`grid`)."""
        return self._boundary_grid(n, dtype, device)

    def _boundary_grid(self, n, dtype, device, name: str = "n"):
        """:meth:`boundary_grid`, with ``n`` named ``name`` in the errors."""
        dtype, device = _dtype(dtype), _check_device("device", device)
        axes = self._midpoint_axes(n, dtype, name)
        sides = [hi - lo for lo, hi in zip(self.lo, self.hi, strict=True)]
        xs, ws, normals = [], [], []
        for i in range(self.dim):
            others = axes[:i] + axes[i + 1 :]
            face = torch.cartesian_prod(*others).reshape(-1, self.dim - 1) if others else torch.zeros(1, 0)
            face = face.to(dtype)
            area = float(np.prod(sides[:i] + sides[i + 1 :]))
            for side, value in ((-1.0, self.lo[i]), (1.0, self.hi[i])):
                col = torch.full((face.shape[0], 1), value, dtype=dtype)
                x = torch.cat([face[:, :i], col, face[:, i:]], 1)
                nrm = torch.zeros_like(x)
                nrm[:, i] = side
                xs.append(x)
                normals.append(nrm)
                ws.append(torch.full((x.shape[0],), area / x.shape[0], dtype=dtype))
        return torch.cat(xs).to(device), torch.cat(ws).to(device), torch.cat(normals).to(device)

    # The coefficients, to be provided by the models. The public methods check ``x`` (a finite
    # ``(n, d)`` tensor) and their result; the solvers' training loops call the private ``_A``,
    # ``_mu``, ... on points they made themselves. A model written as a subclass may define either:
    # the private ones default to the public ones.
    def A(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def mu(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def divA(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def payoff(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def payoff_grad(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _A(self, x: torch.Tensor) -> torch.Tensor:
        return self.A(x)

    def _mu(self, x: torch.Tensor) -> torch.Tensor:
        return self.mu(x)

    def _divA(self, x: torch.Tensor) -> torch.Tensor:
        return self.divA(x)

    def _payoff(self, x: torch.Tensor) -> torch.Tensor:
        return self.payoff(x)

    def _payoff_grad(self, x: torch.Tensor) -> torch.Tensor:
        return self.payoff_grad(x)

    def _b(self, x: torch.Tensor) -> torch.Tensor:
        return self._divA(x) - self._mu(x)

    def b(self, x: torch.Tensor) -> torch.Tensor:
        """Explicit drift of the divergence form, ``b_i = sum_j d_j A_ij - mu_i`` (5.1)."""
        x = self._x(x)
        return _finite_out("b(x)", self._b(x), x)

    def reference(self, x: torch.Tensor, tau: float) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _lower_bound(self, x: torch.Tensor, tau: float) -> torch.Tensor:
        return (x[:, 0] - self.K * math.exp(-self.r * tau)).clamp_min(0)

    def lower_bound(self, x: torch.Tensor, tau: float) -> torch.Tensor:
        """No-arbitrage lower bound ``(S - K e^{-r tau})^+`` of a call on the first coordinate."""
        x = self._x(x)
        tau = check_nonnegative("tau", tau)
        if -self.r * tau > 700:
            raise ValueError(f"the discount factor exp(-r tau) overflows: r * tau = {self.r * tau:g}")
        return _finite_out("lower_bound(x, tau)", self._lower_bound(x, tau), x)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(d={self.dim}, r={self.r:g}, K={self.K:g}, lo={self.lo}, hi={self.hi})"


def check_model(model) -> PricingPDE:
    """``model`` itself if it is a model of this module; ``TypeError`` otherwise (used by every solver)."""
    if not isinstance(model, PricingPDE):
        raise TypeError(f"model must be a gradflows.pricing_pdes model, got {type(model).__name__}")
    return model


class _CallOnFirst:
    """Call ``(x_0 - K)^+`` on the first coordinate (the price)."""

    def _payoff(self, x):
        return (x[:, 0] - self.K).clamp_min(0)

    def _payoff_grad(self, x):
        g = torch.zeros_like(x)
        g[:, 0] = (x[:, 0] > self.K).to(x.dtype)
        return g

    def payoff(self, x: torch.Tensor) -> torch.Tensor:
        """``(S - K)^+`` of shape ``(n,)``."""
        x = self._x(x)
        return _finite_out("payoff(x)", self._payoff(x), x)

    def payoff_grad(self, x: torch.Tensor) -> torch.Tensor:
        """Gradient of the payoff (a.e.): ``1{S > K}`` in the first coordinate."""
        return self._payoff_grad(self._x(x))


class BlackScholes(_CallOnFirst, PricingPDE):
    """One asset: ``u_tau = (sigma^2 S^2/2) u_SS + r S u_S - r u``; call with strike ``K`` on ``[lo, hi]``.

    Divergence form: ``A = sigma^2 S^2 / 2``, ``b = (sigma^2 - r) S``.
    Reference: :func:`~gradflows.pricing.bs_call`.
    """

    name = "Black-Scholes"
    coords = ("S",)

    def __init__(
        self, r: float = 0.05, sigma: float = 0.25, K: float = 1.0, lo: float = 0.01, hi: float = 3.0
    ) -> None:
        super().__init__(r, K, [check_real("lo", lo)], [check_real("hi", hi)])
        self.sigma = check_positive("sigma", sigma)

    def _A(self, x):
        return (0.5 * self.sigma**2 * x[:, :1] ** 2)[:, :, None]

    def _divA(self, x):
        return self.sigma**2 * x

    def _mu(self, x):
        return self.r * x

    def A(self, x):
        """``(n, 1, 1)``: ``sigma^2 S^2 / 2``."""
        x = self._x(x)
        return _finite_out("A(x)", self._A(x), x)

    def divA(self, x):
        """``(n, 1)``: ``sigma^2 S``."""
        x = self._x(x)
        return _finite_out("divA(x)", self._divA(x), x)

    def mu(self, x):
        """``(n, 1)``: ``r S``."""
        x = self._x(x)
        return _finite_out("mu(x)", self._mu(x), x)

    def reference(self, x, tau):
        """Closed-form call price at time-to-maturity ``tau``, shape ``(n,)``."""
        return pricing.bs_call(self._x(x)[:, 0], self.K, self.r, self.sigma, tau)


class Heston(_CallOnFirst, PricingPDE):
    """Heston: ``dS = r S dt + sqrt(V) S dW``, ``dV = kappa (theta - V) dt + eta sqrt(V) dB``.

    The Brownian motions are correlated, ``d<W, B> = rho dt``.

    ``x = (S, V)``; divergence form (the source's slide, claim TDGF-1)

        A = 1/2 [[S^2 V, rho eta S V], [rho eta S V, eta^2 V]],
        b = (S V - r S + rho eta S / 2,  kappa (V - theta) + rho eta V / 2 + eta^2 / 2).

    ``kappa`` is the mean-reversion speed and ``theta`` the long-run variance (the TDGF paper
    calls them lambda and kappa). Defaults: the paper's test case. Reference: QuantLib's
    analytic engine (:func:`~gradflows.pricing.heston_call`).

    ``taper > 0`` localizes the correlation term: ``A_SV`` is multiplied by a smooth cutoff
    ``chi(V)`` that rises from 0 to 1 over a layer of width ``taper`` at each variance face
    (``b`` follows, ``b = div A - mu``). Energy minimization on the box imposes the natural
    boundary condition ``(A grad u) . n = 0``, which on the variance faces reads
    ``u_V = -(rho S / eta) u_S`` when ``rho != 0`` -- a steep boundary layer that a network
    cannot represent; with the taper it becomes ``u_V = 0``, as for ``rho = 0``
    (notebook ``05-tdgf/02-tdgf-vs-dgm``). The PDE is unchanged outside the two layers, and
    :meth:`reference` stays the untruncated Heston price.
    """

    name = "Heston"
    coords = ("S", "V")

    def __init__(
        self,
        r: float = 0.0,
        kappa: float = 2.0,
        theta: float = 0.01,
        eta: float = 0.1,
        rho: float = 0.0,
        K: float = 1.0,
        lo: Sequence[float] = (0.01, 0.001),
        hi: Sequence[float] = (3.0, 0.1),
        taper: float = 0.0,
    ) -> None:
        super().__init__(r, K, lo, hi)
        if self.dim != 2:
            raise ValueError(f"lo and hi must have 2 entries (S, V) for the Heston model, got lo={self.lo}")
        if self.lo[1] <= 0:
            raise ValueError(f"the variance coordinate must start above 0, got {self.lo[1]}")
        self.kappa = check_positive("kappa", kappa)
        self.theta = check_positive("theta", theta)
        self.eta = check_positive("eta", eta)
        self.rho = check_range("rho", rho, -1.0, 1.0, lo_open=True, hi_open=True)
        self.taper = check_nonnegative("taper", taper)
        if not 0 <= self.taper <= (self.hi[1] - self.lo[1]) / 2:
            raise ValueError(f"taper must lie in [0, (V_max - V_min) / 2], got {taper!r}")

    def _chi(self, V):
        """Cutoff ``chi(V)`` and ``chi'(V)``: smoothstep ``z^2 (3 - 2 z)`` over ``taper`` at each face."""
        if self.taper == 0:
            return torch.ones_like(V), torch.zeros_like(V)
        out, dout = [], []
        for z, sign in (((V - self.lo[1]) / self.taper, 1.0), ((self.hi[1] - V) / self.taper, -1.0)):
            z = z.clamp(0, 1)
            out.append(z * z * (3 - 2 * z))
            dout.append(sign * 6 * z * (1 - z) / self.taper)
        return out[0] * out[1], dout[0] * out[1] + out[0] * dout[1]

    def _A(self, x):
        S, V = x[:, 0], x[:, 1]
        c = 0.5 * self.rho * self.eta * S * V * self._chi(V)[0]
        return torch.stack(
            [torch.stack([0.5 * S * S * V, c], -1), torch.stack([c, 0.5 * self.eta**2 * V], -1)], -2
        )

    def _divA(self, x):
        S, V = x[:, 0], x[:, 1]
        chi, dchi = self._chi(V)
        # d_S(S^2 V/2) + d_V(rho eta S V chi/2),  d_S(rho eta S V chi/2) + d_V(eta^2 V/2)
        k = 0.5 * self.rho * self.eta
        return torch.stack([S * V + k * S * (chi + V * dchi), k * V * chi + 0.5 * self.eta**2], -1)

    def _mu(self, x):
        return torch.stack([self.r * x[:, 0], self.kappa * (self.theta - x[:, 1])], -1)

    def A(self, x):
        """``(n, 2, 2)``: ``[[S^2 V, rho eta S V chi(V)], [rho eta S V chi(V), eta^2 V]] / 2``."""
        x = self._x(x)
        return _finite_out("A(x)", self._A(x), x)

    def divA(self, x):
        """``(n, 2)``: the divergence of the rows of :meth:`A`."""
        x = self._x(x)
        return _finite_out("divA(x)", self._divA(x), x)

    def mu(self, x):
        """``(n, 2)``: ``(r S, kappa (theta - V))``."""
        x = self._x(x)
        return _finite_out("mu(x)", self._mu(x), x)

    def reference(self, x, tau):
        """QuantLib's analytic Heston call at each row ``(S, V)`` of ``x``, shape ``(n,)``."""
        x = self._x(x)
        return pricing.heston_call(
            x[:, 0], x[:, 1], self.K, self.r, self.kappa, self.theta, self.eta, self.rho, tau
        )

    def __repr__(self) -> str:
        return (
            f"Heston(r={self.r:g}, kappa={self.kappa:g}, theta={self.theta:g}, eta={self.eta:g}, "
            f"rho={self.rho:g}, "
            f"K={self.K:g}, lo={self.lo}, hi={self.hi}, taper={self.taper:g})"
        )


class BasketBlackScholes(PricingPDE):
    """``d`` correlated Black–Scholes assets ``dS_i = r S_i dt + S_i sigma_i . dB``.

    The option is a call on the geometric average.

    ``A_ij = S_i S_j C_ij / 2`` with ``C = sigma sigma^T``; ``mu_i = r S_i``;
    ``(div A)_i = S_i (C_ii + sum_j C_ij) / 2``. Payoff ``((prod_i S_i)^{1/d} - K)^+``, priced
    in closed form by :func:`~gradflows.pricing.geometric_basket_call`. ``sigma`` defaults to
    :func:`~gradflows.pricing.correlated_vol` with volatility ``vol`` and correlation ``rho``.
    """

    name = "basket"

    def __init__(
        self,
        d: int,
        r: float = 0.05,
        vol: float = 0.25,
        rho: float = 0.3,
        K: float = 1.0,
        lo: float = 0.01,
        hi: float = 3.0,
        sigma: torch.Tensor | None = None,
    ) -> None:
        d = check_int("d", d)
        check_memory(f"the ({d}, {d}) covariance of d={d} assets", d * d)
        super().__init__(r, K, [check_real("lo", lo)] * d, [check_real("hi", hi)] * d)
        self.coords = tuple(f"S{i + 1}" for i in range(d))
        vol = check_positive("vol", vol)
        if sigma is None:
            sigma = pricing.correlated_vol(torch.full((d,), vol, dtype=torch.float64), rho)
        else:
            check_real("rho", rho)
        sigma = as_real_tensor("sigma", sigma, torch.float64)
        if sigma.ndim != 2 or sigma.shape[0] != d:
            raise ValueError(f"sigma must have shape ({d}, d'), got {tuple(sigma.shape)}")
        self.sigma = sigma
        self.C = sigma @ sigma.T
        if not all_finite(self.C):
            raise ValueError("the covariance sigma sigma^T overflows: vol or sigma is too large")

    def _C(self, x):
        return self.C.to(dtype=x.dtype, device=x.device)

    def _A(self, x):
        return 0.5 * x[:, :, None] * x[:, None, :] * self._C(x)

    def _divA(self, x):
        C = self._C(x)
        return 0.5 * x * (C.diagonal() + C.sum(1))

    def _mu(self, x):
        return self.r * x

    def _geo(self, x):
        return torch.exp(torch.log(x).mean(1))

    def _payoff(self, x):
        return (self._geo(x) - self.K).clamp_min(0)

    def _payoff_grad(self, x):
        G = self._geo(x)
        return ((G > self.K).to(x.dtype) * G)[:, None] / (self.dim * x)

    def _positive(self, x):
        x = self._x(x)
        if bool((x <= 0).any()):
            raise ValueError(
                f"x must be positive for the basket payoff (it takes logarithms), got min {float(x.min())!r}"
            )
        return x

    def A(self, x):
        """``(n, d, d)``: ``S_i S_j C_ij / 2``."""
        x = self._x(x)
        return _finite_out("A(x)", self._A(x), x)

    def divA(self, x):
        """``(n, d)``: ``S_i (C_ii + sum_j C_ij) / 2``."""
        x = self._x(x)
        return _finite_out("divA(x)", self._divA(x), x)

    def mu(self, x):
        """``(n, d)``: ``r S_i``."""
        x = self._x(x)
        return _finite_out("mu(x)", self._mu(x), x)

    def payoff(self, x):
        """``(G - K)^+`` with ``G`` the geometric average, shape ``(n,)``."""
        x = self._positive(x)
        return _finite_out("payoff(x)", self._payoff(x), x)

    def payoff_grad(self, x):
        """``1{G > K} G / (d S_i)`` (a.e.)."""
        x = self._positive(x)
        return _finite_out("payoff_grad(x)", self._payoff_grad(x), x)

    def lower_bound(self, x, tau):
        """Not available for the basket: raises ``ValueError`` (after checking ``x`` and ``tau``), so
        that ``output="bound"`` of the solvers is refused."""
        self._x(x)
        check_nonnegative("tau", tau)
        raise ValueError('the basket model has no built-in lower bound; use output="plain"')

    def _lower_bound(self, x, tau):
        self.lower_bound(x, tau)

    def reference(self, x, tau):
        """Closed-form geometric-basket call at each row of ``x``, shape ``(n,)``."""
        x = self._x(x)
        return pricing.geometric_basket_call(x, self.K, self.r, self.sigma.to(x), tau)
