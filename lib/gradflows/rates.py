"""Fitting convergence rates: slopes in log-log and semi-log coordinates.

Claims about rates (``O(dt)``, ``e^{-alpha t}``, ``N^{-1/2}``, ...) are checked as
fitted slopes with a tolerance, never from a single point. Used in every chapter.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validation import all_finite, as_tensor, check_bool, check_finite, check_ndim

__all__ = ["loglog_slope", "semilog_slope"]


def _abscissa(name: str, x) -> torch.Tensor:
    """Sizes, step counts and times: integer data is accepted here (x is a count, not a field)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "iu":
        x = x.astype(np.float64)
    if (
        isinstance(x, torch.Tensor)
        and not (x.is_floating_point() or x.is_complex())
        and x.dtype != torch.bool
    ):
        x = x.double()
    return as_tensor(name, x, torch.float64)


def _xy(x, y, xname: str = "x"):
    x = check_ndim(xname, check_finite(xname, _abscissa(xname, x)), 1)
    y = check_ndim("y", check_finite("y", as_tensor("y", y, torch.float64)), 1)
    if x.shape != y.shape or x.numel() < 2:
        raise ValueError(f"{xname} and y must be 1-D with the same length >= 2")
    if bool((y <= 0).any()):
        raise ValueError("y must be positive to take its logarithm")
    return x.cpu(), y.cpu()


def _slope(u: torch.Tensor, v: torch.Tensor, stderr: bool, xname: str) -> float | tuple[float, float]:
    check_bool("stderr", stderr)
    u0 = u - u.mean()
    spread = (u0 * u0).sum()
    if not bool(torch.isfinite(spread)) or float(spread) == 0.0 or not all_finite(v):
        raise ValueError(
            f"{xname} must take at least two different values of moderate size (the fit is degenerate)"
        )
    slope = float((u0 * (v - v.mean())).sum() / spread)
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
    return _slope(torch.log(x), torch.log(y), stderr, "x")


def semilog_slope(t, y, stderr: bool = False) -> float | tuple[float, float]:
    """Least-squares slope of ``log y`` against ``t`` (``y ~ C e^{slope t}``); ``stderr`` as in
    :func:`loglog_slope`."""
    t, y = _xy(t, y, "t")
    return _slope(t, torch.log(y), stderr, "t")
