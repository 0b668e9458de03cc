# porter-sandbox: every command a developer or CI needs.
# `make test` and `make demo` set everything up on a machine with only Python 3, make and git.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint format generate check-generated demo serve bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[server,dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP) check-generated lint
	$(PY) -m pytest

lint: $(STAMP)
	$(PY) -m ruff format --check src tests scripts examples
	$(PY) -m ruff check src tests scripts examples
	$(PY) -m mypy src

format: $(STAMP)
	$(PY) -m ruff format src tests scripts examples
	$(PY) -m ruff check --fix src tests scripts examples

generate: $(STAMP)
	$(PY) scripts/generate.py

check-generated: $(STAMP)
	$(PY) scripts/generate.py --check

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dist build

# Start a local server on 127.0.0.1:8080 with its data in .porter-sandbox/.
serve: $(STAMP)
	$(PY) -m porter_sandbox_server serve --data-dir .porter-sandbox

# Set up, start a local server on a free port, run examples/quickstart.py against it, stop it.
demo: $(STAMP)
	$(PY) scripts/demo.py

# Measure the SDK and the runtimes; prints a table and writes bench-results.json.
bench: $(STAMP)
	$(PY) scripts/bench.py
