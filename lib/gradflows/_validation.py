"""Argument checks shared by the public functions of :mod:`gradflows`.

Every public function validates its inputs at the boundary and raises
:class:`ValueError` with a message that says what was expected, instead of
letting a NaN or an obscure torch error surface later.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = [
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_finite",
    "check_ndim",
    "check_last_dim",
    "check_prob",
    "as_tensor",
    "check_generator",
]


def check_positive(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not a finite number > 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def check_nonnegative(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not a finite number >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a non-negative number, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return v


def check_prob(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not in [0, 1)."""
    v = check_nonnegative(name, value)
    if v >= 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")
    return v


def check_int(name: str, value: int, minimum: int = 1) -> int:
    """Return ``value`` or raise if it is not an integer >= ``minimum``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | torch.SymInt)
        and not (hasattr(value, "__index__"))
    ):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return v


def as_tensor(name: str, x, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Convert ``x`` to a floating tensor (keeping its device), raising a clear error."""
    if isinstance(x, torch.Tensor):
        t = x
    else:
        try:
            t = torch.as_tensor(x)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"{name} must be a tensor or array of numbers: {err}") from None
    if not (t.is_floating_point() or t.is_complex()):
        t = t.to(dtype or torch.get_default_dtype())
    elif dtype is not None:
        t = t.to(dtype)
    return t


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if ``x`` contains NaN or infinity."""
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_ndim(name: str, x: torch.Tensor, ndims: int | Sequence[int]) -> torch.Tensor:
    """Raise unless ``x.ndim`` is one of ``ndims``."""
    allowed = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if x.ndim not in allowed:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, allowed))} dimension(s), got shape {tuple(x.shape)}"
        )
    return x


def check_last_dim(name: str, x: torch.Tensor, size: int) -> torch.Tensor:
    """Raise unless the last dimension of ``x`` has length ``size``."""
    if x.ndim == 0 or x.shape[-1] != size:
        raise ValueError(f"{name} must have last dimension {size}, got shape {tuple(x.shape)}")
    return x


def check_generator(
    generator: torch.Generator | None, device: torch.device, what: str = "the tensors"
) -> None:
    """Raise unless ``generator`` is None or a :class:`torch.Generator` on ``device``."""
    if generator is None:
        return
    if not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    g = torch.device(generator.device)
    if g.type != device.type or (device.type != "cpu" and (g.index or 0) != (device.index or 0)):
        raise ValueError(
            f"generator lives on {g} but {what} on {device}; "
            f"create it with torch.Generator(device={str(device)!r})"
        )
