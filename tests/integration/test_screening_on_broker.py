"""A watchlist entry published to the `watchlists` topic reaches a running worker's
screening within seconds, without a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from engine.broker import assign_all
from engine.settings import Settings
from schemas import stable_id
from tests.fixtures.events import passenger_doc
from tests.integration.worker_run import run_engine

pytestmark = pytest.mark.integration

ENTITY = {"id": "it-wanted-1", "schema": "Person", "datasets": ["wanted"], "properties": {
    "name": ["Ivan Examplov"], "birthDate": ["1971-03-02"], "nationality": ["ru"]}}


def traveller(n: int) -> bytes:
    return orjson.dumps(passenger_doc(source_id=f"pax-listed-{n}", traveller={
        "given_names": "IWAN", "surname": "EKSAMPLOV", "date_of_birth": "1971-03-02",
        "nationality": "RUS"}))


async def scored(settings: Settings, event_id: str, timeout_s: float = 60.0) -> None:
    """Wait until the worker has scored an event (so it is past its start-up)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka.bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await assign_all(consumer, [settings.topics.name("scores")])
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            if any(orjson.loads(r.value or b"{}").get("event_id") == event_id
                   for records in batch.values() for r in records):
                return
        raise AssertionError("the worker scored nothing within the time allowed")
    finally:
        await consumer.stop()


def test_a_watchlist_update_applies_to_new_events_without_a_restart(
    engine_settings: Settings, tmp_path: Path
) -> None:
    """Before the entry: the traveller is scored with no hit. After it is published: the
    next event of the same traveller alerts on the watchlist rule, with the list's version."""
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=engine_settings.kafka.bootstrap_servers)
        await producer.start()
        try:
            raw = engine_settings.topics.name("raw.passenger")
            await producer.send_and_wait(raw, traveller(1))
            await scored(engine_settings, stable_id("passenger", "json", "pax-listed-1"))
            await producer.send_and_wait(engine_settings.topics.name("watchlists"),
                                         orjson.dumps(ENTITY), key=b"it-wanted-1")
            # New events of the traveller, one a second, until one is screened against it.
            for n in range(2, 12):
                await asyncio.sleep(1.0)
                await producer.send_and_wait(raw, traveller(n))
        finally:
            await producer.stop()

    run = asyncio.run(run_engine(engine_settings, send, tmp_path, expect=11))
    ids = [stable_id("passenger", "json", f"pax-listed-{n}") for n in range(1, 12)]
    before = orjson.loads(run.watch.score_values[ids[0]])
    assert before["findings"] == [], "before the entry, the traveller has no hit"
    # Every score record says whether the event was screened against the entry (the
    # alerts do not: the traveller's later events are covered by the first alert).
    listed = {}
    for value in run.watch.score_values.values():
        score = orjson.loads(value)
        for f in score["findings"]:
            if f["rule_id"] == "cross_watchlist_match":
                listed[score["event_id"]] = f
    assert ids[0] not in listed
    alerted = [orjson.loads(v) for v in run.watch.alerts.values()]
    assert len({a["case_id"] for a in alerted}) == 1, "one traveller, one case"
    # Events 2..11 went out a second apart after the entry was published: all but the
    # first two or three must have been screened against it.
    later = [i for i in ids[1:] if i in listed]
    assert len(later) >= 7, f"only {len(later)} of 10 later events were screened against the entry"
    assert all(i in listed for i in ids[-5:])
    finding = listed[later[0]]
    assert finding["evidence"]["list"] == "wanted" and finding["evidence"]["entity_id"] == "it-wanted-1"
    assert finding["evidence"]["list_version"]
