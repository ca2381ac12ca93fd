# Daiban — two commands on a fresh machine:
#   make run    set up (virtualenv, pinned install, database) and run on the embedded default
#   make test   the same set-up, what the tests need (when it can be installed), every check and test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup test-deps lint typecheck pytest db clean

run: setup db
	$(BIN)/daiban run

test: setup test-deps lint typecheck pytest

setup: $(STAMP)

# Re-install only when the declared or pinned dependencies change.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Daiban needs Python >= 3.11; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11 and try again.")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

# What some tests need beyond Python: Debian's chromium (the emulator's browser test) and a
# PostgreSQL server (the storage and fault tests). Installed or found when possible; what
# is still missing is named, with its fix, in one line at the end of the test run.
test-deps:
	@scripts/test-deps.sh

db: setup
	$(BIN)/daiban db upgrade

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy domain storage

pytest: setup test-deps
	@. scripts/test-env.sh && $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var/*.sqlite3* .pytest_cache .mypy_cache .ruff_cache
