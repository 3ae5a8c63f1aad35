# Two commands work on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test bench clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

# The stamps make both targets idempotent: re-installs happen only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[datasets,plot]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(PY) -m deltagrad.main

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed-dev
	$(PY) bench/mlp.py
	$(PY) bench/fit.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
