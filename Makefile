# runlake: `make demo` and `make test` are all a newcomer needs (see README.md).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(PYTHON) -m uv
endif
BENCH_YEARS ?= 1
DASHBOARD_PORT ?= 8501
PYTEST_ARGS ?=

.PHONY: install demo test test-long bench browser help

include deployments/Makefile.include

help:
	@echo "make install  - create .venv with every dependency (installs uv when missing)"
	@echo "make demo     - install, generate 2 years of synthetic training, run the pipeline, serve the dashboard"
	@echo "make test     - install and run the test suite (all but the long reliability sweeps)"
	@echo "make test-long - the reliability sweeps: kills after every commit, S3 faults (CI runs both)"
	@echo "make bench    - benchmarks (BENCH_YEARS=$(BENCH_YEARS)); results in bench/RESULTS.md"

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

demo: install
	$(BIN)/runlake demo
	$(BIN)/runlake dashboard --port $(DASHBOARD_PORT)

# Two runs: everything but the end-to-end tests on both cores (pytest-xdist, a file's tests on one
# worker), then the end-to-end tests (real Prefect, moto, browsers) one at a time, so servers
# started by tests never compete for the two cores. The second run may find no e2e test among
# PYTEST_ARGS (pytest exit 5): that is not a failure.
# The reliability sweeps (marker `long`: a SIGKILL after every Delta commit of six commands, S3
# faults through a proxy) take longer than a test run should: `make test-long` runs them, and
# .ci/run runs it after `make test`.
test: install browser
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not e2e and not long" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -m "e2e and not long" $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-long: install
	$(BIN)/python -m pytest -n 2 --dist load -m long $(PYTEST_ARGS)

# The dashboard's browser test drives Debian's Chromium; install it when we can (root), else it skips.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed: the browser test will be skipped"; \
	fi

bench: install
	BENCH_YEARS=$(BENCH_YEARS) $(BIN)/python -m bench
