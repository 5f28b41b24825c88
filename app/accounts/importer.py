"""Bulk import of a union's member list from CSV: idempotent by phone, every bad row reported, all-or-nothing."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..freetext import text_problem
from ..orgs.models import EnterpriseType, Organization
from ..orgs.reference import ENTERPRISE_TYPE_LABELS
from ..orgs.services import city_by_name, industry_by_name
from ..progress import Progress, no_progress
from . import services
from .models import Gender, Profile, User

HEADER = [
    "phone", "name", "gender", "birth_date", "city", "employer", "enterprise_type",
    "industry", "frontline", "member_no", "email", "password",
]  # fmt: skip
TRUE_WORDS = {"1", "true", "yes", "y", "是", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "f", ""}
NO_INDUSTRY = {"", "其他", "none", "other"}
PROGRESS_EVERY = 200  # rows between two progress reports


@dataclass
class ImportReport:
    """What an import did: accounts created and updated, and the refused lines (line number -> reasons). With any
    refused line nothing is written, and ``created``/``updated`` say what the valid lines would have done."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    refused: dict[int, list[str]] = field(default_factory=dict)
    needs_password: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return not self.refused

    @property
    def errors(self) -> list[str]:
        return [f"line {line_no}: {problem}" for line_no, problems in self.refused.items() for problem in problems]


def _enterprise_type(value: str) -> EnterpriseType | None:
    value = value.strip()
    for member in EnterpriseType:
        if value in (member.value, ENTERPRISE_TYPE_LABELS[member]):
            return member
    return None


def import_members(
    text: str, organization: Organization | None = None, *, progress: Progress = no_progress
) -> ImportReport:
    """Validate every row first; only when all are valid are accounts created (new phones) or their profiles
    updated (known phones). Rows without a password are activated by their member with an SMS code
    (``/account/activate``): no password is handed around. ``progress`` counts rows checked, then rows written."""
    report = ImportReport()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or [name.strip() for name in reader.fieldnames] != HEADER:
        report.refused[1] = [f"header must be {','.join(HEADER)}"]
        return report
    rows = list(reader)
    report.rows = len(rows)
    steps = 2 * len(rows)
    parsed: list[tuple[int, dict[str, str], services.ProfileData]] = []
    seen: dict[str, int] = {}
    for line_no, row in enumerate(rows, start=2):
        if line_no % PROGRESS_EVERY == 0:
            progress(line_no - 2, steps)
        row = {key: (value or "").strip() for key, value in row.items() if key is not None}
        problems: list[str] = []
        phone = services.normalize_phone(row["phone"])
        if not services.PHONE_RE.match(phone):
            problems.append(f"phone {row['phone']!r} is not an 11-digit mainland mobile number")
        elif phone in seen:
            problems.append(f"phone repeats line {seen[phone]}")
        seen.setdefault(phone, line_no)
        if not row["name"] or len(row["name"]) > 60:
            problems.append("name is empty or longer than 60 characters")
        for column, longest in (("name", 60), ("employer", 120), ("member_no", 40), ("email", 254)):
            if text_problem(row[column], max_length=longest) is not None:
                problems.append(f"{column} holds a control character (line break, tab, NUL...)")
        gender = row["gender"].lower()
        if gender not in {"female", "male"}:
            problems.append(f"gender {row['gender']!r} must be female or male")
        try:
            birth = date.fromisoformat(row["birth_date"])
        except ValueError:
            problems.append(f"birth_date {row['birth_date']!r} is not an ISO date (YYYY-MM-DD)")
            birth = date(1990, 1, 1)
        city = city_by_name(row["city"])
        if city is None:
            problems.append(f"city {row['city']!r} is not one of the cities")
        if not row["employer"]:
            problems.append("employer is empty")
        enterprise_type = _enterprise_type(row["enterprise_type"])
        if enterprise_type is None:
            problems.append(f"enterprise_type {row['enterprise_type']!r} is unknown")
        industry = None
        if row["industry"].lower() not in NO_INDUSTRY:
            industry = industry_by_name(row["industry"])
            if industry is None:
                problems.append(f"industry {row['industry']!r} is not a chain or cluster")
        frontline_word = row["frontline"].lower()
        if frontline_word not in TRUE_WORDS | FALSE_WORDS:
            problems.append(f"frontline {row['frontline']!r} must be yes or no")
        if row["password"] and (problem := services.password_problem(row["password"])):
            problems.append(f"password: {problem}")
        if problems:
            report.refused[line_no] = problems
            continue
        assert city is not None and enterprise_type is not None
        parsed.append(
            (
                line_no,
                {**row, "phone": phone},
                services.ProfileData(
                    gender=Gender(gender),
                    birth_date=birth,
                    city=city,
                    employer=row["employer"],
                    enterprise_type=enterprise_type,
                    industry=industry,
                    frontline=frontline_word in TRUE_WORDS,
                    member_no=row["member_no"] or None,
                ),
            )
        )
    progress(len(rows), steps)
    existing = set(db.session.scalars(select(User.phone).where(User.phone.in_(list(seen)))))
    if report.refused:
        report.updated = sum(1 for _line_no, row, _profile in parsed if row["phone"] in existing)
        report.created = len(parsed) - report.updated
        return report
    users = {u.phone: u for u in db.session.scalars(select(User).where(User.phone.in_(list(existing))))}
    for written, (_line_no, row, profile) in enumerate(parsed, start=1):
        if written % PROGRESS_EVERY == 0:
            progress(len(rows) + written, steps)
        user = users.get(row["phone"])
        if user is None:
            user = services.register_employee(
                phone=row["phone"],
                password=row["password"] or None,
                name=row["name"],
                email=row["email"] or None,
                profile=profile,
                organization=organization,
            )
            report.created += 1
        else:
            if user.profile is None:
                user.profile = Profile()
            services.update_profile(user, name=row["name"], email=row["email"] or user.email, profile=profile)
            if row["password"]:
                user.password_hash = services.hash_password(row["password"])
            if organization is not None and user.organization_id is None:
                user.organization = organization
            report.updated += 1
        if not user.password_hash:
            report.needs_password.append(row["phone"])
    db.session.flush()
    progress(steps, steps)
    return report
