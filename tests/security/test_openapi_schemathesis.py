"""Schemathesis against /api/v1/openapi.json, in-process (WSGI), with bounded examples: no failures.

Every operation of the document is generated from its schema (valid and invalid inputs) and every response is
checked by schemathesis's default checks (no server error, documented status codes, content types and
response schemas...), except ``positive_data_acceptance``: the domain rules (a known city and kind, dates in
order, eligibility, sign-up windows) rightly refuse many schema-valid bodies with 422, as the document says.
``SCHEMATHESIS_EXAMPLES`` (default 15) bounds the examples per operation.
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.accounts.models import User
from app.extensions import db

from .. import factories
from .world import build_world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))


def test_api_conforms_to_its_openapi_document(app):
    world = build_world()
    employee_token = factories.api_token(world.attacker)
    organizer_token = factories.api_token(world.organizer)
    attacker_id = world.attacker.id
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        token = organizer_token if key == ("POST", "/api/v1/events") else employee_token
        # Each example of DELETE /tokens/current revokes the token it carries: it gets one of its own.
        revokes_its_token = key == ("DELETE", "/api/v1/tokens/current")

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case):
            bearer = factories.api_token(db.session.get(User, attacker_id)) if revokes_its_token else token
            case.call_and_validate(
                session=app.test_client(),
                headers={"Authorization": f"Bearer {bearer}"},
                excluded_checks=[positive_data_acceptance],
            )

        run()
