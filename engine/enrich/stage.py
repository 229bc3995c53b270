"""The enrich stage: attach reference facts and watchlist hits, and choose the entity key
of each event."""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import TypeAdapter

from engine.enrich.reference import ReferenceData
from engine.enrich.screening import screen_event
from engine.keys import entity_key
from engine.messages import EventBatch, RawMessage, dead_letter, read_json
from engine.metrics import SCREENING_DURATION
from engine.normalise.stage import mode_of_topic
from engine.screen import Screener
from schemas import EnrichedEvent, Event, FreightEvent, PassengerEvent, ReferenceFacts

_EVENT = TypeAdapter(Event)


def parse_events(messages: Sequence[RawMessage]) -> EventBatch:
    """Read events from ``events.<mode>``; anything unreadable becomes a dead letter.

    An event of another mode than its topic's is refused too (``mode_mismatch``):
    it would be scored, keyed and partitioned as something it is not.
    """
    batch = EventBatch()
    for raw in messages:
        event = read_json(_EVENT.validate_json, raw, "enrich", batch.deadletters)
        if event is None:
            continue
        topic_mode = mode_of_topic(raw.topic, "events")
        if topic_mode is not None and topic_mode != event.mode:
            batch.deadletters.append(dead_letter(
                raw, "enrich", "mode_mismatch", f"a {event.mode} event on the {topic_mode} topic"
            ))
            continue
        batch.events.append(event)
        batch.sources.append(raw)
    return batch


def reference_facts(event: Event, ref: ReferenceData) -> ReferenceFacts:
    """What reference data says about the places an event touches."""
    unknown: list[str] = []
    if isinstance(event, PassengerEvent):
        airports = list(event.route) or [event.flight.departure_airport, event.flight.arrival_airport]
        countries = []
        for code in airports:
            country = ref.airport_country(code)
            if country is None:
                unknown.append(code)
            else:
                countries.append(country)
        # Airport pairs match the journey's ends as well as this leg's, like country pairs do.
        origins = [airports[0], event.flight.departure_airport, *countries[:1]]
        dests = [event.flight.arrival_airport, airports[-1], *countries[-1:]]
        arrival = ref.airport_country(event.flight.arrival_airport)
    elif isinstance(event, FreightEvent):
        raw_codes = [g.origin_country for g in event.goods if g.origin_country]
        raw_codes += list(event.routing_countries)
        if event.place_of_loading:
            raw_codes.insert(0, event.place_of_loading[:2])
        arrival = event.expected_arrival.place[:2]
        origins = [c for c in raw_codes if ref.country(c) is not None]
        unknown += [c for c in raw_codes if ref.country(c) is None]
        countries = origins + ([arrival] if ref.country(arrival) is not None else [])
        if ref.country(arrival) is None:
            unknown.append(arrival)
        dests = [arrival]
    else:
        countries = [event.flag] if event.flag else []
        origins, dests, arrival = [], [], None
    ordered = tuple(dict.fromkeys(countries))
    return ReferenceFacts(
        countries=ordered,
        high_risk_countries=ref.risky_countries(ordered),
        high_risk_routes=ref.risky_routes(origins, dests),
        unknown_codes=tuple(dict.fromkeys(unknown)),
        arrival_country=arrival,
    )


def enrich_batch(
    events: Sequence[Event], ref: ReferenceData, screener: Screener | None = None
) -> list[EnrichedEvent]:
    """Attach reference facts and watchlist hits to each event and key it by the entity it
    is about. Without a screener (or with empty lists) nothing is screened."""
    if screener is None or len(screener) == 0:
        return [
            EnrichedEvent(key=entity_key(e), event=e, reference=reference_facts(e, ref)) for e in events
        ]
    versions = screener.versions()
    # Timed once per batch, like the stage histograms: an observation per event would
    # add a lock and a bucket search to every event for no better picture.
    started = time.perf_counter()
    hits = [screen_event(e, screener) for e in events]
    if hits:
        SCREENING_DURATION.observe(time.perf_counter() - started)
    return [
        EnrichedEvent(
            key=entity_key(e), event=e, reference=reference_facts(e, ref),
            screening=found, watchlist_versions=versions,
        )
        for e, found in zip(events, hits, strict=True)
    ]
