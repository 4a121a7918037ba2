"""Which service may write and read which topic: the broker ACLs of each service's principal.

Derived from :mod:`schemas.topics`, so a topic added there is given to no one until it is listed
here. Every service writes only the topics it produces (the dead-letter topic is everyone's); reading
is wider but bounded. ``docker-compose.yml`` grants exactly these (its ``kafka-acls`` service, made by
:func:`kafka_acls_commands`; ``tests/unit/test_topic_access.py`` compares the two).

Principals: ``gateway``, ``streams``, ``connectors`` (one per service), ``admin`` (super user: the
``topics`` job and the brokers themselves). Registries use no Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable

from .topics import (
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
)

__all__ = [
    "GROUP_PREFIXES",
    "INTERNAL_PREFIXES",
    "SERVICES",
    "kafka_acls_commands",
    "reads",
    "writes",
]

SERVICES = ("gateway", "streams", "connectors")
# consumer groups each principal may join (prefixed ACLs)
GROUP_PREFIXES = {"gateway": "hub-gateway-", "streams": "hub-streams", "connectors": "hub-connector-"}
# topics a principal creates and owns by prefix: faust's changelog and repartition topics
INTERNAL_PREFIXES = {"streams": "hub-streams-"}


def writes(agencies: Iterable[str]) -> dict[str, set[str]]:
    """``{service: topics it produces}`` for the configured ``agencies``."""
    agencies = list(agencies)
    return {
        # the outbox (court commands, watched debtors) and the read model's dead letters
        "gateway": {COURT_COMMANDS, WATCH_DEBTORS, DEAD_LETTERS},
        "streams": {
            INQUIRY_OPENED,
            INQUIRY_DEADLINES,
            INQUIRY_RESULTS,
            CONTROL_TICKS,
            COURT_OUTCOMES,
            WATCH_HITS,
            DEAD_LETTERS,
            *(agency_requests_topic(a) for a in agencies),
            *(agency_controls_topic(a) for a in agencies),
        },
        "connectors": {AGENCY_RESPONSES, CONTROL_RESULTS, WATCH_CHANGES, DEAD_LETTERS},
    }


def reads(agencies: Iterable[str]) -> dict[str, set[str]]:
    """``{service: topics it consumes}`` for the configured ``agencies``."""
    agencies = list(agencies)
    return {
        "gateway": {INQUIRY_RESULTS, COURT_OUTCOMES, DEAD_LETTERS, WATCH_HITS},
        "streams": {
            COURT_COMMANDS,
            INQUIRY_OPENED,
            INQUIRY_DEADLINES,
            AGENCY_RESPONSES,
            CONTROL_RESULTS,
            CONTROL_TICKS,
            WATCH_CHANGES,
            WATCH_DEBTORS,
        },
        "connectors": {
            *(agency_requests_topic(a) for a in agencies),
            *(agency_controls_topic(a) for a in agencies),
        },
    }


def kafka_acls_commands(agencies: Iterable[str]) -> list[str]:
    """The ``kafka-acls.sh`` arguments (after the tool and its connection options) that grant
    :func:`writes` and :func:`reads`: Write+Describe per produced topic, Read+Describe per consumed
    topic, Read on the service's groups, everything on the streams' internal topics, and Describe
    of every hub topic and group to the gateway (the lag desk)."""
    agencies = list(agencies)
    out: list[str] = []
    for service in SERVICES:
        user = f"User:{service}"
        for topic in sorted(writes(agencies)[service]):
            out.append(
                f"--add --allow-principal {user} --operation Write --operation Describe --topic {topic}"
            )
        for topic in sorted(reads(agencies)[service]):
            out.append(
                f"--add --allow-principal {user} --operation Read --operation Describe --topic {topic}"
            )
        out.append(
            f"--add --allow-principal {user} --operation Read --operation Describe "
            f"--group {GROUP_PREFIXES[service]} --resource-pattern-type prefixed"
        )
        if service in INTERNAL_PREFIXES:
            out.append(
                f"--add --allow-principal {user} --operation All "
                f"--topic {INTERNAL_PREFIXES[service]} --resource-pattern-type prefixed"
            )
    for kind, prefix in (("topic", "hub."), ("group", "hub-")):
        out.append(
            f"--add --allow-principal User:gateway --operation Describe --{kind} {prefix} "
            "--resource-pattern-type prefixed"
        )
    return out
