"""Pacing of progress versions (streams.progress) and the settled check it relies on
(streams.inquiry_state.settles), without a broker."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from schemas.models import AgencyResponse
from streams import inquiry_state as st
from streams.progress import ProgressPacer

from .test_inquiry_state import T0, opened, response


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_the_first_version_goes_at_once_and_the_next_within_the_interval_is_held_until_it_ends() -> None:
    clock = Clock()
    pacer = ProgressPacer(0.25, clock)
    assert pacer.publish_now("inq_1")
    pacer.published("inq_1")
    clock.t += 0.0625
    assert not pacer.publish_now("inq_1"), "a second version 62.5 ms later is held"
    clock.t += 0.0625
    assert not pacer.publish_now("inq_1"), "and a third: still one held version"
    assert pacer.held == 1
    assert pacer.due() == [], "not before 250 ms after the last version"
    clock.t += 0.125
    assert pacer.due() == ["inq_1"]
    assert pacer.due() == [], "handed out once"
    pacer.published("inq_1")
    assert pacer.fresh("inq_1"), "just published: a timer that finds it due meanwhile publishes nothing"
    clock.t += 0.3
    assert not pacer.fresh("inq_1")
    assert pacer.publish_now("inq_1"), "a quiet spell: the next goes at once"


def test_inquiries_are_paced_apart_and_due_oldest_first() -> None:
    clock = Clock()
    pacer = ProgressPacer(1.0, clock)
    for inquiry_id in ("b", "a"):
        assert pacer.publish_now(inquiry_id)
        pacer.published(inquiry_id)
        clock.t += 0.1
    assert not pacer.publish_now("a") and not pacer.publish_now("b")
    clock.t += 1.0
    assert pacer.due() == ["b", "a"]


def test_a_settled_inquiry_is_forgotten_with_its_held_version() -> None:
    clock = Clock()
    pacer = ProgressPacer(0.25, clock)
    pacer.published("inq_1")
    assert not pacer.publish_now("inq_1")
    pacer.settled("inq_1")
    clock.t += 1
    assert pacer.due() == [] and len(pacer) == 0


def test_a_failed_publish_is_held_again() -> None:
    clock = Clock()
    pacer = ProgressPacer(0.25, clock)
    pacer.published("inq_1")
    assert not pacer.publish_now("inq_1")
    clock.t += 0.3
    assert pacer.due() == ["inq_1"]
    pacer.hold("inq_1", 1.0)
    clock.t += 0.5
    assert pacer.due() == []
    clock.t += 0.5
    assert pacer.due() == ["inq_1"]


def test_memory_holds_only_recent_publishes_and_held_versions() -> None:
    clock = Clock()
    pacer = ProgressPacer(0.25, clock)
    for i in range(10_000):
        pacer.published(f"inq_{i}")
    assert len(pacer) == 10_000
    clock.t += 0.25
    pacer.due()
    assert len(pacer) == 0, "a publish older than the interval no longer paces anything"


def test_interval_zero_publishes_every_change_and_keeps_nothing() -> None:
    pacer = ProgressPacer(0.0, Clock())
    for _ in range(3):
        assert pacer.publish_now("inq_1")
        pacer.published("inq_1")
    assert len(pacer) == 0
    with pytest.raises(ValueError, match="interval"):
        ProgressPacer(-1.0)


AGENCIES = ["police", "land", "bank:icbc"]


def _answers(agency: str, status: str, parts: int) -> list[AgencyResponse]:
    return [response(agency, status).model_copy(update={"part": i, "parts": parts}) for i in range(parts)]


@pytest.mark.parametrize("timed_out", [False, True])
def test_settles_says_what_build_result_decides_for_every_arrival_order(timed_out: bool) -> None:
    arrivals = [
        *_answers("police", "no_record", 1),
        *_answers("land", "unavailable", 1),
        *_answers("bank:icbc", "answered", 2),
    ]
    checked = 0
    for order in itertools.permutations(arrivals):
        for cut in range(len(order) + 1):
            s = st.new_state()
            st.apply_opened(s, opened(AGENCIES))
            for r in order[:cut]:
                st.apply_response(s, r)
            if timed_out:
                st.apply_deadline(s, T0 + dt.timedelta(hours=1))
            predicted = st.settles(s)
            result = st.build_result(s, court_id="court-a", now=T0)
            assert predicted == (result.status != "pending") == s["final"], (order[:cut], timed_out)
            checked += 1
    assert checked == 24 * 5


def test_each_accepted_change_advances_the_version_and_a_rebuild_keeps_it() -> None:
    s = st.new_state()
    assert st.apply_response(s, response("police", "no_record"))  # before the opened record
    assert s["version"] == 1
    st.apply_opened(s, opened(AGENCIES))
    first = st.build_result(s, court_id="court-a", now=T0)
    assert first.version == 2
    assert st.build_result(s, court_id="court-a", now=T0).version == 2, "a held version rebuilt: same"
    assert not st.apply_response(s, response("police", "no_record")), "a duplicate changes nothing"
    assert s["version"] == 2
    st.apply_response(s, response("land", "answered"))
    assert st.build_result(s, court_id="court-a", now=T0).version == 3
