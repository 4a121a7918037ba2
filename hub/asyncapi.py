"""The AsyncAPI 3.0 document of the hub's Kafka topics, generated from the pydantic models.

Every topic of ``schemas.topics`` is a channel; its message payload is the JSON Schema of the one
model ``schemas.topics.model_for_topic`` decodes it with (serialisation mode: what producers put on
the wire), so the document cannot drift from the code: ``hub asyncapi`` regenerates
``docs/asyncapi.json`` and ``tests/unit/test_asyncapi.py`` fails while the committed file differs.

The per-agency topics are two parameterised channels (``hub.agency.{agency}.requests`` and
``.controls``); ``agency`` is an agency slug (``police``, ``commerce``, ``real_estate``, ``land``,
``securities``, ``bank.<code>``). Kafka bindings give each topic's key, default partition count and
retention (``hub.kafka.topic_configs`` under the default settings), and every operation names the
hub process that sends or receives it (``x-hub-process``).

Public API: :func:`build_document` → ``dict`` (the document), :func:`render` → ``str`` (the file's
exact text), :data:`DEFAULT_PATH` (``docs/asyncapi.json`` in the repository).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from schemas.agencies import FIXED_AGENCIES, agency_slug
from schemas.topics import (
    AGENCY_RESPONSES,
    CONTROL_RESULTS,
    CONTROL_TICKS,
    COURT_COMMANDS,
    COURT_OUTCOMES,
    DEAD_LETTERS,
    INQUIRY_DEADLINES,
    INQUIRY_OPENED,
    INQUIRY_RESULTS,
    WATCH_CHANGES,
    WATCH_DEBTORS,
    WATCH_HITS,
    agency_controls_topic,
    agency_requests_topic,
    model_for_topic,
)

from .kafka import topic_configs
from .settings import HubSettings
from .signing import MESSAGE_KEY_HEADER, MESSAGE_SIGNATURE_HEADER

__all__ = ["ASYNCAPI_VERSION", "CHANNELS", "DEFAULT_PATH", "ChannelSpec", "build_document", "render"]

ASYNCAPI_VERSION = "3.0.0"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "docs" / "asyncapi.json"
_KAFKA_BINDING = "0.5.0"
_REF = "#/components/schemas/{model}"
_VERBS = {"send": "produce", "receive": "consume"}


@dataclass(frozen=True)
class ChannelSpec:
    """One topic (or family of per-agency topics) as the document describes it."""

    channel_id: str
    address: str  # the topic name; ``{agency}`` in the per-agency channels
    message: str  # the message component's name
    key: str  # what the Kafka record key is
    summary: str
    senders: tuple[str, ...]  # hub processes that produce to it
    receivers: tuple[str, ...]  # hub processes that consume it
    sealed: bool = False  # every message carries the stream worker's seal in its headers

    @property
    def sample_topic(self) -> str:
        """A concrete topic of this channel (the first agency for the per-agency ones)."""
        return self.address.replace("{agency}", agency_slug(FIXED_AGENCIES[0]))


_AGENCY_REQUESTS = agency_requests_topic(FIXED_AGENCIES[0]).replace(
    agency_slug(FIXED_AGENCIES[0]), "{agency}"
)
_AGENCY_CONTROLS = agency_controls_topic(FIXED_AGENCIES[0]).replace(
    agency_slug(FIXED_AGENCIES[0]), "{agency}"
)

CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec(
        "courtCommands",
        COURT_COMMANDS,
        "CourtCommand",
        "case id (a case's registration precedes its inquiries and orders in one partition)",
        "Every court command: a case registered, an inquiry requested, a control order requested.",
        ("gateway",),
        ("streams",),
    ),
    ChannelSpec(
        "inquiryOpened",
        INQUIRY_OPENED,
        "InquiryOpened",
        "inquiry id",
        "An inquiry fanned out: which agencies were asked and its SLA deadline.",
        ("streams",),
        ("streams",),
    ),
    ChannelSpec(
        "agencyRequests",
        _AGENCY_REQUESTS,
        "AgencyRequest",
        "inquiry id",
        "One agency's share of an inquiry: the debtor in every identifier form, who asks and why.",
        ("streams",),
        ("connectors",),
        sealed=True,
    ),
    ChannelSpec(
        "agencyResponses",
        AGENCY_RESPONSES,
        "AgencyResponse",
        "inquiry id",
        "An agency's answer to one request (records as the registry holds them), possibly in parts.",
        ("connectors",),
        ("streams",),
    ),
    ChannelSpec(
        "inquiryDeadlines",
        INQUIRY_DEADLINES,
        "DeadlineReached",
        "inquiry id",
        "The SLA timer: an inquiry's deadline passed (settled partial if still open).",
        ("streams",),
        ("streams",),
    ),
    ChannelSpec(
        "inquiryResults",
        INQUIRY_RESULTS,
        "InquiryResult",
        "inquiry id",
        "Each version of an inquiry's linked result, possibly in parts; the read model keeps the newest.",
        ("streams",),
        ("gateway",),
    ),
    ChannelSpec(
        "agencyControls",
        _AGENCY_CONTROLS,
        "ControlCommand",
        "<agency>/<asset ref> (one asset's orders reach the agency in order)",
        "A control order (freeze, seize, deduct, renew, release, status read, expiry notice) for one agency.",
        ("streams",),
        ("connectors",),
        sealed=True,
    ),
    ChannelSpec(
        "controlResults",
        CONTROL_RESULTS,
        "ControlOutcome",
        "case id (the case's ledger lives in that partition)",
        "What the agency did with a control order, and promotions of waiting controls.",
        ("connectors",),
        ("streams",),
    ),
    ChannelSpec(
        "controlTicks",
        CONTROL_TICKS,
        "ControlTick",
        "case id",
        "Timers of the case ledger: reminders before expiry, expiry, status re-checks.",
        ("streams",),
        ("streams",),
    ),
    ChannelSpec(
        "courtOutcomes",
        COURT_OUTCOMES,
        "CourtEvent",
        "case id",
        "Every outcome of a control order as the court sees it (also its webhook and history).",
        ("streams",),
        ("gateway",),
    ),
    ChannelSpec(
        "watchChanges",
        WATCH_CHANGES,
        "AssetChange",
        "<agency>/<asset ref>",
        "A change on a registry's change feed (an account opened, a right registered), for the watch.",
        ("connectors",),
        ("streams",),
    ),
    ChannelSpec(
        "watchDebtors",
        WATCH_DEBTORS,
        "WatchState",
        "case id (the last message of a case wins)",
        "The watch of one case: active or not, why, and the debtors watched.",
        ("gateway",),
        ("streams",),
    ),
    ChannelSpec(
        "watchHits",
        WATCH_HITS,
        "WatchHit",
        "case id",
        "A change compared with a watched debtor; match and possible reach the court as new_asset.",
        ("streams",),
        ("gateway",),
    ),
    ChannelSpec(
        "deadLetters",
        DEAD_LETTERS,
        "DeadLetter",
        "the original message's key",
        "What could never be processed: the original message, its place, the stage and the reason.",
        ("gateway", "streams", "connectors"),
        ("gateway",),
    ),
)


def _package_version() -> str:
    try:
        return version("enforcement-hub")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


def _channel(spec: ChannelSpec, defaults: HubSettings) -> dict[str, Any]:
    configs = topic_configs(defaults, spec.sample_topic)
    channel: dict[str, Any] = {
        "address": spec.address,
        "title": spec.address,
        "summary": spec.summary,
        "messages": {spec.message: {"$ref": f"#/components/messages/{spec.message}"}},
        "bindings": {
            "kafka": {
                "partitions": defaults.partitions,
                "replicas": defaults.replication_factor,
                "topicConfiguration": {
                    "cleanup.policy": [configs["cleanup.policy"]],
                    "retention.ms": int(configs["retention.ms"]),
                },
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }
    if "{agency}" in spec.address:
        channel["parameters"] = {
            "agency": {
                "description": "the agency's slug: police, commerce, real_estate, land, securities, or "
                "bank.<code> for each configured bank (HUB_BANKS)",
                "examples": [agency_slug(a) for a in defaults.agencies],
            }
        }
    return channel


def _asyncapi_schema(schema: Any) -> Any:
    """Pydantic's JSON Schema in the AsyncAPI Schema dialect: the only difference that occurs is
    ``discriminator``, an object in OpenAPI (``propertyName``, ``mapping``) and the property's name
    in AsyncAPI (the ``oneOf`` beside it still names each branch)."""
    if isinstance(schema, list):
        return [_asyncapi_schema(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _asyncapi_schema(v) for k, v in schema.items()}
    if isinstance(out.get("discriminator"), dict):
        out["discriminator"] = out["discriminator"]["propertyName"]
    return out


# the Kafka headers of a sealed message (hub/signing.py: message_headers, verify_message)
_SEAL_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The stream worker's seal (HUB_SIGNING_KEYS_DIR set): Ed25519 by the `streams` key over "
    "the topic, key and value; a connector dead-letters a message without a valid one (ForgedMessage).",
    "properties": {
        MESSAGE_KEY_HEADER: {"type": "string", "description": "the key id that sealed the message"},
        MESSAGE_SIGNATURE_HEADER: {
            "type": "string",
            "description": "the signature, unpadded URL-safe base64",
        },
    },
    "required": [MESSAGE_KEY_HEADER, MESSAGE_SIGNATURE_HEADER],
}


def build_document() -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document as a JSON-ready dict: ``channels`` (one per :data:`CHANNELS`
    entry), ``operations`` (a send per producing process and a receive per consuming process),
    ``components.messages`` (one per model, its Kafka key in the bindings) and
    ``components.schemas`` (every model the payloads reference). Independent of the environment:
    partitions, replicas and retention are the settings' defaults."""
    defaults = HubSettings.model_construct()  # the defaults, whatever HUB_* variables are set
    mode: JsonSchemaMode = "serialization"
    inputs = [(spec.message, mode, model_for_topic(spec.sample_topic)) for spec in CHANNELS]
    by_key, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in CHANNELS:
        payload = _asyncapi_schema(by_key[(spec.message, mode)])
        messages[spec.message] = {
            "name": spec.message,
            "title": spec.message,
            "contentType": "application/json",
            "payload": payload,
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": spec.key},
                    "bindingVersion": _KAFKA_BINDING,
                }
            },
        }
        if spec.sealed:
            messages[spec.message]["headers"] = _SEAL_HEADERS
        channels[spec.channel_id] = _channel(spec, defaults)
        ref = {"$ref": f"#/channels/{spec.channel_id}"}
        message_ref = [{"$ref": f"#/channels/{spec.channel_id}/messages/{spec.message}"}]
        for action, processes in (("send", spec.senders), ("receive", spec.receivers)):
            for process in processes:
                operations[f"{process}.{action}.{spec.channel_id}"] = {
                    "action": action,
                    "channel": ref,
                    "messages": message_ref,
                    "summary": f"the {process} {_VERBS[action]} {spec.address}",
                    "x-hub-process": process,
                }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Enforcement data-linkage hub: Kafka topics",
            "version": _package_version(),
            "description": "The topics between the hub's processes (gateway, stream workers, "
            "connectors). Messages are JSON (UTF-8) of the pydantic models in schemas/models.py, at "
            "most 512 KiB each (larger answers and results travel as parts). Consumers tolerate "
            "fields they do not know. Generated by `hub asyncapi`; do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "embedded": {
                "host": f"127.0.0.1:{defaults.embedded_kafka_port}",
                "protocol": "kafka",
                "description": "the embedded Kafka-protocol broker `hub up` starts (HUB_EMBEDDED_KAFKA_PORT)",
            },
            "production": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "Apache Kafka in KRaft mode (docker-compose.yml; HUB_KAFKA_BOOTSTRAP)",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                name: _asyncapi_schema(schema)
                for name, schema in sorted(definitions.get("$defs", {}).items())
            },
        },
    }


def render(document: dict[str, Any] | None = None) -> str:
    """The document as the committed file's exact text (2-space JSON, UTF-8, a final newline)."""
    return json.dumps(document or build_document(), indent=2, ensure_ascii=False) + "\n"
