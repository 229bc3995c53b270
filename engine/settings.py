"""One settings class for the whole engine: env prefix ``GATEHOUND_``, nested with ``__``.

Example: ``GATEHOUND_KAFKA__BOOTSTRAP_SERVERS=kafka:9092``,
``GATEHOUND_TOPICS__PARTITIONS=8``, ``GATEHOUND_SCORING__ALERT_THRESHOLD=0.6``,
``GATEHOUND_RULES__PASSENGER_LATE_CASH_BOOKING__MAX_HOURS=12``. Or a file, TOML or
JSON, named by ``GATEHOUND_CONFIG_FILE`` (the environment wins over it); a running
worker takes changes to its rules, typologies and scoring from it without a restart
(engine/flow/reload.py).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from engine.errors import ConfigError

MODES: tuple[str, ...] = ("passenger", "freight", "vessel")
ModeName = Literal["passenger", "freight", "vessel"]
ALL_MODES: tuple[ModeName, ...] = ("passenger", "freight", "vessel")


class KafkaSettings(BaseModel):
    """Where the Kafka cluster is and how to talk to it."""

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="host:port[,host:port...] of the brokers."
    )
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None


class TopicSettings(BaseModel):
    """Topic names and sizes. ``prefix`` lets several engines or tests share one cluster."""

    prefix: str = ""
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)

    def name(self, base: str) -> str:
        """The full topic name for a base name such as ``raw.vessel``."""
        return f"{self.prefix}{base}"

    def all_names(self) -> list[str]:
        """Every topic the engine reads or writes, in flow order."""
        bases = [f"raw.{m}" for m in MODES] + [f"events.{m}" for m in MODES]
        bases += ["events.enriched", "links", "network", "features", "scores", "alerts", "outcomes",
                  "models", "deadletter", "audit", "watchlists"]
        return [self.name(b) for b in bases]


Hop = Literal["normalise", "decide", "link", "network", "feedback"]
#: The hops of a worker, in flow order.
HOPS: tuple[Hop, ...] = ("normalise", "decide", "link", "network", "feedback")
#: Topics with one partition whatever ``topics.partitions`` says: outcomes are few, and
#: one learner must see them all (engine/feedback/hop.py); the audit chain is one order,
#: and the ops centre finds where its copy ends by reading the topic's last record.
SINGLE_PARTITION: tuple[str, ...] = ("outcomes", "audit")


class WorkerSettings(BaseModel):
    """How a worker runs."""

    app_id: str = Field(default="gatehound", description="Faust app id = consumer group id.")
    batch_size: int = Field(default=500, ge=1, description="Most events a stage takes at once.")
    hops: list[Hop] = Field(
        default_factory=lambda: list(HOPS),
        description="The hops this worker runs: all by default; run the link and network hops "
        "in workers of their own to give scoring the whole process.",
        min_length=1,
    )
    link_batch_size: int = Field(
        default=100, ge=1,
        description="Most records the link and network hops take at once: smaller batches let "
        "the decide hop, which shares the worker's event loop, in between them sooner.",
    )
    batch_within_s: float = Field(
        default=0.05, gt=0, description="Longest a stage waits to fill a batch, seconds."
    )
    fetch_wait_ms: int = Field(
        default=10, ge=0, le=1000, description="Longest the broker holds a fetch open when idle."
    )
    linger_ms: int = Field(default=2, ge=0, le=1000, description="Producer wait to fill a batch.")
    session_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        description="Group session timeout; a dead worker's partitions move after it.",
    )
    store: str = Field(
        default="memory://", description="Store of Faust tables (none on the hot path yet): memory:// or rocksdb://."
    )
    data_dir: str = Field(default=".gatehound", description="Where worker state files live.")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="0 disables the endpoint.")
    metrics_addr: str = Field(default="127.0.0.1", description="Address /metrics listens on.")
    max_message_bytes: int = Field(
        default=1_000_000, ge=1024, description="Largest raw message taken; larger -> deadletter."
    )
    max_event_bytes: int = Field(
        default=400_000,
        ge=1024,
        description="Largest normalised event; keeps every output under Kafka's 1 MB default.",
    )
    track_history: int = Field(
        default=64,
        ge=2,
        description="Fixes kept per vessel: how many later reports a redelivered one may trail by.",
    )


class ReferenceSettings(BaseModel):
    """Reference lists the enrich stage applies."""

    # Default: FATF "high-risk jurisdictions subject to a call for action"
    # (public statement, fatf-gafi.org). Replace with your agency's own list.
    high_risk_countries: list[str] = Field(default_factory=lambda: ["KP", "IR", "MM"])
    high_risk_routes: list[str] = Field(
        default_factory=list,
        description="FROM-TO pairs of IATA airports (3 letters) or ISO countries (2 letters).",
    )


class ScoringSettings(BaseModel):
    """How findings become a final score, a severity and an alert."""

    alert_threshold: float = Field(default=0.5, ge=0, le=1)
    medium_from: float = Field(default=0.65, ge=0, le=1)
    high_from: float = Field(default=0.85, ge=0, le=1)
    suppress_hours: float = Field(
        default=24.0, ge=0,
        description="An alert on a subject already alerted for the same typology this recently "
                    "is not sent (engine/alert/cases.py); 0 sends every one.",
    )


class Band(BaseModel):
    """A score band of a typology: from this score up (to the next band), this severity."""

    model_config = {"extra": "forbid", "populate_by_name": True}

    from_score: float = Field(alias="from", ge=0, le=1)
    severity: Literal["low", "medium", "high"]
    reason: str = Field(min_length=1, max_length=300, description="What it means, for the officer.")


class Typology(BaseModel):
    """A named risk pattern: which rule findings and model scores make it up, how much
    each weighs, and the score bands that raise an alert (engine/score/typology.py)."""

    model_config = {"extra": "forbid"}

    title: str = Field(min_length=1, max_length=120)
    modes: list[ModeName] = Field(default_factory=lambda: list(ALL_MODES))
    rules: dict[str, float] = Field(
        default_factory=dict,
        description='Rule id -> weight (0-2) of its live findings; "*" for every rule not named.')
    models: dict[str, float] = Field(
        default_factory=dict,
        description="Champion model id -> weight (0-2) of its score; a yield model counts once trusted.")
    bands: list[Band] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Typology:
        starts = [b.from_score for b in self.bands]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("bands must be in rising order of 'from', each a different score")
        if any(not 0 <= w <= 2 for w in (*self.rules.values(), *self.models.values())):
            raise ValueError("weights are between 0 and 2")
        return self


def default_typologies(scoring: ScoringSettings) -> dict[str, Typology]:
    """Without configured typologies: one, ``general``, every live rule at weight 1 and the
    scoring thresholds as bands, which is the engine's plain noisy-OR of its findings."""
    return {"general": Typology.model_validate({
        "title": "General risk", "rules": {"*": 1.0},
        "bands": [
            {"from": scoring.alert_threshold, "severity": "low",
             "reason": "the rules' findings together reach the alert threshold"},
            {"from": scoring.medium_from, "severity": "medium",
             "reason": "strong or several independent findings"},
            {"from": scoring.high_from, "severity": "high",
             "reason": "very strong findings: act before arrival"},
        ],
    })}


class LogSettings(BaseModel):
    """Log level and format for gatehound, Faust and aiokafka alike."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["json", "console"] = "json"


class ScreeningSettings(BaseModel):
    """Watchlists to screen events against (more arrive on the ``watchlists`` topic)."""

    watchlists: list[str] = Field(
        default_factory=list,
        description="FollowTheMoney JSON-lines files, one list per file, named after the file.",
    )
    threshold: float | None = Field(
        default=None, ge=0, le=1, description="Lowest match score kept; default: the screener's."
    )


class PrivacySettings(BaseModel):
    """How personal data is protected on entry."""

    card_hash_key: SecretStr = Field(
        default=SecretStr("gatehound-demo-card-key"),
        description="Key of the HMAC that replaces payment card numbers on entry. The default "
        "is for demos and tests only: set your own, and keep it, or hashes stop matching.",
    )


class ModelSettings(BaseModel):
    """The River models (models/, engine/score/model.py): roles, seed, learning."""

    enabled: bool = Field(default=True, description="Score events with the models at all.")
    roles: dict[str, Literal["champion", "challenger", "off"]] = Field(
        default_factory=dict, description="Role overrides by model id; a model file gives the default."
    )
    seed: int = Field(default=1, description="Seeds every model: the same traffic learns the same model.")
    min_outcomes: int = Field(
        default=30, ge=0,
        description="Outcomes the champion yield model learns before its estimate ranks alerts.",
    )
    daily_budget: int = Field(
        default=40, ge=1,
        description="Interventions a day the operations centre can make: the precision the "
                    "yield models are compared on is among this many best-scored alerts.",
    )
    anomaly_learn_every: int = Field(
        default=4, ge=1,
        description="The anomaly models learn one event in this many (by event id): 1 learns all.",
    )
    checkpoint_every: int = Field(
        default=5_000, ge=1, description="Events between checkpoints of a partition's anomaly models.",
    )
    signing_key: SecretStr = Field(
        default=SecretStr("gatehound-demo-model-key"),
        description="Key of the HMAC on saved model state; a checkpoint that fails it is not loaded. "
        "The default is for demos and tests only.",
    )


class OpsSettings(BaseModel):
    """The operations centre (`gatehound ops`): its store, web server, sessions and oversight."""

    database_url: str = Field(
        default="sqlite:///.gatehound/ops.db",
        description="SQLAlchemy URL of the store: SQLite by default, "
                    "postgresql+pg8000://user:password@host/db in production.",
    )
    host: str = Field(default="127.0.0.1", description="Address the web app listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port of the web app; /metrics is on it too.")
    secure_cookies: bool = Field(
        default=True, description="Session cookies only over HTTPS (browsers allow them on localhost too).",
    )
    session_minutes: int = Field(default=720, ge=5, description="How long a login lasts without use.")
    audit_key: SecretStr = Field(
        default=SecretStr("gatehound-demo-audit-key"),
        description="Key of the HMAC that signs audit checkpoints. The default is for demos and "
                    "tests only: set your own, and keep it, or old checkpoints stop verifying.",
    )
    checkpoint_every: int = Field(default=100, ge=1, description="Audit records between signed checkpoints.")
    consumer_group: str = Field(default="gatehound-ops", description="Kafka consumer group of the store.")
    fairness_band: tuple[float, float] = Field(
        default=(0.8, 1.25),
        description="A group's rate over the traffic's rate outside this band is a disparity.",
    )
    fairness_min_traffic: int = Field(
        default=50, ge=1, description="Groups with less traffic than this in a period are not judged.",
    )
    shift_hours: tuple[int, int] = Field(
        default=(6, 22), description="Working hours (UTC, start and end): access outside is a misuse signal.",
    )
    reveals_per_hour: int = Field(
        default=20, ge=1, description="Reveals or searches by one user in an hour beyond which a "
                                      "supervisor is told.",
    )


#: The environment variable naming a settings file (TOML or JSON).
CONFIG_FILE_ENV = "GATEHOUND_CONFIG_FILE"
#: What a running worker takes from a changed settings file without a restart.
RELOADABLE: tuple[str, ...] = ("rules", "typologies", "scoring")


def read_config_file(path: Path) -> dict[str, Any]:
    """A settings file (TOML by its suffix, else JSON) as a mapping, as ``GATEHOUND_*``
    would give it: ``{"rules": {"passenger_late_cash_booking": {"status": "shadow"}}}``."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a configuration is a mapping of settings")
    return data


class _ConfigFileSource(PydanticBaseSettingsSource):
    """Values from the file ``GATEHOUND_CONFIG_FILE`` names: below the environment's."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything comes from __call__

    def __call__(self) -> dict[str, Any]:
        path = os.environ.get(CONFIG_FILE_ENV)
        return read_config_file(Path(path)) if path else {}


class Settings(BaseSettings):
    """Every setting of the engine. Frozen: build a new one to change anything.

    From highest to lowest: values passed in, the environment (``GATEHOUND_*``), the
    file ``GATEHOUND_CONFIG_FILE`` names, the defaults.
    """

    model_config = SettingsConfigDict(
        env_prefix="GATEHOUND_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _ConfigFileSource(settings_cls), file_secret_settings

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    worker: WorkerSettings = WorkerSettings()
    reference: ReferenceSettings = ReferenceSettings()
    scoring: ScoringSettings = ScoringSettings()
    log: LogSettings = LogSettings()
    privacy: PrivacySettings = PrivacySettings()
    screening: ScreeningSettings = ScreeningSettings()
    models: ModelSettings = ModelSettings()
    ops: OpsSettings = OpsSettings()
    typologies: dict[str, Typology] = Field(
        default_factory=dict,
        description="Named risk patterns by id (engine/score/typology.py); none: one 'general' "
                    "typology from the scoring thresholds.",
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-rule config overrides, by rule id."
    )
