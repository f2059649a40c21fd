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
``generate_assignment`` for the student versions (``release/<assignment>/``). nbgrader does the rest:
autograding, the sqlite gradebook, feedback, CSV export (``book/how-to-use.md``, "Teach with it"). No
file that a lecturer changed after it was generated is ever overwritten: a manifest of content
hashes detects it, and :class:`CourseworkError` says which files, unless ``force=True``.

Command line: ``python -m gradflows.coursework --out DIR [--by notebook|part] [--force] [NOTEBOOK ...]``.
"""

from ._course import assignment_name, build_course, main, nbgrader_api
from ._markings import CourseworkError, Exercise, exercises
from ._source import convert

__all__ = [
    "CourseworkError",
    "Exercise",
    "exercises",
    "convert",
    "assignment_name",
    "build_course",
    "main",
    "nbgrader_api",
]

# one documented name each (the private modules _markings, _source and _course hold the code)
for _obj in (
    CourseworkError,
    Exercise,
    exercises,
    convert,
    assignment_name,
    build_course,
    main,
    nbgrader_api,
):
    _obj.__module__ = __name__
del _obj
