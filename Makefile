# Everything installs into .venv on first use; only Python 3.11+ and git are needed
# (and node/npm for the Luau parser the codegen tests use, installed into .venv/node_modules).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STYLUA_VERSION := 2.5.2
STYLUA_STAMP := $(VENV)/node_modules/.stylua-$(STYLUA_VERSION)

.PHONY: demo test lint bench clean stylua chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: plan and apply the example repository against the embedded emulator
demo: $(STAMP)
	$(BIN)/python -m dsgit.demo

## test: the whole test suite
test: $(STAMP) stylua chromium
	$(BIN)/python -m pytest -q

## stylua: StyLua (npm @johnnymorganz/stylua-bin, a Luau parser) in .venv/node_modules, for
## the codegen tests; without npm they skip, and fail when CI is set
stylua: $(STAMP)
	@if [ -f $(STYLUA_STAMP) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  { npm install --prefix $(VENV) --no-save --no-audit --no-fund --loglevel=error \
	      @johnnymorganz/stylua-bin@$(STYLUA_VERSION) && \
	    $(VENV)/node_modules/.bin/stylua --version && touch $(STYLUA_STAMP); } || \
	  echo "StyLua could not be installed: the Luau parser tests will skip, or fail in CI"; \
	else echo "npm not found: the Luau parser tests (tests/codegen) will skip, or fail in CI"; fi

## chromium: Debian's Chromium for the report's end-to-end test (tests/insight), installed
## with apt-get when missing and running as root (as CI does); otherwise that test skips, and
## fails when CI is set
chromium:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
	    >/dev/null 2>&1 && chromium --version || \
	  echo "chromium could not be installed: the report's browser test will skip, or fail in CI"; \
	else echo "chromium not found (install Debian's chromium): the report's browser test will skip, or fail in CI"; fi

## lint: ruff and mypy, as CI runs them
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict src

## bench: list the benchmarks; `make bench BENCH="plan_budget apply_budget" ARGS=--quick` runs them
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH) $(if $(ARGS),-- $(ARGS))

clean:
	rm -rf $(VENV) .dsgit build dist src/*.egg-info
