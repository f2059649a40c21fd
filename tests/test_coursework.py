"""Coursework: the converter to nbgrader, the student versions and nbgrader's whole grading cycle.

The converter's unit tests run on a small notebook built here; the cycle (generate, autograde,
feedback, export) runs nbgrader on it offline; the book's own notebooks are checked for complete
markings and for student versions that contain no solution and no hidden test, and one of them
is autograded for real.
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gradflows import coursework as cw

ROOT = Path(__file__).resolve().parents[1]
BOOK_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*/*.ipynb"))
# the notebook autograded for real: the shortest one to execute
AUTOGRADED = ROOT / "notebooks" / "01-sgd" / "01-gradient-flow.ipynb"
TASK = "# Task: define y (x squared, a float)\n#   and nothing else\n"
HIDDEN = ["hidden-test", "remove-cell"]


def _code(src, tags=(), points=None):
    meta = {"tags": list(tags)} if tags else {}
    if points is not None:
        meta["coursework"] = {"points": points}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": src}


def _md(src):
    return {"cell_type": "markdown", "metadata": {}, "source": src}


def tiny_notebook(manual=None):
    cells = [
        _md("# A tiny lecture\n\nSome theory."),
        _code("import math\nx = 3.0"),
        _md(
            "## Exercises\n\n```{exercise} Square\n:label: t-ex-square\n\nCompute $x^2$.\n```\n\n"
            "```{solution} t-ex-square\n:class: dropdown\n\nSquare it: the answer is nine.\n```"
        ),
        _code(TASK + "# a comment of the solution\ny = x ** 2\nprint(y)", ["solution", "hide-cell"]),
        _code("assert abs(y - math.pow(x, 2)) < 1e-12, 'y should be x squared'", HIDDEN, 2),
        _code("assert isinstance(y, float), 'y should be a float'", HIDDEN, 1),
        _md(
            "```{exercise} Root\n:label: t-ex-root\n\nDerive the root.\n```\n\n"
            "````{solution} t-ex-root\n:class: dropdown\n\nIt is three, since $3^2=9$.\n\n"
            "```python\nprint(3)\n```\n````"
        ),
        _md("## Summary\n\nDone."),
    ]
    for i, c in enumerate(cells):
        c["id"] = f"c{i:07d}"
    manual = {"t-ex-square": 1, "t-ex-root": 2} if manual is None else manual
    return {
        "cells": cells,
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            "coursework": {"manual_points": manual},
        },
    }


def _write(path: Path, nb: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1))
    return path


def _by_id(nb):
    return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]}


def _src(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


# --- the converter ---------------------------------------------------------------------------


def test_exercises_finds_labels_cells_and_points():
    exs = cw.exercises(tiny_notebook())
    assert [e.label for e in exs] == ["t-ex-square", "t-ex-root"]
    sq, root = exs
    assert sq.solution_cells == [3] and sq.test_cells == [4, 5] and sq.test_points == [2, 1]
    assert sq.manual_points == 1 and sq.points == 4
    assert root.solution_cells == [] and root.points == 2
    assert "```python" in root.solution_text  # the inner fence belongs to the solution


def test_convert_marks_cells_for_nbgrader():
    src = cw.convert(tiny_notebook(), "tiny")
    cells = _by_id(src)
    code = cells["t-ex-square-code1"]
    assert _src(code).startswith(TASK + "### BEGIN SOLUTION\n# a comment of the solution\n")
    assert code["metadata"]["nbgrader"] == {
        "grade": False,
        "grade_id": "t-ex-square-code1",
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    test = cells["t-ex-square-test1"]["metadata"]["nbgrader"]
    assert test["grade"] and test["locked"] and not test["solution"] and test["points"] == 2
    assert "### BEGIN HIDDEN TESTS" in _src(cells["t-ex-square-test2"])
    answer = cells["t-ex-root-answer"]
    assert answer["cell_type"] == "markdown" and answer["metadata"]["nbgrader"]["points"] == 2
    assert _src(answer).startswith("It is three") and ":class:" not in _src(answer)
    lecture = cells["tiny-code1"]["metadata"]["nbgrader"]
    assert lecture["locked"] and not lecture["grade"] and not lecture["solution"]
    text = "\n".join(_src(c) for c in src["cells"] if c["cell_type"] == "markdown")
    assert "### Exercise: Square" in text and "{exercise}" not in text and "{solution}" not in text
    assert len({c["id"] for c in src["cells"]}) == len(src["cells"])
    assert "coursework" not in src["metadata"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda nb: nb["cells"].pop(5) and nb["cells"].pop(4), "no hidden-test cell"),
        (lambda nb: nb["metadata"]["coursework"]["manual_points"].pop("t-ex-root"), "no manual_points"),
        (lambda nb: nb["cells"][3].update(source="y = x ** 2"), "# Task:"),
        (lambda nb: nb["cells"][4]["metadata"]["coursework"].update(points=0), "positive integer"),
        (lambda nb: nb["cells"].insert(1, _code("z = 1", ["solution"])), "before any exercise"),
        (lambda nb: nb["cells"][6].update(source="```{solution} nowhere\nx\n```"), "unknown exercise"),
        (lambda nb: nb["cells"][2].update(source="```{exercise} Open\n:label: open\n\nno end"), "unclosed"),
        (lambda nb: nb["metadata"]["coursework"]["manual_points"].update(typo=1), "names no exercise"),
    ],
)
def test_incomplete_markings_are_refused_with_the_reason(change, message):
    nb = tiny_notebook()
    change(nb)
    with pytest.raises(cw.CourseworkError, match=message):
        cw.convert(nb, "tiny")


def test_assignment_names_and_bad_arguments(tmp_path):
    p = Path("notebooks/01-sgd/01-gradient-flow.ipynb")
    assert cw.assignment_name(p, "part") == "01-sgd"
    assert cw.assignment_name(p, "notebook") == "01-sgd-01-gradient-flow"
    with pytest.raises(ValueError, match="by must be"):
        cw.build_course([AUTOGRADED], tmp_path, by="chapter")
    with pytest.raises(cw.CourseworkError, match="not notebooks"):
        cw.build_course([tmp_path / "missing.ipynb"], tmp_path)


def test_never_overwrites_a_changed_file_unless_forced(tmp_path):
    nb = _write(tmp_path / "notebooks" / "99-tiny" / "01-tiny.ipynb", tiny_notebook())
    out = tmp_path / "course"
    cw.build_course([nb], out, generate=False)
    cw.build_course([nb], out, generate=False)  # unchanged files are regenerated silently
    edited = out / "source" / "99-tiny-01-tiny" / "01-tiny.ipynb"
    edited.write_text(edited.read_text().replace("Some theory.", "Some theory, as taught this year."))
    config = out / "nbgrader_config.py"
    config.write_text(config.read_text() + "c.Execute.timeout = 900\n")
    with pytest.raises(cw.CourseworkError, match="changed since they were generated") as err:
        cw.build_course([nb], out, generate=False)
    assert "01-tiny.ipynb" in str(err.value) and "nbgrader_config.py" in str(err.value)
    assert "taught this year" in edited.read_text() and "900" in config.read_text()
    cw.build_course([nb], out, generate=False, force=True)
    assert "taught this year" not in edited.read_text() and "900" not in config.read_text()


# --- nbgrader's cycle on the small notebook --------------------------------------------------


def _html_text(path: Path) -> str:
    """The text of an HTML page without its tags (highlighted code is split into many spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))


def _submit(course: Path, assignment: str, student: str, nb: dict, name: str) -> None:
    _write(course / "submitted" / student / assignment / name, nb)


def test_whole_grading_cycle_offline(tmp_path):
    nb_path = _write(tmp_path / "notebooks" / "99-tiny" / "01-tiny.ipynb", tiny_notebook())
    course, a, name = tmp_path / "course", "99-tiny-01-tiny", "01-tiny.ipynb"
    assert cw.build_course([nb_path], course) == {a: [name]}
    source = json.loads((course / "source" / a / name).read_text())
    student = json.loads((course / "release" / a / name).read_text())
    student_text = json.dumps(student)
    for hidden in ("y = x ** 2", "math.pow", "y should be", "the answer is nine", "It is three"):
        assert hidden not in student_text, hidden
    assert "# Task: define y (x squared, a float)" in student_text and "YOUR ANSWER HERE" in student_text

    wrong = json.loads(json.dumps(student))
    for c in wrong["cells"]:
        if c["metadata"].get("nbgrader", {}).get("grade_id") == "t-ex-square-code1":
            c["source"] = "# Task: define y\ny = x ** 2 + 1"  # a float, but the wrong one
    for who, nb in (("full", source), ("blank", student), ("wrong", wrong)):
        _submit(course, a, who, nb, name)
    api = cw.nbgrader_api(course)
    for who in ("full", "blank", "wrong"):
        assert api.autograde(a, who)["success"]
        assert api.generate_feedback(a, who)["success"]

    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, "gradflows") as gb:
        scores = {}
        for who in ("full", "blank", "wrong"):
            sub = gb.find_submission(a, who)
            scores[who] = (sub.code_score, sub.max_code_score, sub.score, sub.max_score)
    assert scores["full"][:2] == (3.0, 3.0)  # every autograded test passes on the solutions
    assert scores["blank"][0] == 0.0 and scores["blank"][2] == 0.0  # nothing for a blank notebook
    assert scores["wrong"][0] == 1.0  # the planted wrong answer: partial credit
    assert all(s[3] == 6.0 for s in scores.values())  # 3 autograded + 3 by hand

    feedback = _html_text(course / "feedback" / "wrong" / a / name.replace(".ipynb", ".html"))
    assert "y should be x squared" in feedback  # the message is shown
    assert "math.pow" not in feedback and "assert abs(" not in feedback  # the test is not

    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "grades.csv", "--log-level=ERROR"],
        cwd=course,
        capture_output=True,
        text=True,
        env=dict(os.environ, PATH=path),
    )
    assert run.returncode == 0, run.stderr
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    for who, (_, _, score, max_score) in scores.items():
        assert float(rows[who]["raw_score"]) == score and float(rows[who]["max_score"]) == max_score


# --- the book's notebooks --------------------------------------------------------------------


def test_every_exercise_of_the_book_is_graded():
    """Policy: every exercise is in an assignment with something graded; a solution code cell has a
    hidden test and a '# Task:' line; a written solution has manual_points."""
    problems = []
    for p in BOOK_NOTEBOOKS:
        try:
            cw.convert(json.loads(p.read_text()), cw.assignment_name(p, "notebook"))
        except cw.CourseworkError as e:
            problems.append(str(e))
    assert not problems, "\n".join(problems)


def _solution_lines(nb: dict) -> list[str]:
    """Every substantial line a student must not see: solution code, hidden tests, written solutions."""
    lines = []
    for ex in cw.exercises(nb):
        for idx in ex.solution_cells:
            lines += cw._source._split_task(_src(nb["cells"][idx]))[1].split("\n")
        for idx in ex.test_cells:
            lines += _src(nb["cells"][idx]).split("\n")
        lines += (ex.solution_text or "").split("\n")
    return [s.strip() for s in lines if len(s.strip()) >= 12 and not s.strip().startswith("#")]


def test_student_versions_of_the_book_hold_no_solution(tmp_path):
    plan = cw.build_course(BOOK_NOTEBOOKS, tmp_path / "course", by="part", book_root=ROOT)
    assert sorted(plan) == sorted({p.parent.name for p in BOOK_NOTEBOOKS})
    leaks = []
    for p in BOOK_NOTEBOOKS:
        nb = json.loads(p.read_text())
        # what a student is meant to see: lecture cells, exercise statements and the '# Task:' headers
        shown = [
            _src(c)
            for c in nb["cells"]
            if not set(c.get("metadata", {}).get("tags", [])) & {"solution", "hidden-test"}
            and not any(s[0] == "solution" for s in cw._markings._segments(_src(c)))
        ]
        shown += [
            seg[3]
            for c in nb["cells"]
            if c["cell_type"] == "markdown"
            for seg in cw._markings._segments(_src(c))
            if seg[0] == "exercise"
        ]
        answers = [i for ex in cw.exercises(nb) for i in ex.solution_cells]
        shown += [cw._source._split_task(_src(nb["cells"][i]))[0] for i in answers]
        lecture = "\n".join(shown)
        student = json.loads((tmp_path / "course" / "release" / p.parent.name / p.name).read_text())
        text = "\n".join(_src(c) for c in student["cells"])
        leaks += [f"{p.name}: {ln!r}" for ln in _solution_lines(nb) if ln in text and ln not in lecture]
    assert not leaks, "\n".join(leaks[:20])


def test_a_book_notebook_autogrades_full_and_blank(tmp_path):
    course, a = tmp_path / "course", cw.assignment_name(AUTOGRADED, "notebook")
    cw.build_course([AUTOGRADED], course, book_root=ROOT)
    name = AUTOGRADED.name
    shutil.copy(course / "source" / a / name, _mk(course / "submitted" / "full" / a) / name)
    shutil.copy(course / "release" / a / name, _mk(course / "submitted" / "blank" / a) / name)
    api = cw.nbgrader_api(course)
    for who in ("full", "blank"):
        assert api.autograde(a, who)["success"]
    assert api.generate_feedback(a, "blank")["success"]
    feedback = _html_text(course / "feedback" / "blank" / a / name.replace(".ipynb", ".html"))
    nb = json.loads(AUTOGRADED.read_text())
    cells = [_src(nb["cells"][i]) for ex in cw.exercises(nb) for i in ex.test_cells]
    tests = [ln.strip() for src in cells for ln in src.split("\n")]
    leaked = [ln for ln in tests if len(ln) >= 20 and ln in feedback]
    assert not leaked, f"hidden test code in the feedback: {leaked[:5]}"
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, "gradflows") as gb:
        full, blank = (gb.find_submission(a, who) for who in ("full", "blank"))
        assert full.max_code_score > 0 and full.code_score == full.max_code_score
        assert blank.code_score == 0.0


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stored_names(source: str) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _loaded_names(source: str) -> set[str]:
    import ast

    nodes = ast.walk(ast.parse(source))
    return {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def test_hidden_tests_fail_on_blank_answers():
    """A blank answer cell raises and defines nothing: every hidden test must use a name that only
    the answer cells of the notebook define, so that it fails (NameError) on a blank notebook."""
    problems = []
    for p in BOOK_NOTEBOOKS:
        nb = json.loads(p.read_text())
        exs = cw.exercises(nb)
        answers = {i for ex in exs for i in ex.solution_cells}
        tests = {i: ex.label for ex in exs for i in ex.test_cells}
        code = {i: _src(c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"}
        lecture = [s for i, s in code.items() if i not in answers and i not in tests]
        elsewhere = set().union(*map(_stored_names, lecture))
        only_answers = set().union(*(_stored_names(code[i]) for i in answers)) - elsewhere
        for i, label in tests.items():
            if not (_loaded_names(code[i]) - _stored_names(code[i])) & only_answers:
                problems.append(f"{p.name}, {label}, cell {i}: uses no name defined only by an answer")
    assert not problems, "\n".join(problems)
