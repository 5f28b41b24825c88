from sqlalchemy import func, select

from app.demo.notifications import seed_demo
from app.extensions import db
from app.notifications.models import ChannelPreference
from app.outbox.models import OutboxMessage

from .. import factories


def test_seed_demo_is_idempotent():
    for _ in range(12):
        factories.make_employee()
    seed_demo()
    db.session.commit()
    counts = (
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        db.session.scalar(select(func.count()).select_from(ChannelPreference)),
    )
    seed_demo()
    db.session.commit()
    assert counts[0] == 12
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        db.session.scalar(select(func.count()).select_from(ChannelPreference)),
    ) == counts
