"""Devices, dtypes, seeding and the book/paper problem-size switch.

Every notebook starts with ``gradflows.seed(0)``; problem sizes go through
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
"""

from __future__ import annotations

import os
import random
from typing import TypeVar

import numpy as np
import torch

__all__ = ["get_device", "seed", "scale", "by_scale", "show_progress"]

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


def seed(value: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a fresh CPU generator.

    Results are reproducible run to run on the CPU. On CUDA some kernels are
    non-deterministic; the claims checks use tolerances that allow for that.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"seed must be a non-negative integer, got {value!r}")
    random.seed(value)
    np.random.seed(value % 2**32)
    torch.manual_seed(value)
    return torch.Generator().manual_seed(value)


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
    if progress is not None:
        return bool(progress)
    if os.environ.get("GRADFLOWS_PROGRESS", "1").strip() in ("0", "false", "no"):
        return False
    return n_steps >= 2000
