#!/bin/sh
# Security checks for `make check` (issue 10): bandit (no high-severity finding) and pip-audit of the installed
# dependencies. The hostile-input, schemathesis, header and access-control tests run with `make test`
# (tests/security). pip-audit needs PyPI's JSON API / the OSV database: when neither answers (offline CI,
# intranet mirror), every package is reported as "not found on PyPI"; that is a warning here, and an error with
# STRICT_AUDIT=1. Documented exceptions go in PIP_AUDIT_IGNORE (space-separated vulnerability ids).
set -eu
VENV=${VENV:-.venv}

echo "== bandit (high severity) =="
"$VENV/bin/bandit" -q -r app -lll

echo "== pip-audit =="
ignores=""
for id in ${PIP_AUDIT_IGNORE:-}; do ignores="$ignores --ignore-vuln $id"; done
out=$(mktemp)
status=0
# shellcheck disable=SC2086
"$VENV/bin/pip-audit" --progress-spinner off $ignores >"$out" 2>&1 || status=$?
cat "$out"
audited=$(grep -c "could not be audited" "$out" || true)
total=$("$VENV/bin/python" -m pip list --format=freeze 2>/dev/null | wc -l)
rm -f "$out"
if [ "$status" -ne 0 ]; then
    echo "pip-audit found vulnerabilities (or failed): see above" >&2
    exit "$status"
fi
if [ "$audited" -ge "$total" ] || [ "$audited" -gt $((total - 3)) ]; then
    echo "WARNING: pip-audit could not reach the vulnerability database; nothing was audited." >&2
    if [ "${STRICT_AUDIT:-0}" = "1" ]; then exit 1; fi
fi
echo "security checks passed"
