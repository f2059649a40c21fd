"""A book notebook as an nbgrader source notebook (the instructor's version)."""

from __future__ import annotations

import copy
import hashlib

from ._markings import TASK_PREFIX, Exercise, _check, _segments, _source, _tags, exercises

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema

HEADER = """\
# Coursework: {title}

This is the coursework version of the notebook `{path}` of the book. Run it from the top. Fill in
every cell that says `YOUR CODE HERE` (define what its `# Task:` line asks for; keep the names) and
every cell that says `YOUR ANSWER HERE` (a derivation, in Markdown and LaTeX). Do not edit the
other cells: autograding restores them. Hidden tests check your code cells; derivations are graded
by hand. Save, then submit.
"""


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


def _title(nb: dict, name: str) -> str:
    """The text of the notebook's first level-1 heading (``name`` if it has none)."""
    for c in nb["cells"]:
        if c["cell_type"] == "markdown" and _source(c).startswith("# "):
            return _source(c).split("\n")[0].lstrip("# ").strip()
    return name


def _markdown_cells(cell: dict, idx: int, exs: list[Exercise], name: str, n_before: int) -> list[dict]:
    """A markdown cell as locked lecture cells, with each ``{solution}`` as a manually graded answer cell."""
    segs = _segments(_source(cell))
    if not any(s[0] in ("exercise", "solution") for s in segs):
        return [_markdown(_source(cell), _meta(f"{name}-md{idx}", grade=False, solution=False, locked=True))]
    out = []
    for seg in segs:
        if seg[0] == "solution":
            ex = next(e for e in exs if e.label == seg[1])
            meta = _meta(
                f"{ex.label}-answer", grade=True, solution=True, locked=False, points=ex.manual_points
            )
            out.append(_markdown(seg[2], meta))
        elif (text := _render(seg)).strip():
            meta = _meta(f"{name}-md{idx}-{n_before + len(out)}", grade=False, solution=False, locked=True)
            out.append(_markdown(text, meta))
    return out


def _code_cell(cell: dict, idx: int, owner: dict[int, Exercise], counts: dict, name: str) -> dict:
    """A code cell as an nbgrader solution region, a hidden-test region, or a locked lecture cell."""
    tags, source = _tags(cell), _source(cell)
    new = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
    if "solution" in tags or "hidden-test" in tags:
        ex, kind = owner[idx], "code" if "solution" in tags else "test"
        counts[ex.label, kind] = k = counts.get((ex.label, kind), 0) + 1
        if kind == "code":
            task, body = _split_task(source)
            new["source"] = f"{task}\n### BEGIN SOLUTION\n{body}\n### END SOLUTION"
            meta = _meta(f"{ex.label}-code{k}", grade=False, solution=True, locked=False)
        else:
            new["source"] = f"### BEGIN HIDDEN TESTS\n{source}\n### END HIDDEN TESTS"
            pts = cell["metadata"]["coursework"]["points"]
            meta = _meta(f"{ex.label}-test{k}", grade=True, solution=False, locked=True, points=pts)
    else:
        meta = _meta(f"{name}-code{idx}", grade=False, solution=False, locked=True)
    new["metadata"]["nbgrader"] = meta
    return new


def convert(nb: dict, name: str, path: str = "") -> dict:
    """The nbgrader source version (instructor's, with solutions and hidden tests) of a book notebook.

    ``name`` prefixes the nbgrader ``grade_id`` of every cell. Raises
    :class:`~gradflows.coursework.CourseworkError` if an exercise is not fully marked: a solution
    code cell needs a hidden test and a ``# Task:`` line, a written solution needs ``manual_points``."""
    exs = exercises(nb)
    _check(nb, exs, name)
    owner = {i: ex for ex in exs for i in ex.solution_cells + ex.test_cells}
    header = _meta(f"{name}-header", grade=False, solution=False, locked=True)
    cells = [_markdown(HEADER.format(title=_title(nb, name), path=path or name), header)]
    counts: dict = {}
    for idx, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            cells += _markdown_cells(cell, idx, exs, name, len(cells))
        else:
            cells.append(_code_cell(cell, idx, owner, counts, name))
    out = copy.deepcopy(nb)
    out["metadata"].pop("coursework", None)
    out["cells"] = cells
    out["nbformat"], out["nbformat_minor"] = 4, max(nb.get("nbformat_minor", 5), 5)
    for i, c in enumerate(out["cells"]):
        c["id"] = hashlib.sha1(f"{name}/{i}".encode()).hexdigest()[:8]
    return out
