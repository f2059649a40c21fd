"""The two-layer network in mean-field scaling, read as a measure on its neurons.

``f_X(z) = (1/N) sum_i c_i phi(a_i . z) = int phi_hat(x, z) m^N(dx)`` with neurons
``x_i = (c_i, a_i)`` (rows of ``X``, shape ``(N, 1 + D)``) and ``m^N`` their empirical measure:
its output (:func:`mf_output`), the mean squared loss ``F(m^N)`` (:func:`mf_loss`), the flat
derivative ``dF/dm`` (:func:`mf_flat_derivative`) and the intrinsic derivative ``D_m F``
(:func:`mf_drift`), the drift of the mean-field Langevin dynamics
(:func:`gradflows.particles.mean_field_langevin`). The drift is written for speed: in-place
activation kernels and data processed in chunks, never forming an ``(N, M, D)`` tensor.
Notebooks ``03-mfld/01-networks-as-measures`` and ``03-mfld/03-mean-field-langevin``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ._validation import (
    all_finite,
    as_real_tensor,
    check_choice,
    check_int,
    check_memory,
    positive_square,
)
from .nets import ACTIVATIONS

__all__ = [
    "with_bias",
    "MF_ACTIVATIONS",
    "mf_features",
    "mf_output",
    "mf_loss",
    "mf_flat_derivative",
    "mf_drift",
    "mixture_losses",
    "gibbs_log_weights",
    "grid_moments",
    "mf_free_energy_path",
    "mf_lipschitz_constant",
    "gibbs_form_covariance_errors",
]

Tensor = torch.Tensor

MF_ACTIVATIONS = ("tanh", "sigmoid", "relu")


def _sigmoid_prime_(h: Tensor) -> Tensor:  # h (1 - h), in place
    return torch.addcmul(h, h, h, value=-1, out=h)


# Each activation is an affine image of an in-place kernel, phi(s) = alpha psi(beta s) + gamma, with
# psi' written through the value psi (so the pre-activation is never kept): tanh(s) = 2 sigmoid(2s) - 1
# runs on the sigmoid kernel (several times faster than torch.tanh_ on the CPU in float32), and
# phi' = alpha beta psi'. Entries: (psi_, psi'_ from the value, in place, alpha, beta, gamma).
_KERNELS = {
    "tanh": (Tensor.sigmoid_, _sigmoid_prime_, 2.0, 2.0, -1.0),
    "sigmoid": (Tensor.sigmoid_, _sigmoid_prime_, 1.0, 1.0, 0.0),
    "relu": (Tensor.relu_, Tensor.sign_, 1.0, 1.0, 0.0),  # relu'(0) = 0, autograd's convention
}


def with_bias(Z: Tensor) -> Tensor:
    """``[Z, 1]``: a constant input feature (a bias). Notebook ``03-mfld/03-mean-field-langevin``."""
    Z = as_real_tensor("Z", Z, ndim=2)
    return torch.cat([Z, torch.ones(Z.shape[0], 1, dtype=Z.dtype, device=Z.device)], dim=1)


_NO_Y = object()  # _check_net without data labels


def _check_net(X, Z, Y=_NO_Y, activation: str = "tanh", chunk=None, *, x_name: str = "X"):
    """The checked network ``X`` (called ``x_name`` in messages), data ``Z``, ``Y`` (unless ``_NO_Y``),
    activation and chunk: real tensors, at least one neuron and one data point, finite, on one device."""
    X = as_real_tensor(x_name, X, ndim=2)
    if X.shape[1] < 2:
        raise ValueError(
            f"{x_name} must have shape (N, 1 + D) with D >= 1 (column 0 is c), got {tuple(X.shape)}"
        )
    Z = as_real_tensor("Z", Z, X.dtype, ndim=2)
    if Z.shape[1] != X.shape[1] - 1 or Z.device != X.device:
        raise ValueError(
            f"Z must have shape (M, {X.shape[1] - 1}) on {X.device} to match {x_name}, "
            f"got {tuple(Z.shape)} on {Z.device}"
        )
    if Y is _NO_Y:
        Y = None
    else:
        Y = as_real_tensor("Y", Y, X.dtype, ndim=1)
        if Y.shape[0] != Z.shape[0] or Y.device != X.device:
            raise ValueError(f"Y must have shape ({Z.shape[0]},) on {X.device}, got {tuple(Y.shape)}")
    check_choice("activation", activation, MF_ACTIVATIONS)
    if chunk is not None:
        chunk = check_int("chunk", chunk)
    return X, Z, Y, chunk


def _finite_result(out: Tensor, what: str, names: str) -> Tensor:
    """``out``, or ``ValueError`` if it overflowed (finite inputs with entries too large)."""
    if not all_finite(out):
        raise ValueError(f"{what} overflows: {names} have entries too large")
    return out


def mf_features(X: Tensor, Z: Tensor, activation: str = "tanh") -> Tensor:
    """The features ``phi_hat(x_i, z_m) = c_i phi(a_i . z_m)`` of every neuron at every input, ``(N, M)``.

    ``mf_output`` is their mean over the neurons. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, _, _ = _check_net(X, Z, _NO_Y, activation)
    return _finite_result(X[:, :1] * ACTIVATIONS[activation](X[:, 1:] @ Z.T), "the features", "X or Z")


def mf_flat_derivative(X: Tensor, Z: Tensor, Y: Tensor, points: Tensor, activation: str = "tanh") -> Tensor:
    """The flat derivative ``dF/dm(m^N, x) = -mean_data (y - f_X(z)) phi_hat(x, z)`` at ``points``.

    ``F(m) = 1/2 mean_data (y - int phi_hat dm)^2`` and ``m^N`` the empirical measure of the
    neurons ``X``; ``points`` has shape ``(n, 1 + D)`` and the result ``(n,)``. Its gradient in
    ``x`` is the intrinsic derivative ``D_m F``, so ``mf_drift(X, ...)`` equals minus the
    gradient of this function at ``points = X``; it enters the first-order condition of
    Proposition 4. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, _ = _check_net(X, Z, Y, activation)
    P = as_real_tensor("points", points, X.dtype, ndim=2).to(X.device)
    if P.shape[1] != X.shape[1]:
        raise ValueError(f"points must have shape (n, {X.shape[1]}) like X, got {tuple(P.shape)}")
    r = Y - _output(X, Z, activation, None)
    out = -(P[:, :1] * ACTIVATIONS[activation](P[:, 1:] @ Z.T) @ r) / Z.shape[0]
    return _finite_result(out, "the flat derivative", "X, Z, Y or points")


def mf_output(X: Tensor, Z: Tensor, activation: str = "tanh", chunk: int | None = None) -> Tensor:
    """Output of the network in mean-field scaling, ``f_X(z) = (1/N) sum_i c_i phi(a_i . z)``.

    This is ``int phi_hat(x, z) m^N(dx)`` with ``phi_hat((c, a), z) = c phi(a . z)``, an integral
    against the empirical measure ``m^N`` of the neurons. ``X`` has shape ``(N, 1 + D)`` (column
    0 is ``c``), ``Z`` shape ``(M, D)``; returns shape ``(M,)``. ``chunk`` rows of ``Z`` at a
    time (memory ``O(chunk N)``). Differentiable by autograd.
    Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, _, chunk = _check_net(X, Z, _NO_Y, activation, chunk)
    return _finite_result(_output(X, Z, activation, chunk), "the output", "X or Z")


def _output(X: Tensor, Z: Tensor, activation: str, chunk: int | None) -> Tensor:
    phi, c, A = ACTIVATIONS[activation], X[:, 0], X[:, 1:]
    step = chunk or Z.shape[0]
    parts = [phi(Z[i : i + step] @ A.T) @ c for i in range(0, Z.shape[0], step)]
    return (parts[0] if len(parts) == 1 else torch.cat(parts)) / X.shape[0]


def mf_loss(X: Tensor, Z: Tensor, Y: Tensor, activation: str = "tanh") -> Tensor:
    """``F(m^N) = 1/2 mean_data (y - int phi_hat(x, z) m^N(dx))^2``: the square loss ``Phi(r) = r^2/2``.

    Differentiable by autograd. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, _ = _check_net(X, Z, Y, activation)
    return _finite_result(_loss(X, Z, Y, activation), "the loss", "X, Z or Y")


def _loss(X: Tensor, Z: Tensor, Y: Tensor, activation: str) -> Tensor:
    r = Y - _output(X, Z, activation, None)
    return 0.5 * (r * r).mean()


def _default_rows(M: int, N: int, X: Tensor) -> int:
    # CUDA: all rows at once, up to 256 MiB. CPU: blocks of 16 MiB, which stay in the last-level
    # cache between the passes below (full M x N matrices would go to memory and back at every
    # pass) while keeping few, large operations.
    nbytes = 1 << (28 if X.device.type == "cuda" else 24)
    return max(1, min(M, nbytes // (X.element_size() * max(N, 1))))


def _drift(X: Tensor, Z: Tensor, Y: Tensor, activation: str, chunk: int | None) -> Tensor:
    # One pass over blocks of data rows: the residual at z_m needs only row m of phi(Z A^T).
    N, M, D = X.shape[0], Z.shape[0], Z.shape[1]
    psi_, dpsi_, alpha, beta, gamma = _KERNELS[activation]
    # A product with D <= 8 inner (or outer) terms is slow in CPU BLAS: write it as D broadcast passes.
    small = X.device.type == "cpu" and D <= 8
    c = X[:, 0]
    B = (X[:, 1:] * beta).T.contiguous()  # (D, N)
    sum_c = c.sum() * (gamma / N)
    drift_c = torch.zeros_like(c)
    drift_a = torch.zeros(D, N, dtype=X.dtype, device=X.device)  # transposed, like B
    rows = _default_rows(M, N, X) if chunk is None else min(chunk, M)
    buf = torch.empty(rows, N, dtype=X.dtype, device=X.device)
    for i in range(0, M, rows):
        Zb, Yb = Z[i : i + rows], Y[i : i + rows]
        P = buf[: Zb.shape[0]]
        if small:
            torch.mul(Zb[:, :1], B[0], out=P)
            for d in range(1, D):
                P.addcmul_(Zb[:, d : d + 1], B[d])
        else:
            torch.mm(Zb, B, out=P)
        S = psi_(P)  # psi(beta a_n . z_m), (rows, N)
        r = torch.mv(S, c).mul_(-alpha / N).add_(Yb)
        if gamma:
            r.sub_(sum_c)  # r = y - f_X(z), the residual
            drift_c.add_(r.sum(), alpha=gamma / alpha)
        drift_c.addmv_(S.T, r)  # sum_m r_m psi(.)
        W = r[:, None] * Zb
        dpsi_(S)
        if small:
            for d in range(D):
                drift_a[d].addmv_(S.T, W[:, d])  # sum_m r_m psi'(.) z_m
        else:
            drift_a.addmm_(W.T, S)
    out = torch.empty_like(X)
    out[:, 0] = drift_c.mul_(alpha / M)
    out[:, 1:] = drift_a.T * (c[:, None] * (alpha * beta / M))
    return out


def mf_drift(X: Tensor, Z: Tensor, Y: Tensor, activation: str = "tanh", chunk: int | None = None) -> Tensor:
    """Minus the intrinsic derivative of ``F`` at each neuron, ``-D_m F(m^N, x_i)``, shape ``(N, 1 + D)``.

    ``-D_m F(m, x) = mean_data[(y - f_X(z)) grad_x phi_hat(x, z)]`` with ``grad_c phi_hat = phi(a . z)``
    and ``grad_a phi_hat = c phi'(a . z) z``, computed analytically with matrix products: with
    ``H = phi(Z A^T)`` and ``r = Y - H c / N``, the ``c`` column is ``H^T r / M`` and the ``a``
    columns are ``c * (phi'(Z A^T)^T (r Z)) / M``.

    Because of the ``1/N`` of the mean-field scaling, ``N grad_{x_i} F(m^N) = D_m F(m^N, x_i)``:
    the drift of a neuron does not shrink with the width, so the time step of
    :func:`~gradflows.particles.mean_field_langevin` need not scale with ``N``.

    One pass over the data: the residual at ``z`` needs only the row of ``H`` at ``z``. ``chunk``
    streams over blocks of data rows (exact mean over all data, memory ``O(chunk N)``); None takes
    blocks of 16 MiB on the CPU (they stay in cache), up to 256 MiB on CUDA (the same sum).
    Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, chunk = _check_net(X, Z, Y, activation, chunk)
    with torch.no_grad():
        out = _drift(X.detach(), Z.detach(), Y.detach(), activation, chunk)
    return _finite_result(out, "the drift", "X, Z or Y")


# --- mixtures of empirical measures (convexity of F) ---------------------------------------------


def mixture_losses(X0: Tensor, X1: Tensor, Z: Tensor, Y: Tensor, K: int) -> dict[str, object]:
    """``F`` along the mixtures ``(1 - a) m + a m'`` of the empirical measures of ``X0``, ``X1``, ``a = k/K``.

    The mixture with rational weight ``k/K`` is the network of ``K - k`` copies of ``X0`` and ``k``
    copies of ``X1`` (same ``N``). Returns ``F`` (array of ``K + 1`` losses ``F(m_a)``), ``output_dev``
    (largest ``|f_{m_a} - (1 - a) f_m - a f_m'|``) and ``rescaled_dev`` (largest deviation between the
    mixture and the ``2N``-neuron network with outer weights ``2 (1 - a) c`` and ``2 a c'``): both
    vanish to round-off since the output is linear in the measure (Proposition "F is convex").
    Used in notebooks/03-mfld/01.
    """
    X0, Z, Y, _ = _check_net(X0, Z, Y, x_name="X0")
    X1, _, _, _ = _check_net(X1, Z, Y, x_name="X1")
    K = check_int("K", K)
    if X1.shape != X0.shape:
        raise ValueError(f"X0 and X1 must have one shape, got {tuple(X0.shape)} and {tuple(X1.shape)}")
    # the largest mixture: K N neurons, and its (M, K N) matrix of features
    check_memory(f"K={K} mixtures", float(K) * X0.shape[0] * (X0.shape[1] + Z.shape[0]), X0.dtype)
    f_m, f_mp = _output(X0, Z, "tanh", None), _output(X1, Z, "tanh", None)
    F, output_dev, rescaled_dev = [], 0.0, 0.0
    for k in range(K + 1):
        al = k / K
        X_mix = torch.cat([X0.repeat(K - k, 1), X1.repeat(k, 1)])  # the mixture (1 - al) m + al m'
        f_mix = _output(X_mix, Z, "tanh", None)
        output_dev = max(output_dev, (f_mix - ((1 - al) * f_m + al * f_mp)).abs().max().item())
        w0, w1 = torch.ones(X0.shape[1], dtype=X0.dtype), torch.ones(X0.shape[1], dtype=X0.dtype)
        w0[0], w1[0] = 2 * (1 - al), 2 * al
        X_resc = torch.cat([X0 * w0.to(X0.device), X1 * w1.to(X0.device)])
        rescaled_dev = max(rescaled_dev, (_output(X_resc, Z, "tanh", None) - f_mix).abs().max().item())
        F.append(_loss(X_mix, Z, Y, "tanh").item())
    if not all(map(math.isfinite, [*F, output_dev, rescaled_dev])):
        raise ValueError("the losses overflow: X0, X1, Z or Y have entries too large")
    return {"F": np.array(F), "output_dev": output_dev, "rescaled_dev": rescaled_dev}


# --- the Gibbs form of a stationary measure, on a grid of the plane -------------------------------


def gibbs_log_weights(X: Tensor, Z: Tensor, Y: Tensor, sigma: float, points: Tensor) -> tuple[Tensor, Tensor]:
    """Log-weights, up to constants, of the two Gibbs forms built on the empirical measure ``m^N`` of ``X``.

    Corrected: ``-(2/sigma^2) dF/dm(m^N, x) - U(x)``; printed: ``-(2/sigma^2)(dF/dm(m^N, x) + U(x))``,
    with ``U(x) = |x|^2/2 + (d/2) log(2 pi)`` and :func:`mf_flat_derivative`, at the rows of ``points``.
    Used in notebooks/03-mfld/03 (first-order condition, Proposition 4).
    """
    s2 = positive_square("sigma", sigma)
    points = as_real_tensor("points", points, ndim=2)
    psi = mf_flat_derivative(X, Z, Y, points)
    U = 0.5 * points.square().sum(1) + 0.5 * points.shape[1] * math.log(2 * math.pi)
    corrected, printed = -(2 / s2) * psi - U, -(2 / s2) * (psi + U)
    _finite_result(corrected, "the log-weights", "X, Z, Y or points")
    return corrected, _finite_result(printed, "the log-weights", "X, Z, Y or points")


def grid_moments(log_w: Tensor, points: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and covariance of the density ``∝ exp(log_w)`` on the grid ``points`` ``(n, d)`` (Riemann sum).

    Used in notebooks/03-mfld/03.
    """
    points = as_real_tensor("points", points, ndim=2)
    log_w = as_real_tensor("log_w", log_w, like=points)
    if log_w.shape != points.shape[:1]:
        raise ValueError(
            f"log_w must have shape ({points.shape[0]},), one entry per row of points, "
            f"got {tuple(log_w.shape)}"
        )
    w = torch.exp(log_w - log_w.max())
    w = w / w.sum()
    mean = w @ points
    cov = (points - mean).T @ ((points - mean) * w[:, None])
    _finite_result(mean, "the mean", "points")
    return mean, _finite_result(cov, "the covariance", "points")


def mf_free_energy_path(states: Tensor, Z: Tensor, Y: Tensor, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Loss ``F(m^N_t)`` and nearest-neighbour ``H(m^N_t | N(0, I))`` of each recorded cloud of neurons.

    ``states`` has shape ``(n_rec, N, 1 + D)``; the free energy estimate is ``F + (sigma^2/2) H``
    (:func:`gradflows.energies.relative_entropy_to_gaussian` with ``k`` neighbours).
    Used in notebooks/03-mfld/03.
    """
    from .energies import relative_entropy_to_gaussian

    states = as_real_tensor("states", states)
    if states.ndim != 3:
        raise ValueError(f"states must have shape (n_rec, N, 1 + D), got {tuple(states.shape)}")
    _, Z, Y, _ = _check_net(states[0], Z, Y, x_name="states[0]")
    k = check_int("k", k)
    F_t = np.array([_loss(X, Z, Y, "tanh").item() for X in states])
    if not np.isfinite(F_t).all():
        raise ValueError("the loss overflows: states, Z or Y have entries too large")
    H_t = np.array([relative_entropy_to_gaussian(X, k=k).item() for X in states])
    return F_t, H_t


def mf_lipschitz_constant(X: Tensor, Z: Tensor) -> float:
    """Size of the measure-Lipschitz constant of ``D_mF``: ``max_x mean_z |grad phi_hat| max |grad phi_hat|``.

    For tanh neurons without bias and one input (``X`` ``(n, 2)``, ``Z`` ``(M, 1)``):
    ``grad_x phi_hat = (tanh(a z), c (1 - tanh^2(a z)) z)``. Used in notebooks/03-mfld/03 (coupling lemma).
    """
    X, Z, _, _ = _check_net(X, Z)
    if Z.shape[1] != 1:
        raise ValueError(f"one input feature expected, Z of shape (M, 1), got {tuple(Z.shape)}")
    th = torch.tanh(X[:, 1:] * Z[:, 0])
    grad_norm = torch.sqrt(th**2 + (X[:, :1] * (1 - th**2) * Z[:, 0]) ** 2)  # |grad_x phi_hat(x, z)|, (n, M)
    out = grad_norm.mean(1).max().item() * grad_norm.max().item()
    if not math.isfinite(out):
        raise ValueError("the Lipschitz constant overflows: X or Z have entries too large")
    return out


def gibbs_form_covariance_errors(
    systems: Tensor, Z: Tensor, Y: Tensor, sigma: float, points: Tensor
) -> np.ndarray:
    """Relative covariance errors of the corrected Gibbs form of each system vs its particles, ``(R, 3)``.

    For each cloud of ``systems`` ``(R, n, 2)``: ``C_part`` its covariance, ``C_gibbs`` that of
    ``exp(-(2/sigma^2) dF/dm(m, x) - U(x))`` on the grid ``points`` (:func:`gibbs_log_weights`,
    :func:`grid_moments`); returns ``(c11, sqrt(2) c12, c22)`` of ``(C_gibbs - C_part) / |C_part|_F``, whose
    Euclidean norm is the relative Frobenius error. Used in notebooks/03-mfld/03 (Proposition 4).
    """
    systems = as_real_tensor("systems", systems, ndim=3)
    if systems.shape[1] < 2 or systems.shape[2] != 2:
        raise ValueError(
            f"systems must have shape (R, n, 2) with n >= 2 particles, got {tuple(systems.shape)}"
        )
    points = as_real_tensor("points", points, ndim=2)
    positive_square("sigma", sigma)
    diff = []
    for r, Xr in enumerate(systems):
        C_part = torch.cov(Xr.T)
        try:
            C = grid_moments(gibbs_log_weights(Xr, Z, Y, sigma, points)[0], points)[1] - C_part
        except ValueError as err:
            raise ValueError(f"systems[{r}] (X below): {err}") from None
        diff.append((torch.stack([C[0, 0], math.sqrt(2) * C[0, 1], C[1, 1]]) / C_part.norm()).cpu().numpy())
    out = np.array(diff)
    if not np.isfinite(out).all():
        raise ValueError(
            "the relative errors are not finite: the particles of a system coincide (zero covariance) "
            "or systems has entries too large"
        )
    return out
