"""The benchmark's profile summary (``scripts/bench/profile.py``) reads py-spy's raw format:
self shares by innermost frame, shares by source file without the entry points every stack has."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from bench.profile import summarise

ENTRY = ";".join(
    [
        "_run_module_as_main (<frozen runpy>:198)",
        "main (gateway/__main__.py:38)",
        "run (/x/site-packages/uvicorn/server.py:68)",
    ]
)
RAW = "\n".join(
    [
        f"{ENTRY};store_results (gateway/db.py:410);_execute (gateway/sqlite_driver.py:58) 6",
        f"{ENTRY};get_inquiry (gateway/routes/inquiries.py:172);_execute (gateway/sqlite_driver.py:58) 3",
        f"{ENTRY};dumps (/usr/lib/python3.11/json/__init__.py:231) 1",
    ]
)


def test_the_summary_gives_self_and_file_shares_without_entry_points(tmp_path: Path) -> None:
    path = tmp_path / "gateway.txt"
    path.write_text(RAW)
    text = summarise(path, top=5)
    assert "10 samples; self:" in text
    assert "90.0%  _execute (gateway/sqlite_driver.py)" in text
    assert "10.0%  dumps (/usr/lib/python3.11/json/__init__.py)" in text
    within = text.split("within")[1]
    assert "90.0%  gateway/sqlite_driver.py" in within
    assert "60.0%  gateway/db.py" in within
    assert "30.0%  gateway/routes/inquiries.py" in within
    assert "10.0%  json/__init__.py" in within
    for entry in ("runpy", "__main__", "uvicorn/server.py"):
        assert entry not in within


def test_an_empty_profile_says_so(tmp_path: Path) -> None:
    path = tmp_path / "streams.txt"
    path.write_text("")
    assert summarise(path) == "  (no samples)"
