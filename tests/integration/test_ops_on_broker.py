"""The ops centre on a real broker, as `gatehound up` runs it: alerts produced into Kafka
reach the store and the live stream, and a recorded outcome reaches the outcomes topic."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from engine.broker import read_to_end
from engine.settings import Settings
from engine.supervise import stop_worker
from engine.up import start_ops
from schemas import Outcome
from tests.conftest import fresh_settings
from tests.ops.conftest import make_alert, wait_until_serving

pytestmark = pytest.mark.integration


@pytest.fixture
def running(kafka_bootstrap: str, tmp_path: Path) -> Iterator[tuple[Settings, str, httpx.Client]]:
    """`gatehound ops` as a process on fresh topics, and a client logged in as supervisor."""
    settings = fresh_settings(kafka_bootstrap)
    proc, password = start_ops(settings, tmp_path, extra_env={"GATEHOUND_OPS__SECURE_COOKIES": "false"})
    base = f"http://127.0.0.1:{proc.metrics_port}"
    try:
        client = httpx.Client(base_url=base, timeout=10, follow_redirects=True)
        wait_until_serving(base, proc)
        r = client.post("/login", data={"name": "supervisor", "password": password})
        assert r.status_code == 200 and "Live feed" in r.text, r.text[:300]
        yield settings, base, client
        client.close()
    finally:
        stop_worker(proc, timeout_s=10)


async def _produce(settings: Settings, *values: tuple[bytes, bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers)
    await producer.start()
    try:
        for key, value in values:
            await producer.send_and_wait(settings.topics.name("alerts"), value, key=key)
    finally:
        await producer.stop()


def test_an_alert_on_the_topic_reaches_the_live_stream_and_its_outcome_the_outcomes_topic(
    running: tuple[Settings, str, httpx.Client],
) -> None:
    """Produced into alerts, an alert is pushed on the open live stream within seconds;
    a garbled record beside it is skipped; the outcome recorded through the API is on
    the outcomes topic, keyed by the alert id."""
    settings, _, client = running
    alert = make_alert(1)
    csrf = client.get("/api/me").json()["csrf_token"]
    with client.stream("GET", "/feed/stream") as stream:
        lines = stream.iter_lines()
        assert next(lines).startswith("retry:")
        produced = time.monotonic()
        asyncio.run(
            _produce(
                settings, (b"junk", b"{not json"), (alert.alert_id.encode(), alert.model_dump_json().encode())
            )
        )
        seen = ""
        for line in lines:
            if line.startswith("data:") and alert.alert_id in line:
                seen = line
                break
        waited = time.monotonic() - produced
    assert seen and 'class="sev-high"' in seen
    assert waited < 10, waited  # generous: the 1 s bar is the browser test's, on a quiet machine
    assert [a["alert_id"] for a in client.get("/api/alerts").json()] == [alert.alert_id]

    # A browser that lost the stream comes back with the id of the last alert it saw:
    # it gets what came after, and not what it had.
    first_seq = client.get("/api/alerts").json()[0]["seq"]
    later = make_alert(2)
    asyncio.run(_produce(settings, (later.alert_id.encode(), later.model_dump_json().encode())))
    with client.stream("GET", "/feed/stream", headers={"last-event-id": str(first_seq)}) as stream:
        ids = []
        for line in stream.iter_lines():
            if line.startswith("id:"):
                ids.append(int(line.split(":", 1)[1]))
            if line.startswith("data:"):
                assert later.alert_id in line and alert.alert_id not in line
                break
    assert ids == [first_seq + 1]

    r = client.post(
        f"/api/alerts/{alert.alert_id}/outcome",
        headers={"x-csrf-token": csrf},
        json={"result": "seizure", "seizures": [{"goods": "cocaine", "quantity": 2.5, "unit": "kg"}]},
    )
    assert r.status_code == 200, r.text
    records = asyncio.run(read_to_end(settings.kafka.bootstrap_servers, settings.topics.name("outcomes")))
    outcomes = [Outcome.model_validate_json(rec.value) for rec in records]
    assert [(o.alert_id, o.result, o.seizures[0].quantity) for o in outcomes] == [
        (alert.alert_id, "seizure", 2.5)
    ]
    assert records[0].key == alert.alert_id.encode()


def test_audit_records_written_while_the_app_was_down_reach_the_topic_when_it_starts(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The audit topic stays a whole copy of the store's chain: records the app had not sent
    when it stopped (here: written with no app running) are sent, in order, when it starts,
    and `audit verify --topic` finds the two copies the same."""
    from engine.ops.store import Store
    from engine.oversight.audit import AuditLog, read_audit_topic, records_after
    from engine.up import spawn_ops

    settings = fresh_settings(kafka_bootstrap)
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    store = Store(url)
    log = AuditLog(store, settings.ops.audit_key.get_secret_value().encode(), settings.ops.checkpoint_every)
    for i in range(3):
        log.append(f"u-{i}", "supervisor", "reveal", [f"alert-{i}", f"case-{i}"], purpose="checking the copy")
    proc = spawn_ops(settings, url, tmp_path / "ops.log")
    try:
        wait_until_serving(f"http://127.0.0.1:{proc.metrics_port}", proc)
        deadline = time.monotonic() + 15
        while len(on_topic := asyncio.run(read_audit_topic(settings))) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
        log.append("u-9", "auditor", "search", ["alert-1"], purpose="a search after the start")
        while len(on_topic := asyncio.run(read_audit_topic(settings))) < 4 and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        stop_worker(proc, timeout_s=10)
    assert [r.hash for r in on_topic] == [r.hash for r in records_after(store, -1)]
    assert [r.seq for r in on_topic] == [0, 1, 2, 3]
    store.close()
