"""Closed doors: in docker-compose.yml every service connects as its own broker principal, and the
kafka-acls job grants each principal Write only on the topics it produces (schemas/topic_access.py,
derived from schemas/topics.py); the broker denies what no ACL allows."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from hub.kafka import hub_topics
from hub.settings import HubSettings
from schemas.topic_access import INTERNAL_PREFIXES, SERVICES, reads, writes
from schemas.topics import (
    AGENCY_RESPONSES,
    COURT_COMMANDS,
    DEAD_LETTERS,
    INQUIRY_RESULTS,
    agency_requests_topic,
)

ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return loaded


def _settings(compose: dict[str, Any]) -> HubSettings:
    return HubSettings(banks=compose["x-hub"]["environment"]["HUB_BANKS"])


def _grants(compose: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ``kafka-acls.sh --add`` of the kafka-acls job, parsed."""
    script = compose["services"]["kafka-acls"]["command"][0]
    grants = []
    for line in script.splitlines():
        line = line.strip()
        if not line.startswith("$$ACLS "):
            continue
        args = shlex.split(line)[1:]
        grant: dict[str, Any] = {"operations": set(), "pattern": "literal"}
        for flag, value in zip(args, [*args[1:], ""], strict=True):
            if flag == "--allow-principal":
                grant["principal"] = value
            elif flag == "--operation":
                grant["operations"].add(value)
            elif flag in ("--topic", "--group"):
                grant["kind"], grant["name"] = flag[2:], value
            elif flag == "--resource-pattern-type":
                grant["pattern"] = value
        assert "--add" in args and {"principal", "kind", "name"} <= set(grant), line
        grants.append(grant)
    return grants


def test_each_principal_may_write_only_the_topics_its_service_produces() -> None:
    compose = _compose()
    settings = _settings(compose)
    agencies, topics = settings.agencies, hub_topics(settings)
    grants = _grants(compose)
    expected_writes = writes(agencies)
    for service in SERVICES:
        mine = [g for g in grants if g["principal"] == f"User:{service}" and g["kind"] == "topic"]
        written_literal = {
            g["name"] for g in mine if g["pattern"] == "literal" and g["operations"] & {"Write", "All"}
        }
        assert written_literal == expected_writes[service], service
        read_literal = {g["name"] for g in mine if g["pattern"] == "literal" and "Read" in g["operations"]}
        assert read_literal == reads(agencies)[service], service
        prefixed_writes = {
            g["name"] for g in mine if g["pattern"] == "prefixed" and g["operations"] & {"Write", "All"}
        }
        assert prefixed_writes == ({INTERNAL_PREFIXES[service]} if service in INTERNAL_PREFIXES else set())
        # no prefix a service may write covers a hub topic (the streams' own are "hub-streams-...")
        assert not any(t.startswith(p) for p in prefixed_writes for t in topics)
    # the doors that were open: only the connectors answer for agencies, only the streams publish
    # results and ask agencies, only the gateway (and courts' systems) send court commands
    producers = {t: {s for s, ts in expected_writes.items() if t in ts} for t in topics}
    assert producers[AGENCY_RESPONSES] == {"connectors"}
    assert producers[INQUIRY_RESULTS] == {"streams"}
    assert producers[COURT_COMMANDS] == {"gateway"}
    assert producers[agency_requests_topic("police")] == {"streams"}
    assert producers[DEAD_LETTERS] == set(SERVICES)
    assert all(producers[t] for t in producers), "every hub topic has a producer"
    assert all(len(p) == 1 for t, p in producers.items() if t != DEAD_LETTERS)


def test_every_service_connects_as_its_own_principal_and_the_broker_denies_by_default() -> None:
    compose = _compose()
    services = compose["services"]
    assert compose["x-hub"]["environment"]["HUB_KAFKA_SASL_MECHANISM"] == "PLAIN"
    for service in SERVICES:
        env = services[service]["environment"]
        assert env["HUB_KAFKA_USERNAME"] == service
        assert env["HUB_KAFKA_PASSWORD"].startswith(f"${{KAFKA_{service.upper()}_PASSWORD:?")
        assert services[service]["depends_on"]["kafka-acls"]["condition"] == "service_completed_successfully"
    assert services["topics"]["environment"]["HUB_KAFKA_USERNAME"] == "admin"
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert kafka["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("StandardAuthorizer")
    assert not re.search(r"(^|,)PLAINTEXT://", kafka["KAFKA_LISTENERS"]), "no unauthenticated client listener"
    jaas = kafka["KAFKA_LISTENER_NAME_SASL_PLAINTEXT_PLAIN_SASL_JAAS_CONFIG"]
    for principal in ("admin", *SERVICES):
        assert f'user_{principal}="${{KAFKA_' in jaas, principal
    kraft3 = yaml.safe_load((ROOT / "deploy" / "docker-compose.kraft3.yml").read_text(encoding="utf-8"))
    brokers = kraft3["x-kraft3-kafka-env"]
    assert brokers["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert brokers["KAFKA_LISTENER_NAME_SASL_PLAINTEXT_PLAIN_SASL_JAAS_CONFIG"] == jaas
