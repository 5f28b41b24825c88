"""The project's rule "only public APIs of every library" (DESIGN.md §4), checked on the source: no private
SQLAlchemy, Flask, Werkzeug, psycopg or Flask-Limiter attribute, no ORM object's ``__dict__`` written, no
subclass of a database driver's cursor, anywhere in ``app/`` or in the tests' fixtures."""

from __future__ import annotations

import re
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
