"""The command the README documents, ``flask demo seed --scale province``, gives a dashboard and a public page that
read exactly the federation's published figures: 219 mixers, 1,776 couples, 18,293 two-cancer screenings (6,932 in
non-public enterprises, 5,422 new-employment workers) and 11,500 trip places against a target of 10,000."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app import clock
from app.accounts.models import User
from app.demo.core import ADMIN_PHONE
from app.extensions import db
from app.stats import services

PUBLISHED = {
    ("mixer", "held"): 219,
    ("mixer", "couples"): 1_776,
    ("screening", "two_cancer"): 18_293,
    ("screening", "two_cancer_non_public"): 6_932,
    ("screening", "two_cancer_new_employment"): 5_422,
    ("trip", "allocated"): 11_500,
    ("trip", "target"): 10_000,
}


def _published_part(figures: services.Figures) -> dict[tuple[str, str], int]:
    return {(kind, name): figures.raw[kind][name] for kind, name in PUBLISHED}


def test_the_documented_province_command_gives_the_published_figures(app) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--scale", "province"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    admin = db.session.scalar(select(User).where(User.phone == ADMIN_PHONE))
    assert admin is not None  # the dashboard has a reader

    # The seeded year is the current one, or the previous one before 15 March (README): the dashboard and the
    # public page of that year read the published figures, and they are what opens by default when it is this year.
    today = clock.today()
    year = today.year if today >= date(today.year, 3, 15) else today.year - 1
    assert f"year: {year}" in result.output
    assert _published_part(services.dashboard(admin, year=year)) == PUBLISHED
    assert _published_part(services.public_figures(year)) == PUBLISHED
    if year == today.year:
        assert _published_part(services.dashboard(admin)) == PUBLISHED
        assert _published_part(services.public_figures()) == PUBLISHED


def test_the_province_command_refuses_a_database_holding_the_ordinary_demo(app) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    result = runner.invoke(args=["demo", "seed", "--scale", "province"])
    assert result.exit_code == 1 and "empty database" in result.output
    assert db.session.scalar(select(User).where(User.phone.like("199%"))) is None


def test_the_help_documents_the_province_scale(app) -> None:
    output = app.test_cli_runner().invoke(args=["demo", "seed", "--help"]).output
    assert "province" in output and "219" in output and "empty" in output
