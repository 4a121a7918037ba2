"""Bounded broker memory, as far as the broker is told: every hub topic is created time-bounded
(``cleanup.policy=delete`` with its kind's retention, ``min.insync.replicas``) and every stream table's
changelog compacted, read back from the running hub's broker with DescribeConfigs.

The embedded broker (tansu 0.6) stores and reports these configs but enforces neither retention nor
compaction (README, "Configuration"); Apache Kafka enforces both."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hub.kafka import hub_topics, topic_configs

from .conftest import HubClient

pytestmark = pytest.mark.integration


def describe(bootstrap: str) -> dict[str, dict[str, str]]:
    async def run() -> dict[str, dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            topics = sorted(await admin.list_topics())
            responses = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics]
            )
        finally:
            await admin.close()
        out: dict[str, dict[str, str]] = {}
        for response in responses:
            for _code, _msg, _type, name, entries in response.resources:
                out[name] = {e[0]: e[1] for e in entries}
        return out

    return asyncio.run(run())


def test_hub_topics_are_time_bounded_and_changelogs_compacted(hub: HubClient) -> None:
    configs = describe(hub.settings.bootstrap)
    for topic in hub_topics(hub.settings):
        assert configs.get(topic) == topic_configs(hub.settings, topic), topic
    changelogs = [t for t in configs if t.endswith("-changelog")]
    assert changelogs, sorted(configs)
    for topic in changelogs:
        assert "compact" in configs[topic].get("cleanup.policy", ""), (topic, configs[topic])
