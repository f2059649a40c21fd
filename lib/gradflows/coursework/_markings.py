"""The coursework markings of a book notebook: its exercises, their solution cells and hidden tests.

Read by :func:`gradflows.coursework.convert`; the markings themselves are described in the
package docstring (:mod:`gradflows.coursework`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TASK_PREFIX = "# Task:"
_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>exercise|solution)\}[ \t]*(?P<arg>.*)$")
_OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")


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
