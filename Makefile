# Two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps lint typecheck pytest bench clean

run: setup
	$(BIN)/voice-agent models verify
	@# A first run gets the demo shop, so there is something to ask about.
	test -f var/voice_agent.sqlite3 || $(BIN)/voice-agent data demo
	$(BIN)/voice-agent serve

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest

setup: system-deps $(STAMP)

# Debian packages the tests and the agent need (speech voices, SIP peers, database, browser).
system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/voice-agent models prepare
	touch $(STAMP)

bench: setup
	$(BIN)/python -m benchmarks.stages
	$(BIN)/python -m benchmarks.dialogue
	$(BIN)/python -m benchmarks.calls

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
