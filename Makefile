# EstateCRM — `make help` lists the targets. `make check` is exactly what CI runs per database.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
CUSTOMERS ?= 1000000
COMPLAINTS ?= 300000
VISIT_TASKS ?= 3000000
USERS ?= 50
DURATION ?= 5m
OUTAGE ?= 30

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "EstateCRM 需要 Python 3.11 或更高版本")'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed ## Create the virtualenv and install the locked dependencies

run: install ## Set up, load demo data on first start, and start web server + job runner (DEBUG=1 make run: debug pages)
	@mkdir -p var
	INSTANCE_SECRETS=1 PORT=$(PORT) $(PY) manage.py serve

test: install browser ## Run the whole test suite (SQLite unless DATABASE_URL is set)
	$(PY) -m pytest

check: install browser ## Lint, type-check, layer contracts, migrations check and the whole test suite
	@mkdir -p var
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/lint-imports --no-cache
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings_test DEBUG=0 SECURE_SSL=1 $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -m pytest

fmt: install ## Format and autofix
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

browser: ## Install Debian's chromium and CJK fonts for the browser tests when missing
	@bash scripts/ensure-browser.sh

bench: bench-customers bench-care bench-complaints bench-visits bench-reports ## Every benchmark at CUSTOMERS (default 1000000), each figure beside its raw-SQL floor; DATABASE_URL (PostgreSQL recommended: docs/performance.md)

bench-customers: install ## Customer pages, searches, 360° and the imports at CUSTOMERS
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m bench customers --customers $(CUSTOMERS)

bench-care: install ## Benchmark care planning and dispatch on the same dataset (CUSTOMERS, DATABASE_URL)
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m bench care --customers $(CUSTOMERS)

bench-complaints: install ## Benchmark the complaint list and the monthly report at COMPLAINTS (default 300000; DATABASE_URL)
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m bench complaints --customers $(CUSTOMERS) --complaints $(COMPLAINTS)

bench-visits: install ## Benchmark the day's visit-task generation and the work queue among VISIT_TASKS (default 3000000; CUSTOMERS, DATABASE_URL)
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m bench visits --customers $(CUSTOMERS) --tasks $(VISIT_TASKS)

bench-reports: install ## Benchmark generating each report pack and the KPI dashboard for one month (on the datasets above; CUSTOMERS, DATABASE_URL)
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m bench reports --customers $(CUSTOMERS)

loadtest: install ## Load test: gunicorn on 127.0.0.1 + locust headless (USERS=50, DURATION=5m; DATABASE_URL, PostgreSQL)
	USERS=$(USERS) DURATION=$(DURATION) $(PY) -m bench.load.run

fault: install ## PostgreSQL outage of OUTAGE seconds (30) through a proxy, with web traffic and the job runner (DATABASE_URL)
	$(PY) -m bench.fault --outage $(OUTAGE)

vendor: ## Refresh static/vendor/ (ECharts) from the npm lock file; needs node and npm (docs/decisions/0019-charts.md)
	$(PYTHON) scripts/vendor.py

lock: ## Re-resolve requirements*.in into the lock files
	rm -rf /tmp/estatecrm-lock && $(PYTHON) -m venv /tmp/estatecrm-lock
	/tmp/estatecrm-lock/bin/pip install --quiet -r requirements.in
	/tmp/estatecrm-lock/bin/pip freeze > requirements.lock
	/tmp/estatecrm-lock/bin/pip install --quiet -r requirements-dev.in
	/tmp/estatecrm-lock/bin/pip freeze | grep -v -x -F -f requirements.lock | sed '1i -r requirements.lock' > requirements-dev.lock

.PHONY: help install run test check fmt browser bench bench-customers bench-care bench-complaints bench-visits bench-reports loadtest fault vendor lock
