"""The privacy policy (《隐私政策》) and the user agreement (《用户协议》): versioned documents in both languages, and
who accepted which version when.

Each version is a template ``legal/<document>/<version>.<locale>.html`` (locales ``zh_CN`` and ``en``). Publishing
a new version means adding its templates and appending it to ``versions`` below (newest last): people accept it
at their next sign-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import clock
from ..errors import DomainError, NotFound
from ..extensions import db
from .models import User
from .phone_models import DocumentAcceptance

PRIVACY_POLICY = "privacy"
USER_AGREEMENT = "terms"


@dataclass(frozen=True)
class DocumentVersion:
    version: str
    published: date


@dataclass(frozen=True)
class LegalDocument:
    code: str
    title: object  # a lazy string, e.g. 《隐私政策》
    versions: tuple[DocumentVersion, ...]  # oldest first

    @property
    def current(self) -> DocumentVersion:
        return self.versions[-1]

    def version(self, version: str) -> DocumentVersion:
        for candidate in self.versions:
            if candidate.version == version:
                return candidate
        raise NotFound()

    def template(self, version: str, locale: str) -> str:
        return f"legal/{self.code}/{version}.{'en' if locale.startswith('en') else 'zh_CN'}.html"


DOCUMENTS: dict[str, LegalDocument] = {
    USER_AGREEMENT: LegalDocument(
        code=USER_AGREEMENT,
        title=_l("《用户协议》"),
        versions=(DocumentVersion("2026-12", date(2026, 12, 1)),),
    ),
    PRIVACY_POLICY: LegalDocument(
        code=PRIVACY_POLICY,
        title=_l("《隐私政策》"),
        versions=(DocumentVersion("2026-12", date(2026, 12, 1)),),
    ),
}


class DocumentsChanged(DomainError):
    code = "documents_changed"
    http_status = 409

    def default_message(self) -> str:
        return _("《用户协议》或《隐私政策》刚刚更新，请阅读新版本后再确认。")


def document(code: str) -> LegalDocument:
    """A known document, or NotFound."""
    found = DOCUMENTS.get(code)
    if found is None:
        raise NotFound()
    return found


def current_versions() -> dict[str, str]:
    """The version in force of every document, by document code."""
    return {code: doc.current.version for code, doc in DOCUMENTS.items()}


def accept_documents(user: User, versions: dict[str, str]) -> list[DocumentAcceptance]:
    """Record that ``user`` accepts the ``versions`` they were shown. They must be the versions now in force
    (a page shown before a new version was published is refused with ``DocumentsChanged``); a version already
    accepted is not recorded twice."""
    wanted = current_versions()
    if versions != wanted:
        raise DocumentsChanged()
    already = accepted_versions(user)
    now = clock.now()
    recorded = []
    for code, version in wanted.items():
        if already.get(code) == version:
            continue
        acceptance = DocumentAcceptance(user_id=user.id, document=code, version=version, accepted_at=now)
        db.session.add(acceptance)
        recorded.append(acceptance)
    db.session.flush()
    return recorded


def acceptance_history(user_id: int) -> list[DocumentAcceptance]:
    """Every acceptance of ``user_id``, oldest first."""
    return list(
        db.session.scalars(
            select(DocumentAcceptance)
            .where(DocumentAcceptance.user_id == user_id)
            .order_by(DocumentAcceptance.accepted_at, DocumentAcceptance.id)
        )
    )


def accepted_versions(user: User) -> dict[str, str]:
    """The latest version of each document ``user`` accepted."""
    return {row.document: row.version for row in acceptance_history(user.id)}


def outdated_documents(user: User) -> list[LegalDocument]:
    """Documents ``user`` accepted in an earlier version than the one in force: they accept the new version at
    their next sign-in. (Accounts created before the documents existed have accepted none; they are asked when
    they register, activate or reset by code, not blocked at sign-in.)"""
    accepted = accepted_versions(user)
    return [doc for code, doc in DOCUMENTS.items() if code in accepted and accepted[code] != doc.current.version]


@dataclass
class AcceptanceState:
    document: LegalDocument
    accepted: DocumentAcceptance | None

    @property
    def up_to_date(self) -> bool:
        return self.accepted is not None and self.accepted.version == self.document.current.version


def acceptance_overview(user: User) -> list[AcceptanceState]:
    """Each document with the latest acceptance of ``user`` (for the consents page)."""
    latest: dict[str, DocumentAcceptance] = {}
    for row in acceptance_history(user.id):
        latest[row.document] = row
    return [AcceptanceState(doc, latest.get(code)) for code, doc in DOCUMENTS.items()]
