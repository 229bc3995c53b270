"""The two hops of the hot path, as plain callables over batches of raw messages.

normalise: ``raw.*`` -> ``events.<mode>`` (keyed by entity) and ``deadletter``.
decide: ``events.<mode>`` -> enrich -> score -> alert, writing ``events.enriched``,
``scores``, ``alerts``, ``deadletter`` and the changelogs of its state: vessel tracks
and the booking/API join of passenger events (engine/enrich/join.py).

Each hop has ``run`` (typed results, used by replay and tests) and ``records``
(what to produce); a BatchLoop calls the hop itself, which is both. Two hops, not
one, because only ``events.<mode>`` is keyed by entity: the decide hop then owns
all of one vessel's reports, in order, and its track state, and both feeds' events
about the travellers of one flight.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel

from engine.alert import build_alerts
from engine.alert.cases import OpenAlert, case_id_of, covered_by, same_alert_key, subject_of
from engine.alert.priority import arrival_of
from engine.enrich import ReferenceData, enrich_batch, parse_events
from engine.enrich.join import JoinState, expired, join, join_key, merge_encoded
from engine.enrich.screening import WatchlistSource
from engine.flow.loop import OutRecord
from engine.flow.state import ChangelogStore, Expiry
from engine.keys import entity_key
from engine.link.identifiers import link_records
from engine.logs import get_logger
from engine.messages import RawMessage, dead_letter
from engine.metrics import (
    ALERTS,
    ALERTS_SUPPRESSED,
    DEADLETTERS,
    EVENT_TO_ALERT,
    SCORE_LATENCY,
    STAGE_EVENTS_IN,
    STAGE_EVENTS_OUT,
    TYPOLOGY_ALERTS,
    timed,
)
from engine.normalise import normalise_batch
from engine.normalise.stage import mode_of_topic
from engine.score.stage import Scorer, ScoreResult
from engine.score.track import TrackState, merge_states
from engine.settings import Settings
from schemas import (
    Alert,
    DeadLetter,
    EnrichedEvent,
    Event,
    PassengerEvent,
    Score,
    VesselEvent,
)

log = get_logger(__name__)


def _json(record: BaseModel) -> bytes:
    return record.model_dump_json().encode("utf-8")


def enriched_json(enriched: EnrichedEvent, event_json: bytes) -> bytes:
    """An enriched record's JSON, reusing the event's JSON as it arrived instead of re-encoding it.

    The event is most of the record; its bytes were validated on the way in, so
    splicing them in gives the record ``enriched.model_dump_json()`` would give,
    field for field, at a fraction of the cost (tests/unit/test_hops.py checks it).
    """
    return b"".join((
        b'{"schema_version":', str(enriched.schema_version).encode(),
        b',"key":', orjson.dumps(enriched.key),
        b',"event":', event_json,
        b',"reference":', _json(enriched.reference),
        b',"screening":[', b",".join(_json(h) for h in enriched.screening),
        b'],"watchlist_versions":', orjson.dumps(enriched.watchlist_versions),
        b',"track":', b"null" if enriched.track is None else _json(enriched.track),
        b"}",
    ))


def dead_records(settings: Settings, letters: Sequence[DeadLetter]) -> list[OutRecord]:
    """Dead letters as records for the deadletter topic, counted by stage and reason."""
    topic = settings.topics.name("deadletter")
    out = []
    for d in letters:
        DEADLETTERS.labels(stage=d.stage, reason=d.reason).inc()
        out.append(OutRecord(topic, d.payload_sha256.encode("ascii"), _json(d)))
    return out


def _count_in(stage: str, raws: Sequence[RawMessage]) -> None:
    counts: dict[str, int] = {}
    for raw in raws:
        mode = mode_of_topic(raw.topic) or mode_of_topic(raw.topic, "events") or "unknown"
        counts[mode] = counts.get(mode, 0) + 1
    for mode, n in counts.items():
        STAGE_EVENTS_IN.labels(stage=stage, mode=mode).inc(n)


def _count_out(stage: str, modes: Iterable[str]) -> None:
    counts: dict[str, int] = {}
    for mode in modes:
        counts[mode] = counts.get(mode, 0) + 1
    for mode, n in counts.items():
        STAGE_EVENTS_OUT.labels(stage=stage, mode=mode).inc(n)


@dataclass
class Normalised:
    """A normalise batch: events with their JSON, in input order, and the messages refused."""

    events: list[Event] = field(default_factory=list)
    encoded: list[bytes] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)


class NormaliseHop:
    """raw feed messages -> typed events on ``events.<mode>``."""

    name = "normalise"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._card_key = settings.privacy.card_hash_key.get_secret_value().encode("utf-8")

    def run(self, raws: Sequence[RawMessage]) -> Normalised:
        """Typed and encoded results of one batch.

        An event whose JSON exceeds ``max_event_bytes`` becomes a dead letter: its
        enriched record (the event plus facts) would be too large for the broker,
        so refusing it here keeps every later output within bounds.
        """
        _count_in(self.name, raws)
        with timed("normalise"):
            result = normalise_batch(
                raws, self.settings.worker.max_message_bytes, self._card_key
            )
        out = Normalised(deadletters=result.deadletters)
        limit = self.settings.worker.max_event_bytes
        with timed("serialise"):
            for ev, raw in zip(result.events, result.sources, strict=True):
                value = _json(ev)
                if len(value) > limit:
                    out.deadletters.append(dead_letter(
                        raw, "normalise", "event_too_large", f"{len(value)} bytes, limit {limit}"
                    ))
                    continue
                out.events.append(ev)
                out.encoded.append(value)
        return out

    def records(self, result: Normalised) -> list[OutRecord]:
        """What to produce for a batch's results."""
        name = self.settings.topics.name
        out = [
            OutRecord(name(f"events.{ev.mode}"), entity_key(ev).encode("utf-8"), value)
            for ev, value in zip(result.events, result.encoded, strict=True)
        ]
        _count_out(self.name, (ev.mode for ev in result.events))
        return out + dead_records(self.settings, result.deadletters)

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        return self.records(self.run(raws))


def tracks_changelog(settings: Settings) -> str:
    """Name of the vessel-track changelog topic of this app."""
    return settings.topics.name(f"{settings.worker.app_id}-vessel-tracks-changelog")


def track_store(settings: Settings) -> ChangelogStore[TrackState]:
    """The vessel-track store of an app: TrackState per vessel, saved states merged on restore."""
    keep = settings.worker.track_history
    return ChangelogStore(
        "vessel-tracks",
        settings.kafka.bootstrap_servers,
        tracks_changelog(settings),
        encode=_json,
        decode=TrackState.model_validate_json,
        merge=lambda older, newer: merge_states(older, newer, keep),
    )


def bookings_changelog(settings: Settings) -> str:
    """Name of the changelog topic of the passenger join (booking and API per traveller)."""
    return settings.topics.name(f"{settings.worker.app_id}-passenger-join-changelog")


def booking_store(settings: Settings) -> ChangelogStore[bytes]:
    """The passenger join's store: a JoinState per traveller and flight, as its JSON bytes."""
    return ChangelogStore(
        "passenger-join",
        settings.kafka.bootstrap_servers,
        bookings_changelog(settings),
        encode=bytes,
        decode=bytes,
        merge=merge_encoded,
    )


def anomaly_changelog(settings: Settings) -> str:
    """Name of the changelog topic of the anomaly models (one record per partition and mode)."""
    return settings.topics.name(f"{settings.worker.app_id}-anomaly-models-changelog")


def anomaly_store(settings: Settings) -> ChangelogStore[bytes]:
    """The anomaly models' checkpoints: per partition, ``anomaly:<mode>`` -> sealed state."""
    return ChangelogStore(
        "anomaly-models", settings.kafka.bootstrap_servers, anomaly_changelog(settings),
        encode=bytes, decode=bytes,
    )


def open_alerts_changelog(settings: Settings) -> str:
    """Name of the changelog topic of the latest alert per subject and typology."""
    return settings.topics.name(f"{settings.worker.app_id}-open-alerts-changelog")


def open_alert_mode(key: str) -> str:
    """The mode of an open alert's key, from the partition key it starts with."""
    if key.startswith("mmsi:"):
        return "vessel"
    return "passenger" if key.startswith("flight:") else "freight"


def open_alert_store(settings: Settings) -> ChangelogStore[OpenAlert]:
    """The latest alert per (partition key, subject, typology), for suppression."""
    return ChangelogStore(
        "open-alerts", settings.kafka.bootstrap_servers, open_alerts_changelog(settings),
        encode=_json, decode=OpenAlert.model_validate_json,
    )


def state_changelogs(settings: Settings) -> list[str]:
    """Every changelog topic a worker of this app writes."""
    from engine.link.features import network_changelog  # the link hops build on this module
    from engine.link.hop import links_changelog

    return [tracks_changelog(settings), bookings_changelog(settings), links_changelog(settings),
            network_changelog(settings), anomaly_changelog(settings), open_alerts_changelog(settings)]


@dataclass
class Decided:
    """A decide batch: what was enriched, scored and alerted, and the state it changed."""

    enriched: list[EnrichedEvent] = field(default_factory=list)
    scores: list[Score] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    deadletters: list[DeadLetter] = field(default_factory=list)
    changelog: list[OutRecord] = field(default_factory=list)
    #: Per enriched event (so per score): the JSON it arrived as, and its partition.
    event_json: list[bytes] = field(default_factory=list)
    partitions: list[int] = field(default_factory=list)
    #: The identifiers the events used, for the link hop (engine/link/): (key, Link JSON).
    links: list[tuple[bytes, bytes]] = field(default_factory=list)


class DecideHop:
    """``events.<mode>`` -> enriched, scored and (over the threshold) alerted."""

    name = "decide"

    #: Join entries written between two sweeps for expired ones.
    SWEEP_EVERY = 5_000

    def __init__(
        self,
        settings: Settings,
        tracks: ChangelogStore[TrackState] | None = None,
        bookings: ChangelogStore[bytes] | None = None,
        watchlists: WatchlistSource | None = None,
        anomaly: ChangelogStore[bytes] | None = None,
        open_alerts: ChangelogStore[OpenAlert] | None = None,
    ) -> None:
        self.settings = settings
        self.tracks = tracks if tracks is not None else track_store(settings)
        self.bookings = bookings if bookings is not None else booking_store(settings)
        self.anomaly = anomaly if anomaly is not None else anomaly_store(settings)
        self._since_checkpoint: dict[tuple[int, str], int] = {}
        self.open_alerts = open_alerts if open_alerts is not None else open_alert_store(settings)
        self._open_expiry = Expiry(self.open_alerts, max(1.0, settings.scoring.suppress_hours) * 3600)
        self._joined_since_sweep = 0
        self.reference = ReferenceData(settings.reference)
        self.watchlists = watchlists or WatchlistSource(
            settings.screening.watchlists, settings.screening.threshold
        )
        self.scorer = Scorer(settings)
        self.titles = {
            a.spec.id: a.spec.title for rules in self.scorer.by_mode.values() for a in rules
        }

    def reconfigure(self, settings: Settings) -> None:
        """Rules, typologies and scoring from new settings, from the next batch; the
        models keep what they learned. Raises ConfigError (and keeps the old) if unfit."""
        scorer = Scorer(settings, models=self.scorer.models)
        self.settings, self.scorer = settings, scorer
        self.titles = {a.spec.id: a.spec.title for rules in scorer.by_mode.values() for a in rules}

    def run(self, raws: Sequence[RawMessage]) -> Decided:
        """Typed results of one batch; the state stores (tracks, join) are updated in place."""
        _count_in(self.name, raws)
        out = Decided()
        partition_of: dict[str, int] = {}
        with timed("parse"):
            parsed = parse_events(raws)
            out.deadletters = parsed.deadletters
        with timed("join"):
            for i, (event, raw) in enumerate(zip(parsed.events, parsed.sources, strict=True)):
                value = raw.value
                if isinstance(event, PassengerEvent) and event.source in ("api", "pnr"):
                    joined = self._join(event, raw.partition or 0, out)
                    if joined is not event:
                        parsed.events[i], value = joined, _json(joined)
                out.event_json.append(value)
                out.partitions.append(raw.partition or 0)
                if isinstance(event, VesselEvent):
                    partition_of[entity_key(event)] = raw.partition or 0
        with timed("enrich"):
            out.enriched = enrich_batch(parsed.events, self.reference, self.watchlists.screener)
        with timed("score"):
            known = {}
            for key, partition in partition_of.items():
                state = self.tracks.get(partition, key)
                if state is not None:
                    known[key] = state
            scored = self.scorer.score_batch(out.enriched, known, out.partitions)
            for key, state in scored.track_updates.items():
                out.changelog.append(self.tracks.put(partition_of[key], key, state))
            out.changelog += self._checkpoints_due(out.enriched, out.partitions)
        with timed("alert"):
            out.scores, subjects = self._cases(out, scored)
            arrivals = {e.event.event_id: arrival_of(e.event) for e in out.enriched}
            events = {e.event.event_id: e.event for e in out.enriched}
            out.alerts = build_alerts(out.scores, self.titles, arrivals, scored.features, subjects, events)
        with timed("link_out"):
            for e, sc in zip(out.enriched, out.scores, strict=True):
                out.links.extend(link_records(e.event, sc.received_at, sc.alert_id is not None))
        return out

    def _cases(self, out: Decided, scored: ScoreResult) -> tuple[list[Score], dict[str, str]]:
        """Each alerted score's case, and whether an earlier alert covers it (see
        engine/alert/cases.py); the subjects of the alerts, by event id."""
        window = self.settings.scoring.suppress_hours
        scores, subjects = [], {}
        for e, s, p in zip(out.enriched, scored.scores, out.partitions, strict=True):
            if s.alert_id is None:
                scores.append(s)
                continue
            track = scored.tracks.get(s.event_id)
            subject = subjects[s.event_id] = subject_of(e.event, track.imo if track else None)
            key = f"{e.key}|{same_alert_key(e.event, subject)}|{s.typologies[0].typology_id}"
            at, case = e.event.occurred_at, case_id_of(subject)
            previous = self.open_alerts.get(p, key)
            by = covered_by(previous, s.alert_id, at, window) if window > 0 else None
            if by is None and (previous is None or (previous.alert_id != s.alert_id and at >= previous.at)):
                opened = OpenAlert(alert_id=s.alert_id, at=at, case_id=case)
                out.changelog.append(self.open_alerts.put(p, key, opened))
            out.changelog += self._open_expiry.used(p, key, at.timestamp())
            update: dict[str, object] = {"case_id": case}
            if by is not None and previous is not None:
                update.update(suppressed_by=by, alert_id=None, case_id=previous.case_id)
                ALERTS_SUPPRESSED.labels(mode=s.mode).inc()
            scores.append(s.model_copy(update=update))
        return scores, subjects

    def _checkpoints_due(self, events: Sequence[EnrichedEvent], partitions: Sequence[int]) -> list[OutRecord]:
        """Checkpoint a partition's anomaly models of a mode every ``checkpoint_every`` events."""
        if self.scorer.models is None:
            return []
        every = self.settings.models.checkpoint_every
        counts: dict[tuple[int, str], int] = {}
        for e, p in zip(events, partitions, strict=True):
            counts[(p, e.event.mode)] = counts.get((p, e.event.mode), 0) + 1
        due = []
        for key, n in counts.items():
            total = self._since_checkpoint[key] = self._since_checkpoint.get(key, 0) + n
            if total >= every:
                due.append(key)
        return [self.checkpoint(*key) for key in sorted(due)]

    def checkpoint(self, partition: int, mode: str) -> OutRecord:
        """The anomaly models of one partition and mode, for their changelog."""
        assert self.scorer.models is not None
        self._since_checkpoint[(partition, mode)] = 0
        saved = self.scorer.models.dump(keys=[(partition, mode)], yields=False)
        return self.anomaly.put(partition, f"anomaly:{mode}", saved)

    def models_restored(self, assigned: Sequence[tuple[int, str]]) -> None:
        """Load the anomaly checkpoints of newly assigned (partition, mode)s, once restored
        into the store; a partition held already keeps its live models."""
        models = self.scorer.models
        if models is None:
            return
        for partition, mode in assigned:
            saved = self.anomaly.get(partition, f"anomaly:{mode}")
            if saved is not None and (partition, mode) not in models.anomaly:
                models.load(saved)

    def models_released(self, revoked: Sequence[tuple[int, str]]) -> list[OutRecord]:
        """Checkpoints of the anomaly models of (partition, mode)s at a clean stop, to
        produce before they go; then they are forgotten."""
        models = self.scorer.models
        if models is None:
            return []
        out = [self.checkpoint(p, m) for p, m in revoked if (p, m) in models.anomaly]
        models.forget(revoked)
        return out

    def models_forgotten(self, revoked: Sequence[tuple[int, str]]) -> None:
        """Drop the anomaly models of (partition, mode)s given up in a rebalance; their
        new owner loads the last checkpoint."""
        if self.scorer.models is not None:
            self.scorer.models.forget(revoked)

    def _join(self, event: PassengerEvent, partition: int, out: Decided) -> PassengerEvent:
        key = join_key(event)
        saved = self.bookings.get(partition, key)
        state = JoinState.model_validate_json(saved) if saved is not None else None
        joined, new = join(event, state)
        if new is not None and new != state:
            out.changelog.append(self.bookings.put(partition, key, _json(new)))
            self._joined_since_sweep += 1
            if self._joined_since_sweep >= self.SWEEP_EVERY:
                self._joined_since_sweep = 0
                out.changelog += self._sweep(event.occurred_at)
        return joined

    def _sweep(self, now: datetime) -> list[OutRecord]:
        """Forget travellers whose flight left long enough ago; tombstones for the changelog."""
        gone = [
            (p, key) for p, table in self.bookings.partitions.items() for key in table if expired(key, now)
        ]
        return [self.bookings.delete(p, key) for p, key in gone]

    def records(self, result: Decided) -> list[OutRecord]:
        """What to produce for a batch's results: outputs, dead letters and state changes.

        Every output goes to the partition its event came from: the enriched
        record's key is the event's own key, so that is where Kafka's partitioner
        would put it too, and scores and alerts stay beside their event (and a
        replayed alert lands where its first copy did) without hashing each key.
        """
        name = self.settings.topics.name
        enriched_topic, scores_topic, alerts_topic = (
            name("events.enriched"), name("scores"), name("alerts")
        )
        partition_of = {s.event_id: p for s, p in zip(result.scores, result.partitions, strict=True)}
        with timed("serialise"):
            out = [
                OutRecord(enriched_topic, e.key.encode("utf-8"), enriched_json(e, raw), p)
                for e, raw, p in zip(result.enriched, result.event_json, result.partitions, strict=True)
            ]
            out += [
                OutRecord(scores_topic, s.event_id.encode("utf-8"), _json(s), p)
                for s, p in zip(result.scores, result.partitions, strict=True)
            ]
            out += [
                OutRecord(alerts_topic, a.alert_id.encode("utf-8"), _json(a), partition_of[a.event_id])
                for a in result.alerts
            ]
        _count_out(self.name, (s.mode for s in result.scores))
        for a in result.alerts:
            for f in a.findings:
                ALERTS.labels(rule=f.rule_id, severity=a.severity).inc()
            if a.typology is not None:
                TYPOLOGY_ALERTS.labels(typology=a.typology.typology_id, severity=a.severity).inc()
        # Received (broker time of the raw message) to decided, per mode.
        now = datetime.now(tz=UTC)
        for s in result.scores:
            SCORE_LATENCY.labels(mode=s.mode).observe(max(0.0, (now - s.received_at).total_seconds()))
            if s.alert_id is not None:  # from when it happened at the source to its alert
                EVENT_TO_ALERT.labels(mode=s.mode).observe(max(0.0, (now - s.occurred_at).total_seconds()))
        for a in result.alerts:
            log.info("alert.emitted", alert_id=a.alert_id, event_id=a.event_id, mode=a.mode,
                     severity=a.severity, rules=",".join(f.rule_id for f in a.findings))
        links = name("links")
        out += [OutRecord(links, key, value) for key, value in result.links]
        return out + dead_records(self.settings, result.deadletters) + result.changelog

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        return self.records(self.run(raws))
