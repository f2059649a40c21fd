"""Sphinx extension: write each inline ``<script>`` of a page once.

Sphinx 7.4 registers an inline script (``app.add_js_file(None, body=...)``) added
after the builder started both as it is and, when it prepares writing, a second
time with an empty file name; the two copies do not compare equal, so both reach
the page. Scripts that declare constants (sphinx-thebe's ``const THEBE_JS_URL``)
then fail in the browser with "Identifier has already been declared".
"""

from __future__ import annotations

from typing import Any


def _key(js: Any) -> tuple:
    filename = getattr(js, "filename", js) or ""
    attributes = getattr(js, "attributes", {}) or {}
    return (filename, tuple(sorted((k, str(v)) for k, v in attributes.items())))


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen: set[tuple] = set()
    unique = []
    for js in scripts:
        key = _key(js)
        if key not in seen:
            seen.add(key)
            unique.append(js)
    # In place: the builder restores its own list after each page.
    scripts[:] = unique


def setup(app: Any) -> dict[str, Any]:
    # Late, so that scripts added per page by other extensions are seen too.
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
