"""Valid calls: gradflows.particles, mean_field, energies, landscapes, weak_solutions, batches, adam.

Tiny problems (8 particles, 3 steps, float64). Arguments whose valid values include ``None`` (an
optional tensor such as ``alpha``, ``W0``, ``noise``, ``reference``, ``W_star``; an optional count
such as ``record_every``, ``chunk``, ``minibatch``, ``n_draws``, ``noise_chunk``; an optional
callable ``stats``, or the second of two exclusive callables ``f`` / ``grad``) are fuzzed with the
``"K?"`` kinds (every bad value of ``K`` but ``None``); the valid calls give them a value, so that
the bad tensors derived from it have the right shape.

The objectives that the landscape constructors return (and those of ``weak_solutions``) have
entries of their own, named after the constructor with ``()`` (``"landscapes.quadratic()"``).
"""

from __future__ import annotations

import math

import gradflows as gf
import torch

from api.engine import Call

D64 = torch.float64


def _t(*rows):
    return torch.tensor(rows if len(rows) > 1 else rows[0], dtype=D64)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- shared tiny data ------------------------------------------------------------------------------
def _cloud(n: int = 8, d: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=_gen(seed), dtype=D64)


def _net(N: int = 8, D: int = 2, M: int = 6):
    """Neurons ``X`` (N, 1 + D), data ``Z`` (M, D), ``Y`` (M,)."""
    g = _gen(1)
    return (
        torch.randn(N, 1 + D, generator=g, dtype=D64),
        torch.randn(M, D, generator=g, dtype=D64),
        torch.randn(M, generator=g, dtype=D64),
    )


def _grid(n: int = 9):
    return torch.linspace(-2.0, 2.0, n, dtype=D64)


def _density(x):
    w = torch.exp(-x * x / 2)
    return w / torch.trapezoid(w, x)


def _ls_data():
    g = _gen(2)
    return torch.randn(6, 2, generator=g, dtype=D64), torch.randn(6, 3, generator=g, dtype=D64)


def _alpha():
    return _t([1.0, 0.5, 2.0, 1.5, 0.8, 1.2])


_SPD = _t([2.0, 0.3], [0.3, 1.0])
_W = _t([0.5, -0.3])  # a point of R^2
_WB = _t([[0.5, -0.3], [1.2, 0.7], [-0.4, 0.1]])  # three points of R^2
_NET_KINDS = {"X": "tensor", "Z": "tensor", "activation": "choice"}


def _mf(**extra):
    X, Z, Y = _net()
    return dict(X=X, Z=Z, **{k: v(X, Z, Y) for k, v in extra.items()})


# --- particles --------------------------------------------------------------------------------------
PARTICLES = [
    Call(
        "particles.langevin",
        lambda: gf.particles.langevin,
        lambda: dict(
            x0=_cloud(),
            sigma=0.3,
            dt=0.1,
            n_steps=3,
            grad=lambda x: x,
            record_every=2,
            stats=lambda x: x.mean(0),
            generator=_gen(),
            noise_chunk=2,
            progress=False,
        ),
        {
            "x0": "tensor",
            "sigma": "nonneg",
            "dt": "pos",
            "n_steps": "index",
            "f": "callable?",  # exclusive with grad: any f is refused here
            "grad": "callable",
            "record_every": "count?",
            "stats": "callable?",
            "generator": "generator",
            "noise_chunk": "count?",  # steps per draw: an absurd one means "all steps"
            "progress": "bool",
        },
    ),
    Call(
        "particles.mean_field_langevin",
        lambda: gf.particles.mean_field_langevin,
        lambda: dict(
            X0=_net()[0],
            Z=_net()[1],
            Y=_net()[2],
            sigma=0.3,
            dt=0.1,
            n_steps=3,
            activation="tanh",
            minibatch=4,
            chunk=4,
            record_every=2,
            stats=lambda X: X.mean(0),
            generator=_gen(),
            noise=torch.randn(3, 8, 3, generator=_gen(5), dtype=D64),
            progress=False,
        ),
        {
            "X0": "tensor",
            "Z": "tensor",
            "Y": "tensor",
            "sigma": "nonneg",
            "dt": "pos",
            "n_steps": "index",
            "activation": "choice",
            "minibatch": "size?",
            "chunk": "count?",  # a block size: an absurd one means "all at once"
            "record_every": "count?",
            "stats": "callable?",
            "generator": "generator",
            "noise": "tensor?",
            "progress": "bool",
        },
    ),
    Call(
        "particles.time_averaged_histogram",
        lambda: gf.particles.time_averaged_histogram,
        lambda: dict(
            x0=_cloud(d=1),
            sigma=0.5,
            dt=0.1,
            T_burn=0.2,
            T_avg=0.8,
            grad=lambda x: x,
            bins=4,
            lo=-2.0,
            hi=2.0,
            every=0.1,
            n_batches=4,
            generator=_gen(),
        ),
        {
            "x0": "tensor",
            "sigma": "nonneg",
            "dt": "pos",
            "T_burn": "nonneg",
            "T_avg": "pos",
            "grad": "callable",
            "bins": "size",
            "lo": "real",
            "hi": "real",
            "every": "pos",
            "n_batches": "size",
            "generator": "generator",
        },
    ),
]

# --- mean_field -------------------------------------------------------------------------------------
MEAN_FIELD = [
    Call(
        "mean_field.with_bias",
        lambda: gf.mean_field.with_bias,
        lambda: dict(Z=_net()[1]),
        {"Z": "tensor"},
    ),
    Call(
        "mean_field.mf_features",
        lambda: gf.mean_field.mf_features,
        lambda: _mf(activation=lambda X, Z, Y: "tanh"),
        _NET_KINDS,
    ),
    Call(
        "mean_field.mf_output",
        lambda: gf.mean_field.mf_output,
        lambda: _mf(activation=lambda X, Z, Y: "sigmoid", chunk=lambda X, Z, Y: 4),
        {**_NET_KINDS, "chunk": "count?"},
    ),
    Call(
        "mean_field.mf_loss",
        lambda: gf.mean_field.mf_loss,
        lambda: _mf(Y=lambda X, Z, Y: Y, activation=lambda X, Z, Y: "relu"),
        {**_NET_KINDS, "Y": "tensor"},
    ),
    Call(
        "mean_field.mf_flat_derivative",
        lambda: gf.mean_field.mf_flat_derivative,
        lambda: _mf(
            Y=lambda X, Z, Y: Y, points=lambda X, Z, Y: X[:3] + 0.1, activation=lambda X, Z, Y: "tanh"
        ),
        {**_NET_KINDS, "Y": "tensor", "points": "tensor"},
    ),
    Call(
        "mean_field.mf_drift",
        lambda: gf.mean_field.mf_drift,
        lambda: _mf(Y=lambda X, Z, Y: Y, activation=lambda X, Z, Y: "tanh", chunk=lambda X, Z, Y: 4),
        {**_NET_KINDS, "Y": "tensor", "chunk": "count?"},
    ),
    Call(
        "mean_field.mixture_losses",
        lambda: gf.mean_field.mixture_losses,
        lambda: dict(X0=_net()[0], X1=_net()[0].flip(0) * 0.5, Z=_net()[1], Y=_net()[2], K=2),
        {"X0": "tensor", "X1": "tensor", "Z": "tensor", "Y": "tensor", "K": "size"},
    ),
    Call(
        "mean_field.gibbs_log_weights",
        lambda: gf.mean_field.gibbs_log_weights,
        lambda: dict(
            X=_net(D=1)[0], Z=_net(D=1)[1], Y=_net(D=1)[2], sigma=0.5, points=_cloud(n=5, d=2, seed=3)
        ),
        {"X": "tensor", "Z": "tensor", "Y": "tensor", "sigma": "pos", "points": "tensor"},
    ),
    Call(
        "mean_field.grid_moments",
        lambda: gf.mean_field.grid_moments,
        lambda: dict(log_w=_t([0.0, -1.0, -0.5, -2.0, 0.3]), points=_cloud(n=5, d=2, seed=3)),
        {"log_w": "tensor", "points": "tensor"},
    ),
    Call(
        "mean_field.mf_free_energy_path",
        lambda: gf.mean_field.mf_free_energy_path,
        lambda: dict(states=torch.stack([_net()[0], 0.5 * _net()[0]]), Z=_net()[1], Y=_net()[2], k=1),
        {"states": "tensor", "Z": "tensor", "Y": "tensor", "k": "size"},
    ),
    Call(
        "mean_field.mf_lipschitz_constant",
        lambda: gf.mean_field.mf_lipschitz_constant,
        lambda: dict(X=_net(D=1)[0], Z=_net(D=1)[1]),
        {"X": "tensor", "Z": "tensor"},
    ),
    Call(
        "mean_field.gibbs_form_covariance_errors",
        lambda: gf.mean_field.gibbs_form_covariance_errors,
        lambda: dict(
            systems=torch.stack([_net(D=1)[0], 0.7 * _net(D=1)[0]]),
            Z=_net(D=1)[1],
            Y=_net(D=1)[2],
            sigma=0.5,
            points=torch.cartesian_prod(_grid(5), _grid(5)),
        ),
        {"systems": "tensor", "Z": "tensor", "Y": "tensor", "sigma": "pos", "points": "tensor"},
    ),
]

# --- energies ---------------------------------------------------------------------------------------
ENERGIES = [
    Call(
        "energies.trapezoid",
        lambda: gf.energies.trapezoid,
        lambda: dict(y=_grid() ** 2, x=_grid()),
        {"y": "tensor", "x": "tensor"},
    ),
    Call(
        "energies.gibbs_density",
        lambda: gf.energies.gibbs_density,
        lambda: dict(f_values=_grid() ** 2 / 2, x=_grid(), sigma=0.7),
        {"f_values": "tensor", "x": "tensor", "sigma": "pos"},
    ),
    Call(
        "energies.entropy_1d",
        lambda: gf.energies.entropy_1d,
        lambda: dict(density=_density(_grid()), x=_grid()),
        {"density": "tensor", "x": "tensor"},
    ),
    Call(
        "energies.relative_entropy_1d",
        lambda: gf.energies.relative_entropy_1d,
        lambda: dict(density=_density(_grid()), reference=_density(0.8 * _grid()) * 0.8, x=_grid()),
        {"density": "tensor", "reference": "tensor", "x": "tensor"},
    ),
    Call(
        "energies.free_energy_1d",
        lambda: gf.energies.free_energy_1d,
        lambda: dict(
            density=_density(_grid()),
            f_values=_grid() ** 2 / 2,
            x=_grid(),
            sigma=0.7,
            reference=_density(0.8 * _grid()) * 0.8,
        ),
        {"density": "tensor", "f_values": "tensor", "x": "tensor", "sigma": "pos", "reference": "tensor?"},
    ),
    Call(
        "energies.knn_entropy",
        lambda: gf.energies.knn_entropy,
        lambda: dict(X=_cloud(), k=2, chunk=4),
        {"X": "tensor", "k": "size", "chunk": "count"},  # a block size: an absurd one means "all rows"
    ),
    Call(
        "energies.relative_entropy_to_gaussian",
        lambda: gf.energies.relative_entropy_to_gaussian,
        lambda: dict(X=_cloud(), k=1),
        {"X": "tensor", "k": "size"},
    ),
    Call(
        "energies.gaussian_entropy",
        lambda: gf.energies.gaussian_entropy,
        lambda: dict(cov=_SPD.clone()),
        {"cov": "tensor"},
    ),
    Call(
        "energies.w2_1d",
        lambda: gf.energies.w2_1d,
        lambda: dict(x=_cloud(d=1)[:, 0], y=_cloud(n=5, d=1, seed=4)[:, 0]),
        {"x": "tensor", "y": "tensor"},
    ),
    Call(
        "energies.w2",
        lambda: gf.energies.w2,
        lambda: dict(x=_cloud(), y=_cloud(n=5, seed=4)),
        {"x": "tensor", "y": "tensor"},
    ),
    Call(
        "energies.w2_gaussian",
        lambda: gf.energies.w2_gaussian,
        lambda: dict(
            mean1=_t([0.0, 1.0]), cov1=_SPD.clone(), mean2=_t([0.5, -0.2]), cov2=torch.eye(2, dtype=D64)
        ),
        {"mean1": "tensor", "cov1": "tensor", "mean2": "tensor", "cov2": "tensor"},
    ),
    Call(
        "energies.kde_log_error_on_gaussian",
        lambda: gf.energies.kde_log_error_on_gaussian,
        lambda: dict(cov=_SPD.clone(), n=40, n_eval=20, q=0.1, generator=_gen()),
        # n_eval > n evaluates at all n samples: a count, not a size
        {"cov": "tensor", "n": "size", "n_eval": "count", "q": "nonneg", "generator": "generator"},
    ),
]

# --- landscapes (constructors, and the objectives they return) -------------------------------------
LANDSCAPES = [
    Call(
        "landscapes.quadratic",
        lambda: gf.landscapes.quadratic,
        lambda: dict(A=_SPD.clone(), W_star=_t([1.0, -1.0])),
        {"A": "tensor", "W_star": "tensor?"},
    ),
    Call(
        "landscapes.quadratic()",
        lambda: gf.landscapes.quadratic(_SPD.clone(), _t([1.0, -1.0])),
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.rotated_quadratic",
        lambda: gf.landscapes.rotated_quadratic,
        lambda: dict(alpha=0.5, beta=2.0, theta=0.3),
        {"alpha": "pos", "beta": "pos", "theta": "real"},
    ),
    Call(
        "landscapes.random_spd",
        lambda: gf.landscapes.random_spd,
        lambda: dict(eigenvalues=_t([0.5, 1.0, 2.0]), generator=_gen()),
        {"eigenvalues": "tensor", "generator": "generator"},
    ),
    Call(
        "landscapes.rosenbrock",
        lambda: gf.landscapes.rosenbrock,
        lambda: dict(a=1.0, b=100.0),
        {"a": "real", "b": "pos"},
    ),
    Call(
        "landscapes.rosenbrock()",
        lambda: gf.landscapes.rosenbrock(),
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.double_well",
        lambda: gf.landscapes.double_well,
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.tilted_double_well",
        lambda: gf.landscapes.tilted_double_well,
        lambda: dict(tilt=0.3),
        {"tilt": "real"},
    ),
    Call(
        "landscapes.tilted_double_well()",
        lambda: gf.landscapes.tilted_double_well(0.3),
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call("landscapes.six_hump", lambda: gf.landscapes.six_hump, lambda: dict(W=_WB.clone()), {"W": "tensor"}),
    Call(
        "landscapes.grad_six_hump",
        lambda: gf.landscapes.grad_six_hump,
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.quartic", lambda: gf.landscapes.quartic, lambda: dict(a=_t([1.0, 0.5])), {"a": "tensor"}
    ),
    Call(
        "landscapes.quartic()[0]",
        lambda: gf.landscapes.quartic(_t([1.0, 0.5]))[0],
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.quartic()[1]",
        lambda: gf.landscapes.quartic(_t([1.0, 0.5]))[1],
        lambda: dict(W=_WB.clone()),
        {"W": "tensor"},
    ),
    Call(
        "landscapes.wide_narrow",
        lambda: gf.landscapes.wide_narrow,
        lambda: dict(wide=(-1.5, 0.8, 2.0), narrow=(1.5, 0.15, 2.6), confinement=0.2),
        {"wide": "object", "narrow": "object", "confinement": "pos"},
    ),
    Call(
        "landscapes.wide_narrow()",
        lambda: gf.landscapes.wide_narrow(),
        lambda: dict(y=_WB.clone()),
        {"y": "tensor"},
    ),
    Call(
        "landscapes.rough_quadratic",
        lambda: gf.landscapes.rough_quadratic,
        lambda: dict(amplitude=1.5, frequency=2 * math.pi),
        {"amplitude": "real", "frequency": "pos"},
    ),
    Call(
        "landscapes.rough_quadratic()",
        lambda: gf.landscapes.rough_quadratic(),
        lambda: dict(y=_WB.clone()),
        {"y": "tensor"},
    ),
]

# --- weak_solutions ---------------------------------------------------------------------------------
_T = torch.linspace(0.0, 2.0, 9, dtype=D64)
_PHI = (2.0 - _T) * torch.stack([torch.ones_like(_T), _T])  # vanish at t = 2
_DPHI = torch.stack([-torch.ones_like(_T), 2.0 - 2 * _T])

WEAK = [
    Call(
        "weak_solutions.weak_solution_abs",
        lambda: gf.weak_solutions.weak_solution_abs,
        lambda: dict(w0=_t([1.0, -0.5, 0.2]), t=_t([0.0, 0.3, 1.0])),
        {"w0": "tensor", "t": "tensor"},
    ),
    Call(
        "weak_solutions.smoothed_abs",
        lambda: gf.weak_solutions.smoothed_abs,
        lambda: dict(eps=0.1),
        {"eps": "pos"},
    ),
    Call(
        "weak_solutions.smoothed_abs()",
        lambda: gf.weak_solutions.smoothed_abs(0.1),
        lambda: dict(w=_WB.clone()),
        {"w": "tensor"},
    ),
    Call(
        "weak_solutions.smoothed_abs_flow",
        lambda: gf.weak_solutions.smoothed_abs_flow,
        lambda: dict(w0=_t([1.0, -0.5, 0.2]), t=_t([0.0, 0.3, 1.0]), eps=0.1),
        {"w0": "tensor", "t": "tensor", "eps": "pos"},
    ),
    Call(
        "weak_solutions.kruzkov_functional",
        lambda: gf.weak_solutions.kruzkov_functional,
        lambda: dict(
            w=gf.weak_solutions.weak_solution_abs(_t(1.0), _T),
            t=_T.clone(),
            w0=1.0,
            y=_t([-0.5, 0.0, 0.7]),
            phi=_PHI.clone(),
            dphi=_DPHI.clone(),
        ),
        {"w": "tensor", "t": "tensor", "w0": "real", "y": "tensor", "phi": "tensor", "dphi": "tensor"},
    ),
    Call(
        "weak_solutions.smoothed_abs_rows",
        lambda: gf.weak_solutions.smoothed_abs_rows,
        lambda: dict(eps=_t([0.1, 0.5]), trailing=1),
        {"eps": "tensor", "trailing": "size"},
    ),
    Call(
        "weak_solutions.smoothed_abs_rows()[0]",
        lambda: gf.weak_solutions.smoothed_abs_rows(_t([0.1, 0.5]))[0],
        lambda: dict(W=_t([[0.5, -0.3, 0.0], [1.2, 0.7, -2.0]])),
        {"W": "tensor"},
    ),
    Call(
        "weak_solutions.smoothed_abs_rows()[1]",
        lambda: gf.weak_solutions.smoothed_abs_rows(_t([0.1, 0.5]))[1],
        lambda: dict(W=_t([[0.5, -0.3, 0.0], [1.2, 0.7, -2.0]])),
        {"W": "tensor"},
    ),
]

# --- batches ----------------------------------------------------------------------------------------
BATCHES = [
    Call(
        "batches.least_squares_objective",
        lambda: gf.batches.least_squares_objective,
        lambda: dict(W=torch.ones(3, 2, dtype=D64), X=_ls_data()[0], Y=_ls_data()[1], alpha=_alpha()),
        {"W": "tensor", "X": "tensor", "Y": "tensor", "alpha": "tensor?"},
    ),
    Call(
        "batches.least_squares_minimizer",
        lambda: gf.batches.least_squares_minimizer,
        lambda: dict(X=_ls_data()[0], Y=_ls_data()[1], alpha=_alpha()),
        {"X": "tensor", "Y": "tensor", "alpha": "tensor?"},
    ),
    Call(
        "batches.random_batch_splitting",
        lambda: gf.batches.random_batch_splitting,
        lambda: dict(
            X=_ls_data()[0],
            Y=_ls_data()[1],
            n_batches=2,
            dt=0.1,
            n_epochs=3,
            W0=torch.full((3, 2), 0.5, dtype=D64),
            alpha=_alpha(),
            exact=False,
            n_draws=2,
            generator=_gen(),
            progress=False,
        ),
        {
            "X": "tensor",
            "Y": "tensor",
            "n_batches": "size",
            "dt": "pos",
            "n_epochs": "index",
            "W0": "tensor?",
            "alpha": "tensor?",
            "exact": "bool",
            "n_draws": "size?",
            "generator": "generator",
            "progress": "bool",
        },
    ),
]

# --- adam -------------------------------------------------------------------------------------------
ADAM = [
    Call(
        "adam.adam",
        lambda: gf.adam.adam,
        lambda: dict(
            grad=lambda W: W,
            W0=_t([1.0, -0.5, 0.2]),
            n_steps=3,
            lr=0.1,
            betas=(0.9, 0.999),
            eps=1e-8,
            bias_correction="standard",
            use_new_moments=True,
            D0=torch.full((3,), 0.01, dtype=D64),
            record_every=1,
            progress=False,
        ),
        {
            "grad": "callable",
            "W0": "tensor",
            "n_steps": "index",
            "lr": "pos",
            "betas": "object",
            "eps": "nonneg",
            "bias_correction": "choice",
            "use_new_moments": "bool",
            "D0": "tensor",
            "record_every": "count",
            "progress": "bool",
        },
    ),
    Call(
        "adam.adam_to_ode",
        lambda: gf.adam.adam_to_ode,
        lambda: dict(lr=1e-3, beta1=0.9, beta2=0.999),
        {"lr": "pos", "beta1": "nonneg", "beta2": "nonneg"},
    ),
    Call(
        "adam.ode_to_adam",
        lambda: gf.adam.ode_to_adam,
        lambda: dict(dt=1e-3, eps1=0.01, eps2=1.0),
        {"dt": "pos", "eps1": "pos", "eps2": "pos"},
    ),
]

CALLS = PARTICLES + MEAN_FIELD + ENERGIES + LANDSCAPES + WEAK + BATCHES + ADAM
