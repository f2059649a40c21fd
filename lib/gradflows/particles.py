"""Langevin dynamics of particles: independent paths, and the neurons of a mean-field network.

Two objects, one time stepper:

* the overdamped Langevin SDE ``dX = -grad f(X) dt + sigma dW`` for a batch of independent
  paths, whose invariant density is ``exp(-2 f / sigma^2) / Z``, and its Euler-Maruyama scheme
  ``X_{k+1} = X_k - dt grad f(X_k) + sigma sqrt(dt) xi_k`` (:func:`langevin`; notebook
  ``03-mfld/02-langevin-gibbs``);
* the mean-field Langevin dynamics of a two-layer network in mean-field scaling
  ``f_X(z) = (1/N) sum_i c_i phi(a_i . z) = int phi_hat(x, z) m^N(dx)``: the neurons
  ``x_i = (c_i, a_i)`` are particles that interact through their empirical measure ``m^N``
  (:func:`mf_output`, :func:`mf_loss`, :func:`mf_drift`, :func:`mean_field_langevin`; notebook
  ``03-mfld/03-mean-field-langevin``).

Both write one private Euler-Maruyama step (one copy of the state updated in place, the Gaussian
increments of many steps drawn per generator call) and run it in the library's stepping loop
(``gradflows._stepping.run``: NaN/inf checked only when recording, full states or a user
statistic recorded); both return a :class:`~gradflows.Trajectory` with the state ``X``.
Later chapters (deep relaxation, Entropy-SGD) call :func:`langevin`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._stepping import Trajectory, run
from ._validation import (
    as_tensor,
    check_finite,
    check_generator,
    check_int,
    check_ndim,
    check_nonnegative,
    check_positive,
)
from .nets import ACTIVATIONS
from .ode_optimizers import autograd_gradient

__all__ = [
    "langevin",
    "with_bias",
    "MF_ACTIVATIONS",
    "mf_features",
    "mf_output",
    "mf_loss",
    "mf_flat_derivative",
    "mf_drift",
    "mean_field_langevin",
]

Tensor = torch.Tensor

#: Gaussian numbers drawn per call of the generator when ``noise_chunk`` is not given (2^22).
NOISE_CHUNK_NUMBERS = 1 << 22

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


def _euler_maruyama(
    x0: Tensor,
    field: Callable[[Tensor, int], Tensor],
    coef: float,
    sigma: float,
    dt: float,
    n_steps: int,
    record_every: int | None,
    stats,
    generator,
    noise_chunk: int | None,
    noise: Tensor | None,
    progress,
    desc: str,
) -> Trajectory:
    """``X_{k+1} = X_k + coef field(X_k, k) + sigma sqrt(dt) xi_k`` for ``k < n_steps``, in place.

    ``xi_k`` is ``noise[k]`` when given, else drawn ``chunk`` steps at a time (already scaled by
    ``sigma sqrt(dt)``). The loop, records and finiteness checks are ``gradflows._stepping.run``.
    """
    s = sigma * math.sqrt(dt)
    chunk = noise_chunk or max(1, min(n_steps, NOISE_CHUNK_NUMBERS // max(x0.numel(), 1)))
    buf = None
    if s > 0 and noise is None and n_steps > 0:
        buf = torch.empty((min(chunk, n_steps), *x0.shape), dtype=x0.dtype, device=x0.device)

    def step(k: int, state):
        (x,) = state
        j = k % chunk
        if buf is not None and j == 0:
            buf[: min(chunk, n_steps - k)].normal_(0.0, s, generator=generator)
        x.add_(field(x, k), alpha=coef)
        if buf is not None:
            x.add_(buf[j])
        elif noise is not None and s > 0:
            x.add_(noise[k], alpha=s)
        return (x,)

    return run(
        step,
        (x0,),
        n_steps,
        names=("X",),
        dt=dt,
        record_every=record_every,
        stats=None if stats is None else (lambda y: stats(y[0])),
        progress=progress,
        desc=desc,
        advice=f"try a smaller dt (now {dt:g})",
    )


def _check_loop_args(sigma, dt, n_steps, record_every, stats, noise_chunk):
    sigma = check_nonnegative("sigma", sigma)
    dt = check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, minimum=0)
    if record_every is not None:
        record_every = check_int("record_every", record_every)
    if stats is not None and (not callable(stats) or record_every is None):
        raise ValueError(
            "stats must be a callable X -> tensor, recorded every record_every steps: give record_every too"
        )
    if noise_chunk is not None:
        noise_chunk = check_int("noise_chunk", noise_chunk)
    return sigma, dt, n_steps, record_every, noise_chunk


def langevin(
    x0: Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    *,
    f: Callable[[Tensor], Tensor] | None = None,
    grad: Callable[[Tensor], Tensor] | None = None,
    record_every: int | None = None,
    stats: Callable[[Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
    noise_chunk: int | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Euler-Maruyama for the overdamped Langevin SDE ``dX = -grad f(X) dt + sigma dW``.

    ``X_{k+1} = X_k - dt grad f(X_k) + sigma sqrt(dt) xi_k`` with ``xi_k ~ N(0, I)`` i.i.d., for
    ``n`` independent paths at once. Its invariant density is ``exp(-2 f / sigma^2) / Z``;
    ``sigma = 0`` gives explicit Euler (gradient descent) for the gradient flow.
    Notebook ``03-mfld/02-langevin-gibbs``.

    Parameters
    ----------
    x0:
        Initial positions, shape ``(n, d)``; not modified.
    sigma, dt, n_steps:
        Noise level ``>= 0``, time step ``> 0``, number of steps ``>= 0``.
    f, grad:
        Exactly one: the potential ``(n, d) -> (n,)`` (gradient of ``f(X).sum()`` by autograd)
        or its gradient ``(n, d) -> (n, d)``.
    record_every:
        Record at steps ``0, r, 2r, ...`` and at the last step; None records nothing.
    stats:
        With ``record_every``: record ``stats(X)`` (any tensor) instead of the full state.
    generator:
        Random generator on the device of ``x0``; None uses torch's global one.
    noise_chunk:
        Steps whose Gaussian increments are drawn per generator call (default: ``2^22`` numbers).

    Returns
    -------
    Trajectory
        ``last``: the final state ``(n, d)``; ``times``: the recorded times ``k dt``; ``X``: the
        recorded states ``(n_rec, n, d)`` (``states`` is None with ``stats`` or without
        ``record_every``); ``stats``: the recorded ``stats(X)``, ``(n_rec, ...)``, or None.

    Raises
    ------
    gradflows.DivergenceError
        When the state is not finite at a recording time or at the end.
    """
    sigma, dt, n_steps, record_every, noise_chunk = _check_loop_args(
        sigma, dt, n_steps, record_every, stats, noise_chunk
    )
    if (f is None) == (grad is None):
        raise ValueError("give exactly one of f (the potential) and grad (its gradient)")
    if f is not None and not callable(f) or grad is not None and not callable(grad):
        raise ValueError("f and grad must be callables on tensors of shape (n, d)")
    x0 = check_finite("x0", check_ndim("x0", as_tensor("x0", x0), 2))
    check_generator(generator, x0.device, "the particles")
    g = grad if grad is not None else autograd_gradient(f)
    return _euler_maruyama(
        x0,
        lambda x, _k: g(x),
        -dt,
        sigma,
        dt,
        n_steps,
        record_every,
        stats,
        generator,
        noise_chunk,
        None,
        progress,
        "langevin",
    )


# --- mean-field two-layer network -------------------------------------------------------------


def with_bias(Z: Tensor) -> Tensor:
    """``[Z, 1]``: a constant input feature (a bias). Notebook ``03-mfld/03-mean-field-langevin``."""
    Z = check_ndim("Z", as_tensor("Z", Z), 2)
    return torch.cat([Z, torch.ones(Z.shape[0], 1, dtype=Z.dtype, device=Z.device)], dim=1)


def _check_net(X, Z, Y=None, activation: str = "tanh", chunk=None):
    X = check_finite("X", check_ndim("X", as_tensor("X", X), 2))
    if X.shape[1] < 2:
        raise ValueError(f"X must have shape (N, 1 + D) with D >= 1 (column 0 is c), got {tuple(X.shape)}")
    Z = check_finite("Z", check_ndim("Z", as_tensor("Z", Z, X.dtype), 2))
    if Z.shape[1] != X.shape[1] - 1 or Z.device != X.device:
        raise ValueError(
            f"Z must have shape (M, {X.shape[1] - 1}) on {X.device} to match X, "
            f"got {tuple(Z.shape)} on {Z.device}"
        )
    if Y is not None:
        Y = check_finite("Y", check_ndim("Y", as_tensor("Y", Y, X.dtype), 1))
        if Y.shape[0] != Z.shape[0] or Y.device != X.device:
            raise ValueError(f"Y must have shape ({Z.shape[0]},) on {X.device}, got {tuple(Y.shape)}")
    if activation not in MF_ACTIVATIONS:
        raise ValueError(f"activation must be one of {MF_ACTIVATIONS}, got {activation!r}")
    if chunk is not None:
        chunk = check_int("chunk", chunk)
    return X, Z, Y, chunk


def mf_features(X: Tensor, Z: Tensor, activation: str = "tanh") -> Tensor:
    """The features ``phi_hat(x_i, z_m) = c_i phi(a_i . z_m)`` of every neuron at every input, ``(N, M)``.

    ``mf_output`` is their mean over the neurons. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, _, _ = _check_net(X, Z, None, activation)
    return X[:, :1] * ACTIVATIONS[activation](X[:, 1:] @ Z.T)


def mf_flat_derivative(X: Tensor, Z: Tensor, Y: Tensor, points: Tensor, activation: str = "tanh") -> Tensor:
    """The flat derivative ``dF/dm(m^N, x) = -mean_data (y - f_X(z)) phi_hat(x, z)`` at ``points``.

    ``F(m) = 1/2 mean_data (y - int phi_hat dm)^2`` and ``m^N`` the empirical measure of the
    neurons ``X``; ``points`` has shape ``(n, 1 + D)`` and the result ``(n,)``. Its gradient in
    ``x`` is the intrinsic derivative ``D_m F``, so ``mf_drift(X, ...)`` equals minus the
    gradient of this function at ``points = X``; it enters the first-order condition of
    Proposition 4. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, _ = _check_net(X, Z, Y, activation)
    P = check_finite("points", check_ndim("points", as_tensor("points", points, X.dtype), 2)).to(X.device)
    if P.shape[1] != X.shape[1]:
        raise ValueError(f"points must have shape (n, {X.shape[1]}) like X, got {tuple(P.shape)}")
    r = Y - mf_output(X, Z, activation)
    return -(mf_features(P, Z, activation) @ r) / Z.shape[0]


def mf_output(X: Tensor, Z: Tensor, activation: str = "tanh", chunk: int | None = None) -> Tensor:
    """Output of the network in mean-field scaling, ``f_X(z) = (1/N) sum_i c_i phi(a_i . z)``.

    This is ``int phi_hat(x, z) m^N(dx)`` with ``phi_hat((c, a), z) = c phi(a . z)``, an integral
    against the empirical measure ``m^N`` of the neurons. ``X`` has shape ``(N, 1 + D)`` (column
    0 is ``c``), ``Z`` shape ``(M, D)``; returns shape ``(M,)``. ``chunk`` rows of ``Z`` at a
    time (memory ``O(chunk N)``). Differentiable by autograd.
    Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, _, chunk = _check_net(X, Z, None, activation, chunk)
    phi, c, A = ACTIVATIONS[activation], X[:, 0], X[:, 1:]
    step = chunk or Z.shape[0]
    parts = [phi(Z[i : i + step] @ A.T) @ c for i in range(0, Z.shape[0], step)]
    return (parts[0] if len(parts) == 1 else torch.cat(parts)) / X.shape[0]


def mf_loss(X: Tensor, Z: Tensor, Y: Tensor, activation: str = "tanh") -> Tensor:
    """``F(m^N) = 1/2 mean_data (y - int phi_hat(x, z) m^N(dx))^2``: the square loss ``Phi(r) = r^2/2``.

    Differentiable by autograd. Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, _ = _check_net(X, Z, Y, activation)
    r = Y - mf_output(X, Z, activation)
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
    :func:`mean_field_langevin` need not scale with ``N``.

    One pass over the data: the residual at ``z`` needs only the row of ``H`` at ``z``. ``chunk``
    streams over blocks of data rows (exact mean over all data, memory ``O(chunk N)``); None takes
    blocks of 16 MiB on the CPU (they stay in cache), up to 256 MiB on CUDA (the same sum).
    Notebook ``03-mfld/03-mean-field-langevin``.
    """
    X, Z, Y, chunk = _check_net(X, Z, Y, activation, chunk)
    with torch.no_grad():
        return _drift(X.detach(), Z.detach(), Y.detach(), activation, chunk)


def mean_field_langevin(
    X0: Tensor,
    Z: Tensor,
    Y: Tensor,
    sigma: float,
    dt: float,
    n_steps: int,
    *,
    activation: str = "tanh",
    minibatch: int | None = None,
    chunk: int | None = None,
    record_every: int | None = None,
    stats: Callable[[Tensor], Tensor] | None = None,
    generator: torch.Generator | None = None,
    noise: Tensor | None = None,
    progress: bool | None = None,
) -> Trajectory:
    """Noisy regularized gradient descent on the neurons: mean-field Langevin dynamics.

    ``X_{k+1} = X_k + dt (-D_m F(m^N_k, X_k) - (sigma^2/2) grad U(X_k)) + sigma sqrt(dt) xi_k``
    with ``U(x) = |x|^2/2`` (Gibbs reference ``N(0, I)``), the Euler-Maruyama scheme of
    ``dX^i = (-D_m F(m^N_t, X^i) - (sigma^2/2) grad U(X^i)) dt + sigma dW^i``, whose mean-field
    limit is the Wasserstein gradient flow of ``F(m) + (sigma^2/2) KL(m | N(0, I))``. See
    :func:`mf_drift` for ``D_m F``.
    Notebook ``03-mfld/03-mean-field-langevin``.

    Parameters
    ----------
    X0:
        Initial neurons ``(c_i, a_i)``, shape ``(N, 1 + D)``; not modified.
    Z, Y:
        Data, shapes ``(M, D)`` and ``(M,)`` (see :func:`with_bias`).
    sigma, dt, n_steps:
        Noise level ``>= 0``, time step ``> 0``, number of steps.
    minibatch:
        Each step uses ``minibatch`` rows drawn uniformly with replacement (SGD); None: all data.
    noise:
        Optional ``xi_k``, shape ``(n_steps, N, 1 + D)``; otherwise drawn from ``generator`` as in
        :func:`langevin`, which also explains ``record_every``, ``stats`` and the result.
    """
    sigma, dt, n_steps, record_every, _ = _check_loop_args(sigma, dt, n_steps, record_every, stats, None)
    X0, Z, Y, chunk = _check_net(X0, Z, Y, activation, chunk)
    check_generator(generator, X0.device, "the particles")
    M = Z.shape[0]
    if minibatch is not None:
        minibatch = check_int("minibatch", minibatch)
    if noise is not None:
        noise = check_finite("noise", as_tensor("noise", noise, X0.dtype))
        if noise.shape != (n_steps, *X0.shape) or noise.device != X0.device:
            raise ValueError(
                f"noise must have shape {(n_steps, *X0.shape)} on {X0.device}, got {tuple(noise.shape)}"
            )
    shrink = -0.5 * sigma**2

    def field(x: Tensor, _k: int) -> Tensor:
        if minibatch is None:
            d = _drift(x, Z, Y, activation, chunk)
        else:
            idx = torch.randint(M, (minibatch,), generator=generator, device=x.device)
            d = _drift(x, Z[idx], Y[idx], activation, chunk)
        return d.add_(x, alpha=shrink) if shrink else d

    return _euler_maruyama(
        X0,
        field,
        dt,
        sigma,
        dt,
        n_steps,
        record_every,
        stats,
        generator,
        None,
        noise,
        progress,
        "mean-field Langevin",
    )
