"""The lottery algorithm itself (pure functions): determinism, the public value, tiers, verification of an
export and detection of tampering, and equal chances within a tier."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from app.trips import lottery
from app.trips.lottery import Applicant


def _applicants(n: int, tier: int = 1, prefix: str = "a") -> list[Applicant]:
    return [Applicant(f"{prefix}{i:05x}", tier) for i in range(n)]


def _export(applicants: list[Applicant], public_value: str) -> dict:
    hash_hex = lottery.applicants_hash(applicants)
    return {
        "algorithm_version": lottery.ALGORITHM_VERSION,
        "applicants": [{"id": a.anon_id, "tier": a.tier} for a in applicants],
        "applicants_hash": hash_hex,
        "public_value": public_value,
        "ranking": [a.anon_id for a in lottery.rank(applicants, public_value, hash_hex)],
    }


def test_same_inputs_give_the_same_ranking_whatever_the_input_order():
    people = _applicants(50)
    first = [a.anon_id for a in lottery.rank(people, "12345")]
    again = [a.anon_id for a in lottery.rank(list(reversed(people)), "12345")]
    assert first == again
    assert lottery.applicants_hash(people) == lottery.applicants_hash(list(reversed(people)))


def test_the_public_value_changes_the_result():
    people = _applicants(50)
    one = [a.anon_id for a in lottery.rank(people, "12345")]
    other = [a.anon_id for a in lottery.rank(people, "12346")]
    assert sorted(one) == sorted(other)
    assert one != other
    assert one[:5] != other[:5]


def test_whitespace_in_the_public_value_does_not_matter():
    people = _applicants(20)
    assert lottery.rank(people, " 12  345 ") == lottery.rank(people, "12 345")


def test_tiers_are_drawn_in_order():
    people = _applicants(30, tier=3, prefix="c") + _applicants(10, tier=1, prefix="a") + _applicants(20, 2, "b")
    ranking = lottery.rank(people, "0712")
    tiers = [a.tier for a in ranking]
    assert tiers == sorted(tiers)
    assert tiers[:10] == [1] * 10 and tiers[10:30] == [2] * 20


def test_the_ranking_depends_on_the_frozen_list():
    people = _applicants(40)
    fewer = people[:-1]
    ranked = [a.anon_id for a in lottery.rank(people, "9")]
    ranked_fewer = [a.anon_id for a in lottery.rank(fewer, "9")]
    # Another list gives another hash, so another seed: not just the same order with one person removed.
    assert [x for x in ranked if x in set(ranked_fewer)] != ranked_fewer


def test_an_untouched_export_verifies():
    people = _applicants(25, 1) + _applicants(40, 2, "b")
    assert lottery.verify(_export(people, "2026-11-29 527")).message == "match"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e["applicants"][3].update(tier=1 if e["applicants"][3]["tier"] != 1 else 2),
        lambda e: e["applicants"].pop(7),
        lambda e: e["applicants"].append({"id": "fffff0", "tier": 1}),
        lambda e: e["applicants"][0].update(id="a99999"),
    ],
    ids=["tier-changed", "applicant-removed", "applicant-added", "id-changed"],
)
def test_a_tampered_applicant_list_is_detected(tamper):
    export = _export(_applicants(25, 1) + _applicants(40, 2, "b"), "527")
    tampered = copy.deepcopy(export)
    tamper(tampered)
    result = lottery.verify(tampered)
    assert not result.ok
    assert result.message.startswith("applicants_hash differs")


def test_a_tampered_ranking_reports_the_first_difference():
    export = _export(_applicants(30), "527")
    tampered = copy.deepcopy(export)
    tampered["ranking"][4], tampered["ranking"][9] = tampered["ranking"][9], tampered["ranking"][4]
    result = lottery.verify(tampered)
    assert not result.ok
    assert result.message.startswith("rank 5 differs")
    assert export["ranking"][9] in result.message and export["ranking"][4] in result.message


def test_a_different_public_value_is_detected():
    export = _export(_applicants(30), "527")
    export["public_value"] = "528"
    assert lottery.verify(export).message.startswith("rank ")


def test_unknown_algorithm_and_malformed_exports_are_refused_cleanly():
    export = _export(_applicants(5), "1")
    assert not lottery.verify({**export, "algorithm_version": "v0"}).ok
    assert "malformed" in lottery.verify({**export, "applicants": [{"tier": "x"}]}).message
    assert not lottery.verify({**export, "ranking": export["ranking"][:-1]}).ok


def test_each_applicant_of_a_tier_is_drawn_equally_often():
    """Over 4,000 public values, each of 10 same-tier applicants lands in the 3 seats about 1,200 times: the
    chi-square statistic (9 degrees of freedom) stays below 27.88, the 0.1% critical value. The seeds are
    fixed, so this test is deterministic; a biased shuffle (e.g. sorting by id) would fail it by far."""
    people = _applicants(10, tier=1) + _applicants(5, tier=2, prefix="z")
    draws, seats = 4000, 3
    wins: Counter[str] = Counter()
    for value in range(draws):
        ranking = lottery.rank(people, f"{value:05d}")
        for winner in ranking[:seats]:
            assert winner.tier == 1
            wins[winner.anon_id] += 1
    expected = draws * seats / 10
    chi_square = sum((wins[a.anon_id] - expected) ** 2 / expected for a in people if a.tier == 1)
    assert chi_square < 27.88, (chi_square, wins)
    # And each first place too: every applicant tops the list about a tenth of the time.
    firsts = Counter(lottery.rank(people, f"f{value}")[0].anon_id for value in range(2000))
    chi_first = sum((firsts[a.anon_id] - 200) ** 2 / 200 for a in people if a.tier == 1)
    assert chi_first < 27.88, firsts
