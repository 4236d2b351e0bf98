# Everything installs into .venv on first use; only Python 3.11+ and git are needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: plan and apply the example repository against the embedded emulator
demo: $(STAMP)
	$(BIN)/python -m dsgit.demo

## test: the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: ruff and mypy, as CI runs them
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict src

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .dsgit build dist src/*.egg-info
