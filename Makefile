# The two commands of the README. Both create .venv when it is missing and install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.golive-installed
DEVSTAMP := $(VENV)/.golive-dev-installed
DEMO_DIR ?= golive-demo

.PHONY: demo test install dev clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml setup.py
	@echo "installing golive into $(VENV) (log: $(VENV)/install.log)"
	@$(BIN)/pip install -e . > $(VENV)/install.log 2>&1 || (cat $(VENV)/install.log; exit 1)
	@touch $@

$(DEVSTAMP): $(STAMP)
	@echo "installing dev dependencies into $(VENV) (log: $(VENV)/install-dev.log)"
	@$(BIN)/pip install -e ".[dev]" > $(VENV)/install-dev.log 2>&1 || (cat $(VENV)/install-dev.log; exit 1)
	@touch $@

install: $(STAMP)
dev: $(DEVSTAMP)

## make demo: build the demo trading workspace in each profile, run the whole plan, print where the PDFs are
demo: $(STAMP)
	$(BIN)/golive demo $(DEMO_DIR) --profile all --force

## make test: install dev dependencies and run the test suite
test: $(DEVSTAMP)
	$(BIN)/python -m pytest -n auto -q

## make bench: the speed comparisons in benchmarks/
bench: $(DEVSTAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_DIR) build *.egg-info .pytest_cache
