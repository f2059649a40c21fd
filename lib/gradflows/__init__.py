"""gradflows: the library behind "Gradient Flows: deep learning through ODEs, PDEs and control".

Modules follow mathematical objects, not chapters. Every discrete dynamics returns a
:class:`Trajectory` and raises :class:`DivergenceError` when it stops being finite (both from the
stepping core ``gradflows._stepping``).

* :mod:`gradflows.device` -- device choice, seeding, the book/paper size switch
* :mod:`gradflows.ode_optimizers` -- optimizers as ODEs with Lyapunov energies
* :mod:`gradflows.adam` -- discrete Adam and its relation to the Adam ODE
* :mod:`gradflows.batches` -- random batches as a splitting method
* :mod:`gradflows.weak_solutions` -- gradient flows of non-smooth objectives
* :mod:`gradflows.nets` -- networks and weight norms
* :mod:`gradflows.backprop` -- back-propagation as products of Jacobians
* :mod:`gradflows.control` -- ResNets as controlled ODEs, norms of controls
* :mod:`gradflows.training` -- training as optimal control
* :mod:`gradflows.datasets` -- toy data generated locally
* :mod:`gradflows.particles` -- Langevin and mean-field Langevin particle systems
* :mod:`gradflows.mean_field` -- the two-layer network in mean-field scaling, as a measure
* :mod:`gradflows.energies` -- free energies, entropy estimators, Wasserstein distances
* :mod:`gradflows.local_entropy` -- local entropy, the local Gibbs measure, the entropic gradient
* :mod:`gradflows.deep_relaxation` -- the two-scale deep-relaxation system and its averaged limit
* :mod:`gradflows.entropy_sgd` -- Entropy-SGD, a ``torch.optim`` optimizer
* :mod:`gradflows.exit_times` -- exit times of batches of Langevin paths
* :mod:`gradflows.fast_langevin` -- ergodic averages of the fast Langevin process
* :mod:`gradflows.homogenization` -- Hamiltonians, the effective Hamiltonian, truncated cell problems
* :mod:`gradflows.hamilton_jacobi` -- a monotone scheme for one-dimensional Hamilton--Jacobi equations
* :mod:`gradflows.pricing` -- Black--Scholes and Heston prices, Monte Carlo pricing
* :mod:`gradflows.pricing_pdes` -- option-pricing PDEs in divergence form
* :mod:`gradflows.tdgf` -- time-stepping deep gradient flows and their step energy
* :mod:`gradflows.dgm` -- the Deep Galerkin Method and its cost against the TDGF
* :mod:`gradflows.finite_elements` -- P1 finite elements, the reference for the time stepping
* :mod:`gradflows.landscapes` -- test objectives
* :mod:`gradflows.rates` -- fitted convergence rates
* :mod:`gradflows.claims` -- claims checks that report the fraction of their tolerance used
* :mod:`gradflows.plotting` -- the book's figure style
* :mod:`gradflows.references` -- independent references the claims checks compare against
  (quadrature, finite differences, exact chains, scipy solvers; no code shared with the kernels)
* :mod:`gradflows.experiments` -- the notebooks' experiment harnesses (sweeps, tables, figures)
* :mod:`gradflows.coursework` -- the exercises as nbgrader coursework (``make coursework``;
  imported on its own, not by ``import gradflows``)
"""

from . import (
    adam,
    backprop,
    batches,
    claims,
    control,
    datasets,
    deep_relaxation,
    dgm,
    energies,
    entropy_sgd,
    exit_times,
    experiments,
    fast_langevin,
    finite_elements,
    hamilton_jacobi,
    homogenization,
    landscapes,
    local_entropy,
    mean_field,
    nets,
    ode_optimizers,
    particles,
    plotting,
    pricing,
    pricing_pdes,
    rates,
    references,
    tdgf,
    training,
    weak_solutions,
)
from ._errors import DivergenceError
from ._stepping import Trajectory
from .device import base_seed, by_scale, generator, get_device, numpy_rng, scale, seed

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "Trajectory",
    "adam",
    "backprop",
    "base_seed",
    "batches",
    "by_scale",
    "claims",
    "control",
    "datasets",
    "deep_relaxation",
    "dgm",
    "energies",
    "entropy_sgd",
    "exit_times",
    "experiments",
    "fast_langevin",
    "finite_elements",
    "generator",
    "get_device",
    "hamilton_jacobi",
    "homogenization",
    "landscapes",
    "local_entropy",
    "mean_field",
    "nets",
    "numpy_rng",
    "ode_optimizers",
    "particles",
    "plotting",
    "pricing",
    "pricing_pdes",
    "rates",
    "references",
    "scale",
    "seed",
    "tdgf",
    "training",
    "weak_solutions",
]
