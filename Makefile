# Easydown: `make run` starts the service with a demo account; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Tests always use the real PostgreSQL, Redis and a Celery worker process.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# Every run gets its own test database and Redis key prefix, so two runs on one machine never collide.
TEST_RUN := $(shell $(PYTHON) -c "import secrets; print(secrets.token_hex(4))")

.PHONY: install run test lint bench migrate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@$(BIN)/python -c "import yt_dlp.version as v, sys; print('yt-dlp', v.__version__); sys.exit(v.__version__ != '2026.10.26')"
	touch $(STAMP)

install: $(STAMP)

run: install
	@bash deploy/run-dev.sh

test: install
	@bash deploy/ensure-chromium.sh
	@bash deploy/ensure-pgbouncer.sh
	@bash deploy/ensure-tools.sh
	$(BIN)/ruff check .
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-secret-key EASYDOWN_API_KEY_PEPPER=test-pepper \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
	CELERY_BROKER_URL=$(subst /15,/14,$(TEST_REDIS_URL)) \
	EASYDOWN_TEST_RUN=$(TEST_RUN) DATABASE_TEST_NAME=test_easydown_$(TEST_RUN) CACHE_KEY_PREFIX=ed$(TEST_RUN) \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/all.py

clean:
	rm -rf $(VENV) db.sqlite3 var
