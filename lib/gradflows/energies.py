"""Free energies, entropies and Wasserstein distances of probability measures.

Chapter 3 (notebooks ``03-mfld/01-networks-as-measures``, ``03-mfld/02-langevin-gibbs``,
``03-mfld/03-mean-field-langevin``) studies the free energy::

    V^sigma(m) = F(m) + (sigma^2 / 2) H(m | g),    g ∝ e^{-U},  U(x) = |x|^2 / 2,

so that ``g = N(0, I)``, and its minimisation by the Langevin dynamics
``dX = -grad f(X) dt + sigma dW``, whose invariant density is ``∝ exp(-2 f / sigma^2)``.

Two kinds of measures appear: densities tabulated on a 1-D grid (``*_1d`` functions, integrals
by the trapezoidal rule) and clouds of particles ``X`` of shape ``(n, d)`` (entropies by the
Kozachenko–Leonenko nearest-neighbour estimator, ``W_2`` by exact optimal transport).

The energies of the pricing PDEs of chapter 5 live next to their solvers:
:func:`gradflows.tdgf.tdgf_energy` and :func:`gradflows.dgm.dgm_residual`.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._validation import (
    all_finite,
    as_real_tensor,
    as_tensor,
    check_finite,
    check_generator,
    check_int,
    check_memory,
    check_ndim,
    check_range,
    positive_square,
)

__all__ = [
    "trapezoid",
    "gibbs_density",
    "entropy_1d",
    "relative_entropy_1d",
    "free_energy_1d",
    "knn_entropy",
    "relative_entropy_to_gaussian",
    "gaussian_entropy",
    "w2_1d",
    "w2",
    "w2_gaussian",
    "kde_log_error_on_gaussian",
]

_MAX_OT_SIZE = 2.5e7


def _finite_result(out: torch.Tensor, what: str, names: str) -> torch.Tensor:
    """``out``, or ``ValueError`` if it overflowed (finite inputs with entries too large)."""
    if not all_finite(out):
        raise ValueError(f"{what} overflows: {names} have entries too large")
    return out


def _grid(x) -> torch.Tensor:
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 1))
    if x.numel() < 2 or not bool((x[1:] > x[:-1]).all()):
        raise ValueError(f"x must be a strictly increasing 1-D grid of >= 2 points, got {tuple(x.shape)}")
    return x


def _on_grid(name: str, y, x: torch.Tensor, density: bool = False) -> torch.Tensor:
    y = check_finite(name, as_tensor(name, y, x.dtype)).to(x.device)
    if y.ndim == 0 or y.shape[-1] != x.shape[0]:
        raise ValueError(f"{name} must have last dimension len(x)={x.shape[0]}, got shape {tuple(y.shape)}")
    if density:
        # round-off negatives (e.g. from a difference of densities) are set to 0
        floor = -1e-12 * float(y.abs().max()) if y.numel() else 0.0
        if bool((y < floor).any()):
            raise ValueError(f"{name} must be non-negative")
        y = y.clamp_min(0.0)
    return y


def trapezoid(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Trapezoidal rule ``∫ y dx`` along the last dimension of ``y`` on the (non-uniform) grid ``x``.

    Returns shape ``y.shape[:-1]``. Notebook ``03-mfld/02-langevin-gibbs``.
    """
    x = _grid(x)
    return _finite_result(torch.trapezoid(_on_grid("y", y, x), x, dim=-1), "the integral", "y or x")


def gibbs_density(f_values: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gibbs density ``m_inf(x) = exp(-2 f(x) / sigma^2) / Z`` tabulated on the grid ``x``.

    It is the invariant density of the Langevin dynamics ``dX = -f'(X) dt + sigma dW``; ``Z`` is
    computed by the trapezoidal rule on ``x`` (uniform or not), and ``min f`` is subtracted
    before the exponential so that small ``sigma`` does not underflow. Notebook
    ``03-mfld/02-langevin-gibbs``.
    """
    x = _grid(x)
    s2 = positive_square("sigma", sigma)
    f = _on_grid("f_values", f_values, x)
    if f.ndim != 1:
        raise ValueError(f"f_values must be 1-D like x, got shape {tuple(f.shape)}")
    w = torch.exp(-2.0 * (f - f.min()) / s2)
    return _finite_result(w / torch.trapezoid(w, x), "the normalised density", "f_values or x")


def entropy_1d(density: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``∫ m log m dx`` by the trapezoidal rule, with ``0 log 0 = 0``.

    Sign: this is the *negative* differential entropy ``-h(m)`` (the term that appears in the
    free energy); for ``N(0, s^2)`` it equals ``-log(2 pi e s^2) / 2``. Leading dimensions of
    ``density`` are batch dimensions. Notebook ``03-mfld/02-langevin-gibbs``.
    """
    x = _grid(x)
    m = _on_grid("density", density, x, density=True)
    return _finite_result(torch.trapezoid(torch.xlogy(m, m), x, dim=-1), "the entropy", "density or x")


def relative_entropy_1d(density: torch.Tensor, reference: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Relative entropy ``H(m | g) = ∫ m log(m / g) dx`` by the trapezoidal rule (``0 log 0 = 0``).

    Raises ``ValueError`` if ``m > 0`` where ``g = 0`` (then ``H = +inf``). Notebook
    ``03-mfld/02-langevin-gibbs``.
    """
    x = _grid(x)
    m = _on_grid("density", density, x, density=True)
    g = _on_grid("reference", reference, x, density=True)
    if bool(((m > 0) & (g == 0)).any()):
        raise ValueError("density is positive where reference vanishes: H(m|g) = +inf")
    H = torch.trapezoid(torch.xlogy(m, m) - torch.xlogy(m, g), x, dim=-1)
    return _finite_result(H, "the relative entropy", "density, reference or x")


def free_energy_1d(
    density: torch.Tensor,
    f_values: torch.Tensor,
    x: torch.Tensor,
    sigma: float,
    reference: torch.Tensor | None = None,
) -> torch.Tensor:
    """Free energy ``∫ f m dx + (sigma^2/2) E(m)`` of a density on a 1-D grid.

    ``E(m) = ∫ m log m`` when ``reference`` is None (the Langevin free energy, minimised by
    :func:`gibbs_density`), else ``E(m) = H(m | reference)`` (the book's ``V^sigma`` with linear
    ``F(m) = ∫ f dm``). Notebook ``03-mfld/02-langevin-gibbs``.
    """
    x = _grid(x)
    s2 = positive_square("sigma", sigma)
    m = _on_grid("density", density, x, density=True)
    f = _on_grid("f_values", f_values, x)
    ent = entropy_1d(m, x) if reference is None else relative_entropy_1d(m, reference, x)
    out = torch.trapezoid(f * m, x, dim=-1) + 0.5 * s2 * ent
    return _finite_result(out, "the free energy", "density, f_values, x or sigma")


def _samples(X) -> torch.Tensor:
    X = as_real_tensor("X", X, ndim=(1, 2))
    return X[:, None] if X.ndim == 1 else X


def _knn_distances(X: torch.Tensor, k: int, chunk: int) -> torch.Tensor:
    """Distance from each row of ``X`` (n, d) to its k-th nearest other row, shape (n,)."""
    n, d = X.shape
    if d == 1:  # the k nearest neighbours lie among the k left and k right ones in sorted order
        xs, order = torch.sort(X[:, 0])
        inf = torch.full((k,), math.inf, dtype=X.dtype, device=X.device)
        pad = torch.cat([-inf, xs, inf])
        idx = torch.arange(n, device=X.device)[:, None] + k
        off = torch.cat([-torch.arange(1, k + 1), torch.arange(1, k + 1)]).to(X.device)
        dist = (pad[idx + off] - xs[:, None]).abs()
        return torch.empty_like(xs).scatter_(0, order, torch.kthvalue(dist, k, dim=1).values)
    # candidates ranked by |y|^2 - 2 x.y (= |x - y|^2 - |x|^2: one matrix product, fast but
    # inexact for close points; centring limits the cancellation), then exact distances to the
    # k + 4 best candidates
    Xc = X - X.mean(0)
    sq = Xc.square().sum(1)
    c = min(k + 4, n - 1)
    buf = X.new_empty(min(chunk, n), n)  # reused: allocating a large block per chunk is slow
    out = []
    for i in range(0, n, chunk):
        xb = X[i : i + chunk]
        D = torch.addmm(sq[None], Xc[i : i + chunk], Xc.T, alpha=-2, out=buf[: xb.shape[0]])
        rows = torch.arange(D.shape[0], device=X.device)
        D[rows, rows + i] = math.inf
        idx = torch.topk(D, c, dim=1, largest=False).indices
        exact = (X[idx] - xb[:, None]).norm(dim=-1)
        out.append(torch.kthvalue(exact, k, dim=1).values)
    return torch.cat(out)


def knn_entropy(X: torch.Tensor, k: int = 1, chunk: int = 2048) -> torch.Tensor:
    """Kozachenko–Leonenko estimate of the differential entropy ``h(m) = -∫ m log m``.

    From samples ``X`` of shape ``(n, d)`` (1-D means ``d = 1``)::

        h ≈ psi(n) - psi(k) + log V_d + (d / n) sum_i log eps_i,   V_d = pi^{d/2} / Gamma(d/2 + 1),

    ``eps_i`` the Euclidean distance from ``X_i`` to its ``k``-th nearest neighbour. Distances
    are found in blocks of ``chunk`` rows (memory ``chunk * n``; ``n = 2e4`` takes one to two
    seconds on a CPU) and recomputed exactly. Sign: ``h`` is minus :func:`entropy_1d`.
    Notebook ``03-mfld/03-mean-field-langevin``.

    Raises ``ValueError`` if ``n <= k`` or two samples coincide (``eps_i = 0``).
    """
    X = _samples(X)
    n, d = X.shape
    k = check_int("k", k)
    chunk = check_int("chunk", chunk)
    if n <= k:
        raise ValueError(f"X must have more samples than neighbours k: n={n} <= k={k}")
    eps = _knn_distances(X, k, chunk)
    if bool((eps == 0).any()):
        raise ValueError(
            f"{int((eps == 0).sum())} samples of X have a duplicate at distance 0 (k={k}); the "
            "nearest-neighbour entropy is -inf: remove duplicates or add a tiny jitter"
        )
    log_vd = 0.5 * d * math.log(math.pi) - math.lgamma(0.5 * d + 1)
    nk = torch.tensor([n, k], dtype=X.dtype, device=X.device)
    psi = torch.special.digamma(nk)
    h = psi[0] - psi[1] + log_vd + d * torch.log(eps).mean()
    return _finite_result(h, "the entropy estimate", "X (its distances)")


def relative_entropy_to_gaussian(X: torch.Tensor, k: int = 1) -> torch.Tensor:
    """Estimate ``H(m | N(0, I)) = -h(m) + E_m|X|^2 / 2 + (d/2) log(2 pi)`` from samples ``(n, d)``.

    ``h`` by :func:`knn_entropy`. This is the entropy term of ``V^sigma`` with ``U = |x|^2 / 2``.
    Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X = _samples(X)
    d = X.shape[1]
    H = -knn_entropy(X, k) + 0.5 * X.square().sum(1).mean() + 0.5 * d * math.log(2 * math.pi)
    return _finite_result(H, "the relative entropy estimate", "X")


def gaussian_entropy(cov: torch.Tensor | float) -> torch.Tensor:
    """Differential entropy ``h(N(mu, cov)) = log((2 pi e)^d det cov) / 2``.

    ``cov`` is a variance (scalar, ``d = 1``) or a symmetric positive definite ``(d, d)`` matrix.
    Notebook ``03-mfld/02-langevin-gibbs``.
    """
    S = _cov("cov", cov)
    d = S.shape[0]
    try:
        L = torch.linalg.cholesky(S)
    except RuntimeError:
        raise ValueError("cov must be positive definite") from None
    return 0.5 * d * math.log(2 * math.pi * math.e) + torch.log(torch.diagonal(L)).sum()


def _cov(name: str, cov) -> torch.Tensor:
    S = check_finite(name, as_tensor(name, cov))
    if S.ndim == 0:
        if float(S) <= 0:
            raise ValueError(f"{name} as a variance must be positive, got {float(S)!r}")
        return S.reshape(1, 1)
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be a scalar variance or a square (d, d) matrix, got {tuple(S.shape)}")
    if not torch.allclose(S, S.T, rtol=1e-8, atol=1e-10):
        raise ValueError(f"{name} must be symmetric")
    return S


def w2_1d(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exact ``W_2`` between the uniform empirical measures of two 1-D samples.

    ``W_2^2 = ∫_0^1 |Q_x(t) - Q_y(t)|^2 dt`` with the quantile functions ``Q``; both are
    piecewise constant, so the integral is an exact sum over the merged breakpoints
    ``{i/n} ∪ {j/m}`` (kept as integers over the common denominator ``n m``). With ``n = m``
    it is the rms of the sorted differences. Notebook ``03-mfld/01-networks-as-measures``.
    """
    x = check_finite("x", check_ndim("x", as_tensor("x", x), 1))
    y = check_finite("y", check_ndim("y", as_tensor("y", y, x.dtype), 1)).to(x.device)
    n, m = x.numel(), y.numel()
    if n == 0 or m == 0:
        raise ValueError("x and y must be non-empty")
    xs, ys = torch.sort(x).values, torch.sort(y).values
    if n == m:
        return _finite_result((xs - ys).square().mean().sqrt(), "W_2", "x or y")
    dev = x.device
    T = torch.cat([torch.arange(1, n + 1, device=dev) * m, torch.arange(1, m + 1, device=dev) * n])
    T = torch.unique(T)
    w = torch.diff(T, prepend=T.new_zeros(1)).to(x.dtype) / (n * m)
    ix = (T + m - 1) // m - 1  # Q_x = xs[ceil(t n) - 1] on (t_{l-1}, t_l], t_l = T_l / (n m)
    iy = (T + n - 1) // n - 1
    return _finite_result((w * (xs[ix] - ys[iy]).square()).sum().sqrt(), "W_2", "x or y")


def w2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Exact ``W_2`` between uniform empirical measures of ``x`` ``(n, d)`` and ``y`` ``(m, d)``.

    ``W_2^2 = min_pi sum_ij pi_ij |x_i - y_j|^2`` over couplings of the uniform weights, solved
    by POT's network simplex ``ot.emd2`` (CPU, float64). ``d = 1`` (or 1-D inputs) uses
    :func:`w2_1d`. Raises ``ValueError`` if ``n m > 2.5e7``. Notebook
    ``03-mfld/01-networks-as-measures``.
    """
    x = as_real_tensor("x", x, ndim=(1, 2))
    y = as_real_tensor("y", y, x.dtype, ndim=(1, 2)).to(x.device)
    if x.ndim == 1 and y.ndim == 1:
        return w2_1d(x, y)
    x, y = (v[:, None] if v.ndim == 1 else v for v in (x, y))
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same dimension d, got {x.shape[1]} and {y.shape[1]}")
    n, m = x.shape[0], y.shape[0]
    if n == 0 or m == 0:
        raise ValueError("x and y must be non-empty")
    if x.shape[1] == 1:
        return w2_1d(x[:, 0], y[:, 0])
    if n * m > _MAX_OT_SIZE:
        raise ValueError(
            f"n*m = {n * m:.3g} exceeds {_MAX_OT_SIZE:.3g} for exact optimal transport: "
            "subsample the clouds (e.g. 5000 points each)"
        )
    import ot  # POT, imported here: only this function needs it

    M = torch.cdist(x, y, compute_mode="donot_use_mm_for_euclid_dist").square()
    _finite_result(M, "the squared distances", "x or y")
    M = M.detach().cpu().double().numpy()
    a = torch.full((n,), 1.0 / n, dtype=torch.float64).numpy()
    b = torch.full((m,), 1.0 / m, dtype=torch.float64).numpy()
    cost = float(ot.emd2(a, b, M, numItermax=max(100_000, 50 * (n + m) ** 2)))
    return torch.tensor(max(cost, 0.0), dtype=x.dtype, device=x.device).sqrt()


def _sqrtm_psd(S: torch.Tensor) -> torch.Tensor:
    lam, V = torch.linalg.eigh(S)
    return (V * lam.clamp_min(0).sqrt()) @ V.T


def w2_gaussian(
    mean1: torch.Tensor | float,
    cov1: torch.Tensor | float,
    mean2: torch.Tensor | float,
    cov2: torch.Tensor | float,
) -> torch.Tensor:
    """``W_2(N(m1, S1), N(m2, S2))`` in closed form (Bures–Wasserstein).

    ``W_2^2 = |m1 - m2|^2 + tr(S1 + S2 - 2 (S1^{1/2} S2 S1^{1/2})^{1/2})``, symmetric square
    roots by ``eigh``. Means ``(d,)`` with covariances ``(d, d)``, or scalars (``d = 1``, a
    variance). Notebook ``03-mfld/02-langevin-gibbs``.
    """
    S1, S2 = _cov("cov1", cov1), _cov("cov2", cov2)
    S2 = S2.to(S1)
    m1 = check_finite("mean1", as_tensor("mean1", mean1, S1.dtype)).to(S1.device).reshape(-1)
    m2 = check_finite("mean2", as_tensor("mean2", mean2, S1.dtype)).to(S1.device).reshape(-1)
    d = S1.shape[0]
    if S2.shape[0] != d or m1.numel() != d or m2.numel() != d:
        raise ValueError(
            f"shapes disagree: mean1 {m1.numel()}, cov1 {tuple(S1.shape)}, mean2 {m2.numel()}, "
            f"cov2 {tuple(S2.shape)}"
        )
    for name, S in (("cov1", S1), ("cov2", S2)):
        if float(torch.linalg.eigvalsh(S).min()) < -1e-10 * max(1.0, float(S.abs().max())):
            raise ValueError(f"{name} must be positive semi-definite")
    R = _sqrtm_psd(S1)
    C = R @ S2 @ R
    cross = _sqrtm_psd(0.5 * (C + C.T))
    val = (m1 - m2).square().sum() + torch.trace(S1 + S2 - 2 * cross)
    return _finite_result(val.clamp_min(0).sqrt(), "W_2", "mean1, cov1, mean2 or cov2")


def kde_log_error_on_gaussian(
    cov: torch.Tensor, n: int, n_eval: int = 2000, q: float = 0.1, generator: torch.Generator | None = None
) -> float:
    """Error of a kernel estimate of ``log m``, ``m = N(0, cov)``: sd of ``log m_kde - log m`` on the bulk.

    ``n`` samples ``L xi`` (``L`` the Cholesky factor, one ``randn(n, d)``) feed ``scipy.stats.gaussian_kde``
    (Scott's bandwidth); the difference is evaluated at the first ``n_eval`` samples (all ``n`` if
    ``n_eval > n``) and its sd taken over
    those whose estimated density is above its ``q``-quantile. Used in notebooks/03-mfld/03 (the floor
    of the first-order condition from particles).
    """
    from scipy.stats import gaussian_kde

    S = _cov("cov", cov)
    n, n_eval = check_int("n", n, minimum=2), check_int("n_eval", n_eval)
    q = check_range("q", q, 0.0, 1.0)
    d = S.shape[0]
    check_memory(f"n={n} samples", float(n) * (d + min(n, n_eval)), S.dtype)  # the samples, the kernel sums
    check_generator(generator, torch.device("cpu"), "the samples (drawn on the CPU)")
    try:
        L = torch.linalg.cholesky(S)
    except RuntimeError:
        raise ValueError("cov must be positive definite") from None
    Xc = torch.randn(n, d, generator=generator, dtype=S.dtype) @ L.T
    E = Xc[:n_eval]
    log_true = (
        -0.5 * (E @ torch.linalg.inv(S) * E).sum(1) - 0.5 * d * math.log(2 * math.pi) - 0.5 * torch.logdet(S)
    )
    log_kde = gaussian_kde(Xc.T.cpu().numpy()).logpdf(E.T.cpu().numpy())
    keep = log_kde >= np.quantile(log_kde, q)
    out = float(np.std((log_kde - log_true.cpu().numpy())[keep]))
    if not math.isfinite(out):
        raise ValueError("the error is not finite: cov has entries too large (or too small) for the estimate")
    return out
