"""Bad-input harness for the public API of gradflows: one table of valid calls, bad variants.

Each public callable has one entry (:class:`Call`) in the tables ``tests/api/calls_*.py``: how to
get the callable (a function, a constructor, a bound method, a property read), a factory for one
*valid* set of keyword arguments, and the *kind* of each argument to fuzz (``"pos"``, ``"tensor"``,
...). A variant replaces one argument by a bad value of its kind and classifies what happens:

* ``clear``    -- a ``ValueError``, ``TypeError`` or ``gradflows.DivergenceError`` raised by
  gradflows' own code (the innermost frame of the traceback is in the package);
* ``accepted`` -- the call returned finite values and the bad value was one a function may accept
  (a list converted to a tensor, a tensor with an extra batch dimension, an empty batch);
* ``deep``     -- any other exception, or one of those types raised from inside torch, NumPy or
  SciPy (the user sees a stack trace from a library they did not call);
* ``silent``   -- the call returned NaN/infinity, or returned at all although the value is never
  valid (NaN, a step <= 0, a string, a complex number, ...);
* ``hang``     -- the call did not return within the time limit.

The same table drives the property-based test ``tests/test_api_fuzz.py`` (hypothesis draws the bad
values) and the exhaustive sweep ``tests/api/sweep.py`` (fixed bad values; its JSON feeds the
appendix "Performance and reliability").
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import gradflows as gf
import numpy as np
import torch

PACKAGE_DIR = Path(gf.__file__).resolve().parent
CLEAR_TYPES = (ValueError, TypeError, gf.DivergenceError)
NAN, INF = float("nan"), float("inf")

# Modules whose public callables must all have an entry (the kernels; the notebooks' harnesses,
# the references, claims and plotting are for the book, not for users' own code).
KERNEL_MODULES = (
    "adam backprop batches control datasets deep_relaxation device dgm energies entropy_sgd "
    "exit_times fast_langevin finite_elements hamilton_jacobi homogenization landscapes "
    "local_entropy mean_field nets ode_optimizers particles pricing pricing_pdes rates tdgf "
    "training weak_solutions"
).split()


@dataclass
class Call:
    """One valid call of one public callable.

    ``target`` returns the callable to call (for a method: a fresh object's bound method; for a
    property: a function of no arguments that reads it). ``args`` returns a fresh dict of valid
    keyword arguments. ``kinds`` maps the arguments to fuzz to their kind (see :data:`KINDS`).
    """

    name: str
    target: Callable[[], Callable]
    args: Callable[[], dict] = dict
    kinds: dict[str, str] = field(default_factory=dict)
    timeout: float = 20.0

    def run(self, **override):
        kwargs = self.args()
        kwargs.update(override)
        return self.target()(**kwargs)


# ---------------------------------------------------------------- bad values, by kind
# Each entry: (label, value or function of the valid value, must_reject).
def _with(v, fill):
    t = torch.as_tensor(v).clone()
    if not t.is_floating_point():
        t = t.double()
    if t.numel() == 0:
        return t
    t.view(-1)[t.numel() // 2] = fill
    return t


_SCALAR_COMMON = [
    ("nan", NAN, True),
    ("inf", INF, True),
    ("-inf", -INF, True),
    ("string", "1.0", True),
    ("None", None, True),
    ("complex", 1 + 1j, True),
    ("list", [1.0, 2.0], True),
]

KINDS: dict[str, list] = {
    # a finite real number > 0 (steps, horizons, temperatures, strikes)
    "pos": [("zero", 0.0, True), ("negative", -1.0, True), ("bool", True, True), ("huge", 1e308, False)]
    + _SCALAR_COMMON,
    # a finite real number >= 0
    "nonneg": [("negative", -1.0, True), ("bool", True, True), ("huge", 1e308, False)] + _SCALAR_COMMON,
    # any finite real number
    "real": [("huge", 1e308, False), ("-huge", -1e308, False)] + _SCALAR_COMMON,
    # an integer >= 1 that sizes an array (absurd sizes must be refused, not tried)
    "size": [
        ("zero", 0, True),
        ("negative", -3, True),
        ("float", 2.5, True),
        ("nan", NAN, True),
        ("string", "3", True),
        ("None", None, True),
        ("bool", True, True),
        ("absurd", 10**13, True),
    ],
    # an integer >= 0 (an offset, an index, a count that may be zero)
    "index": [
        ("negative", -3, True),
        ("float", 2.5, True),
        ("nan", NAN, True),
        ("string", "3", True),
        ("None", None, True),
        ("bool", True, True),
    ],
    # an integer >= 1 that counts iterations (absurd counts are allowed: they show a progress bar)
    "count": [
        ("zero", 0, True),
        ("negative", -3, True),
        ("float", 2.5, True),
        ("nan", NAN, True),
        ("string", "3", True),
        ("None", None, True),
    ],
    # a real tensor (its shape given by the valid call)
    "tensor": [
        ("nan entry", lambda v: _with(v, NAN), True),
        ("inf entry", lambda v: _with(v, INF), True),
        ("extra dim", lambda v: torch.as_tensor(v).unsqueeze(0).unsqueeze(0), False),
        (
            "flattened",
            lambda v: (
                torch.as_tensor(v).reshape(-1)[:-1]
                if torch.as_tensor(v).numel() > 1
                else torch.as_tensor(v).reshape(-1)
            ),
            False,
        ),
        ("empty", lambda v: torch.as_tensor(v).reshape(-1)[:0], False),
        ("int dtype", lambda v: torch.as_tensor(v).to(torch.float64).round().long(), True),
        ("float16", lambda v: torch.as_tensor(v).half(), True),
        ("complex", lambda v: torch.as_tensor(v).to(torch.complex128), True),
        ("list", lambda v: torch.as_tensor(v).tolist(), False),
        ("None", None, True),
        ("string", "abc", True),
        ("huge entries", lambda v: torch.full_like(torch.as_tensor(v, dtype=torch.float64), 1e308), False),
    ],
    # a real tensor whose values may also be integers (sizes, step counts: the x of a rate fit)
    "tensor_or_ints": [],
    # something callable
    "callable": [("None", None, True), ("number", 3, True), ("string", "abc", True)],
    # a free-form name (a label for messages and legends)
    "label": [("None", None, True), ("number", 3, True)],
    # a torch.Generator (or None)
    "generator": [("string", "abc", True), ("number", 3, True)],
    # True/False
    "bool": [("string", "yes", True), ("number", 2, True)],
    # one of a fixed set of names
    "choice": [("unknown", "no-such-option", True), ("None", None, True), ("number", 3, True)],
    # an object of a library class (a model, a network, a result)
    "object": [("None", None, True), ("string", "abc", True), ("number", 3, True)],
}


KINDS["tensor_or_ints"] = [
    (label, bad, False if label == "int dtype" else must) for label, bad, must in KINDS["tensor"]
]


# "kind?": the same bad values except None, for arguments where None is a valid choice.
for _k in list(KINDS):
    KINDS[_k + "?"] = [(label, bad, must) for label, bad, must in KINDS[_k] if label != "None"]


def variants(call: Call):
    """Every (argument, label, bad value factory, must_reject) of a call."""
    for arg, kind in call.kinds.items():
        for label, bad, must in KINDS[kind]:
            yield arg, label, bad, must


def materialize(call: Call, arg: str, bad):
    """The bad value for ``arg``: a constant, or a function of the valid value."""
    if callable(bad) and not isinstance(bad, type):
        valid = call.args().get(arg)
        return bad(torch.ones(1) if valid is None else valid)  # an optional tensor left at None
    return bad


# ---------------------------------------------------------------- classifying outcomes
class _Timeout(BaseException):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    def _raise(signum, frame):
        raise _Timeout

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def nonfinite(x, depth: int = 0) -> bool:
    """True if anything reachable from ``x`` (tensors, arrays, numbers, containers, dataclass
    fields, objects of the package) is NaN or infinite."""
    if depth > 6:
        return False
    if isinstance(x, torch.Tensor):
        return bool(x.is_floating_point() or x.is_complex()) and not bool(torch.isfinite(x).all())
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "fc" and not bool(np.isfinite(x).all())
    if isinstance(x, float | complex | np.floating):
        return not math.isfinite(abs(x))
    if isinstance(x, dict):
        return any(nonfinite(v, depth + 1) for v in x.values())
    if isinstance(x, list | tuple):
        return any(nonfinite(v, depth + 1) for v in x[:10000])
    if isinstance(x, torch.nn.Module):
        return any(nonfinite(p, depth + 1) for p in x.parameters())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return any(nonfinite(getattr(x, f.name), depth + 1) for f in dataclasses.fields(x))
    if type(x).__module__.startswith("gradflows") and hasattr(x, "__dict__"):
        return any(nonfinite(v, depth + 1) for v in vars(x).values())
    return False


def _properties(x):
    """Values of the public properties of an object of the package (result objects)."""
    if not type(x).__module__.startswith("gradflows"):
        return []
    out = []
    for name in dir(type(x)):
        if not name.startswith("_") and isinstance(getattr(type(x), name, None), property):
            out.append(getattr(x, name))
    return out


def raised_inside_package(err: BaseException) -> bool:
    """True if the innermost frame of the traceback is gradflows' own code."""
    tb = traceback.extract_tb(err.__traceback__)
    if not tb:
        return False
    return Path(tb[-1].filename).resolve().is_relative_to(PACKAGE_DIR)


@dataclass
class Outcome:
    name: str
    arg: str
    label: str
    outcome: str  # clear / accepted / deep / silent / hang
    detail: str = ""


def classify(call: Call, arg: str, label: str, value, must_reject: bool) -> Outcome:
    def result(kind, detail=""):
        return Outcome(call.name, arg, label, kind, detail[:300])

    try:
        with warnings.catch_warnings(), time_limit(call.timeout):
            warnings.simplefilter("ignore")
            out = call.run(**{arg: value})
            props = _properties(out)
    except _Timeout:
        return result("hang", f"no return within {call.timeout:g} s")
    except CLEAR_TYPES as err:
        if raised_inside_package(err):
            return result("clear", f"{type(err).__name__}: {err}")
        return result(
            "deep", f"{type(err).__name__} from {traceback.extract_tb(err.__traceback__)[-1].filename}: {err}"
        )
    except Exception as err:  # noqa: BLE001 - every other exception is the finding
        return result("deep", f"{type(err).__name__}: {err}")
    if nonfinite(out) or any(nonfinite(p) for p in props):
        return result("silent", "returned NaN or infinite values")
    if must_reject:
        return result("silent", "accepted an invalid value")
    return result("accepted")


def check_valid(call: Call):
    """Run the valid call; return its output (raises if it fails or returns non-finite values)."""
    with warnings.catch_warnings(), time_limit(max(call.timeout, 60.0)):
        warnings.simplefilter("ignore")
        out = call.run()
        props = _properties(out)
    if nonfinite(out) or any(nonfinite(p) for p in props):
        raise AssertionError(f"{call.name}: the valid call returned non-finite values")
    return out


# ---------------------------------------------------------------- the table and the API
def table() -> list[Call]:
    """Every entry of every ``calls_*.py`` table."""
    import importlib
    import pkgutil

    import api

    calls = []
    for mod in pkgutil.iter_modules(api.__path__):
        if mod.name.startswith("calls_"):
            calls.extend(importlib.import_module(f"api.{mod.name}").CALLS)
    return calls


def public_callables() -> list[str]:
    """Qualified names of the public callables of the kernel modules: functions, classes, and the
    public methods and properties of classes ("module.Class.method")."""
    import inspect

    names = ["Trajectory", "Trajectory.last", "Trajectory.evaluate"]  # the root's own class
    for m in KERNEL_MODULES:
        mod = getattr(gf, m)
        for n in getattr(mod, "__all__", []):
            obj = getattr(mod, n)
            if inspect.isclass(obj):
                names.append(f"{m}.{n}")
                if issubclass(obj, BaseException):
                    continue
                for k, v in vars(obj).items():
                    if not k.startswith("_") and (
                        inspect.isfunction(v) or isinstance(v, property | classmethod | staticmethod)
                    ):
                        names.append(f"{m}.{n}.{k}")
            elif callable(obj):
                names.append(f"{m}.{n}")
    return names
