"""Independent references: what the book's claims checks compare the library against.

Each module here computes a quantity by a different method from the kernel it checks
(quadrature, a finite-difference or finite-element solve, an exact chain, a closed form,
a scipy optimizer) and imports nothing from the rest of ``gradflows`` except argument
validation and device helpers, so that an error in a kernel cannot repeat itself in its
reference (a policy test enforces this).
"""

import importlib
import pkgutil

__all__ = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def __getattr__(name: str):
    """``gradflows.references.<module>`` imports the module on first use (scipy stays unloaded until then)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
