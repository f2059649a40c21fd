"""Tables and figures of the appendix "Performance and reliability" (``book/performance``).

Everything is read from JSON files that commands write, never typed: ``make bench``
(``book/results/bench.json``: timings against peers measured in the same run),
``make robustness`` (``book/results/robustness.json``: every bad-input variant of the public API
and its outcome) and ``make test-seeds`` (``book/results/seeds.json``: the largest fraction of a
tolerance each claim used over the seeds).
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "RESULTS",
    "load",
    "machine_line",
    "speedups",
    "plot_speedups",
    "pricing_rows",
    "plot_pricing",
    "outcome_table",
    "plot_outcomes",
    "plot_claim_margins",
]

RESULTS = Path(__file__).resolve().parents[3] / "book" / "results"
OUTCOMES = ("clear", "accepted", "deep", "silent", "hang")
_COLORS = {
    "clear": "tab:green",
    "accepted": "tab:blue",
    "deep": "tab:red",
    "silent": "tab:orange",
    "hang": "k",
}


def load(name: str, folder: Path | str | None = None) -> dict:
    """The JSON file ``name`` (``"bench"``, ``"robustness"``, ``"seeds"``) of the results folder."""
    path = Path(folder or RESULTS) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: run the command that writes it (see this module)")
    return json.loads(path.read_text(encoding="utf-8"))


def machine_line(bench: dict) -> str:
    """One sentence naming the machine, the date and the commit of a benchmark run."""
    m = bench["machine"]
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
    return (
        f"{m['cpu']}, {m['cores']} cores ({m['torch threads']} torch threads){gpu}; torch {m['torch']}, "
        f"Python {m['python']}; run of {bench['date']} at commit {bench['commit']}"
        + (" (quick sizes)" if bench.get("quick") else "")
    )


def speedups(bench: dict) -> list[dict]:
    """Every timing comparison: ``peer seconds / our seconds`` (> 1: ours is faster)."""
    rows = []
    for r in bench["results"]:
        if "seconds" not in r:
            continue
        ours = r["seconds"][r["ours"]]
        for peer, secs in r["seconds"].items():
            if peer != r["ours"]:
                rows.append(
                    {
                        "device": r["device"],
                        "benchmark": r["title"],
                        "ours": r["ours"],
                        "peer": peer,
                        "ours s": ours,
                        "peer s": secs,
                        "ratio": secs / ours,
                    }
                )
    return rows


def plot_speedups(rows: list[dict], ax: plt.Axes | None = None) -> plt.Axes:
    """Horizontal bars of ``peer time / our time`` on a log scale (right of 1: ours is faster)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1))
    labels = [f"{r['benchmark']}\nvs {r['peer']}" for r in rows]
    ratios = np.array([r["ratio"] for r in rows])
    y = np.arange(len(rows))
    ax.barh(y, ratios, color=["tab:green" if v >= 1 else "tab:red" for v in ratios])
    ax.axvline(1.0, color="k", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    for yi, v in zip(y, ratios, strict=True):
        ax.text(v, yi, f" {v:.2f}x", va="center", fontsize=8)
    ax.set_xlabel("peer's time / our time (log scale; > 1: gradflows is faster)")
    return ax


def pricing_rows(bench: dict) -> dict:
    """The pricing section: iteration costs per dimension, Heston errors per seed, time to accuracy."""
    out = {}
    for r in bench["results"]:
        if r["section"] != "pricing":
            continue
        if "dims" in r:
            out["cost"] = r
        elif "errors" in r:
            out.setdefault("heston", []).append(r)
        elif "tol" in r:
            out["accuracy"] = r
    return out


def plot_pricing(p: dict) -> plt.Figure:
    """Left: seconds per training iteration of TDGF and DGM against the dimension. Right: the TDGF's
    Heston error for each seed, both forms, with the bars 2e-3 (median) and 3e-3 (every seed)."""
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    c = p["cost"]
    a.plot(c["dims"], np.array(c["tdgf_seconds"]) * 1e3, "o-", label="TDGF")
    a.plot(c["dims"], np.array(c["dgm_seconds"]) * 1e3, "s-", label="DGM")
    a.set(xlabel="dimension d", ylabel="ms per iteration", title=c["title"])
    a.legend()
    for k, r in enumerate(p.get("heston", [])):
        b.plot(np.array(r["seeds"]) + 0.1 * k, r["errors"], "o", label=r["title"].split(", ", 1)[-1])
    b.axhline(2e-3, color="k", ls="--", lw=1, label="median bar 2e-3")
    b.axhline(3e-3, color="k", ls=":", lw=1, label="every-seed bar 3e-3")
    b.set(xlabel="network seed", ylabel="max error vs QuantLib", title="Heston TDGF, tau = 1")
    b.legend(fontsize=8)
    fig.tight_layout()
    return fig


def outcome_table(rob: dict) -> list[tuple]:
    """``(module, clear, accepted, deep, silent, hang, total)`` per module, and the total row."""
    rows = []
    for mod, c in rob["by_module"].items():
        rows.append((mod, *(c.get(k, 0) for k in OUTCOMES), sum(c.values())))
    total = tuple(rob["counts"].get(k, 0) for k in OUTCOMES)
    rows.append(("all", *total, sum(total)))
    return rows


def plot_outcomes(rob: dict, ax: plt.Axes | None = None) -> plt.Axes:
    """Stacked bars: what each bad-input variant led to, per module."""
    mods = list(rob["by_module"])
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.6))
    bottom = np.zeros(len(mods))
    for k in OUTCOMES:
        v = np.array([rob["by_module"][m].get(k, 0) for m in mods], dtype=float)
        if v.any():
            ax.bar(mods, v, bottom=bottom, label=k, color=_COLORS[k])
        bottom += v
    ax.set_ylabel("bad-input variants")
    ax.tick_params(axis="x", rotation=70, labelsize=8)
    ax.legend(fontsize=8)
    return ax


def plot_claim_margins(seeds: dict, ax: plt.Axes | None = None) -> plt.Axes:
    """The largest fraction of its tolerance each claim used over the seeds (1 = failure)."""
    names = list(seeds["claims"])
    used = np.array([seeds["claims"][n]["max_used"] for n in names])
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.2))
    ax.bar(names, used, color=["tab:green" if u < 0.8 else "tab:orange" for u in used])
    ax.axhline(1.0, color="tab:red", lw=1)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("largest fraction of tolerance used")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    return ax
