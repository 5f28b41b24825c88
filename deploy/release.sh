#!/bin/sh
# One release on one host, from the release's folder (e.g. /srv/zhijia), with the environment file's settings:
#   sudo -u zhijia sh deploy/release.sh [/etc/zhijia/zhijia.env]
# 1. installs the project into .venv (from the wheels/index the host can reach),
# 2. migrates the database (run it on ONE host per release; Alembic serialises nothing across hosts),
# 3. seeds the reference data (cities, industrial chains, the union tree: idempotent),
# 4. compiles the translations.
# Then reload the web units (systemctl reload zhijia-web: graceful) and restart the schedulers.
set -eu
ENV_FILE="${1:-/etc/zhijia/zhijia.env}"
if [ -f "$ENV_FILE" ]; then
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
fi
cd "$(dirname "$0")/.."
PY="${ZHIJIA_PYTHON:-python3}"
if [ "${SKIP_INSTALL:-0}" != "1" ]; then
    [ -x .venv/bin/python ] || "$PY" -m venv .venv
    .venv/bin/python -m pip install --quiet -e .
fi
export FLASK_APP=wsgi.py
.venv/bin/flask db upgrade
.venv/bin/flask orgs seed
.venv/bin/pybabel compile -f -d app/translations -D messages >/dev/null
echo "release ready: now 'systemctl reload zhijia-web' on every web host and 'systemctl restart zhijia-scheduler'"
