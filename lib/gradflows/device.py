"""Devices, dtypes, seeding and the book/paper problem-size switch.

Every notebook starts with ``gradflows.seed(0)``, and every later random draw goes through
:func:`seed` (global torch state, a torch generator) or :func:`numpy_rng` (a NumPy generator)
with a small offset; ``GRADFLOWS_SEED`` shifts all of them at once. Problem sizes go through
:func:`scale` / :func:`by_scale` so that ``GRADFLOWS_SCALE=paper`` switches a
notebook to the sizes of the original papers without touching its code.

Environment variables
---------------------
``GRADFLOWS_DEVICE``
    ``cpu``, ``cuda`` or ``cuda:N``. Default: CUDA when available, else CPU.
``GRADFLOWS_SCALE``
    ``book`` (default; each notebook runs in about a minute on a laptop CPU)
    or ``paper`` (the sizes of the original papers, meant for a GPU).
``GRADFLOWS_PROGRESS``
    ``0`` hides progress bars (the site build and the tests set it).
``GRADFLOWS_SEED``
    A non-negative integer, default ``0``: the base seed. ``seed(k)`` and ``numpy_rng(k)``
    use ``GRADFLOWS_SEED + k``, so one variable reruns the whole book with other random
    draws (``make test-seeds SEEDS="0 1 2 3 4"``).
``GRADFLOWS_WIDGETS``
    ``live`` (default) or ``static``: whether :func:`gradflows.plotting.interact` builds live
    ipywidgets or draws the figure of the initial values under disabled controls (the site
    build and the tests set ``static``; see :func:`widgets_live`).
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

from ._validation import check_bool, check_int

__all__ = [
    "get_device",
    "base_seed",
    "seed",
    "generator",
    "numpy_rng",
    "scale",
    "by_scale",
    "show_progress",
    "widgets_live",
]

T = TypeVar("T")
_SCALES = ("book", "paper")


def get_device() -> torch.device:
    """The device the book runs on.

    ``GRADFLOWS_DEVICE`` wins when set; otherwise CUDA when present, else CPU.

    Raises
    ------
    ValueError
        If ``GRADFLOWS_DEVICE`` names an unknown device or asks for CUDA on a
        machine without it.
    """
    name = os.environ.get("GRADFLOWS_DEVICE", "").strip()
    if not name:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except RuntimeError:
        raise ValueError(
            f"GRADFLOWS_DEVICE={name!r} is not a device; use 'cpu', 'cuda' or 'cuda:N'"
        ) from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"GRADFLOWS_DEVICE={name!r} but CUDA is not available on this machine")
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"GRADFLOWS_DEVICE={name!r}: only 'cpu' and 'cuda' are supported")
    return dev


def base_seed() -> int:
    """The base seed, from ``GRADFLOWS_SEED`` (default ``0``).

    Raises
    ------
    ValueError
        If ``GRADFLOWS_SEED`` is not a non-negative integer.
    """
    raw = os.environ.get("GRADFLOWS_SEED", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"GRADFLOWS_SEED must be a non-negative integer, got {raw!r}")
    return value


def _seed_value(offset: int) -> int:
    base = base_seed()
    return base + check_int("offset", offset, 0, maximum=2**63 - 1 - base)


def seed(offset: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA) with ``GRADFLOWS_SEED + offset``; return a
    fresh CPU generator seeded with the same value.

    Notebooks call ``seed(0)`` once at the top and ``seed(k)`` wherever a draw must not depend
    on what ran before it (a network's initialization, a data set). Results are reproducible
    run to run on the CPU; on CUDA some kernels are non-deterministic.
    """
    value = _seed_value(offset)
    random.seed(value)
    np.random.seed(value % 2**32)
    torch.manual_seed(value)
    return torch.Generator().manual_seed(value)


def generator(offset: int = 0, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator seeded with ``GRADFLOWS_SEED + offset`` (leaves global state alone)."""
    value = _seed_value(offset)
    return torch.Generator(device=_check_device("device", device)).manual_seed(value)


def _check_device(name: str, device) -> torch.device:
    if not isinstance(device, torch.device | str):
        raise TypeError(f"{name} must be a torch.device or a string such as 'cpu', got {device!r}")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{name} must name a device such as 'cpu' or 'cuda', got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {device!r} but this machine has no CUDA device")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name} must be a CPU or CUDA device, got {device!r}")
    return dev


def numpy_rng(offset: int = 0) -> np.random.Generator:
    """A NumPy generator seeded with ``GRADFLOWS_SEED + offset`` (leaves global state alone)."""
    return np.random.default_rng(_seed_value(offset))


def scale() -> str:
    """``"book"`` or ``"paper"``, from ``GRADFLOWS_SCALE`` (default ``"book"``)."""
    s = os.environ.get("GRADFLOWS_SCALE", "book").strip().lower() or "book"
    if s not in _SCALES:
        raise ValueError(f"GRADFLOWS_SCALE must be 'book' or 'paper', got {s!r}")
    return s


def by_scale(book: T, paper: T) -> T:
    """Pick a problem size: ``book`` by default, ``paper`` under ``GRADFLOWS_SCALE=paper``."""
    return paper if scale() == "paper" else book


def show_progress(progress: bool | None, n_steps: int) -> bool:
    """Decide whether a loop of ``n_steps`` shows a progress bar.

    ``progress=True/False`` is obeyed; ``None`` shows a bar for long loops unless
    ``GRADFLOWS_PROGRESS=0``.
    """
    check_int("n_steps", n_steps, 0)
    if progress is not None:
        check_bool("progress", progress)
        return bool(progress)
    if os.environ.get("GRADFLOWS_PROGRESS", "1").strip() in ("0", "false", "no"):
        return False
    return n_steps >= 2000


_WIDGET_MODES = ("live", "static")


def widgets_live() -> bool:
    """``True`` unless ``GRADFLOWS_WIDGETS=static``.

    A notebook executed without a front end (the site build, the notebook tests) has no use
    for live widgets, and a live ``ipywidgets.interact`` costs more there: the output that
    its callback writes into an ``Output`` widget can leave the kernel's reply to the cell
    undelivered on a loaded machine, so that the executor waits for its cell timeout.
    """
    mode = os.environ.get("GRADFLOWS_WIDGETS", "live").strip().lower() or "live"
    if mode not in _WIDGET_MODES:
        raise ValueError(f"GRADFLOWS_WIDGETS must be 'live' or 'static', got {mode!r}")
    return mode == "live"
