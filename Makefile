# `make demo` and `make test` each set up .venv (when missing or out of date) and run.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint bench generate clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dlgrade demo

# Two workers (pytest-xdist): the sandboxes lease their uids machine-wide, so tests run side by side as a batch's do.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# Under a minute on two cores: what is not marked slow (tests/conftest.py).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check grader tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

generate: $(STAMP)
	$(BIN)/dlgrade generate

clean:
	rm -rf $(VENV) build *.egg-info
