"""Rules of the repository that a review would otherwise have to check by hand."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml
from toc import toc_pages

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
CLAIMS = ROOT / "book" / "claims.md"
LIBRARY = ROOT / "lib" / "gradflows"
NOT_API = {"bench"}  # a command (`make bench`), not part of the API

CLAIM_ID = r"[A-Z][A-Z0-9]*-\d+"
# `# claim SGD-3` in a code cell (also `# claims SGD-4, SGD-5`).
CLAIM_COMMENT = re.compile(rf"#\s*claims?\s+({CLAIM_ID}(?:\s*(?:,|and)\s*{CLAIM_ID})*)")
NOTEBOOK_LINK = re.compile(r"notebooks/([A-Za-z0-9_\-/]+?)(?:\.ipynb)?(?=[`>)\s#]|$)")


def _notebooks() -> list[Path]:
    return sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _name(path: Path) -> str:
    """A notebook as _toc.yml names it: notebooks/01-sgd/01-gradient-flow."""
    return path.relative_to(ROOT).with_suffix("").as_posix()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _toc_files() -> list[str]:
    return toc_pages()


NOTEBOOKS = _notebooks()
NB_IDS = [_name(p) for p in NOTEBOOKS]


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no notebook under notebooks/"


def test_every_notebook_is_in_the_toc() -> None:
    listed = {f.removesuffix(".ipynb").removesuffix(".md") for f in _toc_files()}
    missing = [n for n in NB_IDS if n not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_every_toc_entry_exists() -> None:
    missing = [
        f
        for f in _toc_files()
        if not any(
            (ROOT / f"{f.removesuffix('.ipynb').removesuffix('.md')}{s}").is_file() for s in (".md", ".ipynb")
        )
    ]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = _load(path)
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{_name(path)}: cells {dirty} carry outputs or execution counts; clear them "
        "(JupyterLab: Edit > Clear Outputs of All Cells; or "
        "`jupyter nbconvert --clear-output --inplace`)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_cells_have_unique_ids(path: Path) -> None:
    # nbformat 4.5 requires cell ids (a missing one is a warning today, an error later).
    ids = [cell.get("id") for cell in _load(path)["cells"]]
    missing = [i for i, cid in enumerate(ids) if not cid]
    assert not missing, f"{_name(path)}: cells {missing} have no id; run nbformat's normalize()"
    assert len(set(ids)) == len(ids), f"{_name(path)}: duplicate cell ids"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_uses_the_standard_kernel(path: Path) -> None:
    # Binder and CI know the kernel "python3" (in .venv it is the venv's Python).
    name = _load(path).get("metadata", {}).get("kernelspec", {}).get("name")
    assert name == "python3", f"{_name(path)}: kernelspec {name!r}, expected 'python3'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_is_seeded(path: Path) -> None:
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    names = ["gradflows"] + re.findall(r"^\s*import\s+gradflows\s+as\s+(\w+)", code, re.M)
    calls = [rf"\b{re.escape(n)}\.seed\(" for n in names]
    if re.search(r"^\s*from\s+gradflows(?:\.device)?\s+import\s+[^\n]*\bseed\b", code, re.M):
        calls.append(r"(?<![.\w])seed\(")
    assert any(re.search(c, code) for c in calls), f"{_name(path)}: no gradflows.seed(...) call"


LITERAL_SEED = re.compile(
    r"torch\.manual_seed\(|\.manual_seed\(|np\.random\.default_rng\(|np\.random\.seed\(|\brandom\.seed\("
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_notebook_draws_go_through_the_seed_switch(path: Path) -> None:
    """Every random draw follows GRADFLOWS_SEED: gf.seed / gf.generator / gf.numpy_rng, no literal seeds."""
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    found = sorted({m.group(0) for m in LITERAL_SEED.finditer(code)})
    assert not found, f"{_name(path)}: literal seeds {found}; use gf.seed, gf.generator or gf.numpy_rng"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NB_IDS)
def test_explorers_go_through_gradflows_interact(path: Path) -> None:
    """Explorers use gf.plotting.interact, which the site build and the tests run static
    (GRADFLOWS_WIDGETS=static): a live ipywidgets.interact can stall an executed notebook."""
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    found = re.findall(r"(?<!plotting\.)\binteract(?:ive|ive_output)?\(", code)
    assert not found, f"{_name(path)}: {found}; use gf.plotting.interact(update, **controls)"


def test_library_draws_go_through_the_seed_switch() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in sorted(LIBRARY.rglob("*.py"))
        if p.name != "device.py"
        for m in LITERAL_SEED.finditer(p.read_text(encoding="utf-8"))
    ]
    assert not offenders, f"literal seeds in the library (use gradflows.device.seed/generator): {offenders}"


def _claims_in_notebooks() -> dict[str, set[str]]:
    """Claim id -> notebooks whose code cells check it."""
    found: dict[str, set[str]] = {}
    for path in NOTEBOOKS:
        for cell in _load(path)["cells"]:
            if cell["cell_type"] != "code":
                continue
            for match in CLAIM_COMMENT.finditer(_source(cell)):
                for claim in re.findall(CLAIM_ID, match.group(1)):
                    found.setdefault(claim, set()).add(_name(path))
    return found


def _claims_in_claims_md() -> dict[str, set[str]]:
    """Claim id -> notebooks linked on the line of book/claims.md that states it."""
    found: dict[str, set[str]] = {}
    for line in CLAIMS.read_text(encoding="utf-8").splitlines():
        row = re.match(rf"\s*(?:\|\s*|[-*]\s+)\**({CLAIM_ID})\b", line)
        if row:
            links = {f"notebooks/{m}" for m in NOTEBOOK_LINK.findall(line)}
            found.setdefault(row.group(1), set()).update(links)
    return found


def test_every_checked_claim_is_listed_with_its_notebook() -> None:
    listed = _claims_in_claims_md()
    problems = [
        f"{claim} (checked in {nb}) is not listed in book/claims.md with a link to {nb}"
        for claim, notebooks in sorted(_claims_in_notebooks().items())
        for nb in sorted(notebooks)
        if nb not in listed.get(claim, set())
    ]
    assert not problems, "\n".join(problems)


def test_every_listed_claim_is_checked_where_it_says() -> None:
    checked = _claims_in_notebooks()
    problems = [
        f"book/claims.md says {claim} is checked in {nb}, which has no `# claim {claim}`"
        for claim, notebooks in sorted(_claims_in_claims_md().items())
        for nb in sorted(notebooks)
        if nb not in checked.get(claim, set())
    ]
    assert not problems, "\n".join(problems)


def _pins(requirements: list[str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for req in requirements:
        req = req.split("#")[0].strip()
        if not req or req.startswith("-") or req.startswith("."):
            continue  # pip options and the package itself
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)", req)
        assert match, f"not pinned with ==: {req!r}"
        pins[re.sub(r"[-_.]+", "-", match.group(1)).lower()] = match.group(2)
    return pins


def test_environment_yml_repeats_the_pins_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    pyproject = _pins(project["dependencies"] + extras.get("book", []) + extras.get("test", []))

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_sections) == 1, "environment.yml needs one pip: section"
    environment = _pins(pip_sections[0])
    assert any(str(line).strip() in ("-e .", ".") for line in pip_sections[0]), (
        "environment.yml does not install this package (`-e .`)"
    )

    assert environment == pyproject, (
        f"only in pyproject.toml: {sorted(set(pyproject.items()) - set(environment.items()))}; "
        f"only in environment.yml: {sorted(set(environment.items()) - set(pyproject.items()))}"
    )


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make book", "make test"):
        assert command in readme, f"README.md does not mention `{command}`"


def _library_modules() -> list[str]:
    """Dotted names (below ``gradflows.``) of the public modules and subpackages of the library."""
    names = []
    for p in sorted(LIBRARY.rglob("*.py")):
        parts = p.relative_to(LIBRARY).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(q.startswith("_") for q in parts) or parts[0] in NOT_API:
            continue
        names.append(".".join(parts))
    return names


def test_every_library_module_is_in_the_api_reference() -> None:
    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    missing = [m for m in _library_modules() if f"automodule:: gradflows.{m}" not in api]
    assert not missing, f"modules missing from book/api.md: {missing}"


def test_references_share_no_code_with_what_they_check() -> None:
    """An independent reference imports nothing from the library but validation and devices."""
    allowed = ("gradflows._validation", "gradflows.device", "gradflows._errors", "gradflows.references")
    offenders = []
    for p in sorted((LIBRARY / "references").glob("*.py")):
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                # inside gradflows.references: one dot is this subpackage, two dots the library
                base = ["", "gradflows.references", "gradflows"][min(node.level, 2)]
                mod = ".".join(x for x in (base, node.module) if x)
                names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            else:
                continue
            bad = [n for n in names if n.split(".")[0] == "gradflows" and not n.startswith(allowed)]
            offenders += [f"{p.name}: {n}" for n in bad]
    assert not offenders, f"references import library code: {offenders}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_cells_stay_short(path: Path) -> None:
    """A student reads every cell: machinery belongs in the library (no code cell over 60 lines)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    long = [
        (i, n)
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code"
        and (n := sum(1 for ln in "".join(c["source"]).split("\n") if ln.strip())) > 60
    ]
    assert not long, f"{path.name}: code cells over 60 non-blank lines (cell, lines): {long}"


# A number with three or more significant digits typed in a notebook's markdown is a result
# of some run; it must come from the computation (MyST-NB glue, or printed output). Numbers
# that also appear in the notebook's code are inputs (parameters) and are allowed, and so are
# references to the numbered equations and statements of a source: "(5.15)", "Lemma 5.1.2".
TYPED_RESULT = re.compile(r"(?<![\w.{}`-])(\d+\.\d+)(?![\w.}])")
GLUE_ROLE = re.compile(r"\{glue:[a-z]+\}`[^`]*`")
SOURCE_REFERENCE = re.compile(
    r"\(\d+(\.\d+)+\)"
    r"|\b(Lemma|Theorem|Remark|Definition|Proposition|Corollary|Section|Sections|Chapter|Example"
    r"|Algorithm|Figure|Table|[Ee]quations?|[Ee]qs?\.|§)\s*\d+(\.\d+)+"
    r"(\s*(,|and|-|–|to)\s*\d+(\.\d+)+)*"
)
NUMBERS_CHECKED = ("notebooks/",)


def _significant_digits(number: str) -> int:
    return len(number.replace(".", "").lstrip("0"))


@pytest.mark.parametrize(
    "path",
    [p for p in NOTEBOOKS if _name(p).startswith(NUMBERS_CHECKED)],
    ids=[n for n in NB_IDS if n.startswith(NUMBERS_CHECKED)],
)
def test_markdown_quotes_results_through_glue(path: Path) -> None:
    cells = _load(path)["cells"]
    code = "\n".join(_source(c) for c in cells if c["cell_type"] == "code")
    typed = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        text = SOURCE_REFERENCE.sub("", GLUE_ROLE.sub("", _source(cell)))
        for m in TYPED_RESULT.finditer(text):
            if _significant_digits(m.group(1)) >= 3 and m.group(1) not in code:
                typed.append(f"cell {i}: {m.group(1)}")
    assert not typed, f"{_name(path)}: numbers typed in markdown, glue them or print them: {typed}"


def test_one_divergence_error_for_the_whole_library() -> None:
    """Every non-finite run raises gradflows.DivergenceError (package root); no module defines its own."""
    import gradflows as gf

    assert gf.DivergenceError.__module__ == "gradflows"  # one documented name
    assert issubclass(gf.DivergenceError, RuntimeError) and issubclass(gf.DivergenceError, FloatingPointError)
    for p in LIBRARY.glob("*.py"):
        text = p.read_text()
        assert "class DivergenceError" not in text or p.name == "_errors.py", p.name
        assert "raise FloatingPointError" not in text, f"{p.name}: raise gradflows.DivergenceError instead"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebooks_glue_through_gradflows(path: Path) -> None:
    """One way to publish numbers for the prose: gradflows.claims.glue (myst_nb.glue writes the same
    output but imports nbformat/jsonschema, seconds per kernel)."""
    code = "\n".join(_source(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
    assert "myst_nb" not in code, f"{_name(path)}: use `from gradflows.claims import glue`"
