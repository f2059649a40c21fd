"""The Heston pricing operator typed from its SDE, and the divergence form rebuilt by autograd.

Claim TDGF-1 (notebook ``05-tdgf/01-pdes-and-energies``): the divergence form
``div(A grad u) - r u - b . grad u`` of a model, with ``div(A grad u)`` obtained by differentiating
the flux ``A grad u`` with autograd (so that ``div A`` is never typed), equals the Heston operator
``S^2 V/2 u_SS + rho eta S V u_SV + eta^2 V/2 u_VV + r S u_S + kappa (theta - V) u_V - r u`` read
off the SDE. A model is used only through its attributes (``A``, ``b``, ``mu``, ``r``, ``kappa``,
``theta``, ``eta``, ``rho``, ``sample``); nothing here calls the library's operators.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .._validation import check_int, check_last_dim, check_ndim

__all__ = [
    "random_plane_waves",
    "divergence_form",
    "heston_from_sde",
    "slide_b",
    "divergence_form_deviations",
]

Fn = Callable[[torch.Tensor], torch.Tensor]


def _points(x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor of shape (n, d), got {type(x).__name__}")
    return check_ndim("x", x, 2)


def random_plane_waves(generator: torch.Generator, n_waves: int = 8) -> Fn:
    """A random smooth ``u(S, V)`` of size O(1): ``sum_m a_m sin(omega_m . x + phi_m) + 0.3 exp(-S V)``.

    Frequencies ``omega ~ N(0, diag(1, 100))`` (about 10 in ``V``, whose range is 0.1), phases uniform,
    amplitudes ``N(0, 1 / n_waves)``; drawn from ``generator`` in this order (randn, rand, randn).
    """
    n_waves = check_int("n_waves", n_waves)
    freq = torch.randn(n_waves, 2, generator=generator) * torch.tensor([1.0, 10.0])
    phase = 2 * torch.pi * torch.rand(n_waves, generator=generator)
    amp = torch.randn(n_waves, generator=generator) / n_waves**0.5
    return lambda x: (amp * torch.sin(x @ freq.T + phase)).sum(1) + 0.3 * torch.exp(-x[:, 0] * x[:, 1])


def divergence_form(model, u: Fn, x: torch.Tensor, b: Fn | None = None) -> torch.Tensor:
    """``div(A grad u) - r u - b . grad u`` at the rows of ``x``; ``div(A grad u)`` by autograd of the flux.

    ``b`` is ``model.b`` (default) or any callable of ``x``; ``model.A`` supplies the flux.
    """
    x = _points(x).detach().requires_grad_(True)
    ux = u(x)
    (g,) = torch.autograd.grad(ux.sum(), x, create_graph=True)
    flux = torch.einsum("nij,nj->ni", model.A(x), g)
    div = sum(torch.autograd.grad(flux[:, i].sum(), x, retain_graph=True)[0][:, i] for i in range(x.shape[1]))
    bx = model.b(x) if b is None else b(x)
    return (div - model.r * ux - (bx * g).sum(1)).detach()


def heston_from_sde(model, u: Fn, x: torch.Tensor) -> torch.Tensor:
    """The Heston operator typed from the SDE, Hessian by autograd:
    ``S^2 V/2 u_SS + rho eta S V u_SV + eta^2 V/2 u_VV + r S u_S + kappa (theta - V) u_V - r u``."""
    x = check_last_dim("x", _points(x), 2).detach().requires_grad_(True)
    ux = u(x)
    (g,) = torch.autograd.grad(ux.sum(), x, create_graph=True)
    H = torch.stack([torch.autograd.grad(g[:, i].sum(), x, retain_graph=True)[0] for i in range(2)], 1)
    S, V = x[:, 0], x[:, 1]
    k, th, eta, rho, r = model.kappa, model.theta, model.eta, model.rho, model.r
    out = (
        0.5 * S**2 * V * H[:, 0, 0]
        + rho * eta * S * V * H[:, 0, 1]
        + 0.5 * eta**2 * V * H[:, 1, 1]
        + r * S * g[:, 0]
        + k * (th - V) * g[:, 1]
        - r * ux
    )
    return out.detach()


def slide_b(model, eta2: float = 1.0, rho_S: float = 1.0, rho_V: float = 1.0, r_sign: float = 1.0) -> Fn:
    """The slides' ``b = (S V - r S + rho eta S / 2, kappa (V - theta) + rho eta V / 2 + eta^2 / 2)``.

    The factors switch single terms off (0) or flip their sign (-1): the typical mistakes of TDGF-1.
    """
    k, th, eta, rho, r = model.kappa, model.theta, model.eta, model.rho, model.r

    def b(x: torch.Tensor) -> torch.Tensor:
        S, V = x[:, 0], x[:, 1]
        return torch.stack(
            [
                S * V - r_sign * r * S + rho_S * 0.5 * rho * eta * S,
                k * (V - th) + rho_V * 0.5 * rho * eta * V + eta2 * 0.5 * eta**2,
            ],
            1,
        )

    return b


def _versions(model) -> dict[str, Fn | None]:
    return {
        "model.b (library)": None,
        "slide's b (typed here)": slide_b(model),
        "slide's b without eta^2/2": slide_b(model, eta2=0.0),
        "sign of rho eta S/2 flipped": slide_b(model, rho_S=-1.0),
        "sign of rho eta V/2 flipped": slide_b(model, rho_V=-1.0),
        "sign of r S flipped": slide_b(model, r_sign=-1.0),
        "b = -mu (div A forgotten)": lambda x, m=model: -m.mu(x),
    }


def divergence_form_deviations(
    models: dict, generator: torch.Generator, n_points: int = 2000, n_trials: int = 4
) -> tuple[dict[tuple[str, str], float], dict[str, float], list[str]]:
    """The TDGF-1 experiment: largest ``|divergence form - SDE form|`` for each model and version of ``b``.

    For each named Heston model: ``n_points`` points from ``model.sample``, then ``n_trials`` random
    plane waves (:func:`random_plane_waves`), all drawn from ``generator`` in this order. The versions of
    ``b`` are the library's, the slides' and five wrong ones. Returns ``(deviation[name, version],
    largest |operator| per name, version names)``. Used in notebooks/05-tdgf/01.
    """
    n_points, n_trials = check_int("n_points", n_points), check_int("n_trials", n_trials)
    dev: dict[tuple[str, str], float] = {}
    scale: dict[str, float] = {}
    versions: dict[str, Fn | None] = {}
    for pname, model in models.items():
        x_pts, _ = model.sample(n_points, generator)
        versions = _versions(model)
        for _trial in range(n_trials):
            u = random_plane_waves(generator)
            ref = heston_from_sde(model, u, x_pts)
            scale[pname] = max(scale.get(pname, 0.0), ref.abs().max().item())
            for vname, b in versions.items():
                d = (divergence_form(model, u, x_pts, b) - ref).abs().max().item()
                dev[pname, vname] = max(dev.get((pname, vname), 0.0), d)
    return dev, scale, list(versions)
