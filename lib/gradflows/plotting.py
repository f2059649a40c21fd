"""One figure style for the book and the plots every chapter repeats.

Notebooks call :func:`use_style` once, then :func:`plot_landscape`,
:func:`plot_paths` and :func:`plot_curves` instead of re-writing the same
matplotlib code, and :func:`interact` for the explorer at the end of a notebook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["use_style", "plot_landscape", "plot_paths", "plot_curves", "to_numpy", "interact"]

_STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (idempotent)."""
    mpl.rcParams.update(_STYLE)


def to_numpy(x) -> np.ndarray:
    """A detached CPU NumPy copy of a tensor (or anything array-like)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def plot_landscape(
    J: Callable[[torch.Tensor], torch.Tensor],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax: plt.Axes | None = None,
    n: int = 201,
    levels: int = 30,
    log: bool = False,
) -> plt.Axes:
    """Filled contour plot of a 2-D objective ``J: (..., 2) -> (...)`` on a box.

    With ``log=True`` the colours show ``log10(J - min J + 1e-3)`` over the box.
    """
    if ax is None:
        _, ax = plt.subplots()
    xs = torch.linspace(*xlim, n, dtype=torch.float64)
    ys = torch.linspace(*ylim, n, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = to_numpy(J(torch.stack([X, Y], -1)))
    if log:
        Z = np.log10(Z - Z.min() + 1e-3)
    cs = ax.contourf(to_numpy(X), to_numpy(Y), Z, levels=levels, cmap="Greys_r", alpha=0.85)
    ax.contour(to_numpy(X), to_numpy(Y), Z, levels=levels, colors="k", linewidths=0.3, alpha=0.4)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    label = r"$\log_{10}(J - \min J + 10^{-3})$" if log else "$J$"
    ax.figure.colorbar(cs, ax=ax, shrink=0.8, label=label)
    return ax


def plot_paths(ax: plt.Axes, paths: Mapping[str, torch.Tensor], markers: bool = False) -> plt.Axes:
    """Draw 2-D trajectories ``{label: W}`` with ``W`` of shape ``(m, 2)`` onto ``ax``."""
    for label, W in paths.items():
        P = to_numpy(W)
        ax.plot(P[:, 0], P[:, 1], "-o" if markers else "-", ms=2.5, label=label)
        ax.plot(P[0, 0], P[0, 1], "k^", ms=5)
        ax.plot(P[-1, 0], P[-1, 1], "k*", ms=7)
    ax.legend(loc="best")
    return ax


def plot_curves(
    curves: Mapping[str, tuple],
    ax: plt.Axes | None = None,
    xlabel: str = "$t$",
    ylabel: str = "",
    logy: bool = False,
    logx: bool = False,
) -> plt.Axes:
    """Plot ``{label: (x, y)}`` curves (energies, errors) on one axis."""
    if ax is None:
        _, ax = plt.subplots()
    for label, (x, y) in curves.items():
        ax.plot(to_numpy(x), to_numpy(y), label=label)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return ax


_STATIC_NOTE = (
    "<i>The controls move the figure when this notebook runs in JupyterLab or on Binder; "
    "the figure shows their initial values.</i>"
)


def interact(update: Callable[..., object], /, **controls):
    """Call ``update(**values)`` under one ipywidgets control per keyword argument.

    In a live notebook this is ``ipywidgets.interact(update, **controls)``: moving a control
    calls ``update`` again. Under ``GRADFLOWS_WIDGETS=static`` (set by ``make book`` and
    ``make test``) the controls are shown disabled and ``update`` is called once with their
    initial values, so its figure is an ordinary output of the cell
    (:func:`gradflows.device.widgets_live` says why the build avoids live widgets).

    Parameters
    ----------
    update:
        A function of the controls' names; it draws a figure or prints.
    controls:
        ``ipywidgets`` value widgets (sliders, dropdowns), one per argument of ``update``.

    Returns
    -------
    The ``ipywidgets.interact`` result when live; otherwise what ``update`` returned.
    """
    import ipywidgets as widgets
    from IPython.display import display

    from .device import widgets_live

    if not callable(update):
        raise ValueError(f"update must be callable, got {update!r}")
    if not controls:
        raise ValueError("interact needs at least one control (name=ipywidgets widget)")
    for name, control in controls.items():
        if not isinstance(control, widgets.ValueWidget):
            raise ValueError(
                f"control {name!r} must be an ipywidgets value widget (a slider, a dropdown), "
                f"got {type(control).__name__}"
            )
    if widgets_live():
        return widgets.interact(update, **controls)
    for control in controls.values():
        control.disabled = True
    display(widgets.VBox([*controls.values(), widgets.HTML(_STATIC_NOTE)]))
    return update(**{name: control.value for name, control in controls.items()})
