"""The verifiable trip lottery, as pure functions anyone can re-run (no database, no Flask).

Algorithm ``zhijia-trip-lottery/1``:

1. **Frozen list.** When the application window closes, each applicant gets an anonymised id (12 hex digits,
   an HMAC of the registration id with the server's secret) and a tier (1 is served first; with "never been
   on a
   union trip first", tier ``2k+1`` is rule ``k`` for people who have never been and ``2k+2`` for those who
   have).
2. **Canonical form.** One line per applicant, ``"<anon_id>,<tier>\\n"``, lines sorted by anon_id, UTF-8. Its
   SHA-256 (hex) is the *applicants hash*, published before the public value is known.
3. **Seed.** ``seed = SHA-256("zhijia-trip-lottery/1|" + applicants_hash + "|" + public_value)`` (UTF-8),
where the
   public value is what the organizer enters afterwards (e.g. the day's published welfare-lottery number),
   whitespace-collapsed.
4. **Deterministic shuffle.** Each applicant's sort key is ``SHA-256(seed || anon_id)`` (raw seed bytes,
then the
   anon id's UTF-8 bytes). The ranking sorts by ``(tier, sort key hex, anon_id)``: tier by tier, and within
   a tier
   by the key, which is a uniformly random order that no one can steer once the hash is published.
5. **Allocation.** Walking the ranking, the first applicants take the seats (skipping anyone who already
holds a
   trip place that calendar year or has withdrawn); everyone after is waitlisted in ranking order.

The export (``export`` dict / JSON file) carries the algorithm version, the applicants (anon id and tier), the
applicants hash, the public value and the ranking; ``verify`` recomputes the hash and the ranking and
reports the
first difference.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

ALGORITHM_VERSION = "zhijia-trip-lottery/1"
PUBLIC_VALUE_MAX = 64


@dataclass(frozen=True, slots=True)
class Applicant:
    anon_id: str
    tier: int


class Ranked(Protocol):
    """Anything with an applicant's anonymised id and tier (an ``Applicant``, a row of the frozen list)."""

    @property
    def anon_id(self) -> str: ...

    @property
    def tier(self) -> int: ...


R = TypeVar("R", bound=Ranked)


def anon_id_for(secret: str, registration_id: int) -> str:
    """A stable pseudonym for one application: outsiders cannot link it to a person, the person can see
    theirs."""
    digest = hmac.new(secret.encode(), f"trip-lottery:{registration_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:12]


def normalise_public_value(raw: str) -> str:
    """Trim and collapse whitespace, so "12 34" and " 12  34 " are the same public value."""
    return " ".join(str(raw).split())


def canonical_form(applicants: Iterable[Ranked]) -> bytes:
    """One ``anon_id,tier`` line per applicant, sorted by anon id."""
    lines = sorted(f"{a.anon_id},{int(a.tier)}\n" for a in applicants)
    return "".join(lines).encode()


def applicants_hash(applicants: Iterable[Ranked]) -> str:
    return hashlib.sha256(canonical_form(applicants)).hexdigest()


def seed(hash_hex: str, public_value: str, version: str = ALGORITHM_VERSION) -> bytes:
    return hashlib.sha256(f"{version}|{hash_hex}|{normalise_public_value(public_value)}".encode()).digest()


def sort_key(seed_bytes: bytes, anon_id: str) -> str:
    return hashlib.sha256(seed_bytes + anon_id.encode()).hexdigest()


def rank(applicants: Sequence[R], public_value: str, hash_hex: str | None = None) -> list[R]:
    """The full ranking: tier by tier, each tier shuffled by the seeded SHA-256 keys. The applicants may be any
    objects with an ``anon_id`` and a ``tier`` (the draw ranks its rows as they are); they come back ranked."""
    hash_hex = hash_hex or applicants_hash(applicants)
    s = seed(hash_hex, public_value)
    return sorted(applicants, key=lambda a: (a.tier, sort_key(s, a.anon_id), a.anon_id))


@dataclass
class Verification:
    ok: bool
    message: str

    def __str__(self) -> str:
        return self.message


def verify(export: dict[str, Any]) -> Verification:
    """Re-run a published lottery from its export: the algorithm version must be known, the applicant list
    must
    hash to the published hash, and the recomputed ranking must equal the published one. Reports "match" or
    the
    first difference."""
    version = export.get("algorithm_version")
    if version != ALGORITHM_VERSION:
        return Verification(False, f"unknown algorithm_version: {version!r} (expected {ALGORITHM_VERSION!r})")
    try:
        applicants = [Applicant(str(item["id"]), int(item["tier"])) for item in export.get("applicants", [])]
    except (KeyError, TypeError, ValueError):
        return Verification(False, "applicants: malformed entry (each needs an id and an integer tier)")
    ids = [a.anon_id for a in applicants]
    if len(set(ids)) != len(ids):
        return Verification(False, "applicants: duplicate id")
    published_hash = str(export.get("applicants_hash") or "")
    computed_hash = applicants_hash(applicants)
    if published_hash != computed_hash:
        return Verification(
            False,
            f"applicants_hash differs: published {published_hash}, computed from the list {computed_hash}",
        )
    public_value = export.get("public_value")
    if not public_value:
        return Verification(False, "public_value missing: the lottery has not been drawn")
    computed = [a.anon_id for a in rank(applicants, str(public_value), computed_hash)]
    published = [str(x) for x in export.get("ranking", [])]
    for position, (want, got) in enumerate(zip(published, computed, strict=False), start=1):
        if want != got:
            return Verification(False, f"rank {position} differs: published {want}, computed {got}")
    if len(published) != len(computed):
        return Verification(False, f"ranking length differs: published {len(published)}, computed {len(computed)}")
    return Verification(True, "match")
