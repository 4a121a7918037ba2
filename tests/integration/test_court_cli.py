"""The court commands of ``hub`` (``case``, ``inquire``, ``order``, ``events``) against a running hub,
each run as its own process (as a clerk runs it), through ``hub.client`` and the real gateway."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from .conftest import HubClient, unique_case_number
from .planted import POOR, RICH, STRANGER

pytestmark = pytest.mark.integration

ASKING = ["--purpose", "查明被执行人财产", "--legal-basis", "(2026)鄂0111执1234号 执行裁定书"]


def _env(hub: HubClient, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "LC_", "LANG"))}
    return {
        **env,
        "HUB_STATE_DIR": str(hub.hub.state_dir),  # tokens from the credentials.json `hub up` writes
        "HUB_GATEWAY_PORT": str(hub.settings.gateway_port),
        "COLUMNS": "250",
        **extra,
    }


def hub_cli(
    hub: HubClient, *args: str, lang: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "hub.cli", *args, *(["--lang", lang] if lang else [])]
    return subprocess.run(
        argv, env=_env(hub, **env), capture_output=True, text=True, timeout=120, check=False
    )


def _json(out: subprocess.CompletedProcess[str]) -> Any:
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def _register(hub: HubClient, debtor: dict[str, str], number: str | None = None, *extra: str) -> str:
    number = number or unique_case_number()
    debtor_arg = f"{debtor['name']},{debtor['id_type']},{debtor['id_number']}"
    out = hub_cli(
        hub, "case", "register", "--number", number, "--applicant", "申请人甲", "--debtor", debtor_arg,
        "--owed", "100000.00", "--costs", "1500.00", "--json", *extra,
    )  # fmt: skip
    return str(_json(out)["case_id"])


def test_register_list_and_show_a_case_and_a_duplicate_number_names_the_case(hub: HubClient) -> None:
    number = unique_case_number()
    case_id = _register(hub, RICH, number)
    listed = _json(hub_cli(hub, "case", "list", "--number", number, "--json"))
    assert [c["case_id"] for c in listed] == [case_id]
    assert dt.datetime.fromisoformat(listed[0]["created_at"]).tzinfo is not None  # RFC 3339, with offset

    again = hub_cli(
        hub, "case", "register", "--number", number, "--applicant", "申请人甲",
        "--debtor", f"{RICH['name']},resident_id,{RICH['id_number']}", "--owed", "1.00", lang="zh-CN",
    )  # fmt: skip
    assert again.returncode == 1
    assert "请求被拒绝" in again.stdout and "已登记的案件" in again.stdout and case_id in again.stdout

    shown = hub_cli(hub, "case", "show", case_id, LANG="zh_CN.UTF-8")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"案件 {case_id}" in shown.stdout and "案号" in shown.stdout and number in shown.stdout
    assert "+08:00" in shown.stdout  # the registration time in the courts' time zone
    english = hub_cli(hub, "case", "show", case_id)
    assert "case number" in english.stdout and "案号" not in english.stdout


def test_inquire_prints_the_linked_result_and_an_order_is_issued_on_an_asset(hub: HubClient) -> None:
    case_id = _register(hub, RICH)
    args = ["inquire", case_id, "--id-type", "resident_id", "--id-number", RICH["id_number"], *ASKING]
    out = hub_cli(hub, *args, "--wait", "60")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "complete" in out.stdout
    assert "bank:icbc/deposit/6222020200700000001" in out.stdout
    assert "match" in out.stdout

    result = _json(hub_cli(hub, *args, "--wait", "60", "--json"))
    assert result["status"] == "complete"
    deposit = next(a for a in result["assets"] if a["ref"] == "6222020200700000001")
    assert deposit["linkage"]["decision"] == "match"

    order = hub_cli(
        hub, "order", "issue", case_id, deposit["asset_id"], "freeze", "--amount", "1000.00",
        "--approved-by", hub.judge(), *ASKING, "--wait", "60", "--json",
    )  # fmt: skip
    state = _json(order)
    assert state["status"] == "effective", state
    assert state["amount_controlled"] == "1000.00"
    shown = hub_cli(hub, "order", "show", state["order_id"], lang="zh-CN")
    assert shown.returncode == 0, shown.stderr
    assert "已控制金额" in shown.stdout and "effective" in shown.stdout
    assert "+08:00" in shown.stdout  # effective time shown in Asia/Shanghai


def test_refusals_name_the_field_and_exit_non_zero(hub: HubClient) -> None:
    case_id = _register(hub, POOR)
    short = hub_cli(hub, "inquire", case_id, "--id-type", "resident_id", "--id-number", "1101011980", *ASKING)
    assert short.returncode == 2  # refused before sending: not an identifier at all
    assert "debtor.id_number" in short.stdout, short.stdout
    bad = hub_cli(
        hub, "inquire", case_id, "--id-type", "resident_id", "--id-number", "110101198001010011", *ASKING
    )
    assert bad.returncode == 1  # refused by the gateway (422): a failing check names no debtor of the case
    assert "422" in bad.stdout and "id_number" in bad.stdout and "check character" in bad.stdout
    stranger = hub_cli(
        hub, "inquire", case_id, "--id-type", "resident_id", "--id-number", STRANGER["id_number"], *ASKING
    )
    assert stranger.returncode == 1  # refused by the gateway (422): not a debtor of the case
    assert "debtor" in stranger.stdout and "422" in stranger.stdout
    missing = hub_cli(hub, "case", "show", "case_does_not_exist", "--json")
    assert missing.returncode == 1 and "404" in missing.stdout


def test_a_batch_shows_progress_then_a_summary_table(hub: HubClient, tmp_path: Path) -> None:
    rich_case, poor_case = _register(hub, RICH), _register(hub, POOR)
    lines = [
        {"case_id": rich_case, "debtor": {"id_type": "resident_id", "id_number": RICH["id_number"]}},
        {"case_id": poor_case, "debtor": {"id_type": "resident_id", "id_number": POOR["id_number"]}},
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = hub_cli(hub, "inquire", "--batch", str(batch), *ASKING, "--wait", "120", TTY_COMPATIBLE="1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "settled" in out.stdout and "2/2" in out.stdout  # the progress bar, finished
    assert ": done" in out.stdout
    summary = out.stdout[out.stdout.index(": done") :]
    assert rich_case in summary and poor_case in summary
    assert "total" in summary  # the totals row
    assert summary.count("complete") == 2

    as_json = hub_cli(hub, "inquire", "--batch", str(batch), *ASKING, "--wait", "120", "--json")
    body = _json(as_json)
    assert body["status"] == "done" and [i["case_id"] for i in body["summary"]] == [rich_case, poor_case]
    assert body["summary"][1]["assets"] == 0


def test_events_list_and_follow_streams_new_ones(hub: HubClient) -> None:
    first = hub.court_a.get("/v1/events", params={"limit": 500}).json()
    cursor = first["next_cursor"]
    while True:  # to the end of the feed: follow from now on
        nxt = hub.court_a.get("/v1/events", params={"after": cursor, "limit": 500}).json()
        if not nxt["items"]:
            break
        cursor = nxt["next_cursor"]

    argv = [sys.executable, "-m", "hub.cli", "events", "--follow", "--json", "--interval", "0.3"]
    argv += ["--after", cursor] if cursor else []
    proc = subprocess.Popen(argv, env=_env(hub), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(90, proc.kill)  # the test fails on a missing event, it does not hang
    timer.start()
    try:
        case_id = hub.create_case([RICH])
        inquiry_id = hub.inquire(case_id, RICH)
        seen: list[dict[str, Any]] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            event = json.loads(line)
            seen.append(event)
            if event["type"] == "inquiry_settled" and event["data"].get("inquiry_id") == inquiry_id:
                break
        else:
            pytest.fail(
                f"the stream ended without the inquiry's event: {proc.stderr.read() if proc.stderr else ''}"
            )
    finally:
        timer.cancel()
        proc.kill()
        proc.communicate()  # reaps it and closes its pipes
    mine = [e for e in seen if e["case_id"] == case_id]
    assert mine and mine[-1]["data"]["status"] == "complete"
    assert all(int(e["cursor"]) > int(cursor or 0) for e in seen)

    table = hub_cli(hub, "events", "--after", str(int(mine[-1]["cursor"]) - 1), "--limit", "1", lang="zh-CN")
    assert table.returncode == 0, table.stderr
    assert "事件" in table.stdout and "inquiry_settled" in table.stdout and case_id in table.stdout
