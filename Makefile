# mltrail developer commands. `make run` and `make test` each do their own set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install browsers run test test-fast test-ui check lint typecheck format bench clean vendor-js

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests (tests/ui) drive Debian's Chromium and Firefox ESR; install them when missing.
browsers:
	@command -v chromium >/dev/null || (apt-get install -y chromium || (apt-get update && apt-get install -y chromium))
	@command -v firefox-esr >/dev/null || (apt-get install -y firefox-esr || (apt-get update && apt-get install -y firefox-esr))

run: install
	$(VENV)/bin/mltrail server

check: install lint typecheck

lint: install
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples README.md docs
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests bench examples README.md docs
	$(VENV)/bin/ruff check --fix src tests bench examples

# The fast inner loop: unit tests and the SQLite contract suite (the browser tests are left out).
test-fast: install
	$(PY) -m pytest -q -m "not postgres and not mysql and not integration and not slow and not ui" -n $(PYTEST_WORKERS)

# The web UI in headless Chromium and Firefox.
test-ui: install browsers
	$(PY) -m pytest -q tests/ui -n $(PYTEST_WORKERS)

# Everything CI runs: static checks, then every test tier.
test: check browsers
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

# Third-party JavaScript the UI ships (src/mltrail/ui/static/vendor/): uPlot, at a pinned version.
UPLOT_VERSION := 1.6.32
UPLOT_DIR := src/mltrail/ui/static/vendor/uplot

vendor-js:
	@command -v npm >/dev/null || (echo "vendor-js needs npm" >&2; exit 1)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  (cd "$$tmp" && npm pack --silent uplot@$(UPLOT_VERSION) >/dev/null && tar -xzf uplot-$(UPLOT_VERSION).tgz) && \
	  mkdir -p $(UPLOT_DIR) && \
	  cp "$$tmp/package/dist/uPlot.iife.min.js" "$$tmp/package/dist/uPlot.min.css" "$$tmp/package/LICENSE" $(UPLOT_DIR)/ && \
	  echo "uPlot $(UPLOT_VERSION) copied to $(UPLOT_DIR) (update its README.md if the version changed)"

bench: install
	$(PY) bench/tracking_local.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
