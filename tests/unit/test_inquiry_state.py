"""Aggregation of agency responses per inquiry (streams.inquiry_state), without a broker."""

from __future__ import annotations

import datetime as dt

from schemas.codec import encode
from schemas.models import AgencyResponse, InquiryOpened, InquiryResult, Party
from streams import inquiry_state as st

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
DEBTOR = Party(name="赵德明", id_type="resident_id", id_number="110101198001010010")


def opened(agencies: list[str]) -> InquiryOpened:
    return InquiryOpened(
        inquiry_id="inq_1",
        case_id="case_1",
        court_id="court-a",
        debtor=DEBTOR,
        agencies=agencies,
        deadline=T0 + dt.timedelta(seconds=30),
        opened_at=T0,
    )


def response(agency: str, status: str = "answered", records: list[dict] | None = None) -> AgencyResponse:
    return AgencyResponse(
        request_id=f"inq_1/{agency}",
        inquiry_id="inq_1",
        case_id="case_1",
        agency=agency,
        status=status,
        records=records or [],
        responded_at=T0,
        idempotency_key=f"k/{agency}",
    )


def deposit(ref: str, id_number: str, value: str = "100.00") -> dict:
    return {
        "kind": "deposit",
        "agency": "bank:icbc",
        "ref": ref,
        "value": value,
        "owner": {"name": "赵德明", "id_type": "resident_id", "id_number": id_number},
    }


def test_complete_when_every_agency_answers_in_any_order() -> None:
    s = st.new_state()
    assert st.apply_response(s, response("police", "no_record"))  # before the opened record
    assert st.apply_opened(s, opened(["police", "bank:icbc"]))
    assert st.build_result(s, court_id="court-a", now=T0).status == "pending"
    assert st.apply_response(s, response("bank:icbc", records=[deposit("A1", DEBTOR.id_number)]))
    result = st.build_result(s, court_id="court-a", now=T0)
    assert result.status == "complete"
    assert [a.asset_id for a in result.assets] == ["bank:icbc/deposit/A1"]
    assert result.agencies["bank:icbc"].status == "answered"


def test_duplicates_and_late_answers_change_nothing() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police"]))
    assert st.apply_response(s, response("police", "no_record"))
    assert not st.apply_response(s, response("police", "answered", [deposit("X", DEBTOR.id_number)]))
    result = st.build_result(s, court_id="court-a", now=T0)
    assert result.status == "complete" and result.assets == []
    assert not st.apply_response(s, response("police", "answered"))
    assert s["late"] == 1


def test_response_from_an_agency_not_asked_is_ignored() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police"]))
    assert not st.apply_response(s, response("land"))


def test_deadline_gives_partial_with_pending_agencies_unavailable() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police", "land"]))
    st.apply_response(s, response("police", "no_record"))
    assert not st.apply_deadline(s, T0 + dt.timedelta(seconds=29))
    assert st.apply_deadline(s, T0 + dt.timedelta(seconds=30))
    result = st.build_result(s, court_id="court-a", now=T0)
    assert result.status == "partial"
    assert result.agencies["land"].status == "unavailable"
    assert "SLA" in (result.agencies["land"].detail or "")
    assert not st.apply_deadline(s, T0 + dt.timedelta(seconds=60))  # final already


def test_failed_agency_settles_as_partial() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police"]))
    st.apply_response(s, response("police", "failed"))
    assert st.build_result(s, court_id="court-a", now=T0).status == "partial"


def test_other_peoples_records_are_excluded_and_counted() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    homonym = "110101198502020012"
    st.apply_response(
        s, response("bank:icbc", records=[deposit("MINE", DEBTOR.id_number), deposit("THEIRS", homonym)])
    )
    result = st.build_result(s, court_id="court-a", now=T0)
    assert [a.ref for a in result.assets] == ["MINE"]
    assert result.agencies["bank:icbc"].excluded_non_matches == 1
    assert result.excluded_non_matches == 1


def test_versions_increase_with_each_emitted_result() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police", "land"]))
    v1 = st.build_result(s, court_id="court-a", now=T0).version
    st.apply_response(s, response("police", "no_record"))
    assert st.build_result(s, court_id="court-a", now=T0).version == v1 + 1


def test_a_settled_inquiry_compacts_to_a_tombstone_that_still_counts_late_answers() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    assert st.compact(s) is None, "an open inquiry is kept whole"
    st.apply_response(s, response("bank:icbc", records=[deposit("A1", DEBTOR.id_number)]))
    st.build_result(s, court_id="court-a", now=T0)
    tomb = st.compact(s)
    assert tomb is not None and tomb["final"] and tomb["responses"] == {} and tomb["opened"] is None
    assert tomb["version"] == s["version"]
    assert not st.apply_response(tomb, response("bank:icbc"))
    assert tomb["late"] == 1
    assert st.compact(tomb) is None


def part(agency: str, i: int, n: int, records: list[dict], status: str = "answered") -> AgencyResponse:
    return response(agency, status, records).model_copy(update={"part": i, "parts": n})


def test_an_answer_in_parts_counts_once_every_part_arrived_in_any_order() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    assert st.apply_response(s, part("bank:icbc", 2, 3, [deposit("C", DEBTOR.id_number)]))
    assert not st.apply_response(s, part("bank:icbc", 2, 3, [deposit("C", DEBTOR.id_number)])), "dup"
    assert st.apply_response(s, part("bank:icbc", 0, 3, [deposit("A", DEBTOR.id_number)]))
    assert not st.answer_complete(s, "bank:icbc")
    pending = st.build_result(s, court_id="court-a", now=T0)
    assert pending.status == "pending" and pending.agencies["bank:icbc"].status == "pending"
    assert pending.agencies["bank:icbc"].detail == "2 of 3 parts of the answer received"
    # records leave the state for a table keyed per inquiry, agency and part
    table = st.take_parts(s)
    assert set(table) == {"inq_1|bank:icbc|0", "inq_1|bank:icbc|2"} and s["parts"] == {}
    assert st.apply_response(s, part("bank:icbc", 1, 3, [deposit("B", DEBTOR.id_number)]))
    assert st.answer_complete(s, "bank:icbc")
    result = st.build_result(s, court_id="court-a", now=T0, stored=table.get)
    assert result.status == "complete"
    assert [a.ref for a in result.assets] == ["A", "B", "C"]
    assert st.part_keys("inq_1", s) == ["inq_1|bank:icbc|0", "inq_1|bank:icbc|1", "inq_1|bank:icbc|2"]


def test_an_answer_missing_parts_at_the_deadline_is_unavailable_but_keeps_what_arrived() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    st.apply_response(s, part("bank:icbc", 0, 2, [deposit("A", DEBTOR.id_number)]))
    assert st.apply_deadline(s, T0 + dt.timedelta(seconds=30))
    result = st.build_result(s, court_id="court-a", now=T0)
    assert result.status == "partial" and [a.ref for a in result.assets] == ["A"]
    assert result.agencies["bank:icbc"].status == "unavailable"


def test_a_failure_replaces_an_answer_whose_parts_could_not_all_be_published() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    st.apply_response(s, part("bank:icbc", 0, 4, [deposit("A", DEBTOR.id_number)]))
    assert st.apply_response(s, response("bank:icbc", "failed"))
    assert st.answer_complete(s, "bank:icbc")
    result = st.build_result(s, court_id="court-a", now=T0)
    assert result.status == "partial" and result.agencies["bank:icbc"].status == "failed"
    assert st.part_keys("inq_1", s) == ["inq_1|bank:icbc|0"], "the stored part is still cleaned up"


def test_a_state_written_before_answers_came_in_parts_is_upgraded() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    del s["parts"]
    old = response("bank:icbc", records=[deposit("A", DEBTOR.id_number)]).model_dump(mode="json")
    old.pop("part"), old.pop("parts")
    s["responses"]["bank:icbc"] = old
    st.upgrade(s)
    assert list(s["parts"]) == ["inq_1|bank:icbc|0"]
    assert [a.ref for a in st.build_result(s, court_id="court-a", now=T0).assets] == ["A"]


def test_a_big_result_is_split_into_parts_under_the_budget_that_rebuild_it() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["bank:icbc"]))
    st.apply_response(
        s, response("bank:icbc", records=[deposit(f"R{i}", DEBTOR.id_number) for i in range(3000)])
    )
    result = st.build_result(s, court_id="court-a", now=T0)
    messages = st.result_messages(result, budget=64 * 1024)
    assert len(messages) > 3 and max(len(m) for m in messages) <= 64 * 1024
    parts = [InquiryResult.model_validate_json(m) for m in messages]
    assert {(p.version, p.status, p.parts) for p in parts} == {(result.version, "complete", len(parts))}
    assert [p.part for p in parts] == list(range(len(parts)))
    assert [a for p in parts for a in p.assets] == result.assets
    assert st.result_messages(result, budget=len(encode(result))) == [encode(result)], "one when it fits"


def test_an_answer_after_the_sla_turns_the_partial_result_complete() -> None:
    s = st.new_state()
    st.apply_opened(s, opened(["police", "bank:icbc"]))
    assert st.apply_response(s, response("police", "no_record"))
    assert st.apply_deadline(s, T0 + dt.timedelta(hours=1))
    first = st.build_result(s, court_id="court-a", now=T0)
    assert first.status == "partial" and first.agencies["bank:icbc"].status == "unavailable"
    # the bank's answer arrives late (a consumer group that rebalanced for longer than the SLA)
    assert st.apply_response(s, response("bank:icbc", records=[deposit("A1", DEBTOR.id_number)]))
    later = st.build_result(s, court_id="court-a", now=T0)
    assert later.status == "complete" and later.version > first.version
    assert [a.asset_id for a in later.assets] == ["bank:icbc/deposit/A1"]
    assert s["late"] == 1
    # a second copy of it changes nothing
    assert not st.apply_response(s, response("bank:icbc", records=[deposit("A1", DEBTOR.id_number)]))
