"""Screening in the enrich stage: each event's people, companies and vessel against the
watchlists, and the source of those watchlists while a worker runs.

What is screened, per event:

- a traveller: the names as the feed spelt them, with date of birth, nationality and
  document number to corroborate (engine/screen/screener.py weighs them);
- a consignment: consignor, consignee, notify party and carrier, each by name and
  country;
- a vessel: IMO and MMSI exactly, the name fuzzily (a position report has only the
  MMSI). A ship matched by IMO or MMSI that reports a name or flag its listing does not
  give is marked ``changed``: a sanctioned ship under a new name or flag;
- a consignment's carrying vessel, by the IMO the declaration gives.

Hits become ``ScreeningHit``s on the enriched event, and every enriched event records
the versions of the lists it was screened against (``watchlist_versions``), hit or
not, so a decision can always be traced to the list that was in force.

The lists come from files (``GATEHOUND_SCREENING__WATCHLISTS``) and from the
``watchlists`` topic: FollowTheMoney entities, one per message, keyed by entity id,
the list named by the entity's first dataset; a message with no value (a tombstone)
removes the entity. ``WatchlistSource`` keeps the entities of both and builds a new
``Screener`` when they change; the decide hop takes the current one for each batch,
so an update applies to the next batch, without a restart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import orjson
from anyascii import anyascii
from rapidfuzz import fuzz

from engine.logs import get_logger
from engine.screen import Match, Screener
from engine.screen.watchlist import (
    ListedEntity,
    ListedVessel,
    Watchlist,
    country_alpha3,
    load_watchlists,
    parse_watchlist,
)
from schemas import Event, FreightEvent, PassengerEvent, ScreeningHit, VesselEvent

log = get_logger(__name__)

#: How many hits per party are kept on the event (best first).
HITS_PER_SUBJECT = 3
#: Token-sort similarity (0-100) from which a reported ship name is the listed one.
SAME_NAME = 85
_WORDS = re.compile(r"[a-z0-9]+")


def _hits(
    subject: str, matches: Iterable[Match], changed: Callable[[Match], tuple[str, ...]] = lambda m: ()
) -> list[ScreeningHit]:
    return [
        ScreeningHit(
            subject=subject,  # type: ignore[arg-type]
            list=m.list[:100], list_version=m.list_version[:100], entity_id=m.entity_id[:200],
            entity_schema=m.schema[:40], score=min(1.0, max(0.0, round(m.score, 4))),
            explanation=m.explanation[:1000], changed=changed(m),  # type: ignore[arg-type]
        )
        for m in list(matches)[:HITS_PER_SUBJECT]
    ]


def _folded(name: str) -> str:
    return " ".join(sorted(_WORDS.findall(anyascii(name).lower())))


def identity_changes(event: VesselEvent, listed: ListedEntity | None) -> tuple[str, ...]:
    """What a ship matched by IMO or MMSI reports differently from its listing: a name
    unlike every listed name (aliases and past names included), a flag not among its
    listed flags. Nothing when the match was by name only."""
    if not isinstance(listed, ListedVessel):
        return ()
    if not ((event.imo and event.imo in listed.imo) or event.mmsi in listed.mmsi):
        return ()
    changed = []
    names = [*listed.names, *listed.aliases, *listed.weak_aliases]
    if event.name and names and max(
        fuzz.token_sort_ratio(_folded(event.name), _folded(n)) for n in names
    ) < SAME_NAME:
        changed.append("name")
    flag = country_alpha3(event.flag) if event.flag else None
    if flag and listed.flags and flag not in listed.flags:
        changed.append("flag")
    return tuple(changed)


def screen_event(event: Event, screener: Screener) -> tuple[ScreeningHit, ...]:
    """Every watchlist hit of one event's parties, best first per party."""
    hits: list[ScreeningHit] = []
    if isinstance(event, PassengerEvent):
        t, doc = event.traveller, event.document
        hits += _hits("traveller", screener.screen_person(
            [f"{t.given_names} {t.surname}"],
            birth_date=t.date_of_birth.isoformat() if t.date_of_birth else None,
            nationality=t.nationality,
            document_number=doc.number if doc else None,
        ))
    elif isinstance(event, FreightEvent):
        for subject, party in (("consignor", event.consignor), ("consignee", event.consignee),
                               ("notify_party", event.notify_party), ("carrier", event.carrier)):
            if party is not None:
                hits += _hits(subject, screener.screen_organisation(party.name, country=party.country))
        if event.means.vessel_imo:
            hits += _hits("vessel", screener.screen_vessel(imo=event.means.vessel_imo))
    else:
        ship = event
        hits += _hits("vessel", screener.screen_vessel(
            event.name, imo=event.imo, mmsi=event.mmsi, flag=event.flag
        ), lambda m: identity_changes(ship, screener.entity(m.entity_id)))
    return tuple(hits)


class WatchlistSource:
    """The watchlists a worker screens against: from files, and updated from a topic.

    ``screener`` is always a complete, immutable Screener; ``apply`` takes a batch of
    topic records and, if anything changed, builds the next one and swaps it in.
    """

    def __init__(self, files: Sequence[str | Path] = (), threshold: float | None = None) -> None:
        self.threshold = threshold
        self._from_files: list[Watchlist] = load_watchlists(list(files)) if files else []
        #: From the topic: list name -> entity id -> the entity's JSON line.
        self._topic: dict[str, dict[str, bytes]] = {}
        self._list_of: dict[str, str] = {}
        self.screener = self._build()

    @property
    def empty(self) -> bool:
        """True when there is nothing to screen against."""
        return len(self.screener) == 0

    def apply(self, records: Iterable[tuple[bytes | None, bytes | None]]) -> bool:
        """Upserts and deletions from the topic, as (key, value); True if the lists changed."""
        changed = False
        for key, value in records:
            if value is None:
                entity_id = key.decode("utf-8", "replace") if key else ""
                owner = self._list_of.pop(entity_id, None)
                if owner is not None:
                    self._topic[owner].pop(entity_id, None)
                    changed = True
                continue
            try:
                doc = orjson.loads(value)
                entity_id = str(doc["id"])
                datasets = doc.get("datasets") or ["watchlist"]
                list_name = str(datasets[0])
            except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
                log.warning("watchlist.bad_record", reason="not a FollowTheMoney entity")
                continue
            previous = self._list_of.get(entity_id)
            if previous is not None and previous != list_name:
                self._topic[previous].pop(entity_id, None)
            self._topic.setdefault(list_name, {})[entity_id] = value
            self._list_of[entity_id] = list_name
            changed = True
        if changed:
            self.screener = self._build()
        return changed

    def _build(self) -> Screener:
        lists = list(self._from_files)
        for name, entities in sorted(self._topic.items()):
            # The version is the content's: the same entities give the same version.
            lists.extend(parse_watchlist([entities[k] for k in sorted(entities)], name))
        screener = Screener(lists) if self.threshold is None else Screener(lists, self.threshold)
        return screener

    def describe(self) -> str:
        """The lists in force, as ``name=version`` pairs (for logs: no entity data)."""
        return ",".join(f"{k}={v}" for k, v in sorted(self.screener.versions().items()))
