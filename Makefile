# pgpulse: `make run` starts the dashboard on an embedded PostgreSQL 18 + Redis with a demo
# workload (or on DATABASE_URL / REDIS_URL when set); `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run stop test lint bench screenshots clean

$(VENV)/.app-installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app-installed
	$(PY) -m demo run --port $(PORT)

stop:
	$(PY) -m demo stop

test: $(VENV)/.dev-installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .

bench: $(VENV)/.dev-installed
	$(PY) -m bench.run $(BENCH_ARGS)
	$(PY) -m bench.history
	$(PY) -m bench.fleet

screenshots: $(VENV)/.dev-installed
	$(PY) docs/capture.py $(SCREENSHOT_ARGS)

clean:
	-$(PY) -m demo stop
	rm -rf .data
