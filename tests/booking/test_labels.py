"""Every registration status and every cause of a change has words in both languages: a new one added to the
engine without a label would break the pages that show it (the roster, a registration's history)."""

from __future__ import annotations

from flask_babel import force_locale

from app.booking.labels import CAUSE_LABELS, STATUS_LABELS
from app.booking.models import Cause, Status


def test_every_status_and_cause_has_a_label_in_chinese_and_english(app):
    assert set(STATUS_LABELS) == set(Status) and set(CAUSE_LABELS) == set(Cause)
    with app.test_request_context():
        chinese = {str(label) for label in (*STATUS_LABELS.values(), *CAUSE_LABELS.values())}
        with force_locale("en"):
            english = {str(label) for label in (*STATUS_LABELS.values(), *CAUSE_LABELS.values())}
    assert english.isdisjoint(chinese) and all(label.isascii() for label in english)
