# govflow: the two commands are `make up` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test browser lint typecheck contracts pytest bench schema clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/govflow up

test: $(STAMP) browser lint typecheck contracts pytest

# The board's browser test drives Debian's Chromium (CJK fonts for the screenshot). Installed
# here when running as root (as CI does); otherwise install it yourself: apt-get install chromium
BROWSER_PACKAGES := chromium fonts-wqy-zenhei
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(BROWSER_PACKAGES) from Debian"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null 2>&1 || \
	  { apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(BROWSER_PACKAGES) >/dev/null; }; \
	else echo "chromium is missing: the browser test will skip (fail under CI=true)"; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

# Two workers (pytest-xdist): much of the suite waits on processes (Temporal, `govflow up`,
# Chromium, the CLI), so two keep CI's two cores busy. Each worker has its own Temporal dev
# server, free ports, databases and temporary files; a file's tests stay on one worker, so a
# module's fixtures (one `govflow up` for test_cli_login, ...) start once, and files are handed
# out in the suite's order (tests/conftest.py puts those with e2e tests first, so no long one
# starts last; xdist's default is the files with the most tests first). Test ids must be the
# same in every worker (no random value in a parametrize id). PYTEST_WORKERS=0 runs it in one
# process.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(BIN)/python -m govflow.bench

schema: $(STAMP)
	$(BIN)/govflow schema export

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
