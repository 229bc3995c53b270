"""What the ops centre's routes and background tasks share while the app runs."""

from __future__ import annotations

import asyncio
import time
from contextlib import suppress
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from engine.ops.store import Store
from engine.oversight.audit import AuditLog, VerifyReport, verify_store
from engine.settings import Settings
from schemas import AuditRecord


class AlertHub:
    """Wakes the live streams when the store has new alerts."""

    def __init__(self) -> None:
        self.changed = asyncio.Event()

    def notify(self, _seqs: list[int]) -> None:
        """New alerts are in the store: every stream looks."""
        self.changed.set()
        self.changed = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        """Until new alerts arrive or ``timeout`` seconds pass (then the stream looks anyway:
        another process may have written them)."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)


@dataclass
class OpsCentre:
    """What the routes share: settings, the store, the audit log, the feed and Kafka."""

    settings: Settings
    store: Store
    audit: AuditLog
    hub: AlertHub = field(default_factory=AlertHub)
    producer: AIOKafkaProducer | None = None
    audit_queue: asyncio.Queue[AuditRecord] | None = None
    loop: asyncio.AbstractEventLoop | None = None

    checked: tuple[float, VerifyReport] | None = None

    def chain_report(self, fresh: bool = False, max_age_s: float = 60.0) -> VerifyReport:
        """The audit chain's state: checked now when asked, or when the last check is older
        than ``max_age_s`` (a check reads the whole chain)."""
        if fresh or self.checked is None or time.monotonic() - self.checked[0] > max_age_s:
            report = verify_store(self.store, self.settings.ops.audit_key.get_secret_value().encode())
            self.checked = (time.monotonic(), report)
        return self.checked[1]

    def publish_audit(self, record: AuditRecord) -> None:
        """Queue an audit record for the ``audit`` topic (called from worker threads)."""
        if self.loop is not None and self.audit_queue is not None:
            self.loop.call_soon_threadsafe(self.audit_queue.put_nowait, record)
