"""The mixers' statistics: what a mixer adds to the province's figures (mutual pairs and confirmed couples from
its own tables), given to the statistics through the kind registry (``MixerPolicy.figures``)."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..events.figures import KindFigures, Tally, Value
from ..extensions import db
from .models import MixerOutcome, MixerPair, OutcomeKind


class MixerFigures(KindFigures):
    position = 10
    label = _l("单身联谊")
    title = _l("单身青年联谊")
    always_shown = True
    headlines: ClassVar[dict[str, Any]] = {
        "held": _l("举办场次"),
        "signups": _l("报名人次"),
        "attendees": _l("参加人次"),
        "people": _l("参加人数（去重）"),
        "pairs": _l("互选配对"),
        "couples": _l("牵手成功"),
    }
    not_people = frozenset({"held"})

    def figures(self, tally: Tally) -> dict[str, Value]:
        """Mutual pairs are the mixers' ``mixer_pairs``; confirmed couples the pairs whose outcome log has
        "dating" (牵手成功, confirmed by both)."""
        pairs, couples = pairs_and_couples(tally)
        return {
            "held": tally.events(),
            "signups": tally.measure("signups"),
            "attendees": tally.measure("attended"),
            "people": tally.people(),
            "pairs": pairs,
            "couples": couples,
        }


def pairs_and_couples(tally: Tally) -> tuple[int, int]:
    """(mutual pairs, confirmed couples) of the mixers counted in ``tally``."""
    mixers = tally.event_ids()
    pairs = db.session.scalar(select(func.count()).select_from(MixerPair).where(MixerPair.event_id.in_(mixers)))
    couples = db.session.scalar(
        select(func.count(func.distinct(MixerOutcome.pair_id)))
        .join(MixerPair, MixerPair.id == MixerOutcome.pair_id)
        .where(MixerOutcome.kind == OutcomeKind.DATING, MixerPair.event_id.in_(mixers))
    )
    return int(pairs or 0), int(couples or 0)
