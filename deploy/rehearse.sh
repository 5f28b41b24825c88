#!/bin/sh
# The production rehearsal on one machine (issue 24): nginx, two gunicorn instances, two schedulers, Redis,
# PostgreSQL primary + streaming replica, under faults. Needs Debian's nginx, redis-server, postgresql-15 and
# openssl; run as root (it runs PostgreSQL as the postgres user) or as a user who may run them.
set -eu
cd "$(dirname "$0")/.."
exec .venv/bin/python deploy/rehearsal.py "$@"
