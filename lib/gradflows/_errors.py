"""The library's one error for runs that diverge (importable as ``gradflows.DivergenceError``)."""

from __future__ import annotations

__all__ = ["DivergenceError"]


class DivergenceError(RuntimeError, FloatingPointError):
    """An iteration produced NaN or infinite values: the message says at which step and in which
    quantity, and what to change (usually a smaller step or learning rate).

    Every dynamics and every training loop of the library raises it. It is a ``RuntimeError`` and,
    for code that catches arithmetic failures, a ``FloatingPointError``.
    """


DivergenceError.__module__ = "gradflows"  # documented and imported as gradflows.DivergenceError
