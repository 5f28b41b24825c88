"""Uniform 404: every URL that takes an object id answers for another person's (or organization's) object
exactly as for an id that does not exist — 404 for every page read (403 only where the caller's role may not use
the page at all, for any id) — for every method it accepts, and changes nothing. Rules come from app.url_map, so later routes are covered."""

from __future__ import annotations

import re

import pytest

from .. import factories
from .world import build_world, fill, fingerprint, object_args, rules

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _actor(world, name):
    return {"attacker": world.attacker, "outsider": world.outsider}[name]


@pytest.mark.parametrize("actor", ["attacker", "outsider"])
def test_other_peoples_objects_answer_404(app, actor):
    world = build_world()
    user = _actor(world, actor)
    client = app.test_client()
    factories.login(client, user)
    token = factories.api_token(user)
    checked = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not object_args(rule) or rule.endpoint == "static":
            continue
        url = fill(rule, world, foreign=True)
        assert url is not None, rule.rule
        for method in METHODS:
            if method not in (rule.methods or ()):
                continue
            missing_url = fill(rule, world, foreign=False, missing=True)
            headers = {"Authorization": f"Bearer {token}"} if url.startswith("/api/") else {}
            body = {} if url.startswith("/api/") else None
            before = fingerprint()
            response = client.open(url, method=method, headers=headers, json=body)
            assert fingerprint() == before, (actor, method, url)
            missing = client.open(missing_url, method=method, headers=headers, json=body)
            assert response.status_code == missing.status_code, (actor, method, url, response.status_code)
            assert response.status_code >= 400 or (method != "GET" and response.status_code == 302), (
                actor,
                method,
                url,
                response.status_code,
            )
            if method == "GET":
                # 404, or 403 when the caller's role may not use the page at all (the same for every id).
                assert response.status_code in (403, 404), (actor, method, url, response.status_code)
            checked.append((method, rule.rule))
    assert len(checked) >= 8


def test_own_objects_are_reachable(app):
    """The same URLs with the caller's own ids do not answer 404 (so the test above proves scope, not typos)."""
    world = build_world()
    client = app.test_client()
    factories.login(client, world.attacker)
    for rule in rules(app, "GET"):
        if object_args(rule) and rule.endpoint.startswith(("booking.", "events.")):
            url = fill(rule, world, foreign=False)
            assert client.get(url).status_code == 200, url


def test_missing_ids_answer_the_same_404(app):
    world = build_world()
    client = app.test_client()
    factories.login(client, world.attacker)
    foreign = client.get(f"/me/bookings/{world.victim_registration.id}/ticket")
    missing = client.get("/me/bookings/2147480001/ticket")
    assert foreign.status_code == missing.status_code == 404
    strip = lambda r: re.sub(r'name="next" value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(foreign) == strip(missing)
