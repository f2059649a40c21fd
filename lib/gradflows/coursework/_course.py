"""The nbgrader course tree of the book (``make coursework``): instructor and student versions."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

from ._markings import CourseworkError
from ._source import convert

MANIFEST = ".coursework-manifest.json"

# the course's nbgrader configuration; the lecturer may edit it (it is never overwritten once changed)
NBGRADER_CONFIG = '''\
"""nbgrader configuration of the coursework generated from the book (gradflows.coursework)."""

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "gradflows"
# students see whether a hidden test passed and its message, never its code: the feedback drops
# the hidden-test regions, and the kernel prints one-line tracebacks (no source lines of the test)
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]
c.Execute.timeout = 600  # seconds per cell, as in the book's build
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


def nbgrader_api(course: Path | str):
    """nbgrader's Python API for the course folder ``course``, with its ``nbgrader_config.py``.

    nbgrader runs the ``alembic`` script to set up its gradebook: this interpreter's scripts folder
    is put first on ``PATH`` so that it is found in a virtual environment that is not activated."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bindir, os.environ.get("PATH", "")])
    course = Path(course).resolve()
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    cfg.CourseDirectory.root = str(course)
    return NbGraderAPI(CourseDirectory(config=cfg), config=cfg)


def assignment_name(notebook: Path, by: str) -> str:
    """``01-sgd`` (by part) or ``01-sgd-01-gradient-flow`` (by notebook)."""
    if by == "part":
        return notebook.parent.name
    if by == "notebook":
        return f"{notebook.parent.name}-{notebook.stem}"
    raise ValueError(f"by must be 'part' or 'notebook', got {by!r}")


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Writer:
    """Writes files under ``root`` and records their hashes; refuses to replace a file whose
    content differs from what was last generated (a lecturer's change) unless ``force``."""

    def __init__(self, root: Path, force: bool):
        self.root, self.force = root, force
        mpath = root / MANIFEST
        self.manifest = json.loads(mpath.read_text()) if mpath.exists() else {}
        self.changed: list[str] = []

    def check(self, rel: str) -> None:
        path = self.root / rel
        if path.exists() and not self.force and self.manifest.get(rel) != _hash(path):
            self.changed.append(rel)

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.manifest[rel] = _hash(path)

    def record(self, rel: str) -> None:
        self.manifest[rel] = _hash(self.root / rel)

    def save(self) -> None:
        (self.root / MANIFEST).write_text(json.dumps(self.manifest, indent=1, sort_keys=True) + "\n")


def build_course(
    notebooks: list[Path | str],
    out: Path | str,
    by: str = "notebook",
    force: bool = False,
    generate: bool = True,
    book_root: Path | str = ".",
) -> dict[str, list[str]]:
    """Write the nbgrader course tree for ``notebooks`` under ``out`` and generate the student versions.

    ``out/source/<assignment>/<notebook>.ipynb`` are the instructor's versions (:func:`convert`),
    ``out/nbgrader_config.py`` the configuration, and, with ``generate=True``, nbgrader's
    ``generate_assignment`` writes the student versions to ``out/release/<assignment>/`` and
    registers the assignments in the gradebook ``out/gradebook.db``. Raises
    :class:`CourseworkError` before writing anything if a generated file was changed since it was
    generated (pass ``force=True`` to regenerate it). Returns ``{assignment: [notebook names]}``."""
    if by not in ("part", "notebook"):
        raise ValueError(f"by must be 'part' or 'notebook', got {by!r}")
    out, book_root = Path(out), Path(book_root)
    paths = [Path(p) for p in notebooks]
    if not paths:
        raise CourseworkError("no notebooks given")
    missing = [str(p) for p in paths if p.suffix != ".ipynb" or not p.is_file()]
    if missing:
        raise CourseworkError(f"not notebooks: {missing}")
    converted, plan = {}, {}
    for p in paths:
        a = assignment_name(p, by)
        nb = json.loads(p.read_text())
        try:
            rel_path = str(p.resolve().relative_to(book_root.resolve()))
        except ValueError:
            rel_path = str(p)
        converted[f"source/{a}/{p.name}"] = convert(nb, assignment_name(p, "notebook"), rel_path)
        plan.setdefault(a, []).append(p.name)
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(out, force)
    for rel in [*converted, "nbgrader_config.py"]:
        w.check(rel)
    release = [f"release/{a}/{n}" for a, names in plan.items() for n in names] if generate else []
    for rel in release:
        w.check(rel)
    if w.changed:
        raise CourseworkError(
            "these files were changed since they were generated and would be overwritten: "
            + ", ".join(sorted(w.changed))
            + f" (under {out}). Move them away, or regenerate with FORCE=1 "
            "(make coursework FORCE=1, or --force)."
        )
    if "nbgrader_config.py" not in w.manifest or force or not (out / "nbgrader_config.py").exists():
        w.write("nbgrader_config.py", NBGRADER_CONFIG)
    for rel, nb in converted.items():
        w.write(rel, json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    w.save()
    if generate:
        api = nbgrader_api(out)
        for a in plan:
            res = api.generate_assignment(a, force=True, create=True)
            if not res["success"]:
                raise CourseworkError(
                    f"nbgrader generate_assignment {a} failed:\n{res.get('log', '')}{res.get('error', '')}"
                )
        for rel in release:
            w.record(rel)
        w.save()
    return plan


def main(argv: list[str] | None = None) -> int:
    """``python -m gradflows.coursework``: build the course tree (see the module docstring)."""
    ap = argparse.ArgumentParser(
        prog="python -m gradflows.coursework",
        description="The nbgrader course tree of the book: instructor and student versions.",
    )
    ap.add_argument("notebooks", nargs="*", help="notebooks (default: every notebook under notebooks/)")
    ap.add_argument("--out", default="_build/coursework", help="course folder (default: _build/coursework)")
    ap.add_argument(
        "--by",
        choices=("notebook", "part"),
        default="notebook",
        help="one assignment per notebook (default) or per part",
    )
    ap.add_argument("--force", action="store_true", help="overwrite files changed since they were generated")
    args = ap.parse_args(argv)
    nbs = [Path(p) for p in args.notebooks] or sorted(Path("notebooks").glob("*/*.ipynb"))
    try:
        plan = build_course(nbs, args.out, by=args.by, force=args.force)
    except CourseworkError as e:
        print(f"make coursework: {e}", file=sys.stderr)
        return 2
    n = sum(len(v) for v in plan.values())
    print(
        f"{len(plan)} assignments ({n} notebooks) in {args.out}: instructor versions in source/, "
        f"student versions in release/. See 'Teach with it' in book/how-to-use.md for the next steps."
    )
    return 0
