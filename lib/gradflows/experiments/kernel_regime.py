"""Training on the TDGF step energy in the kernel regime: the energy as a quadratic in the outputs.

On a midpoint grid ``x_j`` with weights ``w_j``, a network enters the step energy only through its
outputs ``f = (V(x_j), V'(x_j))``: ``I(f) = f^T Q f / 2 - g^T f + c`` with ``Q = diag(w (1 + h r), w h A)``
and ``g = (w (U^{k-1} - h F(U^{k-1})), 0)`` (:func:`step_quadratic`). In the variable
``s = Q^{-1/2} (Q f - g)`` the energy is ``|s|^2 / 2 + min I``, and gradient descent with learning rate
``dt eta_N`` moves ``s`` by ``s <- s - dt M s`` to first order, ``M = Q^{1/2} eta_N J J^T Q^{1/2}``
(:func:`kernel_matrix`). Claim TDGF-7, notebook ``05-tdgf/04-why-training-converges``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .._training import minimize
from .._validation import check_int, check_positive
from ..device import generator as _generator
from ..nets import MeanFieldNet, param_jacobian
from ..rates import loglog_slope, semilog_slope
from ..tdgf import tdgf_energy, value_and_grad

__all__ = [
    "StepQuadratic",
    "step_quadratic",
    "outputs_to_s",
    "kernel_matrix",
    "eig_desc",
    "step_sizes",
    "train_kernel_flow",
    "kernel_lln_errors",
    "movement_slopes",
    "fem_outputs",
]


class StepQuadratic(NamedTuple):
    """The step energy on a grid as a quadratic in the outputs (see the module docstring)."""

    x: torch.Tensor  # (n, 1) grid points
    w: torch.Tensor  # (n,) weights
    A: torch.Tensor  # (n, 1, 1)
    U_prev: torch.Tensor  # (n,) U^{k-1}
    F_prev: torch.Tensor  # (n,) F(U^{k-1}) = b . grad U^{k-1}
    h: float
    r: float
    Q_diag: torch.Tensor  # (2n,)
    g: torch.Tensor  # (2n,)
    Q_half: torch.Tensor  # (2n,)
    I_free: torch.Tensor  # min of the quadratic over all of R^{2n}

    def energy(self, u: torch.Tensor, du: torch.Tensor) -> torch.Tensor:
        """``tdgf_energy`` of the values ``u`` and slopes ``du`` ``(n, 1)`` on the grid."""
        return tdgf_energy(u, du, self.U_prev, self.F_prev, self.A, self.w, self.h, self.r)


def step_quadratic(model, h: float, n: int) -> StepQuadratic:
    """:class:`StepQuadratic` of the first step (``U^0`` the payoff) , 1-D model, ``n`` midpoints."""
    h, n = check_positive("h", h), check_int("n", n)
    if model.dim != 1:
        raise ValueError(f"step_quadratic needs a 1-D model, got d={model.dim}")
    x, w = model.grid(n)
    A = model.A(x)
    U_prev = model.payoff(x)
    F_prev = (model.b(x) * model.payoff_grad(x)).sum(1)
    Q_diag = torch.cat([w * (1 + h * model.r), w * h * A[:, 0, 0]])
    g = torch.cat([w * (U_prev - h * F_prev), torch.zeros(n)])
    I_free = 0.5 * (w * U_prev**2).sum() - 0.5 * (g**2 / Q_diag).sum()
    return StepQuadratic(x, w, A, U_prev, F_prev, h, model.r, Q_diag, g, Q_diag.sqrt(), I_free)


def outputs_to_s(sq: StepQuadratic, u: torch.Tensor, du: torch.Tensor) -> torch.Tensor:
    """``s = Q^{-1/2} (Q f - g)`` for the outputs ``f = (V(x_j), V'(x_j))``."""
    if u.shape != sq.w.shape or du.shape != sq.x.shape:
        raise ValueError(f"u must be {tuple(sq.w.shape)}, du {tuple(sq.x.shape)}; got {u.shape}, {du.shape}")
    return (sq.Q_diag * torch.cat([u, du[:, 0]]) - sq.g) / sq.Q_half


def kernel_matrix(net: MeanFieldNet, sq: StepQuadratic) -> torch.Tensor:
    """``M = Q^{1/2} eta_N J J^T Q^{1/2}``, ``J`` the ``(2n, 3N)`` Jacobian of the outputs (parameters)."""
    J = param_jacobian(net, sq.x, input_grad=True)  # (n, 2, 3N): rows V(x_j) and V'(x_j)
    J = torch.cat([J[:, 0], J[:, 1]]) * sq.Q_half[:, None]
    return net.lr_scale * J @ J.T


def eig_desc(M: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (descending) and eigenvectors (columns) of the symmetric matrix ``M``."""
    lam, V = torch.linalg.eigh(M)
    return lam.flip(0), V.flip(1)


def step_sizes(T: float, fast: float = 0.6, dt_fast: float = 0.005, dt_slow: float = 0.02) -> torch.Tensor:
    """Time steps up to ``T``: ``dt_fast`` on ``[0, fast]`` (the fast modes), ``dt_slow`` after."""
    T, fast = check_positive("T", T), check_positive("fast", fast)
    n_fast = int(round(fast / check_positive("dt_fast", dt_fast)))
    n_slow = int(round((T - fast) / check_positive("dt_slow", dt_slow)))
    return torch.cat([torch.full((n_fast,), dt_fast), torch.full((n_slow,), dt_slow)])


def _descent(net, sq, dts):
    """Gradient descent (lr ``dt_n eta_N``) on the step energy; ``s`` recorded at every step."""
    S = torch.empty(len(dts) + 1, 2 * sq.w.numel())

    def energy(n: int) -> torch.Tensor:
        u, du = value_and_grad(net, sq.x, create_graph=True)
        S[n] = outputs_to_s(sq, u.detach(), du.detach())
        return sq.energy(u, du)

    lr = [float(dt) * net.lr_scale for dt in dts]
    minimize(list(net.parameters()), energy, len(dts), "sgd", lambda n: lr[n], desc="kernel-regime descent")
    u, du = value_and_grad(net, sq.x, create_graph=True)
    S[len(dts)] = outputs_to_s(sq, u.detach(), du.detach())
    return S


def train_kernel_flow(
    sq: StepQuadratic, N: int, delta: float, dts: torch.Tensor, seed: int = 1, modes: int = 3
) -> dict:
    """Train ``MeanFieldNet(N, delta, generator=gf.generator(seed))`` on the step energy with steps ``dts``.

    Returns the times ``t``, eigenpairs ``lam, V`` of ``M_0``, the components ``C = s V`` along training
    and their linear prediction ``C_lin`` (``c_i(0) prod (1 - dt lambda_i)``), ``S``, the fitted decay
    rates of the first ``modes`` components on ``[0, min(2 / lambda_i, T)]`` and their relative error,
    the largest deviation ``dev`` of ``s`` from the prediction (relative to ``|s(0)|``), the rms
    parameter movement and the relative kernel movements of ``M`` and of ``K = M / (Q^1/2 Q^1/2)``.
    Used in notebooks/05-tdgf/04.
    """
    if dts.ndim != 1 or not bool((dts > 0).all()):
        raise ValueError("dts must be a 1-D tensor of positive step sizes")
    modes = check_int("modes", modes)
    times = torch.cat([torch.zeros(1), dts.cumsum(0)])
    net = MeanFieldNet(N, delta, generator=_generator(seed))
    theta0 = torch.cat([p.detach().ravel() for p in net.parameters()])
    M0 = kernel_matrix(net, sq)
    lam, V = eig_desc(M0)
    S = _descent(net, sq, dts)
    C = S @ V
    C_lin = C[0] * torch.cat([torch.zeros(1, len(lam)), torch.log1p(-dts[:, None] * lam).cumsum(0)]).exp()
    S_lin = C_lin @ V.T
    MT = kernel_matrix(net, sq)
    QQ = sq.Q_half[:, None] * sq.Q_half[None, :]  # K = M / (Q^{1/2} Q^{1/2}) entrywise
    theta = torch.cat([p.detach().ravel() for p in net.parameters()])
    rates = []
    for i in range(modes):
        win = times <= min(2 / lam[i].item(), times[-1].item())
        rates.append(-semilog_slope(times[win], C[win, i].abs()))
    return {
        "N": N, "delta": delta, "t": times, "lam": lam, "V": V, "C": C, "C_lin": C_lin, "S": S,
        "rates": np.array(rates), "rate_err": np.abs(np.array(rates) / lam[:modes].numpy() - 1),
        "dev": ((S - S_lin).norm(dim=1) / S[0].norm()).max().item(),
        "theta_move": ((theta - theta0).norm() / (3 * N) ** 0.5).item(),
        "kernel_move": (torch.linalg.matrix_norm(MT - M0) / torch.linalg.matrix_norm(M0)).item(),
        "K_move": (torch.linalg.matrix_norm((MT - M0) / QQ) / torch.linalg.matrix_norm(M0 / QQ)).item(),
        "net": net,
    }  # fmt: skip


def kernel_lln_errors(
    sq: StepQuadratic, M_inf: np.ndarray, Ns, n_draws: int, generator: torch.Generator, delta: float = 0.75
) -> dict[int, float]:
    """Root-mean-square over ``n_draws`` networks of ``||M_0 - M_inf|| / ||M_inf||`` for each width in ``Ns``.

    The networks ``MeanFieldNet(N, delta)`` are drawn one after the other from ``generator``. The law of
    large numbers predicts ``N^(-1/2)`` (claim TDGF-7). Used in notebooks/05-tdgf/04.
    """
    n_draws = check_int("n_draws", n_draws)
    M_inf = np.asarray(M_inf)
    if M_inf.shape != (sq.Q_diag.numel(),) * 2:
        raise ValueError(f"M_inf must be {(sq.Q_diag.numel(),) * 2}, got {M_inf.shape}")
    out = {}
    for N in Ns:
        errs = []
        for _ in range(n_draws):
            M0 = kernel_matrix(MeanFieldNet(N, delta, generator=generator), sq).numpy()
            errs.append(np.linalg.norm(M0 - M_inf) / np.linalg.norm(M_inf))
        out[N] = np.sqrt(np.mean(np.square(errs)))  # root-mean-square over the draws
    return out


def movement_slopes(reps: dict) -> tuple[dict[str, np.ndarray], dict[str, tuple[float, float]]]:
    """Means over the networks of each width (``reps[N]``: results of :func:`train_kernel_flow`) of the
    parameter movement, kernel movement, deviation, mean rate error and unweighted kernel movement, and
    their fitted log-log slopes in ``N`` with standard errors. Used in notebooks/05-tdgf/04."""
    if not reps:
        raise ValueError("reps must map at least one width to a list of runs")
    keys = {"parameters": "theta_move", "kernel": "kernel_move", "deviation": "dev", "rate error": "rate_err",
            "K (unweighted)": "K_move"}  # fmt: skip
    Ns = np.array(list(reps), dtype=float)
    means = {name: np.array([np.mean([np.mean(r[k]) for r in runs]) for runs in reps.values()])
             for name, k in keys.items()}  # fmt: skip
    return means, {name: loglog_slope(Ns, y, stderr=True) for name, y in means.items()}


def fem_outputs(nodes: np.ndarray, U: np.ndarray, sq: StepQuadratic) -> torch.Tensor:
    """The outputs ``f* = (w*(x_j), w*'(x_j))`` of the P1 function with nodal values ``U`` on ``nodes``, at
    the grid of ``sq``: linear interpolation, and the slope of the element holding ``x_j``.
    Notebook 05-tdgf/04."""
    nodes, U = np.asarray(nodes, float), np.asarray(U, float)
    if nodes.shape != U.shape or nodes.ndim != 1:
        raise ValueError(f"nodes and U must be 1-D of the same shape, got {nodes.shape} and {U.shape}")
    x = sq.x[:, 0].numpy()
    w_star = np.interp(x, nodes, U)
    dw_star = (np.diff(U) / np.diff(nodes))[np.searchsorted(nodes, x) - 1]  # slope of the element holding x_j
    return torch.cat([torch.from_numpy(w_star), torch.from_numpy(dw_star)])
