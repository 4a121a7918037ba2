"""Production that starts: the settings' production checks, the compose files as shipped with
``.env.example`` (interpolated by Debian's ``docker-compose config``, no engine needed), and the
topic configs every hub topic is created with."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from hub.kafka import hub_topics, topic_configs
from hub.settings import HubSettings
from schemas.topics import AGENCY_RESPONSES, CONTROL_RESULTS, COURT_COMMANDS, DEAD_LETTERS

ROOT = Path(__file__).resolve().parents[2]
HUB_SERVICES = ("topics", "registries", "connectors", "streams", "gateway")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("HUB_")]:
        monkeypatch.delenv(var)


def test_production_refuses_to_start_and_names_everything_missing() -> None:
    with pytest.raises(ValidationError) as info:
        HubSettings(env="production")
    text = str(info.value)
    assert "production start-up refused" in text
    for var in (
        "HUB_KAFKA_BOOTSTRAP",
        "HUB_COURT_TOKENS",
        "HUB_OPS_TOKEN",
        "HUB_COURT_JUDGES",
        "HUB_COURT_OFFICERS",
        "HUB_AGENCY_CREDENTIALS",
    ):
        assert var in text, var


def production(**overrides: Any) -> dict[str, Any]:
    creds = {a: f"secret-{i}" for i, a in enumerate(HubSettings().agencies)}
    return {
        "env": "production",
        "kafka_bootstrap": "kafka:9092",
        "court_tokens": "court-a:ta,court-b:tb",
        "ops_token": "ops",
        "court_judges": "court-a:j1|j2,court-b:j3",
        "court_officers": "court-a:o1|o2,court-b:o3",
        "agency_credentials": creds,
        **overrides,
    }


def test_production_with_everything_set_starts() -> None:
    s = HubSettings(**production())
    assert s.judges_by_court["court-a"] == {"j1", "j2"}


def test_a_court_without_judges_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        HubSettings(**production(court_judges="court-a:j1"))
    assert "no judge for court-b" in str(info.value)


def test_a_court_without_officers_is_named() -> None:
    with pytest.raises(ValidationError) as info:
        HubSettings(**production(court_officers="court-b:o3"))
    assert "no officer for court-a" in str(info.value)
    assert HubSettings(**production()).officers_by_court == {"court-a": {"o1", "o2"}, "court-b": {"o3"}}


def test_an_agency_without_credential_is_named() -> None:
    creds = {a: "x" for a in HubSettings().agencies if a != "bank:ccb"}
    with pytest.raises(ValidationError) as info:
        HubSettings(**production(agency_credentials=creds))
    assert "missing: bank:ccb" in str(info.value)


def test_empty_variables_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose passes ${VAR:-} through as an empty string; a JSON setting must not fail on it."""
    monkeypatch.setenv("HUB_AGENCY_CREDENTIALS", "")
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "")
    s = HubSettings()
    assert s.agency_credentials == {} and s.kafka_bootstrap is None


def test_min_insync_replicas_above_the_replication_factor_is_refused() -> None:
    with pytest.raises(ValidationError, match="HUB_MIN_INSYNC_REPLICAS"):
        HubSettings(replication_factor=1, min_insync_replicas=2)
    assert HubSettings(replication_factor=3, min_insync_replicas=2).min_insync_replicas == 2


def test_every_hub_topic_is_time_bounded_by_kind() -> None:
    s = HubSettings(
        topic_retention_seconds=3600,
        control_topic_retention_seconds=86400,
        dead_letter_retention_seconds=7 * 86400,
        replication_factor=3,
        min_insync_replicas=2,
    )
    for topic in hub_topics(s):
        configs = topic_configs(s, topic)
        assert configs["cleanup.policy"] == "delete", topic
        assert configs["min.insync.replicas"] == "2"
        assert int(configs["segment.ms"]) <= int(configs["retention.ms"])
    assert topic_configs(s, AGENCY_RESPONSES)["retention.ms"] == "3600000"
    assert topic_configs(s, "hub.agency.police.requests")["retention.ms"] == "3600000"
    assert topic_configs(s, COURT_COMMANDS)["retention.ms"] == "86400000"
    assert topic_configs(s, CONTROL_RESULTS)["retention.ms"] == "86400000"
    assert topic_configs(s, "hub.agency.bank.icbc.controls")["retention.ms"] == "86400000"
    assert topic_configs(s, DEAD_LETTERS)["retention.ms"] == str(7 * 86400 * 1000)


# ------------------------------------------------------------------ the compose files as shipped


def compose_config(*files: str) -> dict[str, Any]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is missing: `apt-get install -y docker-compose` (.ci/run installs it)")
    args = [exe, "--env-file", str(ROOT / ".env.example")]
    for f in files:
        args += ["-f", str(ROOT / f)]
    out = subprocess.run([*args, "config"], capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    config: dict[str, Any] = yaml.safe_load(out.stdout)
    return config


def settings_of(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    for key, value in service["environment"].items():
        if key.startswith("HUB_"):
            monkeypatch.setenv(key, "" if value is None else str(value))
    return HubSettings()


def test_compose_as_shipped_starts_every_hub_service_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    config = compose_config("docker-compose.yml")
    services = config["services"]
    for name in HUB_SERVICES:
        with monkeypatch.context() as m:
            s = settings_of(services[name], m)
        assert s.env == "production"
        assert s.kafka_bootstrap == "kafka:9092" and s.replication_factor == 1
        assert set(s.agency_credentials) == set(s.agencies)
        assert s.judges_by_court.keys() == s.tokens_by_court.keys()
    kafka = services["kafka"]
    data_dir = kafka["environment"]["KAFKA_LOG_DIRS"]
    assert data_dir in _mount_targets(kafka)


def test_internal_web_servers_are_reachable_only_on_the_internal_service_network() -> None:
    for files in (["docker-compose.yml"], ["docker-compose.yml", "deploy/docker-compose.kraft3.yml"]):
        config = compose_config(*files)
        assert config["networks"]["default"]["internal"] is True
        services = config["services"]
        for name in ("streams", "registries", "kafka", "postgres"):  # nothing of theirs goes beyond it
            assert set(services[name].get("networks") or ["default"]) == {"default"}, name
            assert not services[name].get("ports"), name
        assert not services["connectors"].get("ports")  # on the edge network for its way out only
        published = {name for name, s in services.items() if s.get("ports")}
        assert published == {"gateway", "prometheus"}


def test_three_broker_profile_replicates_every_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    config = compose_config("docker-compose.yml", "deploy/docker-compose.kraft3.yml")
    services = config["services"]
    brokers = [services[b] for b in ("kafka", "kafka-2", "kafka-3")]
    assert len({b["environment"]["KAFKA_NODE_ID"] for b in brokers}) == 3
    assert len({b["environment"]["CLUSTER_ID"] for b in brokers}) == 1
    for b in brokers:
        env = b["environment"]
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
        assert str(env["KAFKA_MIN_INSYNC_REPLICAS"]) == "2"
        assert str(env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == "3"
        assert env["KAFKA_LOG_DIRS"] in _mount_targets(b)
    for name in HUB_SERVICES:
        with monkeypatch.context() as m:
            s = settings_of(services[name], m)
        assert (s.replication_factor, s.min_insync_replicas) == (3, 2)
        assert s.kafka_bootstrap is not None and len(s.kafka_bootstrap.split(",")) == 3
        assert {"kafka-2", "kafka-3"} <= set(services[name]["depends_on"])


def _mount_targets(service: dict[str, Any]) -> set[str]:
    """Where the service's volumes are mounted (``name:/path[:mode]`` or the long form)."""
    return {
        str(v["target"]) if isinstance(v, dict) else v.split(":")[1] for v in service.get("volumes") or []
    }
