# The two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/icms_portal
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test check lint format venv messages bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs the project and its pinned dependencies; reruns when either changes.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

# Without DATABASE_URL and CELERY_BROKER_URL: SQLite in var/, jobs in-process,
# emails written to var/mail. With them: that database, and a Celery worker
# started beside the web server.
demo: venv
	$(BIN)/python manage.py migrate --no-input -v0
	$(BIN)/python manage.py demo_load
	@echo "Emails are written to $${EMAIL_FILE_PATH:-var/mail} unless EMAIL_BACKEND is set."
	@echo "Serving the portal on http://$(HOST):$(PORT)/"
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
		trap 'kill 0' EXIT INT TERM; \
		$(BIN)/celery -A icms_portal worker --loglevel=INFO & \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	else \
		$(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

# Every check CI runs: lint, migrations in step with the models, every test.
test: venv lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} \
		$(BIN)/python manage.py makemigrations --check --dry-run \
		--settings=icms_portal.settings.test -v0
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Regenerates the translation catalogues after strings change (needs GNU gettext).
messages: venv
	$(BIN)/python manage.py makemessages -l nl -l fr --ignore=.venv --ignore=var
	$(BIN)/python manage.py compilemessages --ignore=.venv

bench: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var
