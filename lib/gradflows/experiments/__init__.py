"""The notebooks' experiment harnesses: sweeps, timed runs, error tables and figures.

A notebook keeps what its reader should see (the call, the figure, the claims check); the
machinery that repeats a kernel of the library over seeds, sizes or budgets, prints its table or
draws its figure lives here, one module per mathematical object or experiment, each naming the
notebook that uses it. The kernels themselves are the top-level modules of ``gradflows``;
the independent references the experiments are checked against are in
:mod:`gradflows.references`.
"""

import importlib
import pkgutil

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str):
    """``gradflows.experiments.<module>`` imports the module on first use (matplotlib and scipy load then)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
