# Two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup system-deps lint typecheck pytest bench fuzz clean

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

# Every fuzz target for a bounded time each (not part of `make test`, which replays what
# failed before): atheris where it installs, else the built-in mutator.  Figures in var/fuzz.
FUZZ_SECONDS ?= 60
fuzz: setup
	-$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[fuzz]"
	$(BIN)/python -m fuzz run --all --seconds $(FUZZ_SECONDS) --json var/fuzz/results.json

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
