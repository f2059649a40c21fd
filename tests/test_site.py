"""The built site, as a reader sees it in a real (headless) browser.

Run after the book is built (`make test` does both). Serves ``_build/html`` on
127.0.0.1 and opens its pages in Chromium through Playwright. Every page must load
without console errors, failed requests or requests to other hosts (the site is
self-contained: MathJax and the widget scripts are served with it), every image must
load, and math must be typeset. The chapter page must show its theorem and exercise
boxes, and folded solutions. A screenshot is left in ``_build/site-screenshot.png``.

Standalone, the test is skipped when the site is not built; with
``GRADFLOWS_REQUIRE_SITE=1`` (set by ``make test``) a missing site is a failure.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from toc import toc_pages

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SCREENSHOT = ROOT / "_build" / "site-screenshot.png"
CHAPTER = "notebooks/01-sgd/02-momentum-and-adam"
INTRO = "book/intro"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
TIMEOUT_MS = 30_000

# Text of the page a reader sees, without code, scripts and typeset math.
VISIBLE_PROSE_JS = """
() => {
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "MJX-CONTAINER"]);
  const root = document.querySelector("article") || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el && el !== root.parentElement; el = el.parentElement) {
        if (skip.has(el.tagName)) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    },
  });
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.nodeValue);
  return parts.join("");
}
"""

# Load every image (even lazy ones) and report those that did not decode.
BROKEN_IMAGES_JS = """
async () => {
  const imgs = Array.from(document.images);
  imgs.forEach((img) => { img.loading = "eager"; });
  await Promise.all(imgs.map((img) => img.complete ? null :
    new Promise((done) => { img.addEventListener("load", done); img.addEventListener("error", done); })));
  return imgs.filter((img) => !(img.complete && img.naturalWidth > 0))
             .map((img) => img.currentSrc || img.src);
}
"""

# Wait for MathJax to finish typesetting (if the page loads it at all).
TYPESET_JS = """
async () => {
  if (!document.querySelector(".math")) return {math: false};
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!(window.MathJax && MathJax.startup && MathJax.startup.promise)) return {math: true, loaded: false};
  await MathJax.startup.promise;
  return {
    math: true,
    loaded: true,
    containers: document.querySelectorAll("mjx-container").length,
    errors: Array.from(document.querySelectorAll("mjx-merror")).map((e) => e.textContent),
  };
}
"""


def _toc_pages() -> list[str]:
    return toc_pages()


def _missing(reason: str) -> None:
    if os.environ.get("GRADFLOWS_REQUIRE_SITE") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    if not (HTML / "index.html").is_file():
        _missing(f"the site is not built ({HTML / 'index.html'} is missing): run `make book`")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def browser(base_url: str) -> Iterator[object]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Visit:
    """One page opened in a fresh browser context, with everything that went wrong."""

    def __init__(self, browser: object, base_url: str, page_path: str) -> None:
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", self._response)
        self.url = base_url + page_path + ".html"
        response = self.page.goto(self.url, wait_until="load")
        assert response is not None and response.ok, f"{self.url}: {response and response.status}"
        self.typeset = self.page.evaluate(TYPESET_JS)
        self.broken_images = self.page.evaluate(BROKEN_IMAGES_JS)
        self.page.wait_for_load_state("networkidle")

    def _route(self, route: object) -> None:
        url = route.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob", "about") or parsed.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.problems.append(f"request to another host: {url}")
            route.abort()

    def _console(self, msg: object) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text} ({msg.location.get('url', '')})")

    def _failed(self, request: object) -> None:
        host = urlparse(request.url).hostname
        if host in LOCAL_HOSTS:  # requests to other hosts are already reported
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: object) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: object, base_url: str) -> Iterator[object]:
    opened: list[Visit] = []

    def open_page(page_path: str) -> Visit:
        v = Visit(browser, base_url, page_path)
        opened.append(v)
        return v

    yield open_page
    for v in opened:
        v.close()


def _check_page(v: Visit, *, require_math: bool) -> None:
    assert not v.problems, f"{v.url}:\n" + "\n".join(v.problems)
    assert not v.broken_images, f"{v.url}: images that did not load: {v.broken_images}"
    if require_math:
        assert v.typeset["math"], f"{v.url}: the page has no math"
    if v.typeset["math"]:
        assert v.typeset["loaded"], f"{v.url}: MathJax did not load"
        assert v.typeset["containers"] > 0, f"{v.url}: MathJax typeset nothing"
        assert not v.typeset["errors"], f"{v.url}: MathJax errors: {v.typeset['errors']}"
        prose = v.page.evaluate(VISIBLE_PROSE_JS)
        for raw in ("$$", "\\(", "\\)", "\\[", "\\]", "\\begin{"):
            assert raw not in prose, f"{v.url}: raw math {raw!r} left in the visible text"


@pytest.mark.parametrize("page_path", _toc_pages())
def test_page_is_self_contained(visit: object, page_path: str) -> None:
    """Every page of the table of contents loads cleanly, offline."""
    _check_page(visit(page_path), require_math=False)


def test_intro_page(visit: object) -> None:
    v = visit(INTRO)
    _check_page(v, require_math=False)
    assert v.page.locator("nav.bd-docs-nav a.reference").count() > 0, "no table of contents"
    assert v.page.locator("img.logo__image").first.is_visible(), "the logo is not shown"


def test_chapter_page(visit: object) -> None:
    v = visit(CHAPTER)
    _check_page(v, require_math=True)
    page = v.page

    # sphinx-proof renders theorems, lemmas, definitions, ... as div.proof.admonition.
    proofs = page.locator("div.proof.admonition")
    assert proofs.count() > 0, "no theorem box (div.proof.admonition)"
    assert proofs.first.locator(".admonition-title").is_visible()

    # sphinx-exercise renders {exercise} as div.exercise.admonition.
    exercises = page.locator("div.exercise.admonition")
    assert exercises.count() > 0, "no exercise box (div.exercise.admonition)"
    assert exercises.first.is_visible()

    # For people: what the chapter looks like.
    page.screenshot(path=str(SCREENSHOT))

    # Solutions are on the page but folded: every {solution} of the notebook renders as
    # a collapsed dropdown whose body becomes visible only after a click, and solution
    # code cells (tag "solution", plus "hide-cell") are folded too.
    source = json.loads((ROOT / f"{CHAPTER}.ipynb").read_text())
    n_solutions = sum("".join(cell["source"]).count("```{solution}") for cell in source["cells"])
    assert n_solutions > 0, "the chapter has no {solution} to hide"
    solutions = page.locator("div.solution.dropdown")
    assert solutions.count() == n_solutions, (
        f"{n_solutions} solutions in the notebook, {solutions.count()} folded solutions on the page"
    )
    shown = [i for i in range(n_solutions) if solutions.nth(i).locator("section").first.is_visible()]
    assert not shown, f"solutions shown before a click: {shown}"
    solutions.first.locator("button.toggle-button").click()  # sphinx-togglebutton
    solutions.first.locator("section").first.wait_for(state="visible", timeout=5000)
    n_code = sum("solution" in cell.get("metadata", {}).get("tags", []) for cell in source["cells"])
    code = page.locator("div.cell.tag_solution")
    assert code.count() == n_code, f"{n_code} solution code cells, {code.count()} on the page"
    visible_code = [i for i in range(n_code) if code.nth(i).locator("pre").first.is_visible()]
    assert not visible_code, f"solution code shown before a click: {visible_code}"


def test_widgets_render(visit: object) -> None:
    """Pages with stored widget state render their widgets with the bundled scripts."""
    with_widgets = [
        p
        for p in _toc_pages()
        if (HTML / f"{p}.html").is_file()
        and "application/vnd.jupyter.widget-state+json" in (HTML / f"{p}.html").read_text()
    ]
    if not with_widgets:
        pytest.skip("no page of the site stores widget state")
    for page_path in with_widgets:
        v = visit(page_path)
        _check_page(v, require_math=False)
        v.page.wait_for_selector(".jupyter-widgets", state="attached")
        assert v.page.locator(".jupyter-widgets").count() > 0, f"{v.url}: no widget rendered"
