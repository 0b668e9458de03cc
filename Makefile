# porter-sandbox: every command a developer or CI needs.
# `make test` and `make demo` set everything up on a machine with only Python 3, make and git.
# `make demo` and `make serve` install only what they need (the SDK and the `server` extra);
# everything else installs the development tools as well.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# What is installed in .venv: the `server` extra (RUNTIME), or that and the `dev` tools (STAMP).
RUNTIME := $(VENV)/.installed-server
STAMP := $(VENV)/.installed

.PHONY: install test lint format generate check-generated demo serve bench dist clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[server]'
	touch $(RUNTIME)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[server,kubernetes,dev]'
	touch $(STAMP) $(RUNTIME)

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

# Build the sdist and the wheel (from the sdist, so the sdist is known to be complete) into dist/.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .

# Start a local server on 127.0.0.1:8080 with its data in .porter-sandbox/.
serve: $(RUNTIME)
	$(PY) -m porter_sandbox_server serve --data-dir .porter-sandbox

# Set up, start a local server on a free port, run examples/quickstart.py against it, stop it.
demo: $(RUNTIME)
	$(PY) scripts/demo.py

# Measure the SDK and the runtimes; prints a table and writes bench-results.json.
bench: $(STAMP)
	$(PY) scripts/bench.py
