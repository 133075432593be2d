# mltrail developer commands. `make run` and `make test` each do their own set-up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_WORKERS ?= 2

.PHONY: install browsers run test test-fast test-ui check lint typecheck format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The browser tests (tests/ui) drive Debian's Chromium; install it when it is missing.
browsers:
	@command -v chromium >/dev/null || (apt-get install -y chromium || (apt-get update && apt-get install -y chromium))

run: install
	$(VENV)/bin/mltrail server

check: install lint typecheck

lint: install
	$(VENV)/bin/ruff check src tests bench examples
	$(VENV)/bin/ruff format --check src tests bench examples
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests bench examples
	$(VENV)/bin/ruff check --fix src tests bench examples

# The fast inner loop: unit tests and the SQLite contract suite (the browser tests are left out).
test-fast: install
	$(PY) -m pytest -q -m "not postgres and not mysql and not integration and not slow and not ui" -n $(PYTEST_WORKERS)

# The web UI in headless Chromium.
test-ui: install browsers
	$(PY) -m pytest -q tests/ui -n $(PYTEST_WORKERS)

# Everything CI runs: static checks, then every test tier.
test: check browsers
	$(PY) -m pytest -q -n $(PYTEST_WORKERS)

bench: install
	$(PY) bench/tracking_local.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
