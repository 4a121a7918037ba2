"""The API documentation works on an isolated court network: /docs (Swagger UI) and /redoc render in
a real headless Chromium (Playwright driving Debian's /usr/bin/chromium) while every request that
leaves the gateway is refused, so nothing may come from a CDN."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import HubClient
from .test_ops_desk import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.integration


def test_swagger_ui_and_redoc_render_with_no_network_beyond_the_gateway(hub: HubClient) -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install -y chromium`; .ci/run does)"
        )
    from playwright.sync_api import Route, sync_playwright

    gateway = hub.hub.gateway_url
    refused: list[tuple[str, str]] = []

    def only_the_gateway(route: Route) -> None:
        if route.request.url.startswith(gateway):
            route.continue_()
        else:  # as on a court network without internet
            refused.append((route.request.resource_type, route.request.url))
            route.abort()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.route("**/*", only_the_gateway)

            page.goto(f"{gateway}/docs")
            page.wait_for_selector(".opblock-summary-path[data-path='/v1/inquiries']", timeout=20_000)
            assert page.locator(".opblock").count() >= 10
            assert "Enforcement data-linkage hub" in page.locator(".info .title").inner_text()

            page.goto(f"{gateway}/redoc")
            page.locator("h2", has_text="Submit an asset inquiry").first.wait_for(timeout=20_000)
            assert not errors, errors
            # everything the pages need comes from the gateway: scripts, styles, fonts, the schema;
            # ReDoc's "API docs by Redocly" link asks its CDN for a small logo, which stays blank
            needed = [(kind, url) for kind, url in refused if kind != "image"]
            assert not needed, f"the documentation needs something outside the gateway: {needed}"
        finally:
            browser.close()
