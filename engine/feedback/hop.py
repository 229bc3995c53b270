"""The feedback hop: ``outcomes`` -> the learner -> the yield models' state on ``models``.

One worker learns: ``outcomes`` has a single partition (they are few, hundreds a day),
so its group gives it to one worker at a time. That worker also follows ``alerts`` in
full, for the features each alert was scored on (``Learner.alert``), and after taking
anything in it writes the learner's sealed state to ``models`` under the key
``yield``. Every decide hop follows ``models`` and scores with the newest yield
models from its next batch; a learner that starts (or takes the partition over)
first reads the newest state back from ``models``, so a restart keeps what was
learned, and the alerts and outcomes learned before are not learned again.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from engine.broker import assign_all
from engine.feedback.learner import Learner
from engine.flow.hops import dead_records
from engine.flow.loop import OutRecord
from engine.logs import get_logger
from engine.messages import RawMessage, dead_letter
from engine.settings import Settings
from schemas import Alert, Outcome

log = get_logger(__name__)

#: Key of the yield models' state on the ``models`` topic.
YIELD_KEY = b"yield"


class FeedbackHop:
    """Outcomes in, the learner's state out."""

    name = "feedback"

    def __init__(self, settings: Settings, learner: Learner) -> None:
        self.settings = settings
        self.learner = learner
        self.models_topic = settings.topics.name("models")

    def state_record(self) -> OutRecord:
        """The learner's state, for the ``models`` topic."""
        return OutRecord(self.models_topic, YIELD_KEY, self.learner.dump())

    def __call__(self, raws: Sequence[RawMessage]) -> list[OutRecord]:
        letters = []
        taken = 0
        for raw in raws:
            try:
                outcome = Outcome.model_validate_json(raw.value)
            except ValidationError as exc:
                letters.append(dead_letter(raw, "feedback", "invalid_outcome", str(exc.errors()[:3])))
                continue
            self.learner.outcome(outcome)
            taken += 1
        out = dead_records(self.settings, letters)
        if taken:
            out.append(self.state_record())
            log.info("feedback.learned", outcomes=taken, learned=len(self.learner.learned),
                     waiting=self.learner.waiting)
        return out

    def alerts(self, values: Sequence[bytes]) -> bool:
        """Alerts read from the ``alerts`` topic; True when one completed a waiting outcome."""
        before = len(self.learner.learned)
        for value in values:
            try:
                self.learner.alert(Alert.model_validate_json(value))
            except ValidationError:
                log.warning("feedback.bad_alert")  # ours, so a bug: say so, keep going
        return len(self.learner.learned) != before


async def read_latest(bootstrap: str, topic: str, key: bytes) -> bytes | None:
    """The newest value of a key on a topic, read to its end (None when it has none)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        await assign_all(consumer, [topic])
        ends = await consumer.end_offsets(list(consumer.assignment()))
        latest: bytes | None = None
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    if r.key == key and r.value is not None:
                        latest = r.value
        return latest
    finally:
        await consumer.stop()
