# Two commands work on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test bench lint browser clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

# The stamps make both targets idempotent: re-installs happen only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[datasets,plot]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/activate
	$(PIP) install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

# The main job: every chapter group run on real data into report/index.html.
run: $(VENV)/.installed
	$(VENV)/bin/deltagrad tour --out report

# Headless Chromium renders the tour page and, driven by Playwright (the dev extra), the
# playground in tests; Debian's package, when we may install it (never a downloaded browser).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium with apt-get (the system package manager) for the test that" \
	      "renders the tour page; without it that test is skipped"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	      >/dev/null 2>&1 || echo "chromium could not be installed: its test will be skipped"; \
	  else echo "chromium is not installed: its test will be skipped"; fi; }

test: $(VENV)/.installed-dev browser
	$(PY) -m pytest

# conv, rnn and attention print two columns: one thread each by CPU time, two threads by wall
# clock (with the load average beside it: only a quiet machine's wall clock means anything).
bench: $(VENV)/.installed-dev
	$(PY) bench/mlp.py
	$(PY) bench/fit.py
	$(PY) bench/floor.py
	$(PY) bench/conv.py
	$(PY) bench/rnn.py
	$(PY) bench/attention.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests bench examples

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache report
