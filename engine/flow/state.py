"""ChangelogStore: typed key/value state for the partitions a worker owns, kept in a changelog topic.

Values live in memory as objects and become bytes only on the way to and from
the changelog (parsing each vessel's state on every batch cost more, in a
profile of 50,000 events, than all the rules together). Partition ``p`` of the
changelog holds the state of keys that live in partition ``p`` of the source
topic. Updates are produced with a batch's outputs, before
its offsets are committed, so after a crash the state is at least as new as
the committed input; the state is designed so replaying that input is harmless
(see engine/score/track.py). When a partition is assigned, its state is read
back from the changelog; when it is revoked, it is dropped.

Each record is stamped with its writer (one id per store, so per worker). A
broker that cannot fence a partition's old owner (the embedded one) lets two
workers write one key for a moment while the partition changes hands; restore
then merges the last value of each writer instead of trusting the last record.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition

from engine.flow.loop import OutRecord
from engine.logs import get_logger
from engine.metrics import STATE_RESTORED

log = get_logger(__name__)

#: Header naming the store that wrote a changelog record.
WRITER_HEADER = "gatehound-writer"
T = TypeVar("T")
#: Per partition, per key: the last value of each writer, in the order of those writes.
Written = dict[int, dict[str, dict[bytes, bytes]]]


class ChangelogStore(Generic[T]):
    """Per-partition dicts of values, rebuilt from and written to a changelog topic.

    ``encode`` and ``decode`` convert a value to and from its changelog bytes;
    ``merge(older, newer)`` combines what two writers saved for one key (by
    default the newer wins).
    """

    def __init__(
        self,
        name: str,
        bootstrap: str,
        changelog_topic: str,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
        merge: Callable[[T, T], T] | None = None,
    ) -> None:
        self.name = name
        self.bootstrap = bootstrap
        self.changelog_topic = changelog_topic
        self.encode = encode
        self.decode = decode
        self.merge = merge
        self.partitions: dict[int, dict[str, T]] = {}
        self.writer = uuid.uuid4().hex.encode("ascii")

    def get(self, partition: int, key: str) -> T | None:
        """The value of a key in a partition this worker owns, or None."""
        return self.partitions.get(partition, {}).get(key)

    def put(self, partition: int, key: str, value: T) -> OutRecord:
        """Set a value; returns the changelog record the caller must produce with its batch."""
        self.partitions.setdefault(partition, {})[key] = value
        return OutRecord(
            self.changelog_topic, key.encode("utf-8"), self.encode(value), partition,
            ((WRITER_HEADER, self.writer),),
        )

    def delete(self, partition: int, key: str) -> OutRecord:
        """Forget a key; returns the tombstone the caller must produce with its batch."""
        self.partitions.get(partition, {}).pop(key, None)
        return OutRecord(
            self.changelog_topic, key.encode("utf-8"), None, partition, ((WRITER_HEADER, self.writer),)
        )

    def drop(self, partitions: list[int]) -> None:
        """Forget the state of partitions this worker no longer owns."""
        for p in partitions:
            self.partitions.pop(p, None)

    def drop_keys(self, partition: int, gone: Callable[[str], bool]) -> None:
        """Forget some keys of a partition (those of a source topic this worker gave up,
        where several topics share the changelog's partitions)."""
        table = self.partitions.get(partition, {})
        for key in [k for k in table if gone(k)]:
            del table[key]

    async def restore(
        self, partitions: list[int], owned: Callable[[], bool] = lambda: True, idle_ms: int = 100
    ) -> int:
        """Rebuild the state of newly assigned partitions from the changelog; return records read.

        Per key, the last value of each writer is kept while reading, then they
        are decoded and merged, oldest first. The state is installed only if
        ``owned()`` still says the partitions are ours: a rebalance during the
        read makes it stale.
        """
        fresh = [p for p in partitions if p not in self.partitions]
        if not fresh:
            return 0
        started = time.monotonic()
        tables, read = await self._read(fresh, idle_ms)
        restored = {p: {key: self._fold(values) for key, values in t.items()} for p, t in tables.items()}
        installed = owned()
        if installed:
            self.partitions.update(restored)
        STATE_RESTORED.labels(store=self.name).inc(read)
        log.info("state.restored", store=self.name, partitions=len(fresh), records=read,
                 seconds=round(time.monotonic() - started, 3), installed=installed)
        return read

    def _fold(self, written: dict[bytes, bytes]) -> T:
        ordered = list(written.values())
        if self.merge is None or len(ordered) == 1:
            return self.decode(ordered[-1])
        value = self.decode(ordered[0])
        for newer in ordered[1:]:
            value = self.merge(value, self.decode(newer))
        return value

    async def _read(self, partitions: list[int], idle_ms: int) -> tuple[Written, int]:
        """What each writer last wrote to each key of these partitions; and the records read."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50
        )
        await consumer.start()
        read = 0
        tables: Written = {p: {} for p in partitions}
        try:
            tps = [TopicPartition(self.changelog_topic, p) for p in partitions]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            # Read to the end offsets; then ask for the end again and read on until
            # two answers agree and a fetch comes back empty. A broker's end-offset
            # answer can trail the last batch it acknowledged (the embedded one's
            # does), and stopping short would judge the next reports on stale state.
            # The end-offset answer can also run ahead of what a fetch returns, so
            # a partition that stays quiet for several fetches is taken as read.
            ends: dict[TopicPartition, int] = {}
            quiet = 0
            while True:
                batch = await consumer.getmany(timeout_ms=idle_ms, max_records=10_000)
                for tp, records in batch.items():
                    table = tables[tp.partition]
                    for r in records:
                        if r.key is None:
                            continue
                        if r.value is None:  # a tombstone: the key was deleted
                            table.pop(r.key.decode("utf-8"), None)
                            continue
                        writers = table.setdefault(r.key.decode("utf-8"), {})
                        writer = next((v for k, v in r.headers if k == WRITER_HEADER), b"")
                        writers.pop(writer, None)  # keep writers in the order of their last write
                        writers[writer] = r.value
                    read += len(records)
                if batch:
                    quiet = 0
                    continue
                latest = await consumer.end_offsets(tps)
                if not any(latest.values()):
                    break  # nothing was ever written
                quiet = quiet + 1 if latest == ends else 0
                ends = latest
                if quiet >= 2 and await _reached(consumer, latest):
                    break
                if quiet >= 10:
                    log.warning("state.restore_short_of_end", store=self.name, partitions=len(partitions))
                    break
        finally:
            await consumer.stop()
        return tables, read




async def _reached(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if int(await consumer.position(tp)) < end:
            return False
    return True


class Expiry:
    """When each key of a store was last used (event time), to forget keys unused for
    longer than a horizon: every ``every`` uses, a sweep deletes them and returns their
    tombstones for the changelog. Keys restored from the changelog count as used at the
    first sweep that sees them."""

    def __init__(self, store: ChangelogStore[Any], horizon_s: float, every: int = 20_000) -> None:
        self.store = store
        self.horizon_s = horizon_s
        self.every = every
        self._last_used: dict[tuple[int, str], float] = {}
        self._newest = 0.0
        self._uses = 0

    def used(self, partition: int, key: str, at: float) -> list[OutRecord]:
        """Note a use of a key at event time ``at`` (epoch seconds); tombstones when it sweeps."""
        self._last_used[(partition, key)] = at
        self._newest = max(self._newest, at)
        self._uses += 1
        if self._uses < self.every:
            return []
        self._uses = 0
        return self.sweep()

    def sweep(self) -> list[OutRecord]:
        """Delete every key unused for longer than the horizon; their tombstones."""
        cutoff = self._newest - self.horizon_s
        gone = []
        for partition, table in self.store.partitions.items():
            for key in table:
                if self._last_used.setdefault((partition, key), self._newest) < cutoff:
                    gone.append((partition, key))
        for partition, key in gone:
            del self._last_used[(partition, key)]
        return [self.store.delete(p, key) for p, key in gone]
