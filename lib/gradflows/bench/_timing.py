"""Timing helpers shared by the benchmarks: best-of-n wall time with CUDA synchronization, and the
record of every comparison that ``python -m gradflows.bench --json PATH`` saves."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

RESULTS: list[dict] = []


def record(section: str, device: torch.device, title: str, **data) -> None:
    """Keep one benchmark's numbers for the JSON file: ``seconds={name: s}`` with ``ours=name`` for
    a timing comparison (every other entry a peer measured in the same run), anything else as is."""
    RESULTS.append({"section": section, "device": device_name(device), "title": title, **data})


def sync(device: torch.device) -> None:
    """Wait for queued CUDA kernels (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best(fn: Callable[[], object], device: torch.device, repeat: int = 3, warmup: bool = True) -> float:
    """Best wall time of ``repeat`` calls of ``fn`` (after one warm-up call), in seconds."""
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        sync(device)
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    return min(times)


def device_name(dev: torch.device) -> str:
    """A readable name: the GPU model, or the CPU with its thread count."""
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({torch.get_num_threads()} threads)"
