"""The house rules (DESIGN.md §4), checked on the source.

- "Only public APIs of every library": no private SQLAlchemy, Flask, Werkzeug, psycopg or Flask-Limiter
  attribute, no ORM object's ``__dict__`` written, no subclass of a database driver's cursor, anywhere in
  ``app/`` or in the tests' fixtures.
- "Features import the core, never each other; the core imports no feature": import-linter's contracts in
  ``pyproject.toml`` hold for the code as it is, and they refuse a deliberate cross-feature import.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKED = sorted(ROOT.joinpath("app").rglob("*.py")) + sorted(ROOT.joinpath("tests").rglob("conftest.py"))

FORBIDDEN = {
    "SQLAlchemy's private state commit": re.compile(r"\._commit_all\b"),
    "SQLAlchemy's private session attach": re.compile(r"\._update_impl\b"),
    "SQLAlchemy's private identity helpers": re.compile(r"\._(?:expire_attributes|register_persistent|save_impl)\b"),
    "an object's __dict__ written": re.compile(r"__dict__\s*(?:\[|\.update\(|\.setdefault\()"),
    "Flask's private context variables": re.compile(r"\b_cv_(?:app|request)\b"),
    "Flask-Limiter's private view mark": re.compile(r"__wrapper-limiter-instance|_LIMITED_VIEW_MARK"),
    "a psycopg / sqlite3 cursor subclass": re.compile(
        r"class\s+\w+\s*\(\s*(?:psycopg\.(?:\w+\.)*(?:Cursor|ServerCursor|AsyncCursor)|sqlite3\.Cursor)\b"
    ),
    "a cursor factory swapped in": re.compile(r"\bcursor_factory\b|\brow_factory\s*="),
}


def _violations(path: Path) -> list[str]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for rule, pattern in FORBIDDEN.items():
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {rule}: {line.strip()}")
    return found


def test_the_checked_files_exist():
    assert len(CHECKED) > 50
    assert all(path.is_file() for path in CHECKED)


@pytest.mark.parametrize("rule", sorted(FORBIDDEN))
def test_the_rules_catch_what_they_name(rule):
    """Each rule matches the kind of line it forbids (so a rule that matches nothing cannot pass silently)."""
    samples = {
        "SQLAlchemy's private state commit": "state._commit_all(state.dict)",
        "SQLAlchemy's private session attach": "session._update_impl(state)",
        "SQLAlchemy's private identity helpers": "session._register_persistent(states)",
        "an object's __dict__ written": "registration.__dict__.update(values)",
        "Flask's private context variables": "from flask.globals import _cv_app",
        "Flask-Limiter's private view mark": 'hasattr(view, "__wrapper-limiter-instance")',
        "a psycopg / sqlite3 cursor subclass": "class Fast(psycopg.Cursor[Any]):",
        "a cursor factory swapped in": 'connect_args = {"cursor_factory": Fast}',
    }
    assert FORBIDDEN[rule].search(samples[rule])


def test_no_private_library_api_in_the_application_or_the_browser_fixtures():
    violations = [line for path in CHECKED for line in _violations(path)]
    assert violations == [], "private library APIs in use:\n" + "\n".join(violations)


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the ``app`` package found in ``root``, with the contracts of ``root/pyproject.toml``."""
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_cross_feature_import_breaks_the_contracts(tmp_path):
    """A copy of the code where the mixers import the trips is refused, naming the import."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("static", "translations", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    cheat = tmp_path / "app" / "mixers" / "cheat.py"
    cheat.write_text("from ..trips import models  # noqa: F401\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "app.mixers is not allowed to import app.trips" in result.stdout
    assert "app.mixers.cheat -> app.trips.models" in result.stdout
