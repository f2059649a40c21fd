"""The book's notebooks as nbgrader coursework: the converter and the ``make coursework`` command.

The notebooks under ``notebooks/`` stay the single source. Their own markings say what an
assignment is made of:

* an exercise is a markdown ``{exercise}`` directive with a ``:label:``; its worked answer is a
  ``{solution}`` directive (folded on the website). In the coursework that answer becomes a
  **manually graded** answer cell, worth ``metadata["coursework"]["manual_points"][label]`` points
  of the notebook's metadata (the lecturer's mark scheme stays in the instructor's version);
* a code cell tagged ``solution`` is the numerical part of an answer. Its first line starts with
  ``# Task:`` and, with the comment lines after it that are indented (``#   ...``), tells the
  student what to define: that header is kept, the rest becomes an nbgrader solution region
  (``# YOUR CODE HERE`` in the student version);
* a code cell tagged ``hidden-test`` (and ``remove-cell``, so the website omits it) is an
  **autograded** test worth ``metadata["coursework"]["points"]`` points; its whole source is an
  nbgrader hidden-test region, which students never see (not in the handout, not in feedback);
* every other cell is lecture: locked, so that autograding restores it as written.

:func:`convert` turns one notebook into an nbgrader source notebook; :func:`build_course` writes the
course tree (``source/<assignment>/``, ``nbgrader_config.py``) and runs nbgrader's
``generate_assignment`` for the student versions (``release/<assignment>/``). nbgrader does the
rest: autograding, the sqlite gradebook, feedback, CSV export (``book/how-to-use.md``, "Teach with
it"). No file that a lecturer changed after it was generated is ever overwritten: a manifest of
content hashes detects it, and :class:`CourseworkError` says which files, unless ``force=True``.

Command line: ``python -m gradflows.coursework --out DIR [--by notebook|part] [--force] [NOTEBOOK ...]``.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "CourseworkError",
    "Exercise",
    "exercises",
    "convert",
    "assignment_name",
    "build_course",
    "main",
]

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema
TASK_PREFIX = "# Task:"
MANIFEST = ".coursework-manifest.json"
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>exercise|solution)\}[ \t]*(?P<arg>.*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")

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

HEADER = """\
# Coursework: {title}

This is the coursework version of the notebook `{path}` of the book. Run it from the top. Fill in
every cell that says `YOUR CODE HERE` (define what its `# Task:` line asks for; keep the names) and
every cell that says `YOUR ANSWER HERE` (a derivation, in Markdown and LaTeX). Do not edit the
other cells: autograding restores them. Hidden tests check your code cells; derivations are graded
by hand. Save, then submit.
"""


class CourseworkError(ValueError):
    """A notebook's coursework markings are incomplete, or generating would overwrite a lecturer's file."""


@dataclass
class Exercise:
    """One exercise of a notebook: its label, the cells that answer it and the points they carry."""

    label: str
    title: str
    solution_text: str | None = None
    solution_cells: list[int] = field(default_factory=list)
    test_cells: list[int] = field(default_factory=list)
    test_points: list[int] = field(default_factory=list)
    manual_points: int = 0

    @property
    def points(self) -> int:
        return self.manual_points + sum(self.test_points)


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _segments(text: str) -> list[tuple]:
    """Split markdown into ``("text", s)``, ``("exercise", label, title, body)`` and
    ``("solution", label, body)`` pieces, following the fences of the MyST directives."""
    lines, out, buf, i = text.split("\n"), [], [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            buf.append(lines[i])
            i += 1
            continue
        try:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == m["fence"])
        except StopIteration:
            raise CourseworkError(f"unclosed {{{m['kind']}}} directive: {lines[i]!r}") from None
        if buf:
            out.append(("text", "\n".join(buf)))
            buf = []
        body, opts = lines[i + 1 : end], {}
        while body and _OPTION.match(body[0]):
            o = _OPTION.match(body[0])
            opts[o["key"]] = o["value"]
            body = body[1:]
        body = "\n".join(body).strip("\n")
        if m["kind"] == "exercise":
            if "label" not in opts:
                raise CourseworkError(f"exercise without :label: {lines[i]!r}")
            out.append(("exercise", opts["label"], m["arg"].strip(), body))
        else:
            out.append(("solution", m["arg"].strip(), body))
        i = end + 1
    if buf:
        out.append(("text", "\n".join(buf)))
    return out


def exercises(nb: dict) -> list[Exercise]:
    """The exercises of a notebook (JSON dict), in order, with the cells and points of each.

    Solution code cells and hidden-test cells belong to the last exercise above them; a
    ``{solution}`` directive names its exercise. Raises :class:`CourseworkError` when a marking
    is inconsistent (a solution cell before any exercise, a directive naming an unknown label,
    a test without points)."""
    found: dict[str, Exercise] = {}
    current: Exercise | None = None
    manual = nb.get("metadata", {}).get("coursework", {}).get("manual_points", {})
    for idx, cell in enumerate(nb["cells"]):
        tags = _tags(cell)
        if cell["cell_type"] == "markdown":
            for seg in _segments(_source(cell)):
                if seg[0] == "exercise":
                    current = found.setdefault(seg[1], Exercise(seg[1], seg[2]))
                elif seg[0] == "solution":
                    if seg[1] not in found:
                        raise CourseworkError(f"{{solution}} for unknown exercise {seg[1]!r}")
                    found[seg[1]].solution_text = seg[2]
            continue
        if "solution" in tags or "hidden-test" in tags:
            if current is None:
                raise CourseworkError(f"cell {idx} is tagged {tags} but comes before any exercise")
            if "solution" in tags:
                current.solution_cells.append(idx)
            else:
                pts = cell.get("metadata", {}).get("coursework", {}).get("points")
                if isinstance(pts, bool) or not isinstance(pts, int) or pts <= 0:
                    raise CourseworkError(
                        f"hidden-test cell {idx} ({current.label}) needs metadata coursework.points, "
                        f"a positive integer; got {pts!r}"
                    )
                current.test_cells.append(idx)
                current.test_points.append(pts)
    unknown = sorted(set(manual) - set(found))
    if unknown:
        raise CourseworkError(f"manual_points names no exercise of this notebook: {unknown}")
    for ex in found.values():
        pts = manual.get(ex.label, 0)
        if isinstance(pts, bool) or not isinstance(pts, int) or pts < 0:
            raise CourseworkError(f"manual_points[{ex.label!r}] must be a non-negative integer, got {pts!r}")
        ex.manual_points = pts
    return list(found.values())


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool, points: int = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def _markdown(source: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": "markdown", "metadata": {}, "source": source}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def _render(seg: tuple) -> str:
    """A text or exercise segment as plain Markdown (an exercise directive becomes a heading, which
    JupyterLab renders)."""
    if seg[0] == "text":
        return seg[1].strip("\n")
    _, _, title, body = seg
    return f"### Exercise: {title}\n\n{body}" if title else f"### Exercise\n\n{body}"


def _split_task(source: str) -> tuple[str, str]:
    lines = source.split("\n")
    if not lines or not lines[0].startswith(TASK_PREFIX):
        return "", source
    n = next((i for i, line in enumerate(lines) if i and not line.startswith("#  ")), len(lines))
    return "\n".join(lines[:n]), "\n".join(lines[n:]).strip("\n")


def _check(nb: dict, exs: list[Exercise], name: str) -> None:
    problems = []
    for ex in exs:
        if ex.solution_cells and not ex.test_cells:
            problems.append(f"{ex.label}: a solution code cell but no hidden-test cell")
        if ex.solution_text is not None and ex.manual_points == 0:
            problems.append(f"{ex.label}: a written solution but no manual_points in the notebook metadata")
        if ex.points == 0:
            problems.append(f"{ex.label}: nothing is graded")
        for idx in ex.solution_cells:
            if not _source(nb["cells"][idx]).startswith(TASK_PREFIX):
                problems.append(f"{ex.label}: solution cell {idx} does not start with a '{TASK_PREFIX}' line")
    if problems:
        raise CourseworkError(f"{name}: " + "; ".join(problems))


def convert(nb: dict, name: str, path: str = "") -> dict:
    """The nbgrader source version (instructor's, with solutions and hidden tests) of a book notebook.

    ``name`` prefixes the nbgrader ``grade_id`` of every cell. Raises :class:`CourseworkError` if
    an exercise is not fully marked: a solution code cell needs a hidden test and a ``# Task:``
    line, a written solution needs ``manual_points``."""
    exs = exercises(nb)
    _check(nb, exs, name)
    owner = {i: ex for ex in exs for i in ex.solution_cells + ex.test_cells}
    out = copy.deepcopy(nb)
    out["metadata"].pop("coursework", None)
    cells, n_sol, n_test = [], {}, {}
    title = next(
        (
            _source(c).split("\n")[0].lstrip("# ").strip()
            for c in nb["cells"]
            if c["cell_type"] == "markdown" and _source(c).startswith("# ")
        ),
        name,
    )
    cells.append(
        _markdown(
            HEADER.format(title=title, path=path or name),
            _meta(f"{name}-header", grade=False, solution=False, locked=True),
        )
    )
    for idx, cell in enumerate(nb["cells"]):
        tags = _tags(cell)
        if cell["cell_type"] == "markdown":
            segs = _segments(_source(cell))
            if not any(s[0] in ("exercise", "solution") for s in segs):
                cells.append(
                    _markdown(
                        _source(cell), _meta(f"{name}-md{idx}", grade=False, solution=False, locked=True)
                    )
                )
                continue
            for seg in segs:
                if seg[0] == "solution":
                    ex = next(e for e in exs if e.label == seg[1])
                    cells.append(
                        _markdown(
                            seg[2],
                            _meta(
                                f"{ex.label}-answer",
                                grade=True,
                                solution=True,
                                locked=False,
                                points=ex.manual_points,
                            ),
                        )
                    )
                else:
                    text = _render(seg)
                    if text.strip():
                        cells.append(
                            _markdown(
                                text,
                                _meta(
                                    f"{name}-md{idx}-{len(cells)}", grade=False, solution=False, locked=True
                                ),
                            )
                        )
            continue
        new = {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": _source(cell),
        }
        if "solution" in tags:
            ex = owner[idx]
            n_sol[ex.label] = n_sol.get(ex.label, 0) + 1
            task, body = _split_task(_source(cell))
            new["source"] = f"{task}\n### BEGIN SOLUTION\n{body}\n### END SOLUTION"
            new["metadata"]["nbgrader"] = _meta(
                f"{ex.label}-code{n_sol[ex.label]}", grade=False, solution=True, locked=False
            )
        elif "hidden-test" in tags:
            ex = owner[idx]
            n_test[ex.label] = n_test.get(ex.label, 0) + 1
            pts = cell["metadata"]["coursework"]["points"]
            new["source"] = f"### BEGIN HIDDEN TESTS\n{_source(cell)}\n### END HIDDEN TESTS"
            new["metadata"]["nbgrader"] = _meta(
                f"{ex.label}-test{n_test[ex.label]}", grade=True, solution=False, locked=True, points=pts
            )
        else:
            new["metadata"]["nbgrader"] = _meta(f"{name}-code{idx}", grade=False, solution=False, locked=True)
        cells.append(new)
    out["cells"] = cells
    out["nbformat"], out["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 5), 5)
    for i, c in enumerate(out["cells"]):
        c["id"] = hashlib.sha1(f"{name}/{i}".encode()).hexdigest()[:8]
    return out


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
    ap = argparse.ArgumentParser(prog="python -m gradflows.coursework", description=__doc__.split("\n")[0])
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


if __name__ == "__main__":
    raise SystemExit(main())
