"""Execute the book's notebooks in parallel into the site build's execution cache.

``jupyter-book build`` executes the notebooks that its cache (``_build/.jupyter_cache``,
``execute_notebooks: cache`` in ``_config.yml``) does not hold, one after the other. ``make
book`` runs this script first: it executes every notebook of ``_toc.yml`` whose current code
is not cached, ``--jobs`` at a time (longest first, from the last recorded run times), and
caches the results, so that the build then only reads them. A notebook that fails is
reported with its traceback and makes the script exit with status 1.

    python book/fill_cache.py [--jobs N] [--timeout SECONDS] [--cache PATH] [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import yaml
from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

ROOT = Path(__file__).resolve().parent.parent


def toc_notebooks(toc: Path) -> list[Path]:
    """Every ``file:`` of ``_toc.yml`` that is a notebook, in the order of the book."""
    found: list[Path] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            name = node.get("file")
            if isinstance(name, str) and (ROOT / f"{name}.ipynb").is_file():
                found.append(ROOT / f"{name}.ipynb")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(toc.read_text(encoding="utf-8")))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    timeout = int(config.get("execute", {}).get("timeout", 300))
    parser.add_argument(
        "--timeout", type=int, default=timeout, help=f"seconds a cell may run ({timeout}, _config.yml)"
    )
    parser.add_argument("--cache", default=str(ROOT / "_build" / ".jupyter_cache"), help="cache folder")
    parser.add_argument(
        "notebooks", nargs="*", type=Path, help="only these (default: every notebook of _toc.yml)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.timeout < 1:
        parser.error("--jobs and --timeout must be positive")

    cache = get_cache(args.cache)
    notebooks = toc_notebooks(ROOT / "_toc.yml")
    if args.notebooks:
        chosen = {p.resolve() for p in args.notebooks}
        unknown = sorted(str(p) for p in chosen - set(notebooks))
        if unknown:
            parser.error(f"not notebooks of _toc.yml: {unknown}")
        notebooks = [p for p in notebooks if p in chosen]
    records = {str(p): cache.add_nb_to_project(str(p)) for p in notebooks}
    stale = [r for r in records.values() if cache.get_cached_project_nb(r.pk) is None]
    if not stale:
        print(f"fill_cache: all {len(records)} notebooks are cached")
        return 0

    def last_seconds(record) -> float:
        # the most recent cached run of this notebook, whatever its code was then
        runs = [c for c in cache.list_cache_records() if c.uri == record.uri]
        if runs:
            return max(runs, key=lambda c: c.created).data.get("execution_seconds") or 0.0
        return Path(record.uri).stat().st_size / 1e4  # no run yet: bigger notebooks first

    stale.sort(key=last_seconds, reverse=True)
    work = [ProcessData(r.pk, r.uri, cache, args.timeout, False) for r in stale]
    print(f"fill_cache: executing {len(work)} of {len(records)} notebooks, {args.jobs} at a time")
    start = time.time()
    failed = []
    with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
        for status, uri in pool.imap_unordered(ExecutionWorkerLocalMProc(), work, chunksize=1):
            name = Path(uri).relative_to(ROOT).as_posix()
            if status == 0:
                secs = cache.get_cached_project_nb(uri).data.get("execution_seconds", float("nan"))
                print(f"  {name}: {secs:6.1f} s  ({time.time() - start:6.1f} s elapsed)", flush=True)
            else:
                failed.append(uri)
                print(f"  {name}: FAILED", flush=True)
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"\n=== {Path(uri).relative_to(ROOT).as_posix()}\n{record.traceback or '(no traceback)'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
