"""The one way a feature joins the export, the deletion and the retention (``app.personal_data``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from blinker import signal

from app.mixers import privacy as mixers_privacy
from app.notifications import privacy as notifications_privacy
from app.personal_data import PersonalData, register_personal_data
from app.trips import privacy as trips_privacy

SIGNALS = ("privacy-export", "account-deleting", "privacy-retention")
NOW = datetime(2026, 5, 1, 9, 0)


def test_a_part_answers_the_three_signals_with_what_it_has():
    part = PersonalData("things", "我的东西", export=lambda user: [user], forget=lambda user: 2, expire=lambda now: 5)
    assert part.on_export("someone") == ("things", ["someone"], "我的东西")
    assert part.on_deleting("someone") == 2 and part.on_retention(NOW) == 5


def test_a_part_without_a_rule_exports_nothing_and_changes_nothing():
    assert PersonalData("empty", export=lambda user: None).on_export("someone") is None
    bare = PersonalData("bare")
    assert bare.on_export("someone") is None and bare.on_deleting("someone") == 0 and bare.on_retention(NOW) == 0


def test_registering_again_is_a_no_op_and_a_taken_section_is_refused(app):
    counts = [len(signal(name).receivers) for name in SIGNALS]
    for part in (
        mixers_privacy.PERSONAL_DATA,
        trips_privacy.PERSONAL_DATA,
        notifications_privacy.INBOX,
        notifications_privacy.CHANNEL_CHOICES,
    ):
        register_personal_data(part)
    assert [len(signal(name).receivers) for name in SIGNALS] == counts
    with pytest.raises(ValueError):
        register_personal_data(PersonalData("mixers", export=lambda user: None))
    assert [len(signal(name).receivers) for name in SIGNALS] == counts


def test_the_features_join_through_their_part(app):
    for part in (mixers_privacy.PERSONAL_DATA, trips_privacy.PERSONAL_DATA, notifications_privacy.INBOX):
        assert part.on_export in signal("privacy-export").receivers.values()
        assert part.on_deleting in signal("account-deleting").receivers.values()
        assert part.on_retention in signal("privacy-retention").receivers.values()
    assert notifications_privacy.CHANNEL_CHOICES.on_export in signal("privacy-export").receivers.values()
