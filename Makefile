# Thi đua: one command to run the application, one to test it, on a machine with only Python 3.11.
# GNU make.

PYTHON ?= python3
VENV = .venv
HOST = 127.0.0.1
PORT ?= 8000
BENCH_TASKS ?= 100000

BIN = $(VENV)/bin
# Written after a successful install: the venv is rebuilt whenever requirements.lock is newer.
STAMP = $(VENV)/.installed-requirements
# Same default as config/settings.py; THIDUA_VAR_DIR moves everything the running app writes.
VAR_DIR = $(or $(THIDUA_VAR_DIR),var)
RUN_DIR = $(VAR_DIR)/run

SHELL = /bin/bash
.SHELLFLAGS = -eu -o pipefail -c
.DEFAULT_GOAL = help
.DELETE_ON_ERROR:
.PHONY: help venv run test bench faults backup restore cluster-demo lint clean messages

help: ## List the targets
	@echo 'Targets (PYTHON=$(PYTHON), HOST=$(HOST), PORT=$(PORT)):'
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed -E 's/^([a-z-]+):.*## /  make \1\t/' | expand -t 20

venv: $(STAMP) ## Create .venv and install requirements.lock (again when it changes)

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
		|| { echo "$(PYTHON) is not Python 3.11; run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

run: $(STAMP) ## Migrate, load the demo data, serve the app with a Celery worker and beat; Ctrl-C stops
	mkdir -p $(RUN_DIR) $(VAR_DIR)/broker/queue $(VAR_DIR)/broker/control
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo --base-url http://$(HOST):$(PORT) | tee $(RUN_DIR)/demo-logins.txt
	NOTIFICATION_SITE_URL="$${NOTIFICATION_SITE_URL:-http://$(HOST):$(PORT)}" \
		PUBLIC_POSTING_PAGE="$${PUBLIC_POSTING_PAGE:-true}" PUBLIC_AWARDS_LOOKUP="$${PUBLIC_AWARDS_LOOKUP:-true}" \
		exec $(BIN)/python -m config.devserver --host $(HOST) --port $(PORT) --logins $(RUN_DIR)/demo-logins.txt

test: $(STAMP) ## Run the whole test suite (SQLite, or PostgreSQL when DATABASE_URL is set)
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) ## Benchmarks on PostgreSQL (DATABASE_URL's server or a throwaway cluster); writes docs/performance.md
	$(BIN)/python -m tests.perf --reminder-tasks $(BENCH_TASKS) $(BENCH_ARGS)

faults: $(STAMP) ## Long race and fault runs on PostgreSQL (DATABASE_URL); writes docs/reliability.md
	THIDUA_LONG=1 THIDUA_RELIABILITY_REPORT=docs/reliability.md $(BIN)/pytest tests/faults/test_races.py -p no:cacheprovider -q $(PYTEST_ARGS)

backup: $(STAMP) ## Archive the database (pg_dump), the dossier files and the audit checkpoints into BACKUP_DIR
	$(BIN)/python manage.py backup $(BACKUP_ARGS)

restore: $(STAMP) ## Restore ARCHIVE=var/backups/thidua-backup-….tar into the empty database, then verify_audit
	@test -n "$(ARCHIVE)" || { echo "usage: make restore ARCHIVE=path/to/thidua-backup-….tar [RESTORE_ARGS=--force]" >&2; exit 1; }
	$(BIN)/python manage.py restore "$(ARCHIVE)" $(RESTORE_ARGS)

cluster-demo: $(STAMP) ## Two web nodes, two workers, beat on DATABASE_URL's PostgreSQL and a private Redis, through faults
	$(BIN)/python -m tests.cluster $(CLUSTER_ARGS)

lint: $(STAMP) ## ruff, the import-linter contracts, and a check that no migration is missing
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run

messages: $(STAMP) ## Extract the Vietnamese catalogue (locale/vi) and compile it; commit both .po and .mo
	$(BIN)/python manage.py makemessages -l vi --no-location --no-obsolete --ignore=.venv --ignore=var --ignore=tests
	$(BIN)/python manage.py compilemessages -l vi --ignore=.venv --ignore=var

clean: ## Remove .venv, caches and run files (keeps the database and dossiers in var/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache $(RUN_DIR) $(VAR_DIR)/test-db.sqlite3*
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
