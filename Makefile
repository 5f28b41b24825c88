# Zhijia — the two commands are `make run` and `make test`. The environment lives in .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask
export FLASK_APP := wsgi.py

.PHONY: run test check lint typecheck security bench rehearsal translations messages install clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

translations: install
	$(VENV)/bin/pybabel compile -f -d app/translations -D messages >/dev/null

# After changing user-facing text: extract the Chinese source messages and merge them into the English catalogue.
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --no-location --sort-output --no-wrap -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --no-wrap

run: install translations
	$(FLASK) db upgrade
	$(FLASK) orgs seed
	$(FLASK) demo seed
	@mkdir -p instance
	@echo "Email goes to a local SMTP server on 127.0.0.1:8025 that keeps it in instance/maildir/"
	@$(PY) -m aiosmtpd -n -l 127.0.0.1:8025 -c aiosmtpd.handlers.Mailbox instance/maildir & sink=$$!; \
	trap 'kill $$sink 2>/dev/null' EXIT INT TERM; \
	SCHEDULER_EMBEDDED=1 $(FLASK) run --host 127.0.0.1 --port 5000

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set (CI sets it). The tests run in
# PYTEST_WORKERS processes (pytest-xdist; each has its own database); PYTEST_WORKERS=0 runs them in this one.
PYTEST_WORKERS ?= 2
test: install translations
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		ZHIJIA_TEST_DB=postgres $(PY) -m pytest -q -n $(PYTEST_WORKERS) $(PYTEST_ARGS); \
	fi

lint: install
	$(VENV)/bin/ruff check app tests bench deploy
	$(VENV)/bin/ruff format --check app tests bench deploy
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy app

security: install
	VENV=$(VENV) sh .ci/security-checks.sh

check: lint typecheck security test

bench: install
	$(PY) bench/run_all.py

# Production rehearsed on one machine: nginx, 2 gunicorn, 2 schedulers, Redis, PostgreSQL primary + replica,
# under faults (deploy/rehearsal.py; ~5 minutes). Writes the "Rehearsal" section of bench/results.md.
rehearsal: install translations
	sh deploy/rehearse.sh

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
