"""The ops centre under test: a store, the app on it, one account per role, and alerts
built from real normalised events and taken in the way the Kafka follower takes them."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka.structs import ConsumerRecord
from fastapi.testclient import TestClient

from engine.ops.app import create_app
from engine.ops.auth import ROLES, User, add_user
from engine.ops.follow import store_batch
from engine.ops.store import Store
from engine.settings import Settings
from engine.supervise import WorkerProcess
from schemas import Alert, Finding, Record
from tests.fixtures.events import freight_doc, normalised, passenger_doc

PASSWORD = "a long test password"


def wait_until_serving(url: str, proc: WorkerProcess, timeout_s: float = 30) -> None:
    """Wait until an ops-centre process answers ``/healthz`` with 200; fail with its log
    if it stops or does not answer in time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.alive(), proc.log_path.read_text()[-2000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the ops centre did not start: " + proc.log_path.read_text()[-2000:])


def make_alert(
    i: int,
    mode: str = "passenger",
    severity: str = "high",
    case: str | None = None,
    surname: str = "Example",
    nationality: str = "USA",
    arrival_h: float = 3.0,
) -> Alert:
    """An alert on a real normalised event (a traveller, or a consignment), arriving
    ``arrival_h`` hours from now."""
    now = datetime.now(UTC)
    arrives = (now + timedelta(hours=arrival_h)).isoformat()
    if mode == "passenger":
        doc = passenger_doc(
            source_id=f"pax-{i}",
            traveller={"surname": surname, "nationality": nationality},
            flight={
                "scheduled_arrival": arrives,
                "scheduled_departure": (now - timedelta(hours=3)).isoformat(),
            },
        )
    else:
        doc = freight_doc(
            source_id=f"decl-{i}",
            declaration_id=f"25GB{i:014d}",
            expected_arrival={"place": "GBFXT", "at": arrives},
        )
    event = normalised(doc)
    return Alert(
        alert_id=f"alert-{mode}-{i}",
        event_id=event.event_id,
        mode=event.mode,
        key=f"k{i}",
        severity=severity,
        score=0.8,
        priority=50.0 + i,
        findings=(
            Finding(
                rule_id="passenger_late_cash_booking",
                rule_version="1",
                score=0.8,
                detail="booked in cash two hours before departure",
                evidence={"hours": 2},
            ),
        ),
        explanation="Late cash booking: booked in cash two hours before departure (score 0.80).",
        raised_at=now,
        arrives_at=now + timedelta(hours=arrival_h),
        case_id=case or f"case-{i}",
        subject=f"person-{i}",
        event=event,
    )


def take(
    store: Store, settings: Settings, alerts: Sequence[Record], offset: int = 0, topic: str = "alerts"
) -> list[int]:
    """Put records in the store exactly as the follower does with records from the topic
    (``alerts`` by default); the seqs of the new alerts."""
    name = settings.topics.name(topic)
    records = [
        ConsumerRecord(
            topic=name,
            partition=0,
            offset=offset + n,
            timestamp=0,
            timestamp_type=0,
            key=None,
            value=a.model_dump_json().encode(),
            checksum=None,
            serialized_key_size=0,
            serialized_value_size=0,
            headers=(),
        )
        for n, a in enumerate(alerts)
    ]
    with store.session() as s:
        return store_batch(s, settings, records).alerts


@dataclass
class OpsUnderTest:
    """The app, its store and settings, and a logged-out client."""

    settings: Settings
    store: Store
    client: TestClient
    users: dict[str, User]

    def login(self, role: str) -> str:
        """Log the client in as the account of ``role``; returns its CSRF token."""
        self.client.cookies.clear()
        r = self.client.post(
            "/login", data={"name": role.replace("_", "-"), "password": PASSWORD}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        me = self.client.get("/api/me")
        assert me.status_code == 200, me.text
        return str(me.json()["csrf_token"])


@pytest.fixture
def ops(tmp_path: Path) -> Iterator[OpsUnderTest]:
    """The app on a fresh SQLite store with an account per role and four alerts: three
    travellers (one case each) and a consignment."""
    settings = Settings(ops={"database_url": f"sqlite:///{tmp_path}/ops.db"})
    store = Store(settings.ops.database_url)
    users = {role: add_user(store, role.replace("_", "-"), role, PASSWORD) for role in ROLES}
    take(
        store,
        settings,
        [
            make_alert(1),
            make_alert(2, surname="Sample", nationality="GBR"),
            make_alert(3),
            make_alert(9, mode="freight", severity="medium"),
        ],
    )
    app = create_app(settings, store, follow=False)
    with TestClient(app, base_url="https://testserver") as client:
        yield OpsUnderTest(settings, store, client, users)
    store.close()
