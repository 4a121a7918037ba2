"""Aggregation of agency responses per inquiry (streams.inquiry_state), without a broker."""

from __future__ import annotations

import datetime as dt

from schemas.models import AgencyResponse, InquiryOpened, Party
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
