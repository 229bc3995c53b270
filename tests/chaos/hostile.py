"""Hostile input: every way a producer can get a message wrong, built here, deterministically."""

from __future__ import annotations

import random
from collections.abc import Callable

import orjson

from engine.simulate import TrafficGenerator, TrafficMessage

TOPICS = ("raw.passenger", "raw.freight", "raw.vessel")


_POOL: dict[str, list[bytes]] = {}


def _valid_doc(rng: random.Random, mode: str) -> dict[str, object]:
    """A fresh copy of a valid event of a mode, to break in one place."""
    if not _POOL:
        for m in TrafficGenerator(seed=99, malformed_share=0.0).messages(400):
            _POOL.setdefault(m.topic_base.removeprefix("raw."), []).append(m.value)
    doc: dict[str, object] = orjson.loads(rng.choice(_POOL[mode]))
    return doc


def _huge_freight(rng: random.Random) -> bytes:
    # Valid by the schema, under the 1 MB raw limit, but its enriched record would
    # exceed what the broker takes: the engine must refuse it, not choke on it.
    doc = _valid_doc(rng, "freight")
    item = dict(doc["goods"][0])  # type: ignore[index]
    item["description"] = "x" * 480
    doc["goods"] = [item] * 900
    return orjson.dumps(doc)


KINDS: dict[str, Callable[[random.Random, int], bytes | None]] = {
    "broken_json": lambda r, n: b'{"mode": "passenger", "source": "x", "source_id": "' + str(n).encode(),
    "binary": lambda r, n: bytes(r.randrange(256) for _ in range(r.randrange(1, 300))),
    "empty": lambda r, n: b"",
    "tombstone": lambda r, n: None,
    "json_null": lambda r, n: b"null",
    "json_array": lambda r, n: b"[1, 2, 3]",
    "wrong_types": lambda r, n: orjson.dumps({**_valid_doc(r, "vessel"), "speed_knots": "fast", "source_id": f"w{n}"}),
    "missing_field": lambda r, n: orjson.dumps({k: v for k, v in _valid_doc(r, "passenger").items() if k != "flight"}),
    "deep_nesting": lambda r, n: b"[" * 50_000 + b"]" * 50_000,
    "nan": lambda r, n: orjson.dumps({**_valid_doc(r, "vessel"), "source_id": f"n{n}"})[:-1] + b',"draught_m":NaN}',
    "huge_field": lambda r, n: orjson.dumps({**_valid_doc(r, "passenger"), "source_id": f"h{n}", "traveller": {"given_names": "A" * 200_000, "surname": "B"}}),
    "over_raw_limit": lambda r, n: b"{" + b" " * 1_100_000 + b"}",
    "output_over_1mb": lambda r, n: _huge_freight(r),
    "not_utf8": lambda r, n: b'{"mode": "\xff\xfe"}',
}


def hostile_messages(count: int, seed: int = 5) -> list[TrafficMessage]:
    """``count`` malformed messages cycling through every kind, with unique keys."""
    rng = random.Random(seed)
    names = sorted(KINDS)
    # Large kinds are costly to build and move; make them a small share of the mix.
    heavy = {"over_raw_limit", "output_over_1mb", "deep_nesting", "huge_field"}
    out = []
    cache: dict[str, bytes | None] = {}
    for n in range(count):
        kind = names[n % len(names)]
        if kind in heavy:
            if n % (len(names) * 20) >= len(names):
                kind = "broken_json"
            elif kind in cache:
                value = cache[kind]
                out.append(TrafficMessage(TOPICS[n % 3], f"bad-{n}".encode(), value or b"", False))  # type: ignore[arg-type]
                continue
        value = KINDS[kind](rng, n)
        if kind in heavy:
            cache[kind] = value
        out.append(TrafficMessage(TOPICS[n % 3], f"bad-{n}".encode(), value, False))  # type: ignore[arg-type]
    return out
