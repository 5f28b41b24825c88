"""Every action and object type the application writes to the audit trail has a name a reader understands, in
both languages: the audit page must never fall back to showing a bare code because someone added an action and
forgot to name it."""

from __future__ import annotations

import ast
from pathlib import Path

from app.audit import labels

APP = Path(__file__).resolve().parent.parent / "app"


def _strings(node: ast.AST, assignments: dict[str, list[ast.expr]]) -> set[str]:
    """The string codes an argument can take: its literals, both arms of a conditional, or what a local name
    was assigned."""
    if isinstance(node, ast.Name):
        return set().union(*(_strings(value, assignments) for value in assignments.get(node.id, [])))
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _recorded_codes() -> tuple[dict[str, str], dict[str, str]]:
    """(action -> where, object type -> where) for every ``audit.record(actor, action, object_type, ...)`` in app/."""
    actions: dict[str, str] = {}
    objects: dict[str, str] = {}
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assignments: dict[str, list[ast.expr]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assignments.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            call = node
            if not (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
            ):
                continue
            where = f"{path.relative_to(APP.parent)}:{call.lineno}"
            action_codes = _strings(call.args[1], assignments)
            object_codes = _strings(call.args[2], assignments)
            assert action_codes and object_codes, f"{where}: the action or object type is not a readable code"
            actions.update(dict.fromkeys(action_codes, where))
            objects.update(dict.fromkeys(object_codes, where))
    return actions, objects


def test_every_recorded_action_and_object_type_has_a_name():
    actions, objects = _recorded_codes()
    assert len(actions) > 30 and "registration.approve" in actions and "checkin.override" in actions
    unnamed = {code: where for code, where in actions.items() if code not in labels.ACTION_NAMES}
    assert not unnamed, f"audit actions without a name in app/audit/labels.py: {unnamed}"
    unnamed = {code: where for code, where in objects.items() if code not in labels.OBJECT_NAMES}
    assert not unnamed, f"audited object types without a name in app/audit/labels.py: {unnamed}"
    stale = set(labels.ACTION_NAMES) - set(actions)
    assert not stale, f"names for actions nothing records any more: {stale}"


def test_names_follow_the_readers_language_and_unknown_codes_show_as_themselves(app):
    from flask_babel import force_locale

    with app.test_request_context():
        assert labels.action_name("registration.approve") == "通过报名"
        assert labels.object_name("event") == "活动"
        with force_locale("en"):
            assert labels.action_name("registration.approve") == "Approved a registration"
            assert labels.object_name("event") == "Event"
        assert labels.action_name("scheduler.tick") == "scheduler.tick"
