# The two commands of the README:
#   make run    set up and run the whole system on this machine (SQLite, local files, one process)
#   make test   set up and run the tests (ruff, mypy, pytest on SQLite and, where reachable, PostgreSQL)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: setup system-deps run test lint typecheck pytest clean open311-client
OPEN311_CLIENT := tests/open311_conformance/node_modules/.installed

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev,whisper]"
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

setup: $(STAMP)

# The third-party Open311 client (npm "open311") that tests/integration/test_open311.py drives. Its XML parser
# (node-expat) compiles against the machine's Node.js headers; without npm the test skips with its reason.
$(OPEN311_CLIENT): tests/open311_conformance/package-lock.json
	@if command -v npm >/dev/null; then \
	  cd tests/open311_conformance && npm ci --no-audit --no-fund --loglevel=error \
	  && npm_config_nodedir="$$(dirname "$$(dirname "$$(command -v node)")")" npm rebuild node-expat --loglevel=error \
	  && touch node_modules/.installed; \
	else echo "npm not found: the Open311 third-party client test will skip"; fi

open311-client: $(OPEN311_CLIENT)

system-deps:
	@bash scripts/system-deps.sh

run: setup system-deps
	@bash scripts/run.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

pytest: setup open311-client
	@bash scripts/pytest.sh

test: setup system-deps lint typecheck pytest

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
