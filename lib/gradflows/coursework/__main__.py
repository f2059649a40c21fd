"""``python -m gradflows.coursework``: see :func:`gradflows.coursework.main`."""

from ._course import main

raise SystemExit(main())
