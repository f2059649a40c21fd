"""The discrete energy of one TDGF step, its exact gap identity, and the gap of a network along training.

With the P1 matrices ``M, S, B`` of :func:`gradflows.finite_elements.fem_matrices`, the step energy is

    I_h(u) = (u - U)^T M (u - U) / 2 + h (u^T S u / 2 + r u^T M u / 2 + u^T B U),

a quadratic with Hessian ``H = (1 + h r) M + h S``; its minimizer ``u*`` is the IMEX step, and
``I_h(w) - I_h(u*) = (w - u*)^T H (w - u*) / 2``, the weighted H^1 distance (claims TDGF-3, TDGF-4).
Notebook ``05-tdgf/01-pdes-and-energies``.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from .._validation import check_int, check_positive
from ..tdgf import tdgf_energy, value_and_grad

__all__ = [
    "fem_step_energy",
    "fem_step_energy_grad",
    "weighted_distance",
    "energy_identity_deviations",
    "gauss_rule",
    "IterateRecorder",
    "energy_gap_along_training",
]


def _check_vectors(u, U_prev, M) -> None:
    n = M.shape[0]
    if np.shape(u) != (n,) or np.shape(U_prev) != (n,):
        raise ValueError(
            f"u and U_prev must be vectors of length {n}, got {np.shape(u)} and {np.shape(U_prev)}"
        )


def fem_step_energy(u: np.ndarray, M, S, B, U_prev: np.ndarray, h: float, r: float) -> float:
    """Discrete step energy ``I_h(u) = (u-U)^T M (u-U)/2 + h (u^T S u/2 + r u^T M u/2 + u^T B U)``."""
    _check_vectors(u, U_prev, M)
    d = u - U_prev
    return 0.5 * d @ (M @ d) + h * (0.5 * u @ (S @ u) + 0.5 * r * u @ (M @ u) + u @ (B @ U_prev))


def fem_step_energy_grad(u: np.ndarray, M, S, B, U_prev: np.ndarray, h: float, r: float) -> np.ndarray:
    """Gradient of :func:`fem_step_energy`: ``M (u-U) + h (S u + r M u + B U)`` (``M``, ``S`` symmetric)."""
    _check_vectors(u, U_prev, M)
    return M @ (u - U_prev) + h * (S @ u + r * (M @ u) + B @ U_prev)


def weighted_distance(e: np.ndarray, M, S, h: float, r: float) -> float:
    """``(1 + h r)/2 ||e||^2 + h/2 ||sqrt(A) e'||^2 = e^T H e / 2`` of the P1 nodal vector ``e``."""
    if np.shape(e) != (M.shape[0],):
        raise ValueError(f"e must be a vector of length {M.shape[0]}, got shape {np.shape(e)}")
    return 0.5 * (1 + h * r) * e @ (M @ e) + 0.5 * h * e @ (S @ e)


def energy_identity_deviations(
    M,
    S,
    B,
    U_prev: np.ndarray,
    U_star: np.ndarray,
    x: np.ndarray,
    h: float,
    r: float,
    rng,
    n_trials: int = 30,
) -> np.ndarray:
    """The TDGF-4 identity on random nodal vectors ``w = u* + e``: ``|gap - distance| / distance``.

    Odd trials: smooth random waves of amplitude 0.3 to 1; even trials: nodal noise of amplitude 0.01 to 1
    (drawn from the NumPy generator ``rng`` in this order). ``gap = I_h(w) - I_h(u*)`` and ``distance =
    (w - u*)^T H (w - u*) / 2`` (:func:`weighted_distance`). Used in notebooks/05-tdgf/01.
    """
    h = check_positive("h", h)
    n_trials = check_int("n_trials", n_trials)
    I_star = fem_step_energy(U_star, M, S, B, U_prev, h, r)
    out = []
    for j in range(n_trials):
        if j % 2:  # smooth random waves, amplitude 0.3 to 1
            k = rng.uniform(0.5, 20, 5)  # then amplitude, weights and phases, in this order
            e = (
                10 ** rng.uniform(-0.5, 0)
                * (rng.standard_normal(5) @ np.sin(np.outer(k, x) + rng.uniform(0, 2 * np.pi, (5, 1))))
                / 5
            )
        else:  # nodal noise, amplitude 0.01 to 1 (steep: the gradient term dominates)
            e = 10 ** rng.uniform(-2, 0) * rng.standard_normal(x.size)
        gap = fem_step_energy(U_star + e, M, S, B, U_prev, h, r) - I_star
        dist = weighted_distance(e, M, S, h, r)
        out.append(abs(gap - dist) / dist)
    return np.array(out)


def gauss_rule(nodes: np.ndarray, n_gauss: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite Gauss–Legendre rule with ``n_gauss`` points on each element of the 1-D mesh ``nodes``.

    Returns points ``(m, 1)`` and weights ``(m,)`` as float64 tensors. Used in notebooks/05-tdgf/01.
    """
    x = np.asarray(nodes, float)
    if x.ndim != 1 or x.size < 2 or not np.all(np.diff(x) > 0):
        raise ValueError("nodes must be an increasing 1-D array of at least 2 points")
    g, w = np.polynomial.legendre.leggauss(check_int("n_gauss", n_gauss))
    mid, half = (x[1:] + x[:-1]) / 2, np.diff(x) / 2
    xq = torch.as_tensor((mid[:, None] + half[:, None] * g).ravel())[:, None]
    return xq, torch.as_tensor((half[:, None] * w).ravel())


class IterateRecorder:
    """A forward hook that copies a network's parameters at chosen evaluations of a TDGF step energy.

    An evaluation of the step energy is recognized by an input that carries a gradient (the payoff fit
    does not differentiate in ``x``); the evaluations are counted from 0 and those in ``record_at`` are
    stored in ``recorded[count]``. Use as a context manager around ``tdgf_solve``. Notebook 05-tdgf/01.
    """

    def __init__(self, net: torch.nn.Module, record_at) -> None:
        self.net, self.record_at = net, set(int(i) for i in record_at)
        self.recorded: dict[int, dict[str, torch.Tensor]] = {}
        self.n_calls = 0
        self._handle = None

    def _hook(self, module, inputs, output) -> None:
        if inputs[0].requires_grad:
            if self.n_calls in self.record_at:
                self.recorded[self.n_calls] = {k: v.detach().clone() for k, v in module.state_dict().items()}
            self.n_calls += 1

    def __enter__(self) -> IterateRecorder:
        self._handle = self.net.register_forward_hook(self._hook)
        return self

    def __exit__(self, *exc) -> None:
        self._handle.remove()


def energy_gap_along_training(
    net: torch.nn.Module,
    recorded: dict[int, dict[str, torch.Tensor]],
    model,
    nodes: np.ndarray,
    M,
    S,
    U_star: np.ndarray,
    I_star: float,
    h: float,
    n_gauss: int = 4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The TDGF-4 experiment along training: for each recorded iterate ``w`` of the first step (from
    the payoff), the energy gap ``I^1(w) - I_h(U^1)`` on a fine composite Gauss rule (:func:`gauss_rule`
    on the mesh ``nodes``) and the weighted distance ``(w - U^1)^T H (w - U^1) / 2`` at the nodes.

    Returns ``(evaluation numbers (1-based), gaps, distances)``. Used in notebooks/05-tdgf/01.
    """
    h = check_positive("h", h)
    xq, wq = gauss_rule(nodes, n_gauss)
    up_q, F_q, A_q = model.payoff(xq), (model.b(xq) * model.payoff_grad(xq)).sum(1), model.A(xq)
    x_t = torch.as_tensor(np.asarray(nodes, float))[:, None]
    probe = copy.deepcopy(net)
    evals, gap, dist = [], [], []
    for i in sorted(recorded):
        probe.load_state_dict(recorded[i])
        u_q, g_q = value_and_grad(probe, xq)
        with torch.no_grad():
            w_nodes = probe(x_t).numpy()
        evals.append(i + 1)
        gap.append(tdgf_energy(u_q, g_q, up_q, F_q, A_q, wq, h, model.r).item() - I_star)
        dist.append(weighted_distance(w_nodes - U_star, M, S, h, model.r))
    return np.array(evals), np.array(gap), np.array(dist)
