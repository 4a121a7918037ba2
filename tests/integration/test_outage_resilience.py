"""Agency outages through the real pipeline (registry outage via ``POST /_admin/faults``): a freeze
waits the outage out within ``HUB_CONTROL_RETRY_SECONDS`` and succeeds, and while the agency's
circuit is open an inquiry gets that agency ``unavailable`` at once without the registry being called."""

from __future__ import annotations

import time

import pytest

from .conftest import CIRCUIT_RESET_SECONDS, HubClient
from .planted import OUTAGE_ACCOUNT, OUTAGE_DEBTOR, POOR

pytestmark = pytest.mark.integration
BANK = "bank:boc"
OUTAGE_SECONDS = 2 * CIRCUIT_RESET_SECONDS  # longer than the old attempt limit lasted, two probes fail


def test_freeze_waits_out_a_bank_outage_and_takes_effect(hub: HubClient) -> None:
    case_id, assets = hub.find_assets(OUTAGE_DEBTOR)
    account = assets[OUTAGE_ACCOUNT]
    assert account["agency"] == BANK
    before = hub.registry_requests(BANK)
    hub.set_faults(BANK, outage=True)
    try:
        order_id = hub.order(
            case_id=case_id,
            asset_id=account["asset_id"],
            action="freeze",
            amount="5000.00",
            approved_by=hub.judge(),
        )
        circuit = hub.wait_circuit(BANK, {"open"})
        assert circuit["consecutive_failures"] >= circuit["failure_threshold"]
        time.sleep(OUTAGE_SECONDS)
        during = hub.court_a.get(f"/v1/control-orders/{order_id}").json()
        assert during["status"] == "pending", during  # not failed: it is still being retried
        controls = hub.connector_stats(BANK)["controls"]
        assert controls["retried"] >= 1 and controls["failed"] == 0
        circuit = hub.connector_stats(BANK)["circuit"]
        assert circuit["times_opened"] >= 2, circuit  # the probes failed and opened it again
        # the open circuit kept the order from hammering the registry: the threshold's calls, then
        # about one probe per reset period
        calls = hub.registry_requests(BANK) - before
        assert calls <= circuit["failure_threshold"] + OUTAGE_SECONDS / CIRCUIT_RESET_SECONDS + 2, calls
    finally:
        hub.set_faults(BANK, outage=False)
    state = hub.wait_order(order_id, {"effective", "partial", "rejected", "failed"}, timeout=60)
    assert state["status"] == "effective", state
    assert state["amount_controlled"] == "5000.00"
    assert hub.wait_circuit(BANK, {"closed"})["consecutive_failures"] == 0


def test_inquiry_during_an_open_circuit_is_answered_at_once_without_calling_the_agency(
    hub: HubClient,
) -> None:
    case_id = hub.create_case([POOR])
    hub.set_faults(BANK, outage=True)
    try:
        first = hub.wait_result(hub.inquire(case_id, POOR, agencies=[BANK]))
        assert first["agencies"][BANK]["status"] == "unavailable", first["agencies"]
        opened = hub.wait_circuit(BANK, {"open"})
        assert opened["retry_in_seconds"] > 0
        calls = hub.registry_requests(BANK)
        second = hub.wait_result(hub.inquire(case_id, POOR, agencies=[BANK]))
        after = hub.connector_stats(BANK)
    finally:
        hub.set_faults(BANK, outage=False)
    assert second["status"] == "partial"
    assert second["agencies"][BANK]["status"] == "unavailable"
    assert "circuit open" in second["agencies"][BANK]["detail"]
    assert hub.registry_requests(BANK) == calls, "the open circuit answered without calling the registry"
    assert after["circuit"]["refused"] > opened["refused"]
    # the outage lifted: the next inquiry is the probe, it succeeds and closes the circuit
    third = hub.wait_result(hub.inquire(case_id, POOR, agencies=[BANK]))
    assert third["status"] == "complete", third["agencies"]
    assert hub.wait_circuit(BANK, {"closed"})["state"] == "closed"
