"""`hub lag` fits a terminal: a line per consumer group first, every partition on request."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from hub.cli import _lag_table


def _report(groups: int = 20, partitions: int = 6) -> dict[str, Any]:
    data: dict[str, Any] = {"interval_seconds": 2, "window": 30, "stop_seconds": 60, "error": None}
    data["groups"] = []
    for g in range(groups):
        parts = [
            {
                "topic": f"hub.topic.{g}",
                "partition": p,
                "committed": 10,
                "end": 10,
                "position": 0,
                "lag": 0,
                "lag_seconds": 0.0,
                "status": "OK",
                "reason": "caught up",
            }
            for p in range(partitions)
        ]
        data["groups"].append(
            {"group": f"hub-group-{g}", "lag": 0, "lag_seconds": 0.0, "status": "OK", "partitions": parts}
        )
    stuck = data["groups"][3]
    stuck["status"] = "STALLED"
    stuck["lag"] = 7
    stuck["partitions"][4].update(status="STALLED", lag=7, reason="no commit for 45 s with lag 7")
    return data


def _lines(data: dict[str, Any], details: bool) -> list[str]:
    console = Console(width=140, record=True, color_system=None)
    console.print(_lag_table(data, details))
    return console.export_text().splitlines()


def test_the_summary_holds_twenty_groups_in_a_fifty_line_terminal_and_names_what_is_stuck() -> None:
    lines = _lines(_report(), details=False)
    assert len(lines) <= 30, len(lines)
    assert sum("hub-group-" in line for line in lines) == 20
    stuck = next(line for line in lines if "hub-group-3 " in line)
    assert "STALLED" in stuck and "hub.topic.3[4]" in stuck and "no commit for 45 s" in stuck


def test_details_list_every_partition() -> None:
    lines = _lines(_report(), details=True)
    assert sum("hub.topic." in line for line in lines) == 20 * 6
    assert len(lines) > 120
