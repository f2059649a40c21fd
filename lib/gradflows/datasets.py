"""Toy data sets, generated locally (nothing is downloaded).

Each function returns ``(x, y)``: points ``x`` of shape ``(n, d)`` and labels ``y`` of
shape ``(n,)`` with values in ``{-1, +1}`` (the convention of the chapter-2 source, where
the classifier is the sign of a scalar output). Used in ``02-turnpike`` (all three
notebooks) and wherever a small classification problem is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ._validation import (
    all_finite,
    as_tensor,
    check_generator,
    check_int,
    check_memory,
    check_ndim,
    check_nonnegative,
    check_positive,
)
from .nets import _check_float_dtype

__all__ = ["circles", "spheres", "two_moons", "shifted_sines", "separable", "rings"]


def _setup(n: int, d: int, generator, dtype, minimum: int = 2) -> tuple[int, torch.dtype]:
    """Check the size ``n`` (points), the generator (a CPU one: the points are drawn on the CPU) and
    the dtype; refuse sets that cannot fit in memory. Returns ``(n, dtype)``."""
    n = check_int("n", n, minimum)
    dtype = _check_float_dtype(dtype) or torch.get_default_dtype()
    check_memory(f"a data set of {n} points in dimension {d}", 3 * n * (d + 1), dtype)
    check_generator(generator, torch.device("cpu"), "the data")
    return n, dtype


def _radii(radii) -> tuple[float, float]:
    """``(inner, outer)``: two positive numbers, increasing."""
    if isinstance(radii, torch.Tensor | np.ndarray):
        radii = check_ndim("radii", as_tensor("radii", radii), 1).tolist()
    elif isinstance(radii, str | bytes) or not isinstance(radii, Sequence):
        raise TypeError(f"radii must be two numbers (inner, outer), got {radii!r}")
    if len(radii) != 2:
        raise ValueError(f"radii must be two numbers (inner, outer), got {radii!r}")
    r_in, r_out = check_positive("radii[0]", radii[0]), check_positive("radii[1]", radii[1])
    if r_in >= r_out:
        raise ValueError(f"radii must be increasing (inner, outer), got {radii!r}")
    return r_in, r_out


def _finite(x: torch.Tensor, what: str) -> torch.Tensor:
    if not all_finite(x):
        raise ValueError(f"{what} is too large: the points overflow")
    return x


def _randn(shape, generator, dtype):
    return torch.randn(*shape, generator=generator, dtype=dtype)


def _labels(n: int, dtype) -> torch.Tensor:
    """First half -1, second half +1 (the first class gets the extra point when n is odd)."""
    y = torch.ones(n, dtype=dtype)
    y[: (n + 1) // 2] = -1
    return y


def spheres(
    n: int,
    d: int = 2,
    radii: tuple[float, float] = (0.5, 1.0),
    noise: float = 0.05,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric spheres in ``R^d``: label ``-1`` on the inner one, ``+1`` on the outer.

    Points are uniform on each sphere (normalized Gaussians), scaled by the radius
    times ``1 + noise * N(0, 1)``. No linear classifier separates them, but a flow
    of ``R^d`` that pushes the inner sphere away from the outer one along one
    direction does: the first example of notebook ``02-turnpike/01-resnets-as-odes``.
    """
    d = check_int("d", d, 1)
    n, dtype = _setup(n, d, generator, dtype)
    noise = check_nonnegative("noise", noise)
    r_in, r_out = _radii(radii)
    y = _labels(n, dtype)
    u = _randn((n, d), generator, dtype)
    u = u / u.norm(dim=1, keepdim=True).clamp_min(1e-12)
    r = torch.where(y < 0, r_in, r_out) * (1 + noise * _randn((n,), generator, dtype))
    return _finite(u * r[:, None], "noise * radii"), y


def circles(
    n: int,
    radii: tuple[float, float] = (0.5, 1.0),
    noise: float = 0.05,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two concentric circles in the plane: :func:`spheres` with ``d = 2``."""
    return spheres(n, 2, radii, noise, generator, dtype)


def two_moons(
    n: int,
    noise: float = 0.1,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaved half circles of radius 1 (upper: ``-1``, lower and shifted: ``+1``).

    The upper moon is ``(cos s, sin s)``, the lower ``(1 - cos s, 1/2 - sin s)``,
    ``s`` uniform in ``[0, pi]``, plus Gaussian noise of standard deviation ``noise``;
    the data are then centred at the origin.
    """
    n, dtype = _setup(n, 2, generator, dtype)
    noise = check_nonnegative("noise", noise)
    y = _labels(n, dtype)
    s = math.pi * torch.rand(n, generator=generator, dtype=dtype)
    upper = torch.stack([torch.cos(s), torch.sin(s)], 1)
    lower = torch.stack([1 - torch.cos(s), 0.5 - torch.sin(s)], 1)
    x = torch.where((y < 0)[:, None], upper, lower) + noise * _randn((n, 2), generator, dtype)
    return _finite(x - torch.tensor([0.5, 0.25], dtype=dtype), "noise"), y


def shifted_sines(
    n: int,
    shift: float = 1.0,
    frequency: float = 1.0,
    noise: float = 0.0,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on two parallel sine curves ``x_2 = sin(f x_1)`` and ``sin(f x_1) + shift``.

    ``x_1`` is uniform in ``[-pi, pi]``; label ``-1`` on the lower curve, ``+1`` on the
    upper one. Separable, but not by a straight line when ``shift < 2``.
    """
    n, dtype = _setup(n, 2, generator, dtype)
    shift = check_positive("shift", shift)
    frequency = check_positive("frequency", frequency)
    if not math.isfinite(frequency * math.pi) or frequency * math.pi > torch.finfo(dtype).max:
        raise ValueError(f"frequency must be a positive number below {torch.finfo(dtype).max / math.pi:.3g}")
    noise = check_nonnegative("noise", noise)
    y = _labels(n, dtype)
    x1 = math.pi * (2 * torch.rand(n, generator=generator, dtype=dtype) - 1)
    x2 = torch.sin(frequency * x1) + torch.where(y > 0, shift, 0.0) - shift / 2
    x = torch.stack([x1, x2], 1)
    return _finite(x + noise * _randn((n, 2), generator, dtype), "shift or noise"), y


def separable(
    n: int,
    d: int = 2,
    margin: float = 0.2,
    generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A linearly separable set: standard Gaussian points with ``|<x, e>| >= margin``.

    ``e`` is a random unit vector, returned by nothing: the labels are
    ``sign(<x, e>)`` and points closer than ``margin`` to the hyperplane
    ``<x, e> = 0`` are pushed out to distance ``margin``. The hard-margin SVM of
    the set is therefore *not* ``e`` in general (the maximum-margin direction is
    computed independently in ``02-turnpike/02-large-time``).
    """
    d = check_int("d", d, 1)
    n, dtype = _setup(n, d, generator, dtype)
    margin = check_positive("margin", margin)
    e = _randn((d,), generator, dtype)
    e = e / e.norm()
    x = _randn((n, d), generator, dtype)
    y = _labels(n, dtype)
    s = x @ e
    # put the point on the side of its label, at least `margin` away from the hyperplane
    s_new = y * torch.clamp(s.abs(), min=margin)
    return _finite(x + (s_new - s)[:, None] * e, "margin"), y


def rings(
    n: int = 1000, radii: tuple[float, float] = (0.5, 1.0), dtype: torch.dtype | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two full concentric circles, ``n`` equispaced points each (no noise): the inner one with label
    ``-1``, the outer one ``+1``. What a classifier trained on :func:`circles` must separate
    (notebooks/02-turnpike/01)."""
    n, dtype = _setup(n, 2, None, dtype, minimum=3)
    r_in, r_out = _radii(radii)
    s = torch.linspace(0, 2 * torch.pi, n + 1, dtype=dtype)[:-1]
    unit = torch.stack([torch.cos(s), torch.sin(s)], 1)
    return torch.cat([r_in * unit, r_out * unit]), torch.cat(
        [-torch.ones(n, dtype=dtype), torch.ones(n, dtype=dtype)]
    )
