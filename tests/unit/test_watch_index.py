"""The watch's matching (streams/watch.py): a change concerns the watched debtors its owner may be,
decided by identity linkage; a namesake is a non_match; a watch switched off matches nothing."""

from __future__ import annotations

import datetime as dt
import random

from schemas.identifiers import resident_id_check
from schemas.models import Party
from schemas.watch import AssetChange, WatchState
from streams.linkage import link
from streams.watch import RecentChanges, WatchIndex, asset_id

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


def rid(body: str) -> str:
    return body + resident_id_check(body)


ZHANG = Party(name="张伟", id_type="resident_id", id_number=rid("11010119800101001"))
NAMESAKE_ID = rid("44030520000229002")
COMPANY = Party(name="武汉甲乙贸易有限公司", id_type="uscc", id_number="91110108MA0R8K3Q1Y")


def state(case_id: str, *debtors: Party, active: bool = True, court: str = "court-a") -> WatchState:
    return WatchState(
        case_id=case_id,
        court_id=court,
        active=active,
        sources=["court"],
        debtors=list(debtors),
        updated_at=NOW,
    )


def change(
    name: str, id_number: str | None, ref: str = "6222000001", id_type: str | None = "resident_id"
) -> AssetChange:
    return AssetChange.model_validate(
        {
            "change_id": f"bank:icbc:{ref}",
            "agency": "bank:icbc",
            "sequence": "1",
            "change_type": "account_opened",
            "occurred_at": NOW,
            "observed_at": NOW,
            "asset": {
                "kind": "deposit",
                "agency": "bank:icbc",
                "ref": ref,
                "value": "8000.00",
                "owner": {"name": name, "id_type": id_type, "id_number": id_number},
            },
        }
    )


def decisions(index: WatchIndex, c: AssetChange) -> list[tuple[str, int, str]]:
    hit = index.match(c, NOW)
    return [(x.case_id, x.debtor_index, x.decision) for x in hit.candidates] if hit else []


def test_the_debtors_new_account_matches_and_a_namesakes_is_a_non_match() -> None:
    index = WatchIndex()
    index.apply(state("case_1", ZHANG))
    hit = index.match(change("张伟", ZHANG.id_number), NOW)
    assert hit is not None and hit.asset_id == "bank:icbc/deposit/6222000001" == asset_id(hit.change)
    [c] = hit.candidates
    assert (c.case_id, c.court_id, c.debtor_index, c.decision) == ("case_1", "court-a", 0, "match")
    assert c.linkage is not None and c.linkage.decision == "match"
    assert hit.key(c) == "bank:icbc:6222000001|case_1|0"
    assert decisions(index, change("张伟", NAMESAKE_ID, ref="6222000002")) == [("case_1", 0, "non_match")]
    assert index.match(change("李四", rid("11010119700101003")), NOW) is None


def test_an_owner_recorded_under_the_legacy_number_or_a_variant_spelling_is_found() -> None:
    index = WatchIndex()
    index.apply(state("case_1", ZHANG))
    legacy = ZHANG.id_number[:6] + ZHANG.id_number[8:17]
    assert decisions(index, change("张伟", legacy)) == [("case_1", 0, "match")]
    [(_, _, spelt)] = decisions(index, change("张 伟", None))  # no identifier: at most possible
    assert spelt in ("possible", "non_match")


def test_a_company_is_found_by_its_organisation_code() -> None:
    index = WatchIndex()
    index.apply(state("case_2", COMPANY))
    org = COMPANY.id_number[8:17]
    found = decisions(index, change("武汉甲乙贸易有限公司", f"{org[:8]}-{org[8]}", id_type="org_code"))
    assert found == [("case_2", 0, "match")]


def test_every_watching_case_gets_its_own_hit_and_a_watch_switched_off_none() -> None:
    index = WatchIndex()
    index.apply(state("case_1", ZHANG))
    index.apply(state("case_3", COMPANY, ZHANG, court="court-b"))
    hit = index.match(change("张伟", ZHANG.id_number), NOW)
    assert hit is not None
    assert [(c.case_id, c.debtor_index, c.court_id) for c in hit.candidates] == [
        ("case_1", 0, "court-a"),
        ("case_3", 1, "court-b"),
    ]
    assert len(index) == 3
    index.apply(state("case_1", ZHANG, active=False))
    assert [c[0] for c in decisions(index, change("张伟", ZHANG.id_number))] == ["case_3"]
    index.apply(state("case_3", COMPANY))  # the debtors changed: the old entries go
    assert index.match(change("张伟", ZHANG.id_number), NOW) is None
    assert len(index) == 1 and set(index.states) == {"case_3"}


def test_a_placeholder_identifier_finds_nobody_by_number() -> None:
    index = WatchIndex()
    index.apply(state("case_1", ZHANG))
    assert index.candidates(change("王五", "000000000000000000")) == set()


def test_take_replaces_what_the_index_holds() -> None:
    index, fresh = WatchIndex(), WatchIndex()
    index.apply(state("case_1", ZHANG))
    fresh.apply(state("case_2", COMPANY))
    index.take(fresh)
    assert set(index.states) == {"case_2"}
    assert index.match(change("张伟", ZHANG.id_number), NOW) is None


def test_the_namesake_shortcut_decides_exactly_as_linkage() -> None:
    """Owners holding another valid resident id (typed or not, 18 or 15 characters, one edit away,
    the debtor's own) against person debtors born before and after 2000: the index's decision is
    linkage's every time."""
    rng = random.Random(5)
    debtors = [ZHANG, Party(name="王芳", id_type="resident_id", id_number=rid("44030520040229002"))]
    for i in range(400):
        debtor = rng.choice(debtors)
        number = debtor.id_number
        kind = i % 6
        if kind == 0:  # another valid id
            region, year = rng.randrange(110000, 660000), rng.randrange(1950, 2005)
            number = rid(
                f"{region}{year}0{rng.randrange(1, 9)}1{rng.randrange(1, 9)}{rng.randrange(100, 999)}"
            )
        elif kind == 1:  # one substitution in the body (the check then fails: invalid)
            pos = rng.randrange(17)
            number = number[:pos] + str((int(number[pos]) + 1) % 10) + number[pos + 1 :]
        elif kind == 2:  # the legacy form of the debtor's or of another's
            number = number[:6] + number[8:17]
        elif kind == 3:  # an adjacent transposition, check recomputed: valid and one edit away
            pos = rng.randrange(6, 16)
            body = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 : 17]
            number = body + resident_id_check(body)
        id_type = rng.choice(["resident_id", None, "uscc"])
        index = WatchIndex()
        index.apply(state("case_1", debtor))
        c = change(debtor.name, number, id_type=id_type)
        hit = index.match(c, NOW)
        assert hit is not None
        expected = link(debtor, c.asset.owner).decision
        assert hit.candidates[0].decision == expected, (kind, number, id_type)


def test_apply_says_when_a_watch_begins_or_widens() -> None:
    index = WatchIndex()
    assert index.apply(state("case_1", ZHANG)) is True
    assert index.apply(state("case_1", ZHANG)) is False  # published again: nothing new to replay
    assert index.apply(state("case_1", ZHANG, COMPANY)) is True  # a debtor added
    assert index.apply(state("case_1", ZHANG, active=False)) is False
    assert index.apply(state("case_1", ZHANG)) is True  # watched again


def test_recent_changes_replay_what_overtook_a_watch_since_it_began() -> None:
    now = [0.0]
    recent = RecentChanges(window=60, limit=4, clock=lambda: now[0])
    before = change("张伟", ZHANG.id_number, ref="1").model_copy(
        update={"occurred_at": NOW - dt.timedelta(minutes=5)}
    )
    own, namesake, other = (
        change("张伟", ZHANG.id_number, ref="2"),
        change("张伟", NAMESAKE_ID, ref="3"),
        change("李四", rid("11010119700101003"), ref="4"),
    )
    for c in (before, own, namesake, other):
        recent.add(c)
    watch = state("case_1", ZHANG).model_copy(update={"started_at": NOW - dt.timedelta(minutes=1)})
    # the change from before the watch began is not its; the namesake's is (to be counted)
    assert [c.asset.ref for c in recent.concerning(watch)] == ["2", "3"]
    recent.add(change("张伟", ZHANG.id_number, ref="5"))
    assert len(recent) == 4  # at most ``limit``: the oldest went first
    assert [c.asset.ref for c in recent.concerning(watch)] == ["2", "3", "5"]
    now[0] = 61.0
    assert recent.concerning(watch) == [] and len(recent) == 0  # past the window
