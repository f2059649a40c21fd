"""Argument checks shared by the public functions of :mod:`gradflows`: the one rule set.

Every public function validates its inputs at the boundary, so that bad input gets an error that
names the argument and says what was expected, instead of a NaN result or an error from deep
inside torch. The rules:

* **Types.** A wrong type (a string, ``None``, a complex number, a bool where a number is meant,
  an object of the wrong class) raises :class:`TypeError`.
* **Values.** A number of the right type but outside its range (NaN, infinity, a step <= 0, a
  probability outside [0, 1), an empty or mis-shaped tensor) raises :class:`ValueError`.
* **Tensors** are converted once, by :func:`as_tensor`: tensors and NumPy arrays must already be
  real floating point (float32 or float64; integer, bool, half-precision and complex data are
  refused rather than converted, since a silent cast would change the arithmetic); Python numbers
  and lists are converted to the dtype of the data they go with (``like=``), else to the dtype
  asked for, else to torch's default dtype.
* **Sizes** are integers >= their minimum; sizes that could not be allocated on this machine are
  refused up front (:func:`check_memory`). Iteration counts are not capped: a long loop shows a
  progress bar (``gradflows.device.show_progress``).

Private helpers called in inner loops may skip re-validation; public functions never do.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = [
    "check_positive",
    "check_nonnegative",
    "check_real",
    "positive_square",
    "check_range",
    "check_int",
    "check_bool",
    "check_callable",
    "check_instance",
    "check_choice",
    "all_finite",
    "check_finite",
    "check_ndim",
    "check_last_dim",
    "check_nonempty",
    "check_prob",
    "check_memory",
    "as_tensor",
    "as_real_tensor",
    "check_generator",
]

_REAL_DTYPES = (torch.float32, torch.float64)


def _type_name(value) -> str:
    return type(value).__name__


def _as_float(name: str, value, what: str) -> float:
    """``float(value)`` for a real number (Python, NumPy, or a one-element real tensor)."""
    if isinstance(value, bool | np.bool_) or value is None or isinstance(value, str | bytes):
        raise TypeError(f"{name} must be {what}, got {value!r} ({_type_name(value)})")
    if isinstance(value, torch.Tensor | np.ndarray):
        if (value.size if isinstance(value, np.ndarray) else value.numel()) != 1:
            raise TypeError(
                f"{name} must be {what} (a single number), got an array of shape {tuple(value.shape)}"
            )
        if value.is_complex() if isinstance(value, torch.Tensor) else np.iscomplexobj(value):
            raise TypeError(f"{name} must be {what} (real), got a complex value")
        value = value.item()
    if isinstance(value, complex | np.complexfloating):
        raise TypeError(f"{name} must be {what} (real), got the complex number {value!r}")
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {what}, got {value!r} ({_type_name(value)})")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{name} must be {what}, got {value!r} (too large for a float)") from None


def check_positive(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not a finite real number > 0."""
    v = _as_float(name, value, "a positive number")
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return v


def check_nonnegative(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not a finite real number >= 0."""
    v = _as_float(name, value, "a non-negative number")
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")
    return v


def check_real(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not a finite real number."""
    v = _as_float(name, value, "a real number")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def check_range(
    name: str,
    value: float,
    lo: float = -math.inf,
    hi: float = math.inf,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
) -> float:
    """Return ``float(value)`` or raise unless it is finite and in the interval from lo to hi
    (closed at each end unless ``lo_open`` / ``hi_open``)."""
    v = check_real(name, value)
    below = v <= lo if lo_open else v < lo
    above = v >= hi if hi_open else v > hi
    if below or above:
        left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
        raise ValueError(f"{name} must lie in {left}{lo:g}, {hi:g}{right}, got {value!r}")
    return v


def positive_square(name: str, value: float) -> float:
    """``value**2`` for a positive ``value`` (a noise level ``sigma``, whose square sets a temperature);
    ``ValueError`` if the square overflows or underflows to 0."""
    v = check_positive(name, value)
    try:
        square = v**2
    except OverflowError:
        raise ValueError(f"{name}={value!r} is too large: {name}**2 overflows") from None
    if square == 0:
        raise ValueError(f"{name}={value!r} is too small: {name}**2 underflows to 0")
    return square


def check_prob(name: str, value: float) -> float:
    """Return ``float(value)`` or raise if it is not in [0, 1)."""
    return check_range(name, value, 0.0, 1.0, hi_open=True)


def check_int(name: str, value: int, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``int(value)`` or raise if it is not an integer in [minimum, maximum].

    Python and NumPy integers are accepted (and floats that are whole numbers are not: ``2.0``
    steps is refused, since a float count usually means a formula went wrong)."""
    if isinstance(value, bool | np.bool_) or not (
        isinstance(value, numbers.Integral | torch.SymInt)
        or (
            isinstance(value, torch.Tensor)
            and value.numel() == 1
            and not value.is_floating_point()
            and not value.is_complex()
            and value.dtype != torch.bool
        )
    ):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({_type_name(value)})")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value!r}")
    return v


def check_bool(name: str, value) -> bool:
    """Return ``value`` or raise unless it is a bool (``True``/``False``)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r} ({_type_name(value)})")
    return bool(value)


def check_callable(name: str, value) -> Callable:
    """Return ``value`` or raise unless it is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function), got {value!r} ({_type_name(value)})")
    return value


def check_instance(name: str, value, types: type | tuple[type, ...]):
    """Return ``value`` or raise unless it is an instance of ``types``."""
    if not isinstance(value, types):
        expected = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise TypeError(f"{name} must be a {expected}, got {_type_name(value)}")
    return value


def check_choice(name: str, value, choices: Sequence):
    """Return ``value`` or raise unless it is one of ``choices``."""
    try:
        ok = value in tuple(choices)
    except TypeError:  # unhashable or incomparable
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: no up-front check
        return 1 << 62


def check_memory(what: str, numel: float, dtype: torch.dtype = torch.float64) -> None:
    """Raise if an array of ``numel`` elements of ``dtype`` could not fit in this machine's memory.

    A size that cannot be allocated otherwise fails deep inside torch (or swaps the machine to a
    halt); this check names the size instead. The limit is the physical memory, so it refuses only
    what can never succeed.
    """
    need = float(numel) * torch.empty((), dtype=dtype).element_size()
    have = _physical_memory()
    if need > have:
        raise ValueError(
            f"{what} needs {need / 2**30:.3g} GiB, more than this machine's {have / 2**30:.3g} GiB of memory"
        )


def as_tensor(
    name: str,
    x,
    dtype: torch.dtype | None = None,
    *,
    like: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convert ``x`` to a real floating tensor: the one conversion rule of the library.

    * a tensor or NumPy array must be float32 or float64 already (integer, bool, half-precision
      and complex data raise :class:`TypeError`); it keeps its device, and is cast to ``dtype``
      (or to ``like``'s dtype and device) only when one is given;
    * Python numbers and (nested) lists of numbers become a tensor of ``dtype``, else of
      ``like``'s dtype and device, else of torch's default dtype;
    * anything else (``None``, strings, objects) raises :class:`TypeError`.
    """
    if isinstance(x, torch.Tensor | np.ndarray):
        t = torch.from_numpy(x) if isinstance(x, np.ndarray) else x
        if t.is_complex():
            raise TypeError(f"{name} must be real, got complex dtype {t.dtype}")
        if t.dtype not in _REAL_DTYPES:
            kind = "half-precision" if t.is_floating_point() else "integer or bool"
            raise TypeError(
                f"{name} must be a float32 or float64 tensor, got {kind} dtype {t.dtype}; "
                f"convert it first, e.g. with .double()"
            )
    else:
        if x is None or isinstance(x, str | bytes) or callable(x):
            raise TypeError(f"{name} must be a tensor or an array of real numbers, got {_type_name(x)}")
        target = dtype or (like.dtype if like is not None else torch.get_default_dtype())
        try:
            t = torch.as_tensor(x)
            if (
                not t.is_complex() and t.dtype != torch.bool
            ):  # numbers straight to the target dtype (no detour through another)
                t = torch.as_tensor(x, dtype=target)
        except (TypeError, ValueError, RuntimeError, OverflowError) as err:
            raise TypeError(f"{name} must be a tensor or an array of real numbers: {err}") from None
        if t.is_complex():
            raise TypeError(f"{name} must be real, got complex values")
        if t.dtype == torch.bool:
            raise TypeError(f"{name} must be real numbers, got True/False values")
    if like is not None:
        t = t.to(device=like.device, dtype=dtype or like.dtype)
    elif dtype is not None:
        t = t.to(dtype)
    return t


def as_real_tensor(
    name: str,
    x,
    dtype: torch.dtype | None = None,
    *,
    like: torch.Tensor | None = None,
    ndim: int | Sequence[int] | None = None,
    nonempty: bool = True,
) -> torch.Tensor:
    """:func:`as_tensor`, then the checks most tensor arguments need: its number of dimensions
    (``ndim``), not empty, and finite."""
    t = as_tensor(name, x, dtype, like=like)
    if ndim is not None:
        check_ndim(name, t, ndim)
    if nonempty:
        check_nonempty(name, t)
    return check_finite(name, t)


def all_finite(x: torch.Tensor) -> bool:
    """True if ``x`` has no NaN or infinite entry.

    One reduction decides the common case: NaN and infinities propagate into the sum, so a finite
    sum means finite entries; only a non-finite sum (which finite entries can also produce, by
    overflow) is checked entry by entry. Several times faster than ``isfinite(x).all()`` (about
    4 against 20 microseconds for a small tensor), which matters at entry points called in loops."""
    if not (x.is_floating_point() or x.is_complex()):
        return True
    return math.isfinite(abs(x.sum().item())) or bool(torch.isfinite(x).all())


def check_finite(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if ``x`` contains NaN or infinity."""
    if not all_finite(x):
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def check_nonempty(name: str, x: torch.Tensor) -> torch.Tensor:
    """Raise if ``x`` has no elements."""
    if x.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(x.shape)})")
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
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    g = torch.device(generator.device)
    if g.type != device.type or (device.type != "cpu" and (g.index or 0) != (device.index or 0)):
        raise ValueError(
            f"generator lives on {g} but {what} on {device}; "
            f"create it with torch.Generator(device={str(device)!r})"
        )
