"""Fitting convergence rates: slopes in log-log and semi-log coordinates.

Claims about rates (``O(dt)``, ``e^{-alpha t}``, ``N^{-1/2}``, ...) are checked as
fitted slopes with a tolerance, never from a single point. Used in every chapter.
"""

from __future__ import annotations

import torch

from ._validation import as_tensor, check_finite, check_ndim

__all__ = ["loglog_slope", "semilog_slope"]


def _xy(x, y):
    x = check_ndim("x", check_finite("x", as_tensor("x", x, torch.float64)), 1)
    y = check_ndim("y", check_finite("y", as_tensor("y", y, torch.float64)), 1)
    if x.shape != y.shape or x.numel() < 2:
        raise ValueError("x and y must be 1-D with the same length >= 2")
    if bool((y <= 0).any()):
        raise ValueError("y must be positive to take its logarithm")
    return x.cpu(), y.cpu()


def _slope(u: torch.Tensor, v: torch.Tensor, stderr: bool) -> float | tuple[float, float]:
    u0 = u - u.mean()
    slope = float((u0 * (v - v.mean())).sum() / (u0 * u0).sum())
    if not stderr:
        return slope
    if u.numel() < 3:
        raise ValueError("a standard error needs at least 3 points")
    resid = v - v.mean() - slope * u0
    s2 = float((resid * resid).sum()) / (u.numel() - 2)
    return slope, (s2 / float((u0 * u0).sum())) ** 0.5


def loglog_slope(x, y, stderr: bool = False) -> float | tuple[float, float]:
    """Least-squares slope of ``log y`` against ``log x`` (``y ~ C x^slope``).

    With ``stderr=True`` returns ``(slope, standard error)``, the usual regression standard
    error from the residuals (it assumes independent, equal-variance errors in ``log y``).
    """
    x, y = _xy(x, y)
    if bool((x <= 0).any()):
        raise ValueError("x must be positive to take its logarithm")
    return _slope(torch.log(x), torch.log(y), stderr)


def semilog_slope(t, y, stderr: bool = False) -> float | tuple[float, float]:
    """Least-squares slope of ``log y`` against ``t`` (``y ~ C e^{slope t}``); ``stderr`` as in
    :func:`loglog_slope`."""
    t, y = _xy(t, y)
    return _slope(t, torch.log(y), stderr)
