# Every task of the project. The first `make book`, `make test` or `make lab` creates
# the virtual environment .venv and installs the pinned dependencies (pyproject.toml)
# and the pinned JavaScript of the site (book/vendor/package-lock.json); later runs
# reinstall only what changed. Nothing is installed outside this folder.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
MAKEFLAGS += --warn-undefined-variables --no-builtin-rules --no-print-directory
.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := help

PY ?= python3
NPM ?= npm
VENV := .venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.installed

VENDOR := book/vendor
NODE_MODULES := $(VENDOR)/node_modules
NPM_STAMP := $(NODE_MODULES)/.installed
# html_extra_path in _config.yml: its contents are copied to the root of _build/html,
# so the scripts land in _build/html/_static/vendor (Sphinx resolves the relative
# script paths of _config.yml against _static, and then relative to each page).
SITE_ASSETS := $(VENDOR)/site
SITE_VENDOR := $(SITE_ASSETS)/_static/vendor
ASSETS_STAMP := $(SITE_ASSETS)/.copied

BUILD := _build
HTML := $(BUILD)/html

# MPLBACKEND is removed for anything that runs a Jupyter kernel: the kernel then uses
# the inline backend, so figures reach the book (MPLBACKEND=Agg would hide them).
JB := env -u MPLBACKEND $(BIN)/jupyter-book
JB_BUILD := $(JB) build . -W -n --keep-going --all
# The build executes uncached notebooks one at a time; book/fill_cache.py first executes them
# BOOK_JOBS at a time into the same cache, so that the build only reads them.
BOOK_JOBS ?= 2
FILL_CACHE := env -u MPLBACKEND $(BIN)/python book/fill_cache.py --jobs $(BOOK_JOBS)
NBVAL_WORKERS ?= 2
# make test-seeds: the notebook tests once per base seed (GRADFLOWS_SEED), on NOTEBOOKS.
SEEDS ?= 0 1 2 3 4
NOTEBOOKS ?= notebooks
SEED_REPORTS ?= $(BUILD)/test-seeds
# make coursework: the nbgrader course tree (instructor and student versions) of every notebook,
# one assignment per notebook (COURSEWORK_BY=part: one per part). FORCE=1 regenerates files
# that were changed since they were generated (otherwise the command refuses and names them).
COURSEWORK := $(BUILD)/coursework
COURSEWORK_BY ?= notebook
FORCE ?=

# No progress bars in builds and tests, and no live widgets: gradflows.plotting.interact draws
# the figure of the initial values under disabled controls (a live ipywidgets.interact whose
# callback prints or plots into its Output widget can leave the kernel's reply to the cell
# undelivered on a loaded machine, and the executor then waits for the cell timeout).
book test test-lint test-unit test-notebooks test-build test-site test-seeds: export GRADFLOWS_PROGRESS := 0
book test test-lint test-unit test-notebooks test-build test-site test-seeds: export GRADFLOWS_WIDGETS := static

.PHONY: help book test lab clean distclean bench robustness venv assets coursework \
        test-lint test-unit test-notebooks test-build test-site test-seeds

help:
	@echo "make book       build the site (executes the notebooks) into $(HTML)"
	@echo "make test       lint, unit tests, every notebook, the site build, the site in a browser"
	@echo "make lab        JupyterLab with the project's kernel"
	@echo "make test-seeds every notebook once per seed: SEEDS=\"0 1 2 3 4\" [NOTEBOOKS=notebooks/05-tdgf]"
	@echo "make coursework student versions and the nbgrader course in $(COURSEWORK) [COURSEWORK_BY=part] [FORCE=1]"
	@echo "make bench      benchmarks (saved to book/results/bench.json)"
	@echo "make robustness every public callable with bad arguments (book/results/robustness.json)"
	@echo "make clean      remove build outputs and caches (keeps .venv)"
	@echo "make distclean  clean, and remove .venv and $(NODE_MODULES)"

# --- environment -----------------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[book,test]'
	@# The venv's own "python3" kernel, labelled for JupyterLab. Notebooks keep the
	@# kernel name python3, which also exists on Binder and in CI.
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 \
		--display-name 'Python 3 (gradflows)' >/dev/null
	@touch $@

assets: $(ASSETS_STAMP)

$(NPM_STAMP): $(VENDOR)/package.json $(VENDOR)/package-lock.json
	cd $(VENDOR) && $(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

$(ASSETS_STAMP): $(NPM_STAMP) $(VENDOR)/widgets-setup.js
	rm -rf $(SITE_ASSETS)
	mkdir -p $(SITE_VENDOR)/html-manager
	cp -R $(NODE_MODULES)/mathjax/es5 $(SITE_VENDOR)/mathjax
	cp $(NODE_MODULES)/requirejs/require.js $(VENDOR)/widgets-setup.js $(SITE_VENDOR)/
	find $(NODE_MODULES)/@jupyter-widgets/html-manager/dist -maxdepth 1 -type f \
		-not -name '*.map' -exec cp {} $(SITE_VENDOR)/html-manager/ \;
	@touch $@

# --- the book --------------------------------------------------------------------

book: $(VENV_STAMP) $(ASSETS_STAMP)
	$(FILL_CACHE)
	$(JB_BUILD)
	@echo
	@echo "The book is built. Open file://$(CURDIR)/$(HTML)/index.html"

# --- coursework ------------------------------------------------------------------

coursework: $(VENV_STAMP)
	$(BIN)/python -m gradflows.coursework --out $(COURSEWORK) --by $(COURSEWORK_BY) $(if $(FORCE),--force)

# --- tests -----------------------------------------------------------------------

TEST_STEPS := lint unit notebooks build site

test: $(VENV_STAMP) $(ASSETS_STAMP)
	@mkdir -p $(BUILD); : > $(BUILD)/test-timings.txt; \
	for step in $(TEST_STEPS); do \
	  echo "=== make test: $$step"; \
	  start=$$(date +%s.%N); status=0; \
	  $(MAKE) test-$$step || status=$$?; \
	  secs=$$(awk -v a="$$start" -v b="$$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'); \
	  result=$$([ $$status -eq 0 ] && echo ok || echo FAILED); \
	  printf '%-10s %8s s  %s\n' "$$step" "$$secs" "$$result" >> $(BUILD)/test-timings.txt; \
	  echo "=== make test: $$step $$result in $$secs s"; \
	  if [ $$status -ne 0 ]; then echo; cat $(BUILD)/test-timings.txt; exit $$status; fi; \
	done; \
	echo; echo "make test: all steps passed"; cat $(BUILD)/test-timings.txt

test-lint: $(VENV_STAMP)
	$(BIN)/ruff check lib tests notebooks book
	$(BIN)/ruff format --check lib tests book

test-unit: $(VENV_STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest tests -q -m 'not site'

# One kernel per notebook: --dist loadfile keeps a notebook's cells on one worker. A cell
# that runs past the time limit of the site build (300 s, _config.yml) fails the test.
test-notebooks: $(VENV_STAMP)
	env -u MPLBACKEND $(BIN)/python -m pytest -q --nbval-lax --nbval-current-env \
		--nbval-cell-timeout=300 -p no:randomly -n $(NBVAL_WORKERS) --dist loadfile $(NOTEBOOKS)

# The notebook tests once per seed (not part of `make test`, which keeps seed 0). Every claims
# check that goes through gradflows.claims.check appends its value and tolerance to
# $(SEED_REPORTS)/claims.jsonl; the summary prints each claim's smallest margin over the seeds.
test-seeds: $(VENV_STAMP)
	@rm -rf $(SEED_REPORTS); mkdir -p $(SEED_REPORTS); status=0; \
	for s in $(SEEDS); do \
	  echo "=== make test-seeds: GRADFLOWS_SEED=$$s"; \
	  GRADFLOWS_SEED=$$s GRADFLOWS_CLAIMS_LOG=$(CURDIR)/$(SEED_REPORTS)/claims.jsonl \
	    $(MAKE) test-notebooks NOTEBOOKS="$(NOTEBOOKS)" 2>&1 | tee $(SEED_REPORTS)/seed-$$s.log \
	    || status=1; \
	done; \
	$(BIN)/python -c 'import sys; from gradflows.claims import report; sys.exit(report(sys.argv[1:]))' \
	  $(SEED_REPORTS)/claims.jsonl $(SEED_REPORTS)/seed-*.log; \
	if [ -f $(SEED_REPORTS)/claims.jsonl ]; then \
	  $(BIN)/python -c 'import sys; from gradflows.claims import seeds_json; seeds_json(sys.argv[1], sys.argv[2:])' \
	    $(SEED_REPORTS)/seeds.json $(SEED_REPORTS)/claims.jsonl; \
	  echo "per-claim summary: $(SEED_REPORTS)/seeds.json (copy it to book/results/ for the appendix)"; \
	fi; \
	exit $$status

# A fresh Sphinx environment (--all) so that every page's warnings are reported again;
# executed notebooks still come from the cache in $(BUILD)/.jupyter_cache.
test-build: $(VENV_STAMP) $(ASSETS_STAMP)
	$(FILL_CACHE)
	$(JB_BUILD)

test-site: $(VENV_STAMP)
	GRADFLOWS_REQUIRE_SITE=1 $(BIN)/python -m pytest tests/test_site.py -q -m site

# --- other tasks -----------------------------------------------------------------

lab: $(VENV_STAMP)
	env -u MPLBACKEND $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(VENV_STAMP)
	$(BIN)/python -m gradflows.bench --json book/results/bench.json

# Every bad-argument variant of every public callable (tests/api), classified; the appendix
# "Performance and reliability" plots the JSON.
robustness: $(VENV_STAMP)
	GRADFLOWS_PROGRESS=0 $(BIN)/python tests/api/sweep.py --json book/results/robustness.json

# The course folder $(COURSEWORK) is kept: it holds the gradebook, submissions and feedback.
clean:
	@if [ -d $(BUILD) ]; then find $(BUILD) -mindepth 1 -maxdepth 1 ! -name coursework -exec rm -rf {} +; fi
	@if [ -d $(COURSEWORK) ]; then echo "kept $(COURSEWORK) (gradebook, submissions); remove it by hand"; \
	  else rm -rf $(BUILD); fi
	rm -rf $(SITE_ASSETS) .pytest_cache .ruff_cache .jupyter_cache
	find . -path ./$(VENV) -prune -o -path ./$(NODE_MODULES) -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints -o -name .pytest_cache \) \
		-type d -print0 | xargs -0 rm -rf

distclean: clean
	rm -rf $(VENV) $(NODE_MODULES) lib/*.egg-info
