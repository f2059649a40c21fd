"""Training a ResNet as an optimal control problem.

Minimizes, over piecewise-constant controls ``u = (w, b)`` of the systems of
:mod:`gradflows.control`,

* (SL1)  ``phi(x(T)) + lam ||u||^2``  with ``||.||`` the ``L^2`` or ``H^1`` norm on ``(0, T)``,
* (SL*)  ``int_0^T phi(x(t)) dt + lam ||u||^2``  (``running=True``),
* the ``L^1`` problem ``int_0^T phi(x(t)) dt + lam ||u||_{L^1}``  subject to ``|u(t)| <= M``
  (``reg="L1"``, ``bound=M``), by proximal gradient steps,

with L-BFGS or Adam from ``torch.optim`` for the smooth problems. Notebooks
``02-turnpike/01-resnets-as-odes``, ``02-large-time`` and ``03-turnpike``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from ._errors import DivergenceError
from ._training import minimize
from ._validation import (
    as_real_tensor,
    check_bool,
    check_choice,
    check_generator,
    check_instance,
    check_int,
    check_nonnegative,
    check_positive,
    check_real,
)
from .control import (
    Controls,
    _activation,
    _check_kind,
    _check_targets,
    _flow,
    _h1_norm_sq,
    _l1_norm,
    _l2_norm_sq,
    _running_cost,
    _training_error,
    random_controls,
)
from .device import show_progress

__all__ = ["Fit", "objective", "fit_controls", "prox_l1_ball"]

_REGS = ("L2", "H1", "L1")


@dataclass(frozen=True)
class Fit:
    """The result of :func:`fit_controls`.

    Attributes
    ----------
    controls:
        The trained controls (detached).
    states:
        The trajectory of the data at the cell edges, shape ``(L + 1, N, d)``.
    error:
        The training error ``phi(x(T))`` at the final time.
    objective:
        The value of the minimized functional.
    history:
        The objective during training (1-D tensor): after each call of L-BFGS (10 iterations),
        at each Adam step (before its update), after each proximal-gradient iteration.

    The fields are checked: finite values, ``states`` of shape ``(L + 1, N, d)`` matching the controls.
    """

    controls: Controls
    states: torch.Tensor
    error: float
    objective: float
    history: torch.Tensor

    def __post_init__(self) -> None:
        c = check_instance("controls", self.controls, Controls)
        states = as_real_tensor("states", self.states, ndim=3)
        if states.shape[0] != c.n_layers + 1 or states.shape[2] != c.d:
            raise ValueError(
                f"states must have shape ({c.n_layers + 1}, N, {c.d}) to match the controls, "
                f"got {tuple(states.shape)}"
            )
        check_nonnegative("error", self.error)
        check_real("objective", self.objective)
        history = as_real_tensor("history", self.history, ndim=1, nonempty=False)
        object.__setattr__(self, "states", states)
        object.__setattr__(self, "history", history)


def objective(
    c: Controls,
    x0: torch.Tensor,
    y: torch.Tensor,
    *,
    lam: float,
    reg: str = "L2",
    running: bool = False,
    kind: str = "outer",
    activation: str = "tanh",
    P: torch.Tensor | None = None,
    loss: str = "mse",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The functional (SL1), (SL*) or its ``L^1`` variant at ``c``; returns ``(value, states)``.

    The states are those of the ResNet (:func:`~gradflows.control.flow`, one Euler step per layer).
    Raises ``ValueError`` for a bad argument or a value that overflows, and
    :class:`~gradflows.DivergenceError` if the states blow up.
    """
    check_instance("c", c, Controls)
    x0, y = _check_data(x0, y)
    if x0.shape[1] != c.d:
        raise ValueError(f"x0 must have shape (N, {c.d}) to match the controls, got {tuple(x0.shape)}")
    lam = check_nonnegative("lam", lam)
    check_choice("reg", reg, _REGS)
    running = check_bool("running", running)
    _check_kind(kind)
    _activation(activation)
    y, P = _check_targets(x0, y, P, loss)
    value, states = _objective(c, x0, y, lam, reg, running, kind, activation, P, loss)
    if not bool(torch.isfinite(value)):
        raise ValueError("the objective overflows: lam, the controls or the data are too large")
    return value, states


def _objective(c, x0, y, lam, reg, running, kind, activation, P, loss):
    """:func:`objective` without validation (the loss of the training loops)."""
    states = _flow(c, x0, kind, activation, "euler", 1, True).x
    data = _running_cost(states, y, c.T, P, loss) if running else _training_error(states[-1], y, P, loss)
    penalty = {"L2": _l2_norm_sq, "H1": _h1_norm_sq, "L1": _l1_norm}[reg](c)
    return data + lam * penalty, states


def prox_l1_ball(u: torch.Tensor, threshold: float, bound: float | None) -> torch.Tensor:
    """Proximal map of ``threshold * |u_k| + indicator(|u_k| <= bound)``, row by row.

    Both terms are radial, so the prox keeps the direction of ``u_k`` and maps its
    length ``r`` to ``clip(r - threshold, 0, bound)``: a group soft-threshold, then a
    projection onto the ball. ``threshold >= 0``; ``bound >= 0`` or None (no ball).
    """
    u = as_real_tensor("u", u)
    if u.ndim == 0:
        raise ValueError("u must have rows u_k (at least one dimension), got a scalar")
    threshold = check_nonnegative("threshold", threshold)
    bound = None if bound is None else check_nonnegative("bound", bound)
    if not bool(torch.isfinite(u.norm(dim=-1)).all()):
        raise ValueError("u is too large: the norms of its rows overflow")
    return _prox_l1_ball(u, threshold, bound)


def _prox_l1_ball(u: torch.Tensor, threshold: float, bound: float | None) -> torch.Tensor:
    """:func:`prox_l1_ball` without validation (the inner loop of the proximal gradient)."""
    r = u.norm(dim=-1, keepdim=True)
    r_new = (r - threshold).clamp_min(0.0)
    if bound is not None:
        r_new = r_new.clamp_max(bound)
    return u * torch.where(r > 0, r_new / r.clamp_min(1e-300), torch.zeros_like(r))


def _check_data(x0, y):
    x0, y = as_real_tensor("x0", x0, ndim=2), as_real_tensor("y", y)
    if y.ndim == 0 or y.shape[0] != x0.shape[0]:
        raise ValueError(f"y must have {x0.shape[0]} rows (one per point), got shape {tuple(y.shape)}")
    return x0, y


def _check_problem(reg, optimizer, bound):
    """The optimizer that ``reg`` needs (``"prox"`` for ``L1``) and the checked ``bound``."""
    check_choice("reg", reg, _REGS)
    check_choice("optimizer", optimizer, ("lbfgs", "adam", "prox"))
    if reg == "L1":
        optimizer = "prox"
    elif bound is not None:
        raise ValueError("bound (|u| <= M) is only supported with reg='L1'")
    return optimizer, None if bound is None else check_positive("bound", bound)


def _initial_controls(init, x0, n_layers, T, bias, generator):
    """Leaf copies ``(w, b)`` of ``init`` (checked against the problem), or of random controls."""
    if init is None:
        init = random_controls(
            x0.shape[1], n_layers, T, std=0.1, bias=bias, generator=generator, dtype=x0.dtype
        )
    elif (
        check_instance("init", init, Controls).n_layers != n_layers
        or abs(init.T - T) > 1e-12 * T
        or init.d != x0.shape[1]
    ):
        raise ValueError("init must have n_layers layers, horizon T and the data's dimension")
    w = init.w.detach().clone().to(x0).requires_grad_(True)
    b = None if init.b is None else init.b.detach().clone().to(x0).requires_grad_(True)
    return w, b


def fit_controls(
    x0: torch.Tensor,
    y: torch.Tensor,
    T: float,
    n_layers: int,
    *,
    lam: float = 1e-3,
    reg: str = "L2",
    running: bool = False,
    bound: float | None = None,
    kind: str = "outer",
    activation: str = "tanh",
    P: torch.Tensor | None = None,
    loss: str = "mse",
    bias: bool = True,
    init: Controls | None = None,
    optimizer: str = "lbfgs",
    iters: int = 200,
    lr: float | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
) -> Fit:
    """Train the controls of a ResNet with ``n_layers`` layers on ``[0, T]``.

    Parameters
    ----------
    x0, y:
        Data points ``(N, d)`` and targets ``(N,)`` or ``(N, m)``.
    lam, reg, running:
        Regularization weight, norm (``"L2"``, ``"H1"`` or ``"L1"``) and whether the data
        term is the running cost ``int phi(x(t)) dt`` (SL*) instead of ``phi(x(T))`` (SL1).
    bound:
        ``M`` in ``|u(t)| <= M``; only with ``reg="L1"`` (proximal gradient).
    optimizer:
        ``"lbfgs"`` (``torch.optim.LBFGS`` with strong-Wolfe line search; ``iters`` counts
        its inner iterations, run in calls of 10, so rounded up to a multiple of 10),
        ``"adam"`` (``iters`` steps of ``torch.optim.Adam``, ``lr`` default ``1e-2``) or
        ``"prox"`` (proximal gradient with backtracking, forced for ``reg="L1"``; ``lr`` is
        the initial step, default ``1.0``). L-BFGS takes its steps from its line search and
        ignores ``lr`` (which must still be positive or None).
    init:
        Initial controls (default: ``N(0, 0.1^2/d)`` weights and ``N(0, 0.1^2)`` biases
        from ``generator``, a CPU :class:`torch.Generator` or None).

    Raises
    ------
    TypeError, ValueError
        For a bad argument; the message names it.
    gradflows.DivergenceError
        If the training diverges.
    """
    x0, y = _check_data(x0, y)
    T, n_layers, iters = check_positive("T", T), check_int("n_layers", n_layers), check_int("iters", iters)
    lam = check_nonnegative("lam", lam)
    optimizer, bound = _check_problem(reg, optimizer, bound)
    running, bias = check_bool("running", running), check_bool("bias", bias)
    progress = None if progress is None else check_bool("progress", progress)
    _check_kind(kind)
    _activation(activation)
    y, P = _check_targets(x0, y, P, loss)
    lr = None if lr is None else check_positive("lr", lr)
    check_generator(generator, torch.device("cpu"), "the initial controls")
    w, b = _initial_controls(init, x0, n_layers, T, bias, generator)
    params = [w] if b is None else [w, b]
    opts = dict(lam=lam, reg=reg, running=running, kind=kind, activation=activation, P=P, loss=loss)

    def value(smooth_only: bool = False) -> torch.Tensor:
        c = Controls._trusted(w, b, T)
        if smooth_only:  # the L^1 term is handled by the prox
            v, _ = _objective(c, x0, y, **{**opts, "lam": 0.0})
            return v
        return _objective(c, x0, y, **opts)[0]

    show = show_progress(progress, iters)
    if optimizer == "prox":
        step = 1.0 if lr is None else lr
        history = _proximal_gradient(
            lambda: value(smooth_only=True),
            w,
            b,
            T / n_layers,
            lam if reg == "L1" else 0.0,
            bound,
            iters,
            step,
            show,
        )
    else:
        lr = 1e-2 if lr is None or optimizer == "lbfgs" else lr
        history = minimize(
            params,
            lambda i: value(),
            iters,
            optimizer,
            lr,
            history_size=30,
            chunk=10 if optimizer == "lbfgs" else None,
            progress=show,
            desc="training the controls",
            advice="lower the learning rate or the horizon T",
        )
    c = Controls._trusted(w.detach(), None if b is None else b.detach(), T)
    with torch.no_grad():
        val, states = _objective(c, x0, y, **opts)
        err = _training_error(states[-1], y, P, loss)
    if not (math.isfinite(float(val)) and math.isfinite(float(err))):
        raise DivergenceError(
            f"training the controls diverged: the final objective is {float(val)}; "
            "lower the learning rate or the horizon T"
        )
    return Fit(c, states, float(err), float(val), torch.tensor(history, dtype=x0.dtype))


def _proximal_gradient(smooth, w, b, h, lam1, bound, iters, step, show) -> list[float]:
    """Proximal gradient with backtracking for ``smooth(u) + lam1 h sum_k |u_k| (+ |u_k| <= bound)``.

    ``u_k`` is row ``k`` of the controls ``(w_k, b_k)``; ``smooth()`` evaluates the smooth part at the
    current ``w``, ``b`` (updated in place). A step is accepted when it does not increase the
    objective (then the next trial step is 1.25 times larger), otherwise halved (up to 40 times;
    if none is accepted the controls stay). Returns the objective after every iteration.
    """
    n_layers = w.shape[0]
    params = [w] if b is None else [w, b]

    def stacked():
        return w.reshape(n_layers, -1) if b is None else torch.cat([w.reshape(n_layers, -1), b], 1)

    def total(u_rows: torch.Tensor, f: torch.Tensor) -> float:
        return float(f) + lam1 * h * float(u_rows.norm(dim=1).sum())

    def assign(u: torch.Tensor) -> None:
        w.copy_(u[:, : w[0].numel()].reshape_as(w))
        if b is not None:
            b.copy_(u[:, w[0].numel() :])

    history: list[float] = []
    for _ in tqdm(range(iters), desc="prox-grad", leave=False, disable=not show):
        for p in params:
            p.grad = None
        f0 = smooth()
        f0.backward()
        with torch.no_grad():
            u0 = stacked().clone()
            g = (
                w.grad.reshape(n_layers, -1)
                if b is None
                else torch.cat([w.grad.reshape(n_layers, -1), b.grad], 1)
            )
            current = total(u0, f0)
            for _ls in range(40):  # backtracking: accept the first step that decreases the objective
                u1 = _prox_l1_ball(u0 - step * g, step * lam1 * h, bound)
                assign(u1)
                new = total(u1, smooth())
                if new <= current:
                    step *= 1.25
                    break
                step *= 0.5
            else:
                assign(u0)
                new = current
            history.append(new)
    if history and not math.isfinite(history[-1]):
        raise DivergenceError(
            "training the controls diverged (prox); lower the learning rate or the horizon T"
        )
    return history
