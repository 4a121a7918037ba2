"""The /ops page follows Accept-Language (zh-CN and en) and shows every time as RFC 3339 in
Asia/Shanghai (+08:00), checked in a real headless Chromium on a running hub."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from schemas.topics import AGENCY_RESPONSES

from .conftest import HubClient
from .test_ops_desk import CHROMIUM, CHROMIUM_ARGS, _ops

pytestmark = pytest.mark.integration

RFC3339_SHANGHAI = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")


def _dead_letter_recorded(hub: HubClient, *, produce_one: bool) -> dict[str, Any]:
    """The desk's dead-letter row of the responses topic; with ``produce_one``, first a malformed
    message there (the streams dead-letter it, the gateway records it) and wait for the row."""

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=hub.settings.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(AGENCY_RESPONSES, b"{not json", key=b"ops-i18n")
        finally:
            await producer.stop()

    if produce_one:
        asyncio.run(produce())
    deadline = time.monotonic() + 60
    with _ops(hub) as client:
        while True:
            body = client.get("/v1/ops/agencies").json()
            rows = [r for r in body["dead_letters"] if r["source_topic"] == AGENCY_RESPONSES and r["last_at"]]
            if rows:
                return rows[0]
            assert time.monotonic() < deadline, body["dead_letters"]
            time.sleep(0.5)


def test_ops_page_negotiates_its_language(hub: HubClient) -> None:
    zh = httpx.get(f"{hub.hub.gateway_url}/ops", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert zh.status_code == 200
    assert zh.headers["content-language"] == "zh-CN"
    assert '<html lang="zh-CN">' in zh.text and "运维值守台" in zh.text
    en = httpx.get(f"{hub.hub.gateway_url}/ops", headers={"Accept-Language": "fr-FR, en;q=0.8"})
    assert en.headers["content-language"] == "en" and '<html lang="en">' in en.text
    assert "运维值守台" not in en.text
    forced = httpx.get(
        f"{hub.hub.gateway_url}/ops", params={"lang": "zh-CN"}, headers={"Accept-Language": "en"}
    )
    assert forced.headers["content-language"] == "zh-CN"


def test_ops_page_in_chinese_with_shanghai_times_in_chromium(hub: HubClient) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`)")
    from playwright.sync_api import sync_playwright

    _dead_letter_recorded(hub, produce_one=True)
    token = hub.settings.ops_token
    assert token is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # a browser in UTC asking for Chinese: the page must not show the machine's zone
            context = browser.new_context(locale="zh-CN", timezone_id="UTC")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{hub.hub.gateway_url}/ops")
            assert page.title() == "运维值守台 · 执行查控枢纽"
            assert page.locator("html").get_attribute("lang") == "zh-CN"
            assert page.locator("#login button[type=submit]").inner_text() == "进入值守台"
            page.fill("#token", "wrong-token")
            page.click("button[type=submit]")
            page.wait_for_selector("#login-error:has-text('该令牌被拒绝')", timeout=10_000)

            page.fill("#token", token.get_secret_value())
            page.click("button[type=submit]")
            page.wait_for_selector("[data-testid=group][data-group=hub-streams]", timeout=15_000)
            page.wait_for_selector("[data-testid=deadletter]", timeout=15_000)
            header = page.locator("#agencies thead").inner_text()
            for label in ("协执单位", "健康状况", "熔断器", "死信"):
                assert label in header, header
            assert "消费延迟" in page.locator("main").inner_text()
            assert "已记录" in page.locator("#dl-total").inner_text()
            circuit = page.locator(
                "[data-testid=agency][data-agency=police] [data-testid=circuit]"
            ).inner_text()
            assert any(word in circuit for word in ("闭合", "断开", "半开")), circuit

            updated = page.locator("#updated").inner_text()
            assert updated.startswith("更新于 ") and RFC3339_SHANGHAI.search(updated), updated
            shown = dt.datetime.fromisoformat(RFC3339_SHANGHAI.search(updated).group(0))  # type: ignore[union-attr]
            assert abs((shown - dt.datetime.now(dt.UTC)).total_seconds()) < 600  # the same instant, +08:00

            assert RFC3339_SHANGHAI.search(page.locator("#lag-meta").inner_text())
            row = page.locator("[data-testid=deadletter]", has_text=AGENCY_RESPONSES).first
            when = row.locator("[data-testid=time]").inner_text()
            assert RFC3339_SHANGHAI.fullmatch(when), when
            # the gateway's UTC time and the page's Shanghai time are the same instant (to the second)
            letter = _dead_letter_recorded(hub, produce_one=False)
            assert letter["last_at"].endswith("+00:00")
            utc = dt.datetime.fromisoformat(letter["last_at"]).replace(microsecond=0)
            assert dt.datetime.fromisoformat(when) == utc, (when, letter["last_at"])
            assert not errors, errors
            context.close()

            english = browser.new_context(locale="en-US", timezone_id="America/New_York").new_page()
            english.goto(f"{hub.hub.gateway_url}/ops")
            english.fill("#token", token.get_secret_value())
            english.click("button[type=submit]")
            english.wait_for_selector("[data-testid=group][data-group=hub-streams]", timeout=15_000)
            assert "Consumer lag" in english.locator("main").inner_text()
            assert "agency" in english.locator("#agencies thead").inner_text()
            assert RFC3339_SHANGHAI.search(english.locator("#updated").inner_text())  # Shanghai, not New York
        finally:
            browser.close()
