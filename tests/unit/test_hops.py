"""The hops' outputs: spliced enriched records and partitions that follow the source event."""

from __future__ import annotations

from engine.flow.hops import DecideHop, NormaliseHop, enriched_json
from engine.messages import RawMessage
from engine.settings import Settings
from engine.simulate import TrafficGenerator
from schemas import EnrichedEvent


def decided(n: int = 300):  # type: ignore[no-untyped-def]
    settings = Settings()
    msgs = [RawMessage(value=m.value, topic=m.topic_base)
            for m in TrafficGenerator(seed=4, malformed_share=0.0).messages(n)]
    norm = NormaliseHop(settings).run(msgs)
    raws = [RawMessage(value=v, topic=f"events.{e.mode}", partition=i % 4)
            for i, (e, v) in enumerate(zip(norm.events, norm.encoded, strict=True))]
    hop = DecideHop(settings)
    return hop, hop.run(raws), raws


def test_spliced_enriched_json_is_the_model_s_own() -> None:
    """The enriched record built from the event's bytes parses to exactly the enriched model."""
    _, out, raws = decided()
    assert out.enriched
    for e, raw in zip(out.enriched, out.event_json, strict=True):
        assert EnrichedEvent.model_validate_json(enriched_json(e, raw)) == e


def test_outputs_go_to_the_partition_their_event_came_from() -> None:
    """Enriched, score and alert records carry the source event's partition."""
    hop, out, raws = decided()
    source = {e.event.event_id: r.partition for e, r in zip(out.enriched, raws, strict=True)}
    records = hop.records(out)
    for r in records:
        if r.topic in ("scores", "events.enriched"):
            assert r.partition is not None
    scores = [r for r in records if r.topic == "scores"]
    assert [r.partition for r in scores] == [source[s.event_id] for s in out.scores]
    alerts = [r for r in records if r.topic == "alerts"]
    assert alerts and [r.partition for r in alerts] == [source[a.event_id] for a in out.alerts]
