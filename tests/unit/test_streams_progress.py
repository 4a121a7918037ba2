"""The stream worker's health check reports its progress, whatever faust's recovery holds: an
offset faust has not read yet is None, and must not turn the health check into an error (the
worker would never look ready)."""

from __future__ import annotations

import types

import pytest


def test_progress_counts_recovered_offsets_and_skips_the_ones_not_read_yet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import streams.app as worker

    recovery = types.SimpleNamespace(
        active_offsets={("hub-streams-cases-changelog", 0): None, ("hub-streams-cases-changelog", 1): 41},
        standby_offsets={("hub-streams-inquiries-changelog", 0): 9},
    )
    monkeypatch.setattr(worker.app, "tables", types.SimpleNamespace(recovery=recovery))
    assert worker._progress() == 50 + int(getattr(worker.app.monitor, "events_total", 0) or 0)
    monkeypatch.setattr(worker.app, "tables", types.SimpleNamespace())  # no recovery yet
    assert worker._progress() >= 0
