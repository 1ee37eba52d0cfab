# Two commands: `make app` sets up and starts the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: app test setup setup-dev chromium lint bench clean

app: setup
	$(PY) -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

test: setup-dev chromium
	$(PY) -m pytest -q

setup: $(STAMP)
setup-dev: $(DEVSTAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(DEVSTAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# Debian's Chromium drives the real-browser test (never `playwright install`: no downloads here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser test"; \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get update -qq && \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get install -y -qq chromium >/dev/null; }

lint: setup-dev
	$(VENV)/bin/ruff check trainer insight_ui tests bench app.py

bench: setup
	$(PY) bench/bench_fit.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
