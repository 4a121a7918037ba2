"""docs/asyncapi.json: generated from the schemas, committed, and structurally sound.

The committed file must equal what ``hub asyncapi`` generates now; every topic the hub creates is a
channel whose message payload is its model's JSON Schema; every ``$ref`` resolves; real messages
validate against their payloads, and a message missing a required field does not.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7
from typer.testing import CliRunner

from hub.asyncapi import DEFAULT_PATH, build_document, render
from hub.kafka import hub_topics
from hub.settings import HubSettings
from schemas.codec import encode
from schemas.models import (
    Case,
    CaseRegistered,
    DeadLetter,
    DeadlineReached,
    DebtorRef,
    InquiryRequested,
)
from schemas.topics import COURT_COMMANDS, DEAD_LETTERS, INQUIRY_DEADLINES, model_for_topic

NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return build_document()


def _channel_for(doc: dict[str, Any], topic: str) -> tuple[str, dict[str, Any]]:
    found = []
    for cid, channel in doc["channels"].items():
        pattern = re.escape(channel["address"]).replace(re.escape("{agency}"), r"[a-z0-9_.]+")
        if re.fullmatch(pattern, topic):
            found.append((cid, channel))
    assert len(found) == 1, f"{topic}: channels {[c for c, _ in found]}"
    return found[0]


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert part in node, f"unresolved {ref}"
        node = node[part]
    return node


def _validator(doc: dict[str, Any], topic: str) -> Draft7Validator:
    """A validator of the payload of ``topic``'s message, ``$ref``s resolved within the document."""
    _, channel = _channel_for(doc, topic)
    (message_ref,) = channel["messages"].values()
    payload = _resolve(doc, message_ref["$ref"])["payload"]
    registry: Registry[Any] = Registry().with_resource("urn:doc", Resource(doc, specification=DRAFT7))
    schema = {**payload, "$id": "urn:payload"}
    # refs are "#/components/schemas/X": relative to the document, not to the payload
    text = json.dumps(schema).replace('"#/components/', '"urn:doc#/components/')
    return Draft7Validator(json.loads(text), registry=registry)


def test_committed_document_is_the_generated_one() -> None:
    assert DEFAULT_PATH.exists(), f"{DEFAULT_PATH} missing: run `hub asyncapi`"
    assert DEFAULT_PATH.read_text(encoding="utf-8") == render(), (
        "docs/asyncapi.json is out of date with the schemas: run `hub asyncapi` and commit it"
    )


def test_every_topic_is_a_channel_with_its_models_schema(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    topics = hub_topics(HubSettings.model_construct())
    assert len(topics) >= len(doc["channels"])
    covered = set()
    for topic in topics:
        cid, channel = _channel_for(doc, topic)
        covered.add(cid)
        (name, message_ref) = next(iter(channel["messages"].items()))
        message = _resolve(doc, message_ref["$ref"])
        model = model_for_topic(topic)
        # the payload is the model's schema: same required fields and properties (or union branches)
        expected = model.json_schema(mode="serialization")
        payload = message["payload"]
        if "$ref" in payload:
            payload = _resolve(doc, payload["$ref"])
            assert name == payload["title"] == expected["title"]
            assert set(payload["properties"]) == set(expected["properties"]), topic
            assert set(payload.get("required", [])) == set(expected.get("required", [])), topic
        else:
            assert len(payload["oneOf"]) == len(expected["oneOf"]), topic
        assert message["bindings"]["kafka"]["key"]["description"], f"{topic}: key undocumented"
        assert channel["bindings"]["kafka"]["topicConfiguration"]["retention.ms"] > 0
    assert covered == set(doc["channels"]), "a channel for no topic"


def test_every_reference_resolves_and_every_schema_is_valid(doc: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(doc)
    assert len(refs) > 50
    for ref in refs:
        _resolve(doc, ref)
    for name, schema in doc["components"]["schemas"].items():
        Draft7Validator.check_schema(schema)
        assert "discriminator" not in schema or isinstance(schema["discriminator"], str), name
    for op_id, op in doc["operations"].items():
        assert op["action"] in {"send", "receive"}, op_id
        channel_id = op["channel"]["$ref"].rsplit("/", 1)[1]
        assert all(m["$ref"].startswith(f"#/channels/{channel_id}/messages/") for m in op["messages"])
    for cid in doc["channels"]:
        actions = {op["action"] for op in doc["operations"].values() if op["channel"]["$ref"].endswith(cid)}
        assert actions == {"send", "receive"}, f"{cid}: who produces and who consumes it"


def test_real_messages_validate_and_a_broken_one_does_not(doc: dict[str, Any]) -> None:
    debtor = DebtorRef(id_type="resident_id", id_number="110101198001010010")
    case = Case.model_validate(
        {
            "case_number": "(2026)鄂0111执1234号",
            "applicant": {"name": "申请人甲"},
            "debtors": [{"name": "张伟", "id_type": "resident_id", "id_number": "110101198001010010"}],
            "amount_owed": "100000.00",
            "costs": "1500.00",
            "case_id": "case_1",
            "court_id": "court-a",
            "created_at": NOW,
        }
    )
    samples = [
        (COURT_COMMANDS, CaseRegistered(case=case, idempotency_key="case_1")),
        (
            COURT_COMMANDS,
            InquiryRequested(
                inquiry_id="inq_1",
                case_id="case_1",
                court_id="court-a",
                debtor=debtor,
                agencies=["police", "bank:icbc"],
                requested_at=NOW,
                idempotency_key="inq_1",
            ),
        ),
        (INQUIRY_DEADLINES, DeadlineReached(inquiry_id="inq_1", at=NOW)),
        (
            DEAD_LETTERS,
            DeadLetter(
                source_topic="hub.agency.responses",
                value="{}",
                stage="decode",
                error_class="ValidationError",
                reason="inquiry_id: Field required",
                failed_at=NOW,
            ),
        ),
    ]
    for topic, message in samples:
        instance = json.loads(encode(message))
        validator = _validator(doc, topic)
        assert not list(validator.iter_errors(instance)), (topic, type(message).__name__)
    broken = json.loads(encode(samples[2][1]))
    del broken["inquiry_id"]
    errors = list(_validator(doc, INQUIRY_DEADLINES).iter_errors(broken))
    assert any("inquiry_id" in e.message for e in errors), errors
    bad_command = json.loads(encode(samples[1][1]))
    bad_command["type"] = "inquiry_cancelled"
    assert list(_validator(doc, COURT_COMMANDS).iter_errors(bad_command))


def test_hub_asyncapi_command_writes_and_checks(tmp_path: Any) -> None:
    from hub.cli import app

    out = tmp_path / "asyncapi.json"
    runner = CliRunner()
    result = runner.invoke(app, ["asyncapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == render()
    assert runner.invoke(app, ["asyncapi", "--output", str(out), "--check"]).exit_code == 0
    out.write_text(out.read_text(encoding="utf-8").replace('"3.0.0"', '"2.6.0"'), encoding="utf-8")
    stale = runner.invoke(app, ["asyncapi", "--output", str(out), "--check"])
    assert stale.exit_code == 1
    assert "out of date" in stale.output
