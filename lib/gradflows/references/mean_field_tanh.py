"""The tanh network in mean-field scaling and its intrinsic derivative, written out in torch.

``f_X(z) = (1/N) sum_i c_i tanh(a_i . z)`` for neurons ``X = [c, a]`` ``(N, 1 + D)`` and inputs ``Z``
``(M, D)`` (:func:`tanh_output`), and for ``F(m) = (1/2) mean_j (y_j - f_m(z_j))^2`` the intrinsic
derivative ``D_mF(m^N, x_i) = -mean_j r_j grad_x phi_hat(x_i, z_j)`` with ``grad_c = tanh(a . z)``,
``grad_a = c (1 - tanh^2(a . z)) z`` and ``r = y - f`` (:func:`tanh_intrinsic_derivative`): two lines
of matrix algebra, no code shared with :mod:`gradflows.mean_field`; and noisy regularised gradient
descent on the neurons by autograd on that loss (:func:`noisy_gd_by_hand`). Used in the hidden tests of
notebooks/03-mfld/01 and in notebooks/03-mfld/03.
"""

from __future__ import annotations

import math

import torch

__all__ = ["tanh_output", "tanh_intrinsic_derivative", "noisy_gd_by_hand"]


def _check(X: torch.Tensor, Z: torch.Tensor) -> None:
    if X.ndim != 2 or Z.ndim != 2 or X.shape[1] != Z.shape[1] + 1:
        raise ValueError(
            f"X must have shape (N, 1 + D) and Z shape (M, D), got {tuple(X.shape)}, {tuple(Z.shape)}"
        )
    if not (bool(torch.isfinite(X).all()) and bool(torch.isfinite(Z).all())):
        raise ValueError("X and Z must be finite")


def tanh_output(X: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    """``f_X(z_j) = (1/N) sum_i c_i tanh(a_i . z_j)``, shape ``(M,)``. Used in notebooks/03-mfld/01."""
    _check(X, Z)
    return torch.tanh(Z @ X[:, 1:].T) @ X[:, 0] / X.shape[0]


def tanh_intrinsic_derivative(X: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """``D_mF(m^N, x_i)`` at every neuron, ``(N, 1 + D)`` (see the module). Used in notebooks/03-mfld/01."""
    _check(X, Z)
    if Y.shape != (Z.shape[0],):
        raise ValueError(f"Y must have shape ({Z.shape[0]},), got {tuple(Y.shape)}")
    T = torch.tanh(Z @ X[:, 1:].T)  # (M, N)
    res = Y - T @ X[:, 0] / len(X)
    return torch.cat(
        [-(res[:, None] * T).mean(0)[:, None], -X[:, :1] * ((res[:, None] * (1 - T**2)).T @ Z) / len(Z)], 1
    )


def noisy_gd_by_hand(
    X0: torch.Tensor, Z: torch.Tensor, Y: torch.Tensor, sigma: float, tau: float, xi: torch.Tensor
) -> torch.Tensor:
    """Noisy regularised gradient descent on the neurons, by autograd on the loss written out.

    ``X_{k+1} = X_k - tau grad L(X_k) + sigma sqrt(tau) xi_k`` with
    ``L(X) = N F(m^N) + (sigma^2/2) sum_i |x_i|^2/2`` and ``F`` the mean squared loss of
    :func:`tanh_output`; ``xi`` of shape ``(K, N, 1 + D)``; returns the iterates ``(K + 1, N, 1 + D)``.
    The reference for the mean-field Langevin scheme in notebooks/03-mfld/03.
    """
    _check(X0, Z)
    if xi.ndim != 3 or xi.shape[1:] != X0.shape or not (sigma >= 0 and tau > 0):
        raise ValueError(f"xi must have shape (K, {X0.shape[0]}, {X0.shape[1]}), sigma >= 0 and tau > 0")

    def regularised_loss(X):  # N F(m^N) + (sigma^2/2) sum_i |x_i|^2/2
        return X.shape[0] * 0.5 * (Y - tanh_output(X, Z)).square().mean() + 0.25 * sigma**2 * X.square().sum()

    path = [X0]
    for k in range(len(xi)):
        Xk = path[-1].clone().requires_grad_(True)
        (grad_k,) = torch.autograd.grad(regularised_loss(Xk), Xk)
        path.append(path[-1] - tau * grad_k + sigma * math.sqrt(tau) * xi[k])
    return torch.stack(path)
