"""Entropy-SGD: nested Langevin steps and averaging, a discretization of the two-scale system (Se).

Entropy-SGD (Chaudhari, Choromanska, Soatto, LeCun et al.) ascends the local entropy
``F(x, gamma) = log int exp(-f(y) - gamma |x - y|^2 / 2) dy`` of a loss ``f``: its gradient
``grad_x F = -gamma (x - <y>_x)`` (EG) is the distance to the mean of the local Gibbs measure, and
an inner loop of stochastic gradient Langevin dynamics (SGLD) estimates that mean. One outer step
from ``x`` is

``y <- y - eta' (grad f(y) + gamma (y - x)) + sqrt(2 eta') noise_scale xi``    (L times, ``xi ~ N(0, I)``)
``mu <- (1 - alpha) mu + alpha y``                                          (after every inner step)
``x <- x - eta gamma (x - mu)``                                             (the outer step)

with ``eta = lr``, ``eta' = inner_lr``, ``L = inner_steps``; the inner chain samples
``exp(-V(y, x) / noise_scale^2)``, ``V(y, x) = f(y) + gamma |x - y|^2 / 2``. With ``scoping > 0``
the coupling grows as ``gamma_k = gamma (1 + scoping)^k`` after ``k`` outer steps.

**The map to the staggered Euler scheme of (Se).** :func:`gradflows.deep_relaxation.two_scale`
integrates ``dX = -gamma (X - Y) dt``, ``dY = -(1/eps) grad_y V(Y, X) dt + sqrt(2/eps) dW`` by

``Y_{k+1} = Y_k - (dt/eps) (grad f(Y_k) + gamma (Y_k - X_k)) + sqrt(2 dt/eps) xi_k``,
``X_{k+1} = X_k - dt gamma (X_k - Y_{k+1})``.

With ``inner_steps = 1``, ``alpha = 1``, ``restart = False`` (the fast variable is carried from one
outer step to the next instead of being restarted at ``x``), ``inner_lr = dt/eps``, ``lr = dt``,
``noise_scale = 1`` and no scoping, one outer step of :class:`EntropySGD` *is* one step of this
scheme: ``mu = y = Y_{k+1}`` and ``x = X_{k+1}``, for the same Gaussian increments ``xi_k`` (the
same generator, drawn one step at a time: ``two_scale(..., noise_chunk=1)``). The iterates agree
to rounding (checked in ``tests/test_entropy_sgd.py`` and the notebook).

With ``L = inner_steps > 1`` it is a *multirate* (sub-cycled) scheme: per slow step ``dt = lr`` the
fast equation makes ``L`` Euler--Maruyama steps of size ``dt / L`` in its own time, that is
``eps = lr / (L inner_lr)``, and the slow drift is evaluated at the exponential average ``mu`` of
the fast path (memory ``1/alpha`` inner steps) instead of its last point: a
heterogeneous-multiscale estimate of the Gibbs mean ``<y>_x``. With ``restart = True`` (the
algorithm as published: ``y, mu <- x`` at the start of every outer step) the estimate is good when
``L inner_lr`` exceeds the relaxation time ``1 / (gamma + f'')`` of the inner chain.

The optimizer works on the parameters of any ``nn.Module`` and replaces ``torch.optim.SGD`` in a
training loop: ``step(closure)`` calls ``closure`` (which zeroes the gradients, evaluates the
loss, back-propagates and returns the loss) ``inner_steps`` times, once per inner step, with the
parameters set to ``y`` and their gradients cleared before each call; it returns the loss of the
first call, the loss at ``x`` (a closure may also return None, as for ``torch.optim.SGD``). After a
step the parameters' ``.grad`` is None (the gradients were taken at ``y``, not at the new ``x``), and
:meth:`EntropySGD.state_dict` carries the outer-step counter of the scoping.
Notebook ``04-global/03-deep-relaxation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import torch
from tqdm.auto import tqdm

from ._errors import DivergenceError
from ._validation import (
    all_finite,
    check_bool,
    check_callable,
    check_generator,
    check_instance,
    check_int,
    check_nonnegative,
    check_positive,
)
from .device import show_progress

__all__ = ["EntropySGD"]


def _check_alpha(alpha: float) -> float:
    a = check_positive("alpha", alpha)
    if a > 1:
        raise ValueError(f"alpha (the averaging weight) must lie in (0, 1], got {alpha!r}")
    return a


def _check_params(params) -> list:
    """``params`` as a list: floating-point tensors (leaves) or ``(name, tensor)`` pairs, or dicts with a
    ``"params"`` entry of them."""
    if (
        isinstance(params, torch.Tensor)
        or not isinstance(params, Iterable)
        or isinstance(params, str | bytes)
    ):
        raise TypeError(
            "params must be an iterable of tensors (e.g. model.parameters()) or of parameter-group dicts, "
            f"got {type(params).__name__}"
        )
    params = list(params)
    if not params:
        raise ValueError("params is empty: EntropySGD needs at least one parameter to train")
    is_groups = isinstance(params[0], dict)
    groups = params if is_groups else [{"params": params}]
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"params[{i}] must be a dict with a 'params' entry, like the others")
        ps = group["params"]
        ps = [ps] if isinstance(ps, torch.Tensor) else list(ps) if isinstance(ps, Iterable) else [ps]
        if is_groups:
            group["params"] = ps  # a generator of parameters is read only once (torch lists it, too)
        for p in ps:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):
                p = p[1]  # from named_parameters()
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"params must hold tensors, got {type(p).__name__}")
            if not p.is_floating_point():
                raise TypeError(f"params must be floating-point tensors, got dtype {p.dtype}")
            if not p.is_leaf:
                raise ValueError("params must be leaf tensors (e.g. nn.Parameter), not results of operations")
    return params


class EntropySGD(torch.optim.Optimizer):
    """Entropy-SGD (module docstring): ``inner_steps`` SGLD steps on a copy ``y`` coupled to ``x``
    with strength ``gamma``, an exponential average ``mu`` of ``y``, then ``x <- x - lr gamma (x - mu)``.

    Parameters
    ----------
    params:
        The parameters (or parameter groups) to train, as for ``torch.optim.SGD``.
    lr, inner_lr:
        The outer step ``eta > 0`` and the inner (SGLD) step ``eta' > 0``.
    gamma:
        The coupling ``> 0`` (``gamma_k = gamma (1 + scoping)^k`` with scoping).
    inner_steps:
        ``L >= 1``, the inner steps (closure calls) per outer step; one value for all groups.
    alpha:
        Averaging weight in ``(0, 1]``: ``mu <- (1 - alpha) mu + alpha y`` (``1``: the last ``y``).
    noise_scale:
        ``>= 0``: the inner noise is ``sqrt(2 inner_lr) noise_scale xi`` (``0``: plain gradient steps).
    scoping:
        ``>= 0``: the growth rate of ``gamma`` per outer step.
    restart:
        ``True`` (default, the published algorithm): ``y`` and ``mu`` restart at ``x`` every outer
        step; ``False``: they are carried over (the two-scale system, where ``Y`` is never reset).
    generator:
        The torch generator of the inner noise (on the parameters' device), or None.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict],
        lr: float = 1.0,
        inner_lr: float = 0.1,
        gamma: float = 0.03,
        inner_steps: int = 20,
        alpha: float = 0.75,
        noise_scale: float = 1e-3,
        scoping: float = 0.0,
        restart: bool = True,
        generator: torch.Generator | None = None,
    ) -> None:
        params = _check_params(params)
        defaults = {
            "lr": check_positive("lr", lr),
            "inner_lr": check_positive("inner_lr", inner_lr),
            "gamma": check_positive("gamma", gamma),
            "alpha": _check_alpha(alpha),
            "noise_scale": check_nonnegative("noise_scale", noise_scale),
            "scoping": check_nonnegative("scoping", scoping),
        }
        self.inner_steps = check_int("inner_steps", inner_steps)
        self.restart = check_bool("restart", restart)
        if generator is not None:
            check_instance("generator", generator, torch.Generator)
        self.generator = generator
        super().__init__(params, defaults)
        for group in self.param_groups:  # groups given as dicts may override the defaults: check them too
            for key in ("lr", "inner_lr", "gamma", "noise_scale", "scoping"):
                check = check_nonnegative if key in ("noise_scale", "scoping") else check_positive
                group[key] = check(key, group[key])
            group["alpha"] = _check_alpha(group["alpha"])
            for p in group["params"]:
                check_generator(generator, p.device, "the parameters")
        self.outer_steps = 0  # in state_dict(): a resumed run continues the scoping

    def coupling(self, group: dict) -> float:
        """The coupling of ``group`` (one of ``param_groups``, or a dict with ``"gamma"`` and
        ``"scoping"``) at the current outer step: ``gamma (1 + scoping)^k``.

        Raises :class:`~gradflows.DivergenceError` when it overflows (scoping run for too many steps)."""
        check_instance("group", group, dict)
        for key in ("gamma", "scoping"):
            if key not in group:
                raise ValueError(f"group must have a {key!r} entry (a parameter group of the optimizer)")
        check_positive("group['gamma']", group["gamma"])
        check_nonnegative("group['scoping']", group["scoping"])
        return self._coupling(group)

    def _coupling(self, group: dict) -> float:
        try:
            gamma = group["gamma"] * (1.0 + group["scoping"]) ** self.outer_steps
        except OverflowError:
            gamma = math.inf
        if not math.isfinite(gamma):
            raise DivergenceError(
                "Entropy-SGD: the coupling gamma (1 + scoping)^k overflows at outer step "
                f"k = {self.outer_steps} "
                f"(gamma {group['gamma']:g}, scoping {group['scoping']:g}); lower scoping"
            )
        return gamma

    def _init_state(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state[p]
                if self.restart or "y" not in st:
                    st["y"] = p.detach().clone()
                    st["mu"] = p.detach().clone()

    def _inner_step(self, group: dict, p: torch.Tensor, x: torch.Tensor, gamma: float) -> None:
        """``y <- y - eta' (grad f(y) + gamma (y - x)) + sqrt(2 eta') noise_scale xi``; ``mu`` averaged."""
        st, eta = self.state[p], group["inner_lr"]
        y = st["y"]
        drift = (y - x).mul_(gamma)
        if p.grad is not None:
            drift.add_(p.grad)
        y_new = y - eta * drift
        s = math.sqrt(2 * eta) * group["noise_scale"]
        if s > 0:
            y_new = y_new + torch.empty_like(y).normal_(0.0, s, generator=self.generator)
        a = group["alpha"]
        st["mu"] = y_new.clone() if a == 1 else (1 - a) * st["mu"] + a * y_new
        st["y"] = y_new

    def state_dict(self) -> dict:
        """``torch.optim.Optimizer.state_dict`` plus ``outer_steps`` (the scoping clock ``k``)."""
        out = super().state_dict()
        out["outer_steps"] = self.outer_steps
        return out

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict`, including ``outer_steps`` (0 if absent), so that a run resumed from
        a checkpoint continues the scoping ``gamma (1 + scoping)^k`` where it stopped."""
        check_instance("state_dict", state_dict, dict)
        state_dict = dict(state_dict)
        steps = check_int("state_dict['outer_steps']", state_dict.pop("outer_steps", 0), minimum=0)
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(
                    f"state_dict has no {key!r} entry: give what EntropySGD.state_dict() returned"
                )
        groups = state_dict["param_groups"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            n = len(groups) if isinstance(groups, list) else "no list of"
            raise ValueError(f"state_dict has {n} parameter groups, this optimizer {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups, strict=True)):
            if not isinstance(saved, dict) or len(saved.get("params", ())) != len(own["params"]):
                raise ValueError(f"parameter group {i} of state_dict does not match this optimizer's")
            for key in ("lr", "inner_lr", "gamma"):
                check_positive(f"state_dict['param_groups'][{i}][{key!r}]", saved.get(key))
            for key in ("noise_scale", "scoping"):
                check_nonnegative(f"state_dict['param_groups'][{i}][{key!r}]", saved.get(key))
            _check_alpha(saved.get("alpha"))
        super().load_state_dict(state_dict)
        self.outer_steps = steps

    @staticmethod
    def _check_finite(losses: list, new_x: list, outer: int, group: dict) -> None:
        """One finiteness test (one device sync) per outer step; the message names the first bad step."""
        flags = [torch.isfinite(v).all() for v in losses if v is not None]
        flags += [torch.isfinite(x).all().to(flags[0].device if flags else x.device) for x in new_x]
        if bool(torch.stack(flags).all()):
            return
        bad = [i for i, v in enumerate(losses) if v is not None and not all_finite(v)]
        if bad:
            raise DivergenceError(
                f"Entropy-SGD diverged: the loss became {losses[bad[0]].reshape(-1)[0].item()} at outer step "
                f"{outer}, inner step {bad[0]}; lower inner_lr (now {group['inner_lr']:g}) or noise_scale"
            )
        raise DivergenceError(
            f"Entropy-SGD diverged: the parameters are not finite after outer step {outer}; "
            f"lower lr (now {group['lr']:g}) or gamma"
        )

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor | None] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """One outer step: ``inner_steps`` calls of ``closure`` at ``y``, then ``x <- x - lr gamma (x - mu)``.

        Returns the loss of the first closure call (at ``x`` when ``restart`` is True), detached. Afterwards
        the parameters hold the new ``x`` and their ``.grad`` is None: the last gradient was taken at ``y``,
        not at ``x``, so it is not kept. If the closure raises, or the step diverges, the parameters are
        restored to ``x`` before the exception propagates.
        Raises :class:`~gradflows.DivergenceError` when a loss or a new ``x`` is not finite; this is tested
        once per outer step, so that a GPU run synchronizes once per outer step, not at every inner step.
        """
        if closure is None:
            raise TypeError("EntropySGD.step needs a closure that evaluates the loss and its gradient")
        check_callable("closure", closure)
        gammas = [self._coupling(g) for g in self.param_groups for _ in g["params"]]
        self._init_state()
        params = [(g, p) for g in self.param_groups for p in g["params"]]
        xs = [p.detach().clone() for _, p in params]
        losses: list = []
        try:
            inner = range(self.inner_steps)
            if show_progress(None, self.inner_steps):  # only for very long inner chains
                inner = tqdm(inner, desc="Entropy-SGD inner steps", leave=False)
            for _ in inner:
                for _, p in params:
                    p.copy_(self.state[p]["y"])
                    p.grad = None  # each closure call sees the gradient at y only, whether or not it zeroes
                with torch.enable_grad():
                    loss = closure()
                losses.append(None if loss is None else _loss_tensor(loss))
                for (g, p), x, gam in zip(params, xs, gammas, strict=True):
                    self._inner_step(g, p, x, gam)
            new_x = [
                x - (g["lr"] * gam) * (x - self.state[p]["mu"])
                for (g, p), x, gam in zip(params, xs, gammas, strict=True)
            ]
            self._check_finite(losses, new_x, self.outer_steps, params[0][0])
        except BaseException:
            for (_, p), x in zip(params, xs, strict=True):
                p.copy_(x)
                p.grad = None
            raise
        for (_, p), x in zip(params, new_x, strict=True):
            p.copy_(x)
            p.grad = None
        self.outer_steps += 1
        return losses[0]


def _loss_tensor(loss) -> torch.Tensor:
    """The closure's loss as a detached real tensor (``TypeError`` for anything else)."""
    if (
        isinstance(loss, bool)
        or isinstance(loss, complex)
        or (isinstance(loss, torch.Tensor) and loss.is_complex())
    ):
        raise TypeError(f"the closure must return the loss (a real tensor or number) or None, got {loss!r}")
    try:
        return torch.as_tensor(loss).detach()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(
            f"the closure must return the loss (a real tensor or number) or None, got {type(loss).__name__}"
        ) from None
