"""The roll-up is kept by the scheduler task ``stats.refresh`` from notices written in the booking's own
transaction; a full rebuild gives the same rows; deleting an account changes no figure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock
from app.booking import checkin as booking_checkin
from app.booking import offers as booking_offers
from app.booking import queries as booking_queries
from app.booking import services as booking
from app.extensions import db
from app.stats import rollup, services
from app.stats.models import StatsCarry, StatsDirty, StatsReachAdjust, StatsRollup, StatsRollupMonth
from app.tasks import registered_tasks
from tests import factories


def run_task() -> int:
    task = next(task for task in registered_tasks() if task.name == "stats.refresh")
    done = task.func(clock.now())
    db.session.commit()
    return done


def rollup_rows() -> list[tuple]:
    stmt = select(
        StatsRollup.event_id, StatsRollup.dim, StatsRollup.value, StatsRollup.signups, StatsRollup.allocated,
        StatsRollup.attended, StatsRollup.no_show, StatsRollup.converted, StatsRollup.two_cancer,
    ).order_by(StatsRollup.event_id, StatsRollup.dim, StatsRollup.value)  # fmt: skip
    return [tuple(row) for row in db.session.execute(stmt)]


def month_rows() -> list[tuple]:
    stmt = select(
        StatsRollupMonth.organization_id, StatsRollupMonth.kind, StatsRollupMonth.month, StatsRollupMonth.city_id,
        StatsRollupMonth.dim, StatsRollupMonth.value, StatsRollupMonth.signups, StatsRollupMonth.allocated,
        StatsRollupMonth.attended, StatsRollupMonth.no_show, StatsRollupMonth.converted, StatsRollupMonth.two_cancer,
    )  # fmt: skip
    return sorted(tuple(row) for row in db.session.execute(stmt))


def year_figures(year: int) -> services.Figures:
    """The province's figures for ``year`` (a test names the year its event falls in: near a year end, an event a
    few days ahead belongs to the next one)."""
    return services.compute(services.make_filters(services.province_org(), year=year))


def test_bookings_are_counted_by_the_scheduler_task() -> None:
    admin = factories.make_admin()
    event = factories.make_event(capacity=1, starts_in=timedelta(hours=30))
    first, second = factories.make_employee(), factories.make_employee(gender="male")
    booking.book(first, event.slots[0].id)
    waiting = booking.book(second, event.slots[0].id)
    db.session.commit()
    # The notice was written with the bookings (by the database, as their history rows were appended); the
    # dashboard still shows the last count until the task runs.
    assert set(db.session.scalars(select(StatsDirty.event_id))) == {event.id}
    assert year_figures(event.starts_at.year).raw["all"]["signups"] == 0
    assert run_task() == 1
    assert db.session.scalar(select(func.count()).select_from(StatsDirty)) == 0
    figures = year_figures(event.starts_at.year)
    assert figures.raw["all"]["signups"] == 2 and figures.raw["general"]["held"] == 1
    # The first person cancels: the waitlisted one is offered the seat and accepts it (a conversion).
    registration = booking_queries.my_registrations(first)[0]
    booking.cancel(registration, actor=first)
    booking_offers.accept_offer(waiting, actor=second)
    clock.set_now(event.starts_at + timedelta(minutes=5))
    booking_checkin.check_in(waiting, actor=admin)
    db.session.commit()
    run_task()
    figures = year_figures(event.starts_at.year)
    assert figures.raw["all"] == {
        "reached": 1,
        "signups": 2,
        "attended": 1,
        "no_show": 0,
        "no_show_rate": 0.0,
        "converted": 1,
    }
    assert {row.label: row.cells[2].value for row in figures.tables["gender"].rows} == {"女": 0, "男": 1}
    # Running again with nothing new changes nothing; a full rebuild gives the very same rows.
    before, months = rollup_rows(), month_rows()
    assert months and len(months) == len(before)  # one event: its month holds the same cells
    run_task()
    assert rollup_rows() == before and month_rows() == months
    rollup.rebuild()
    db.session.commit()
    assert rollup_rows() == before and month_rows() == months


def test_a_cancelled_event_drops_out_at_the_next_refresh() -> None:
    event = factories.make_event(starts_in=timedelta(days=3))
    booking.book(factories.make_employee(), event.slots[0].id)
    db.session.commit()
    run_task()
    assert year_figures(event.starts_at.year).raw["all"]["signups"] == 1
    clock.set_now(clock.now() + timedelta(minutes=1))
    event.cancelled_at = clock.now()  # an edit of the event (updated_at moves) is picked up too
    db.session.commit()
    run_task()
    assert year_figures(event.starts_at.year).raw["all"]["signups"] == 0
    assert month_rows() == []


def test_deleting_an_account_leaves_every_figure_unchanged(dataset) -> None:
    from app.privacy.deletion import delete_account

    def snapshot() -> tuple:
        figures = services.compute(services.make_filters(services.province_org(), year=2026))
        tables = {
            key: [(row.label, [c.value for c in row.cells]) for row in t.rows] for key, t in figures.tables.items()
        }
        return figures.raw, tables

    before = snapshot()
    person = dataset.people["A"]  # attended four times in 2026, in three organizations' subtrees
    delete_account(person, factories.PASSWORD)
    db.session.commit()
    # What stays is counts only: where the anonymous rows were counted, and the reach correction.
    assert db.session.scalar(select(func.count()).select_from(StatsCarry)) > 0
    assert db.session.scalar(select(func.sum(StatsReachAdjust.delta))) < 0
    run_task()
    assert snapshot() == before
    rollup.rebuild()  # even a full recount from the anonymised rows gives the same figures
    db.session.commit()
    assert snapshot() == before
    assert before[0]["all"]["reached"] == 5


def test_refresh_command_rebuilds_the_roll_up(app, dataset) -> None:
    db.session.execute(StatsRollup.__table__.delete())
    db.session.execute(StatsRollupMonth.__table__.delete())
    db.session.commit()
    assert year_figures(2026).raw["all"]["signups"] == 0
    result = app.test_cli_runner().invoke(args=["stats", "refresh", "--all"])
    assert result.exit_code == 0, result.output
    assert "recounted" in result.output
    figures = services.compute(services.make_filters(services.province_org(), year=2026))
    assert figures.raw["all"]["signups"] == 17


def test_screening_outcomes_recorded_later_are_picked_up() -> None:
    from datetime import datetime

    from sqlalchemy import update

    from app.booking.models import Status
    from tests.stats import factories as sf

    clock.set_now(datetime(2026, 5, 10, 12))
    visit = sf.event_at("screening", datetime(2026, 5, 9, 9), factories.org("jx-nanchang"))
    woman = factories.make_employee(age=45)
    registration = sf.reg(visit, woman, Status.ATTENDED)
    sf.screening_booking(registration, True, None)
    db.session.commit()
    rollup.rebuild()
    db.session.commit()
    assert year_figures(2026).raw["screening"]["two_cancer"] == 1
    # The organizer records "not screened" hours later: no registration changes, the booking row does.
    clock.set_now(datetime(2026, 5, 10, 15))
    bookings = db.metadata.tables["screening_bookings"]
    db.session.execute(
        update(bookings)
        .where(bookings.c.registration_id == registration.id)
        .values(outcome="not_screened", not_screened_reason="declined", recorded_at=clock.now())
    )
    db.session.commit()
    run_task()
    assert year_figures(2026).raw["screening"]["two_cancer"] == 0
    assert year_figures(2026).raw["screening"]["attended"] == 1


def test_rebuild_reports_its_progress_up_to_every_event(dataset) -> None:
    from app.events.models import Event

    reports: list[tuple[int, int]] = []
    count = rollup.rebuild(progress=lambda done, total: reports.append((done, total)))
    events = db.session.scalar(select(func.count()).select_from(Event))
    assert count == events > 0
    assert reports[0] == (0, events) and reports[-1] == (events, events)
