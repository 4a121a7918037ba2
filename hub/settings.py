"""One settings class for every service of the hub, read from ``HUB_*`` environment variables.

Names here are part of what operators integrate against (see ARCHITECTURE.md): keep them.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.agencies import AGENCY_TYPES, FIXED_AGENCIES, AgencyType

__all__ = ["REGISTRY_PORT_OFFSETS", "HubSettings", "get_settings"]

# Each registry listens on registry_base_port + offset (banks: + the bank's index), per schemas.agencies.
REGISTRY_PORT_OFFSETS = {str(t): s.port_offset for t, s in AGENCY_TYPES.items() if t is not AgencyType.bank}
_BANK_PORT_OFFSET = AGENCY_TYPES[AgencyType.bank].port_offset


def _parse_pairs(raw: str, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in filter(None, (x.strip() for x in raw.split(","))):
        key, sep, value = item.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{what}: expected 'key:value' pairs separated by commas, got {item!r}")
        out[key.strip()] = value.strip()
    return out


class HubSettings(BaseSettings):
    # an empty variable means "not set" (compose files pass ${VAR:-} through): defaults apply, and a
    # JSON-valued setting such as HUB_AGENCY_CREDENTIALS does not fail to parse an empty string
    model_config = SettingsConfigDict(
        env_prefix="HUB_", extra="ignore", env_nested_delimiter="__", env_ignore_empty=True
    )

    # --- deployment
    env: str = Field("development", description="development | production")
    state_dir: Path = Path(".hub")
    kafka_bootstrap: str | None = Field(None, description="host:port[,host:port]; unset = embedded broker")
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        None, description="SASL mechanism of this service's broker principal (SASL_PLAINTEXT); unset = none"
    )
    kafka_username: str | None = Field(None, description="this service's broker principal (SASL)")
    kafka_password: SecretStr | None = Field(None, description="its password (SASL)")
    embedded_kafka_port: int = 9092
    embedded_broker_storage: Literal["s3", "memory"] = Field(
        "s3",
        description="s3: the embedded broker keeps its log in a local S3-compatible store (s3rver) under "
        "the state dir, so topics, records and committed offsets survive restarts and kill -9; "
        "memory: nothing survives the broker process",
    )
    embedded_store_port: int = Field(9095, description="port of the embedded broker's object store (s3rver)")
    database_url: str | None = Field(None, description="sqlite:///path or postgresql://...; default SQLite")
    partitions: int = Field(4, ge=1, le=256)
    replication_factor: int = Field(
        1,
        ge=1,
        le=16,
        description="replicas of every hub topic (hub topics, faust's internal topics); 3 in production",
    )
    min_insync_replicas: int = Field(
        1,
        ge=1,
        le=16,
        description="min.insync.replicas of every hub topic: with acks=all a write needs this many replicas; "
        "2 with a replication factor of 3",
    )
    topic_retention_seconds: float = Field(
        86_400.0,
        gt=0,
        description="retention.ms of the inquiry traffic topics (requests, responses, opened, deadlines, "
        "results): they are delete-policy topics, their outcome lives in the read model and tables",
    )
    control_topic_retention_seconds: float = Field(
        604_800.0,
        gt=0,
        description="retention.ms of the court-command and control-order topics (commands, agency "
        "controls, control results and ticks, court outcomes)",
    )
    dead_letter_retention_seconds: float = Field(
        2_592_000.0, gt=0, description="retention.ms of hub.deadletters (30 days by default)"
    )
    # consumer-group timeouts: ~10 s works on the embedded broker (ARCHITECTURE.md), lower loops
    group_session_timeout_ms: int = 10_000
    group_heartbeat_interval_ms: int = 3_000
    group_rebalance_timeout_ms: int = 10_000
    group_max_poll_interval_ms: int = 30_000
    # how long a fetch may wait for data; each Kafka hop can cost up to this much latency
    fetch_max_wait_ms: int = Field(100, ge=10, le=5000)

    # --- gateway and courts
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8000
    court_tokens: str = Field("", description="court_id:token,court_id:token; empty = generated for dev")
    ops_token: SecretStr | None = None
    court_judges: str = Field("", description="court_id:judge|judge,court_id:judge")
    # --- officers and purpose (every inquiry and control order names its officer)
    court_officers: str = Field(
        "",
        description="court_id:officer|officer,court_id:officer: the officers who may submit inquiries "
        "and control orders for each court; empty = generated for dev",
    )
    max_request_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="largest request body the gateway reads (bytes); a larger one gets 413 before it is read",
    )

    # --- internal service endpoints (health and stats)
    service_host: str = Field(
        "127.0.0.1", description="interface the connectors' and streams' health servers bind"
    )
    connectors_port: int = 8090
    streams_port: int = 8091
    connectors_url: str | None = Field(None, description="default http://127.0.0.1:<connectors_port>")
    streams_url: str | None = Field(None, description="default http://127.0.0.1:<streams_port>")
    liveness_seconds: float = Field(
        90.0,
        gt=0,
        description="hub up restarts a stream worker or connector process whose own health check has "
        "failed this long without a break",
    )
    stream_workers: int = Field(
        1,
        ge=1,
        le=16,
        description="stream worker processes hub up starts (worker i serves health on "
        "streams_port + 10*i); they share the partitions",
    )
    connector_processes: int = Field(
        1,
        ge=1,
        le=16,
        description="connector processes hub up starts (process i serves health on "
        "connectors_port + 10*i); they share the partitions",
    )

    # --- inquiries
    inquiry_sla_seconds: float = Field(30.0, gt=0)
    reconcile_grace_seconds: float = Field(
        15.0,
        gt=0,
        description="an inquiry still pending this long past its SLA is sent again by the gateway; "
        "4 times this long past it, the gateway settles it partial itself",
    )
    reconcile_interval_seconds: float = Field(
        5.0, gt=0, description="how often the gateway looks for inquiries pending past their SLA"
    )
    progress_interval_ms: int = Field(
        250,
        ge=0,
        le=60_000,
        description="an open inquiry publishes at most one progress version per this many ms (the "
        "answers in between go out together in the next); settled results go out at once; 0: every change",
    )
    inquiry_retention_seconds: float = Field(
        3600.0, gt=0, description="how long the streams keep a settled inquiry's full state (late answers)"
    )
    banks: str = Field("icbc,ccb,boc", description="bank codes; each is agency bank:<code>")

    # --- control orders
    control_reminder_days: float = Field(30.0, ge=0, description="remind the court this long before expiry")
    control_retry_seconds: float = Field(
        300.0, gt=0, description="how long a connector retries a control order"
    )
    control_max_attempts: int = Field(
        10_000,
        ge=1,
        description="safety bound on registry attempts for one control order; HUB_CONTROL_RETRY_SECONDS "
        "normally ends the retries first",
    )
    court_webhooks: str = Field("", description="court_id:https://url,court_id:https://url")
    webhook_secrets: str = Field("", description="court_id:secret pairs for the HMAC-SHA256 signature")
    webhook_max_attempts: int = Field(8, ge=1)
    webhook_backoff_initial: float = Field(0.5, ge=0)
    webhook_backoff_max: float = Field(30.0, ge=0)

    # --- connectors
    connector_concurrency: int = Field(16, ge=1, le=4096)
    connector_timeout_seconds: float = Field(5.0, gt=0)
    connector_keepalive_seconds: float = Field(
        2.0, gt=0, description="how long an idle registry connection is kept for reuse (seconds)"
    )
    connector_max_attempts: int = Field(6, ge=1)
    connector_backoff_initial: float = Field(0.2, ge=0)
    connector_backoff_max: float = Field(3.0, ge=0)
    connector_publish_retry_seconds: float = Field(120.0, gt=0, description="how long a publish is retried")
    circuit_failure_threshold: int = Field(
        5,
        ge=1,
        description="consecutive failed registry calls (timeouts, 5xx, 429) that open an agency's circuit",
    )
    circuit_reset_seconds: float = Field(
        30.0,
        gt=0,
        description="how long an open circuit refuses calls before one probe is let through (half-open)",
    )
    agency_urls: dict[str, str] = Field(default_factory=dict, description="agency -> base URL override")
    agency_credentials: dict[str, SecretStr] = Field(default_factory=dict)
    signing_keys_dir: Path | None = Field(
        None,
        description="Ed25519 keys of the hub (hub/), of the stream worker (streams/: seals the agencies' "
        "Kafka messages) and of each registry (<agency slug>/) that sign requests and answers "
        "(hub/signing.py); `hub up` sets <state dir>/signing when unset and generates missing keys; "
        "unset in a process started alone = no seals",
    )

    # --- mocked registries
    registry_host: str = "127.0.0.1"
    registry_base_port: int = 8100
    registry_seed: int = 20261129
    registry_scale: int = Field(2000, ge=10, description="people in the synthetic population")
    registry_fixtures: Path | None = None
    registry_latency_ms: str = Field(
        "lognormal:40:0.5", description="fixed:MS | uniform:LO:HI | lognormal:MEDIAN:SIGMA"
    )
    registry_error_rate: float = Field(0.0, ge=0, le=1)
    registry_outage: str = Field("", description="comma-separated agencies that answer 503 to everything")
    watch_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=60,
        description="how often a connector polls its registry's change feed (new-asset watch)",
    )
    watch_replay_seconds: float = Field(
        300.0,
        ge=0,
        description="a watch that begins is matched against the changes of this many seconds before it "
        "reached the stream worker (registered since it began)",
    )
    registry_credit_threshold: Decimal = Field(
        Decimal("10000"),
        ge=0,
        description="yuan: a deposit credit at least this large is published on the bank's change feed",
    )

    # --- operations desk (consumer-lag evaluation, hub/lag.py)
    lag_sample_seconds: float = Field(2.0, gt=0, description="how often the gateway samples consumer offsets")
    lag_window: int = Field(10, ge=2, description="samples per partition in the status window (Burrow-style)")
    lag_stop_seconds: float = Field(
        60.0, gt=0, description="no commit advance for longer than this with lag > 0 means STOPPED"
    )
    lag_in_flight_stall_seconds: float = Field(
        60.0,
        gt=0,
        description="a connector message in flight for longer than this makes its partition STALLED",
    )

    # --- time
    clock_offset_seconds: float = Field(0.0, description="shift of the hub's clock (simulations)")
    clock_file: Path | None = Field(
        None, description="file holding an extra clock offset in seconds, re-read on change"
    )

    # --- 终本 (termination for now) and the re-query after it (DOMAIN.md rule 8; hub clock)
    termination_min_case_age_days: float = Field(
        90.0, ge=0, description="a case may be terminated for now only this many days after it was registered"
    )
    termination_inquiry_max_age_days: float = Field(
        90.0,
        gt=0,
        description="termination needs every required agency's answer about every debtor to be at most "
        "this many days old (deposits at every bank, vehicles, real estate, securities)",
    )
    requery_interval_days: float = Field(
        182.0, gt=0, description="a terminated case's debtors are re-queried this often"
    )
    requery_years: int = Field(5, ge=0, le=50, description="for this many years after the termination")
    requery_check_seconds: float = Field(
        5.0, gt=0, description="how often the gateway looks for re-queries due and re-query results to report"
    )

    # --- leads (财产线索) and payouts from the case's fund ledger (hub clock)
    lead_days: float = Field(7.0, gt=0, description="a lead is verified or found not to hold within this")
    lead_urgent_days: float = Field(3.0, gt=0, description="an urgent lead: within this many days")
    payout_days: float = Field(
        30.0, gt=0, description="the court is reminded of deducted money held longer than this, unpaid"
    )
    lead_check_seconds: float = Field(
        5.0, gt=0, description="how often the gateway settles leads, reports overdue ones and held money"
    )

    # --- first seizure and priority creditors (DOMAIN rule 7; hub clock)
    transfer_disposal_days: float = Field(
        60.0,
        gt=0,
        description="a priority court may ask for transfer this long after the first seizure "
        "took effect, unless the first court recorded the start of disposal",
    )
    transfer_answer_days: float = Field(
        15.0, gt=0, description="the first court answers a transfer request within this many days"
    )
    transfer_check_seconds: float = Field(
        5.0, gt=0, description="how often the gateway looks for transfer deadlines that passed"
    )

    @field_validator(
        "court_tokens",
        "court_judges",
        "court_officers",
        "banks",
        "registry_outage",
        "court_webhooks",
        "webhook_secrets",
    )
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @model_validator(mode="after")
    def _check(self) -> HubSettings:
        _parse_pairs(self.court_tokens, "HUB_COURT_TOKENS")
        _parse_pairs(self.court_judges, "HUB_COURT_JUDGES")
        _parse_pairs(self.court_officers, "HUB_COURT_OFFICERS")
        _parse_pairs(self.court_webhooks, "HUB_COURT_WEBHOOKS")
        secrets = _parse_pairs(self.webhook_secrets, "HUB_WEBHOOK_SECRETS")
        for court in _parse_pairs(self.court_webhooks, "HUB_COURT_WEBHOOKS"):
            if court not in secrets:
                raise ValueError(
                    f"HUB_COURT_WEBHOOKS names {court} but HUB_WEBHOOK_SECRETS has no secret for it"
                )
        for code in self.bank_codes:
            if not code.isidentifier() or code.lower() != code:
                raise ValueError(f"HUB_BANKS: bank code {code!r} must be lower-case letters and digits")
        if self.min_insync_replicas > self.replication_factor:
            raise ValueError(
                f"HUB_MIN_INSYNC_REPLICAS ({self.min_insync_replicas}) cannot exceed "
                f"HUB_REPLICATION_FACTOR ({self.replication_factor}): no write would ever be accepted"
            )
        if self.env == "production":
            self._check_production()
        return self

    def _check_production(self) -> None:
        """Refuse to start in production without what the hub cannot work without, naming all of it."""
        missing: list[str] = []
        if self.kafka_bootstrap is None:
            missing.append("HUB_KAFKA_BOOTSTRAP (the Kafka cluster; production never starts a broker)")
        tokens = _parse_pairs(self.court_tokens, "HUB_COURT_TOKENS")
        if not tokens:
            missing.append("HUB_COURT_TOKENS (court_id:token pairs)")
        if self.ops_token is None or not self.ops_token.get_secret_value().strip():
            missing.append("HUB_OPS_TOKEN (the operations desk's token)")
        judges = _parse_pairs(self.court_judges, "HUB_COURT_JUDGES")
        without = sorted(c for c in tokens if c not in judges)
        if not judges or without:
            who = f" (no judge for {', '.join(without)})" if without else ""
            missing.append(f"HUB_COURT_JUDGES (court_id:judge|judge for every court){who}")
        officers = _parse_pairs(self.court_officers, "HUB_COURT_OFFICERS")
        no_officer = sorted(c for c in tokens if c not in officers)
        if not officers or no_officer:
            who = f" (no officer for {', '.join(no_officer)})" if no_officer else ""
            missing.append(f"HUB_COURT_OFFICERS (court_id:officer|officer for every court){who}")
        no_credential = [a for a in self.agencies if a not in self.agency_credentials]
        if no_credential:
            missing.append(
                f"HUB_AGENCY_CREDENTIALS (a JSON map with every agency; missing: {', '.join(no_credential)})"
            )
        if missing:
            raise ValueError("production start-up refused; set " + "; ".join(missing))

    # --- derived
    @cached_property
    def bank_codes(self) -> list[str]:
        return [b.strip() for b in self.banks.split(",") if b.strip()]

    @property
    def agencies(self) -> list[str]:
        return [*FIXED_AGENCIES, *(f"bank:{b}" for b in self.bank_codes)]

    @property
    def tokens_by_court(self) -> dict[str, str]:
        return _parse_pairs(self.court_tokens, "HUB_COURT_TOKENS")

    @property
    def judges_by_court(self) -> dict[str, set[str]]:
        return {c: set(j.split("|")) for c, j in _parse_pairs(self.court_judges, "HUB_COURT_JUDGES").items()}

    @property
    def officers_by_court(self) -> dict[str, set[str]]:
        """Officer ids per court (``HUB_COURT_OFFICERS``): who may submit inquiries and orders."""
        return {
            c: {o.strip() for o in v.split("|") if o.strip()}
            for c, v in _parse_pairs(self.court_officers, "HUB_COURT_OFFICERS").items()
        }

    @property
    def webhooks_by_court(self) -> dict[str, str]:
        return _parse_pairs(self.court_webhooks, "HUB_COURT_WEBHOOKS")

    @property
    def webhook_secret_by_court(self) -> dict[str, str]:
        return _parse_pairs(self.webhook_secrets, "HUB_WEBHOOK_SECRETS")

    @property
    def outage_agencies(self) -> set[str]:
        return {a.strip() for a in self.registry_outage.split(",") if a.strip()}

    @property
    def bootstrap(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.embedded_kafka_port}"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.state_dir / 'hub.db').resolve()}"

    @property
    def resolved_connectors_url(self) -> str:
        return (self.connectors_url or f"http://127.0.0.1:{self.connectors_port}").rstrip("/")

    @property
    def resolved_streams_url(self) -> str:
        return (self.streams_url or f"http://127.0.0.1:{self.streams_port}").rstrip("/")

    @property
    def streams_urls(self) -> list[str]:
        """Health URLs of every stream worker ``hub up`` starts (an explicit URL means one service)."""
        if self.streams_url:
            return [self.resolved_streams_url]
        return [f"http://127.0.0.1:{self.streams_port + 10 * i}" for i in range(self.stream_workers)]

    @property
    def connectors_urls(self) -> list[str]:
        """Health URLs of every connector process ``hub up`` starts."""
        if self.connectors_url:
            return [self.resolved_connectors_url]
        return [f"http://127.0.0.1:{self.connectors_port + 10 * i}" for i in range(self.connector_processes)]

    def registry_port(self, agency: str) -> int:
        if agency in REGISTRY_PORT_OFFSETS:
            return self.registry_base_port + REGISTRY_PORT_OFFSETS[agency]
        code = agency.removeprefix("bank:")
        return self.registry_base_port + _BANK_PORT_OFFSET + self.bank_codes.index(code)

    def registry_url(self, agency: str) -> str:
        if agency in self.agency_urls:
            return self.agency_urls[agency].rstrip("/")
        return f"http://{self.registry_host}:{self.registry_port(agency)}"

    def registry_credential(self, agency: str) -> str:
        """The credential the registry issues to the hub (dev defaults are per agency, never shared)."""
        if agency in self.agency_credentials:
            return self.agency_credentials[agency].get_secret_value()
        return f"dev-{agency.replace(':', '-')}-secret"

    def group_timeouts(self) -> dict[str, Any]:
        return {
            "session_timeout_ms": self.group_session_timeout_ms,
            "heartbeat_interval_ms": self.group_heartbeat_interval_ms,
            "rebalance_timeout_ms": self.group_rebalance_timeout_ms,
            "max_poll_interval_ms": self.group_max_poll_interval_ms,
            "fetch_max_wait_ms": self.fetch_max_wait_ms,
        }


def get_settings() -> HubSettings:
    return HubSettings()
