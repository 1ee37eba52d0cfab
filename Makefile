# Two commands: `make app` sets up and starts the app; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: app test setup setup-dev chromium postgresql lint bench clean lock

# This machine only, unless ADDRESS says otherwise; another address is refused while no sign-in is set up.
app: setup
	$(PY) -m insight_ui.launch --address $(ADDRESS) --port $(PORT)

# First the numerics-sensitive tests (pyproject's `kernels` marker: fine-tuning, precision, attribution,
# embeddings, divergence) under the kernels an AVX2-only CPU runs, whatever CPU this is; then everything.
# Two test files at a time (pytest-xdist, a file's tests in one process, the longest first), except that the
# real-browser files take turns in one process, and so do the Ray cluster files (tests/conftest.py): two
# browsers at once on two cores outwaited their timeouts. Three processes finished no sooner than two
# (2026-12-07: every test ran about 1.5 times slower): the tests' own children keep both cores busy.
# Beside another test file, one torch thread per process (and per app, service or job it starts): a thread
# per core in each of two processes oversubscribes two cores (2026-12-08: the CLI, app, serve and MLflow
# files took 201 s on one thread, mean of 5 runs, against 233 s, mean of 2).
# TEST_PROCESSES=1 runs one file at a time, with a thread per core.
TEST_PROCESSES ?= 2
SIDE_BY_SIDE := $(if $(filter-out 1,$(TEST_PROCESSES)),INSIGHT_THREADS=1 OMP_NUM_THREADS=1)
test: setup-dev chromium postgresql
	ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 $(PY) -m pytest -q -m kernels -p no:cacheprovider
	$(SIDE_BY_SIDE) $(PY) -m pytest -q $(if $(filter-out 1,$(TEST_PROCESSES)),-n $(TEST_PROCESSES) --no-loadscope-reorder)

setup: $(STAMP)
setup-dev: $(DEVSTAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Every install goes through constraints.txt: a fresh machine gets the versions the tests passed with.
$(STAMP): requirements.txt constraints.txt pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $@

$(DEVSTAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

# Debian's Chromium drives the real-browser test (never `playwright install`: no downloads here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser test"; \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get update -qq && \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get install -y -qq chromium >/dev/null; }
	@# A Chinese font, so the Chinese pages' screenshots show characters, not boxes (the tests read the DOM).
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "Installing a Chinese font (fonts-wqy-microhei) for the Chinese screenshots"; \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get install -y -qq fonts-wqy-microhei >/dev/null || \
	  echo "No Chinese font: the Chinese screenshots will show boxes"; }

# Debian's PostgreSQL server for the shared-state tests: a fixture runs initdb in a temporary folder and
# starts it on 127.0.0.1 (tests/postgres_kit.py); the packaged service is never used.
postgresql:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the shared-state tests"; \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get update -qq && \
	  $(if $(shell id -u | grep -x 0),,sudo) apt-get install -y -qq postgresql >/dev/null; }

lint: setup-dev
	$(VENV)/bin/ruff check trainer insight_ui tests bench app.py

bench: setup
	$(PY) bench/bench_fit.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# After changing a range in requirements*.txt: resolve afresh, run the tests, then record the set.
lock: setup-dev
	{ echo "# The resolved set of packages the test suite last passed with (python 3.11, this project's machine)."; \
	  echo "# make installs through it (pip -c constraints.txt); regenerate with 'make lock' after changing a range."; \
	  $(PY) -m pip freeze | grep -v -e '^#' -e '^-e' -e '^insight' | sed -E 's/^(torch==[0-9.]+)\+.*/\1/'; } > constraints.txt
