"""Raw feed traffic with planted cases: what ``gatehound simulate`` writes or publishes.

The world is the demo one of engine/simulate/traffic.py (airports, carriers, traders,
a fleet on shipping lanes); here it speaks the real formats:

- flights: a PNRGOV push of the bookings some hours before departure, then a PAXLST
  manifest of everyone on board (passengers and crew) at check-in close;
- consignments: one declaration document each (JSON, schemas/json/ConsignmentDeclaration);
- vessels: AIS ``!AIVDM`` sentences behind a tag block, one report per message.

Into that background go planted cases, each written to ``truth.jsonl`` with the
events a good engine should flag (see :class:`Case`). The kinds:

======================== =============================================================
watchlist_name_variant   a watchlisted person travels under a transliterated,
                         mistyped or reordered name (watchlist.jsonl has the entry, a
                         FollowTheMoney ``Person``)
courier_network          3-5 travellers on separate bookings, one route, within days,
                         sharing a phone, an email or a payment card
misdeclared_consignment  declared value far outside the band for its HS chapter and mass
invalid_or_reused_container  a container number failing its check digit, or one
                         number declared on two consignments on different ships
dark_vessel_rendezvous   a vessel meets another at sea, switches AIS off, and
                         reappears bound for a UK port
cross_mode_link          the consignee of a flagged consignment shares a phone with a
                         traveller arriving the same week
vessel_identity_changed  a ship on the watchlist (a FollowTheMoney ``Vessel``: name, IMO,
                         MMSI, flag) sails under a new name, same IMO and MMSI (AIS gives
                         the flag by the MMSI), and a consignment is declared on it
expired_document, late_cash_booking, ais_gap, implausible_track
                         single-event signals the shipped rules look for
======================== =============================================================

Some bookings start in a high-risk country with nothing else remarkable about them:
they are no case, and an engine that alerts on them pays in precision. A share of
deliberately broken messages of every format is mixed in; they are built
apart from the world, so breaking one loses no case. Everything follows from the
seed: the same seed writes the same bytes.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from iso3166 import countries_by_alpha3

from engine.ingest.files import TOPIC_OF
from engine.normalise.pnrgov import card_hash
from engine.normalise.stage import mode_of_topic
from engine.normalise.travellers import api_source_id, pnr_source_id
from engine.simulate.ais import ais_sentences
from engine.simulate.declaration import declaration_bytes, declaration_from_event
from engine.simulate.paxlst import paxlst_interchange
from engine.simulate.pnrgov import pnrgov_interchange
from engine.simulate.traffic import (
    CITIES,
    GIVEN_NAMES,
    HIGH_RISK_ORIGINS,
    HOME_AIRPORTS,
    HUBS,
    NATIONALITIES,
    ORIGIN_CARRIERS,
    STREETS,
    TrafficGenerator,
    _round_to_five_minutes,
)
from schemas import Event, FreightEvent, PassengerEvent, VesselEvent, stable_id
from schemas.codes import luhn_check_digit
from schemas.passenger import Address, Booking, Flight, TravelDocument, Traveller
from schemas.vessel import Position

#: The file of each format in a simulation directory.
FILES: dict[str, str] = {
    "paxlst": "paxlst.edi",
    "pnrgov": "pnrgov.edi",
    "ais": "ais.nmea",
    "declaration": "declarations.jsonl",
}
TRUTH_FILE = "truth.jsonl"
WATCHLIST_FILE = "watchlist.jsonl"
#: Key of the card-number hash unless the engine is given its own (GATEHOUND_PRIVACY__CARD_HASH_KEY).
DEFAULT_CARD_KEY = b"gatehound-demo-card-key"

PLANTED_KINDS: tuple[str, ...] = (
    "watchlist_name_variant",
    "courier_network",
    "misdeclared_consignment",
    "invalid_or_reused_container",
    "dark_vessel_rendezvous",
    "cross_mode_link",
    "vessel_identity_changed",
)
SIGNAL_KINDS: tuple[str, ...] = ("expired_document", "late_cash_booking", "ais_gap", "implausible_track")
CASE_KINDS = PLANTED_KINDS + SIGNAL_KINDS

#: Given names with the other spellings a transliteration gives them.
TRANSLITERATIONS: tuple[tuple[str, str], ...] = (
    ("Mohammed", "Muhammad"), ("Yusuf", "Youssef"), ("Aleksandr", "Alexander"),
    ("Sergei", "Sergey"), ("Ekaterina", "Yekaterina"), ("Olga", "Olha"),
    ("Hussein", "Husayn"), ("Dmitri", "Dmitry"), ("Abdullah", "Abdallah"), ("Yuri", "Iouri"),
)
#: Where courier networks fly from (any origin would do; these are busy and plausible).
COURIER_ORIGINS: tuple[str, ...] = ("LOS", "GRU", "BOM", "BKK", "NBO", "DXB")
#: Rough passenger/freight/vessel shares of the events.
SHARES: dict[str, float] = {"passenger": 0.5, "freight": 0.2, "vessel": 0.3}
#: Per traveller or booking: the chance of a single-event signal in the background.
P_EXPIRED = 0.006
P_HIGH_RISK = 0.01
P_LATE_CASH = 0.008
P_ODD_VALUE = 0.02
P_BAD_CONTAINER = 0.02
P_GAP = 0.004
P_ODD_TRACK = 0.004


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One message: its format (a feed format, or "watchlist" for an entry on the
    ``watchlists`` topic), topic base name, key, bytes and how many events it holds."""

    format: str
    topic_base: str
    key: bytes | None
    value: bytes
    events: int
    valid: bool = True


@dataclass
class Case:
    """One planted case, as written to truth.jsonl.

    ``expect`` lists what a good engine flags: ``{"mode", "event_id"}`` for an event,
    ``{"mode": "vessel", "key": "mmsi:..."}`` for any report of a vessel. An alert on
    any of them detects the case.
    """

    case_id: str
    kind: str
    description: str
    entities: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, str]] = field(default_factory=list)
    expect: list[dict[str, str]] = field(default_factory=list)
    #: Whether examining it would find something (see ``contraband_chance``).
    contraband: bool = True

    def to_json(self) -> bytes:
        """One line of truth.jsonl."""
        return orjson.dumps({
            "case_id": self.case_id, "kind": self.kind, "description": self.description,
            "entities": self.entities, "messages": self.messages, "expect": self.expect,
            "contraband": self.contraband,
        }, option=orjson.OPT_SORT_KEYS)


#: Where a courier's journey starting makes a late cash booking likelier to hide something.
COURIER_JOURNEYS = frozenset(COURIER_ORIGINS)
#: Countries of dispatch whose odd declared values more often hide something.
MISDECLARING_DISPATCH = frozenset({"IN", "TR", "VN"})


def contraband_chance(kind: str, event: Event) -> float:
    """How likely an event that carries a single-event signal hides something.

    Planted cases always do; a background signal mostly does not (a late cash booking
    is usually a late traveller), more often under conditions a model can learn from
    the event and an officer's outcomes, but no rule tests: a courier's journey from a
    source airport, travelling alone with one bag or none; an odd value on goods from
    some countries of dispatch, or by air; a fishing boat going silent. The shares are
    made up for the simulation, not taken from real seizure figures.
    """
    if isinstance(event, PassengerEvent):
        if kind != "late_cash_booking":
            return 0.03
        booking = event.booking
        journey = {event.flight.departure_airport, *event.route[:1]}
        chance = 0.04 + 0.45 * bool(journey & COURIER_JOURNEYS)
        if booking is not None:
            chance += 0.2 * (not booking.co_travellers) + 0.2 * ((booking.bags or 0) <= 1)
        return chance
    if isinstance(event, FreightEvent):
        if kind != "misdeclared_consignment":
            return 0.08
        return 0.05 + 0.5 * (event.consignor.country in MISDECLARING_DISPATCH) + 0.25 * (
            event.mode_of_transport == "air")
    if kind == "ais_gap":
        return 0.08 + 0.55 * (event.ship_type == 30)
    return 0.03


@dataclass
class _Member:
    """A traveller the next flights must carry: who, and what ties them to a case."""

    case: Case
    surname: str
    given: str
    date_of_birth: date | None = None
    nationality: str | None = None
    phone: str | None = None
    email: str | None = None
    card: str | None = None
    route: tuple[str, str] | None = None


@dataclass
class _FreightPlan:
    """What the next consignment must carry for a case, and how to finish it."""

    odd_value: bool = False
    bad_container: bool = False
    sea: bool = False
    apply: Callable[[FreightEvent], FreightEvent] | None = None


@dataclass(order=True)
class _Due:
    """A message to emit once the simulated clock reaches ``at``."""

    at: datetime
    order: int
    message: FeedMessage = field(compare=False)


class FeedSimulator:
    """Deterministic raw traffic in PAXLST, PNRGOV, AIS and declarations, with cases.

    ``cases_per_10k`` is how many cases of each planted kind go into every 10,000
    events; ``malformed_share`` is the share of extra, broken messages.
    """

    def __init__(
        self,
        seed: int = 1,
        malformed_share: float = 0.02,
        start: datetime | None = None,
        cases_per_10k: float = 10.0,
        card_key: bytes = DEFAULT_CARD_KEY,
    ) -> None:
        if not 0.0 <= malformed_share < 1.0:
            raise ValueError("malformed_share must be at least 0 and below 1")
        self.world = TrafficGenerator(seed=seed, malformed_share=0.0, start=start)
        # Background signals are planted here, each with its case; none left to chance.
        for name in ("P_EXPIRED_DOCUMENT", "P_LATE_CASH", "P_HIGH_RISK_ORIGIN", "P_BAD_CONTAINER",
                     "P_ODD_VALUE", "P_REPORTED_SPEED", "P_POSITION_JUMP", "P_GAP"):
            setattr(self.world, name, 0.0)
        self.rng = random.Random(seed * 7919 + 17)
        self.seed = seed
        self.malformed_share = malformed_share
        self.card_key = card_key
        self.plant_every = 10_000 / cases_per_10k / len(PLANTED_KINDS) if cases_per_10k > 0 else math.inf
        self.cases: list[Case] = []
        self.watchlist: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {"events": 0, "messages": 0, "malformed": 0}
        self._mode_events = dict.fromkeys(SHARES, 0)
        self._due: list[_Due] = []
        self._order = itertools.count()
        self._members: list[_Member] = []
        self._freight_plans: list[_FreightPlan] = []
        self._next_plant = self.plant_every / 2
        self._plant_cycle = itertools.cycle(PLANTED_KINDS)
        self._ids = itertools.count(1)
        self._case_vessels = 0
        self._listed_sent = 0
        self._phones = _fiction_phones(random.Random(seed))
        self._add_background_watchlist(40)

    # -- the stream --

    @property
    def now(self) -> datetime:
        """The simulated clock."""
        return self.world._clock

    def messages(self, count: int | None = None, until: datetime | None = None) -> Iterator[FeedMessage]:
        """Messages in the order they are sent, until ``count`` events or the clock passes
        ``until``; then what cases already begun still need (their travellers' flights,
        their consignments) and the messages already due later (manifests of flights whose
        bookings were sent, the rest of a vessel's story), so no case is cut short."""
        if count is None and until is None:
            raise ValueError("give count or until")
        yield from self._listings()
        while (count is None or self.counts["events"] < count) and (until is None or self.now < until):
            yield from self._release_due()
            while self.counts["events"] >= self._next_plant:
                self._plant(next(self._plant_cycle))
                self._next_plant += self.plant_every
            yield from self._listings()
            for message in self._step():
                yield self._sent(message)
            if self.rng.random() < self.malformed_share:
                yield self._sent(self._malformed())
        # Cases already begun are finished: their travellers fly, their goods are declared.
        while self._members:
            yield from (self._sent(m) for m in self._flight())
        while self._freight_plans:
            yield from (self._sent(m) for m in self._consignment())
        while self._due:
            item = heapq.heappop(self._due)
            self.world._clock = max(self.now, item.at)
            yield self._sent(item.message)

    def _listings(self) -> Iterator[FeedMessage]:
        """Watchlist entries not yet sent, as messages for the ``watchlists`` topic: a live
        engine screens against them from then on (files get watchlist.jsonl instead)."""
        for entry in self.watchlist[self._listed_sent:]:
            yield FeedMessage("watchlist", "watchlists", entry["id"].encode(),
                              orjson.dumps(entry, option=orjson.OPT_SORT_KEYS), 0)
        self._listed_sent = len(self.watchlist)

    def _sent(self, message: FeedMessage) -> FeedMessage:
        self.counts["messages"] += 1
        self.counts["events"] += message.events
        mode = mode_of_topic(message.topic_base)
        if mode is not None:
            self._mode_events[mode] += message.events
        if not message.valid:
            self.counts["malformed"] += 1
        return message

    def _release_due(self) -> Iterator[FeedMessage]:
        while self._due and self._due[0].at <= self.now:
            yield self._sent(heapq.heappop(self._due).message)

    def _later(self, at: datetime, message: FeedMessage) -> None:
        heapq.heappush(self._due, _Due(at, next(self._order), message))

    def _step(self) -> list[FeedMessage]:
        total = sum(self._mode_events.values()) or 1
        mode = max(SHARES, key=lambda m: SHARES[m] - self._mode_events[m] / total)
        out = {"passenger": self._flight, "freight": self._consignment, "vessel": self._vessel}[mode]()
        self.world._clock += timedelta(seconds=self.rng.randint(2, 8) * max(1, len(out)))
        return out

    # -- passengers --

    def _flight(self) -> list[FeedMessage]:
        rng, now = self.rng, self.now
        member = self._members[0] if self._members else None
        if member is not None and member.route is not None:
            departure, arrival = member.route
        else:
            departure, arrival = rng.choice(sorted(ORIGIN_CARRIERS)), rng.choice(HOME_AIRPORTS)
        carrier = rng.choice(ORIGIN_CARRIERS[departure])
        dep_at = _round_to_five_minutes(now + timedelta(minutes=rng.randint(150, 360)))
        flight = Flight(
            carrier=carrier, number=str(rng.randint(1, 2999)), departure_airport=departure,
            arrival_airport=arrival, scheduled_departure=dep_at,
            scheduled_arrival=dep_at + self.world._flight_time(departure, arrival),
        )
        pnrs: list[list[PassengerEvent]] = []
        api: list[PassengerEvent] = []
        cards: dict[str, str] = {}
        seats = iter(rng.sample([f"{r}{c}" for r in range(1, 45) for c in "ABCDEF"], 264))
        for size in self._booking_sizes(rng.randint(15, 70)):
            pnr, on_board = self._booking(flight, size, cards, seats)
            pnrs.append(pnr)
            api += on_board
        if member is not None and (member.route is None or member.route == (departure, arrival)):
            self._members.pop(0)
            pnr, on_board = self._booking(flight, 1, cards, seats, member)
            pnrs.append(pnr)
            api += on_board
        api += [self._api_only(flight, "crew") for _ in range(rng.randint(2, 9))]
        api += [self._api_only(flight, "passenger") for _ in range(rng.randint(0, 2))]
        reference = f"{self.seed % 1000:03d}{next(self._ids):08d}"
        push = pnrgov_interchange(
            pnrs, card_numbers=cards, reference=reference, sender=carrier, recipient="GBGOV",
            prepared_at=now,
        )
        manifest_at = dep_at - timedelta(minutes=rng.randint(20, 40))
        manifest = paxlst_interchange(
            api, reference=reference, sender=carrier, recipient="GBGOV", prepared_at=manifest_at,
        )
        self._later(manifest_at, FeedMessage("paxlst", TOPIC_OF["paxlst"], reference.encode(), manifest,
                                             len(api)))
        return [FeedMessage("pnrgov", TOPIC_OF["pnrgov"], reference.encode(), push,
                            sum(len(p) for p in pnrs))]

    def _booking_sizes(self, seats: int) -> Iterator[int]:
        while seats > 0:
            size = min(seats, self.rng.choices((1, 2, 3, 4), weights=(60, 25, 10, 5))[0])
            seats -= size
            yield size

    def _booking(
        self, flight: Flight, size: int, cards: dict[str, str], seats: Iterator[str],
        member: _Member | None = None,
    ) -> tuple[list[PassengerEvent], list[PassengerEvent]]:
        """One PNR: its travellers as PNR events, and (most of) them as API events."""
        rng, now = self.rng, self.now
        surname = member.surname if member else self.world._surname()
        # No two travellers of one booking share a name (a real PNR tells them apart by
        # suffix or title; our ids would not).
        firsts = rng.sample([g for g in GIVEN_NAMES if not member or g != member.given], size)
        if member:
            firsts[0] = member.given
        people = [(g, surname) for g in firsts]
        locator = "".join(rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZ23456789", k=6))
        high_risk = member is None and rng.random() < P_HIGH_RISK
        late_cash = member is None and rng.random() < P_LATE_CASH
        route: tuple[str, ...] = (flight.departure_airport, flight.arrival_airport)
        if high_risk:
            origins = [o for o, hubs in HIGH_RISK_ORIGINS.items() if flight.departure_airport in hubs]
            origin = rng.choice(origins or sorted(HIGH_RISK_ORIGINS))
            route = (origin, *route)
        elif member is None and flight.departure_airport in HUBS and rng.random() < 0.3:
            origin = rng.choice([o for o in sorted(ORIGIN_CARRIERS) if o != flight.departure_airport])
            route = (origin, *route)
        if late_cash:
            booked_at = now - timedelta(minutes=rng.randint(5, 90))
        else:
            booked_at = now - timedelta(days=rng.randint(3, 120), minutes=rng.randint(0, 1439))
        payment = "cash" if late_cash else rng.choices(
            ("card", "invoice", "miles", "voucher", "cash"), weights=(82, 8, 5, 3, 2)
        )[0]
        card = member.card if member and member.card else None
        if card is not None:
            payment = "card"
        if payment == "card":
            card = card or _card_number(rng)
            cards[locator] = card
        given0 = people[0][0]
        phone = member.phone if member and member.phone else self._phone()
        email = member.email if member and member.email else (
            f"{given0}.{surname}.{next(self._ids)}@example.com".lower()
        )
        address = None
        if rng.random() < 0.5:
            address = Address(line=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
                              city=rng.choice(CITIES), country="GBR")
        names = [f"{s}/{g}".upper() for g, s in people]
        pnr_events, api_events = [], []
        for i, (given, sname) in enumerate(people):
            traveller, document = self._traveller(flight, given, sname, member if i == 0 else None)
            booking = Booking(
                record_locator=locator, booked_at=booked_at, payment_type=payment,  # type: ignore[arg-type]
                payment_instrument_hash=card_hash(card, self.card_key) if card else None,
                agency=rng.choice((None, "Example Travel", "Sample Tours", "Demo Flights Online")),
                phones=(phone,), emails=(email,), address=address,
                co_travellers=tuple(n for j, n in enumerate(names) if j != i),
                bags=rng.randint(0, 3), seat=next(seats, None),
            )
            pnr_event = _passenger(
                "pnr", pnr_source_id(flight, locator, traveller), now, flight, route, traveller,
                document, booking,
            )
            pnr_events.append(pnr_event)
            no_show = member is None and rng.random() < 0.02
            if not no_show:
                api_events.append(_passenger(
                    "api", api_source_id(flight, traveller, document), now, flight,
                    (flight.departure_airport, flight.arrival_airport), traveller, document, None,
                    reporting_party=flight.carrier,
                ))
            self._signals(flight, traveller, document, booking, route, pnr_event, api_events, no_show)
        if member is not None:
            events = [pnr_events[0]] + ([api_events[0]] if api_events else [])
            member.case.expect += [{"mode": "passenger", "event_id": e.event_id} for e in events]
            member.case.messages += [{"format": "pnrgov", "flight": _flight_ref(flight)},
                                     {"format": "paxlst", "flight": _flight_ref(flight)}]
        return pnr_events, api_events

    def _traveller(
        self, flight: Flight, given: str, surname: str, member: _Member | None
    ) -> tuple[Traveller, TravelDocument]:
        rng, today = self.rng, self.now.date()
        nationality = member.nationality if member and member.nationality else rng.choice(NATIONALITIES)
        born = member.date_of_birth if member and member.date_of_birth else today - timedelta(
            days=rng.randint(2 * 365, 85 * 365))
        expired = member is None and rng.random() < P_EXPIRED
        arrival = flight.scheduled_arrival.date()
        expiry = arrival - timedelta(days=rng.randint(3, 400)) if expired else arrival + timedelta(
            days=rng.randint(200, 9 * 365))
        traveller = Traveller(
            given_names=given, surname=surname, date_of_birth=born,
            sex=rng.choice(("F", "M", "F", "M", "X")), nationality=nationality,
            country_of_residence=rng.choice((nationality, "GBR")),
        )
        document = TravelDocument(
            type="passport", number=rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + f"{rng.randrange(10**8):08d}",
            issuing_state=nationality, expiry=expiry,
        )
        return traveller, document

    def _api_only(self, flight: Flight, role: str) -> PassengerEvent:
        traveller, document = self._traveller(flight, self.rng.choice(GIVEN_NAMES), self.world._surname(),
                                              None)
        traveller = traveller.model_copy(update={"role": role})
        event = _passenger(
            "api", api_source_id(flight, traveller, document), self.now, flight,
            (flight.departure_airport, flight.arrival_airport), traveller, document, None,
            reporting_party=flight.carrier,
        )
        if document.expiry is not None and document.expiry < flight.scheduled_arrival.date():
            self._case("expired_document", "travel document expired before arrival",
                       {"flight": _flight_ref(flight)}, [{"mode": "passenger", "event_id": event.event_id}],
                       signal=event)
        return event

    def _signals(
        self, flight: Flight, traveller: Traveller, document: TravelDocument, booking: Booking,
        route: tuple[str, ...], pnr_event: PassengerEvent, api_events: list[PassengerEvent],
        no_show: bool,
    ) -> None:
        """Cases for the single-event signals this traveller carries."""
        targets = [pnr_event] + ([api_events[-1]] if not no_show else [])
        expect = [{"mode": "passenger", "event_id": e.event_id} for e in targets]
        ref = _flight_ref(flight)
        if document.expiry is not None and document.expiry < flight.scheduled_arrival.date():
            self._case("expired_document", "travel document expired before arrival",
                       {"flight": ref}, expect, signal=pnr_event)
        hours = (flight.scheduled_departure - booking.booked_at).total_seconds() / 3600
        if booking.payment_type == "cash" and hours < 24:
            self._case("late_cash_booking", "booked hours before departure and paid cash",
                       {"flight": ref, "record_locator": booking.record_locator}, expect,
                       signal=pnr_event)

    # -- planting --

    def _case(
        self, kind: str, description: str, entities: dict[str, Any],
        expect: list[dict[str, str]] | None = None, signal: Event | None = None,
    ) -> Case:
        """Record a case. A background ``signal`` (an event a single-event rule flags)
        hides something by ``contraband_chance``, drawn apart from the traffic's own
        randomness so the traffic's bytes do not depend on it."""
        case = Case(f"case-{len(self.cases) + 1:06d}", kind, description, entities, [],
                    list(expect or []))
        if signal is not None:
            draw = random.Random(f"{self.seed}:{case.case_id}:contraband").random()
            case.contraband = draw < contraband_chance(kind, signal)
        self.cases.append(case)
        return case

    def _plant(self, kind: str) -> None:
        rng = self.rng
        if kind == "watchlist_name_variant":
            listed, travels = rng.choice(TRANSLITERATIONS)
            surname = self.world._surname()
            variant = rng.choice(("transliteration", "typo", "swapped_order"))
            born = self.now.date() - timedelta(days=rng.randint(22 * 365, 60 * 365))
            nationality = rng.choice(NATIONALITIES)
            entry_id = self._listed(listed, surname, born, nationality)
            given, sname = listed, surname
            if variant == "transliteration":
                given = travels
            elif variant == "typo":
                sname = _typo(surname, rng)
            else:
                given, sname = surname, listed
            case = self._case("watchlist_name_variant", f"watchlisted person travels, name {variant}",
                              {"watchlist_entity": entry_id, "variant": variant})
            self._members.append(_Member(case, sname, given, born, nationality))
        elif kind == "courier_network":
            shared = rng.choice(("phone", "email", "card"))
            route = (rng.choice(COURIER_ORIGINS), rng.choice(HOME_AIRPORTS))
            case = self._case("courier_network", f"travellers on separate bookings share a {shared}",
                              {"shared": shared, "route": "-".join(route)})
            value = {"phone": self._phone(),
                     "email": f"travel.desk{next(self._ids)}@example.org",
                     "card": _card_number(rng)}[shared]
            for _ in range(rng.randint(3, 5)):
                member = _Member(case, self.world._surname(), rng.choice(GIVEN_NAMES), route=route)
                setattr(member, shared, value)
                self._members.append(member)
        elif kind == "misdeclared_consignment":
            case = self._case("misdeclared_consignment", "declared value far outside its HS band", {})
            self._freight_plans.append(
                _FreightPlan(odd_value=True, apply=partial(self._expect_freight, case)))
        elif kind == "invalid_or_reused_container":
            self._plant_container(rng.random() < 0.5)
        elif kind == "dark_vessel_rendezvous":
            self._plant_rendezvous()
        elif kind == "cross_mode_link":
            phone = self._phone()
            case = self._case("cross_mode_link",
                              "consignee of a flagged consignment shares a phone with a traveller",
                              {"shared": "phone"})

            def link(event: FreightEvent, c: Case = case, p: str = phone) -> FreightEvent:
                consignee = event.consignee.model_copy(update={"phone": p})
                c.entities["declaration_id"] = event.declaration_id
                # The consignment is flagged on its own merits: a case of its own.
                self._case("misdeclared_consignment", "declared value far outside its HS band",
                           {"declaration_id": event.declaration_id},
                           [{"mode": "freight", "event_id": event.event_id}])
                return event.model_copy(update={"consignee": consignee})

            self._freight_plans.append(_FreightPlan(odd_value=True, apply=link))
            self._members.append(_Member(case, self.world._surname(), rng.choice(GIVEN_NAMES), phone=phone))
        elif kind == "vessel_identity_changed":
            self._plant_renamed_vessel()

    def _plant_renamed_vessel(self) -> None:
        """A listed ship reports a new name under its listed IMO and MMSI (a voyage report,
        then positions), and a consignment is declared on it."""
        ship = self._case_vessel()
        self.watchlist.append({
            "id": f"gh-sim-vessel-{len(self.watchlist) + 1:05d}", "schema": "Vessel",
            "properties": {"name": [ship.name], "imoNumber": [ship.imo], "mmsi": [ship.mmsi],
                           "flag": [(ship.flag or "").lower()], "notes": ["synthetic test entry"]},
            "datasets": ["gatehound_sim_vessels"],
        })
        name = f"{self.rng.choice(('AURORA', 'HORIZON', 'MERIDIAN'))} {next(self._ids) % 90 + 10}"
        renamed = ship.model_copy(update={"name": name})
        case = self._case("vessel_identity_changed", "listed vessel sails under a new name",
                          {"mmsi": ship.mmsi, "imo": ship.imo or ""},
                          [{"mode": "vessel", "key": f"mmsi:{ship.mmsi}"}])
        t0 = self.now + timedelta(minutes=20)
        self._later(t0, self._ais(renamed.model_copy(update={"observed_at": t0, "occurred_at": t0})))
        for minutes in (10, 30, 50):
            at = t0 + timedelta(minutes=minutes)
            self._later(at, self._ais(_report(renamed, at, (50.6, -1.2 + minutes / 200), 12.0, 90.0)))

        def carried(event: FreightEvent, c: Case = case, imo: str = ship.imo or "") -> FreightEvent:
            c.expect.append({"mode": "freight", "event_id": event.event_id})
            return event.model_copy(update={"means": event.means.model_copy(update={"vessel_imo": imo})})

        self._freight_plans.append(_FreightPlan(sea=True, apply=carried))

    def _expect_freight(self, case: Case, event: FreightEvent) -> FreightEvent:
        case.expect.append({"mode": "freight", "event_id": event.event_id})
        case.entities["declaration_id"] = event.declaration_id
        return event

    def _plant_container(self, reuse: bool) -> None:
        if not reuse:
            case = self._case("invalid_or_reused_container", "container number fails its check digit",
                              {"how": "check_digit"})
            self._freight_plans.append(_FreightPlan(
                bad_container=True, sea=True, apply=partial(self._expect_freight, case)))
            return
        case = self._case("invalid_or_reused_container",
                          "one container number on two consignments on different ships",
                          {"how": "reused"})
        box = self.world._container()
        case.entities["container"] = box

        ships: list[str] = []

        def reuse_box(event: FreightEvent, c: Case = case, b: str = box) -> FreightEvent:
            first = event.goods[0].model_copy(update={"containers": (b,)})
            c.expect.append({"mode": "freight", "event_id": event.event_id})
            means = event.means
            if means.vessel_imo in ships:  # the second declaration: another ship
                other = next(v.imo for v in self.world._vessels if v.imo not in ships)
                means = means.model_copy(update={"vessel_imo": other})
            ships.append(means.vessel_imo or "")
            return event.model_copy(update={"goods": (first, *event.goods[1:]), "means": means})

        self._freight_plans += [_FreightPlan(sea=True, apply=reuse_box) for _ in range(2)]

    # -- freight --

    def _consignment(self) -> list[FeedMessage]:
        plan = self._freight_plans.pop(0) if self._freight_plans else None
        rng = self.rng
        if plan is None:
            odd, bad = rng.random() < P_ODD_VALUE, rng.random() < P_BAD_CONTAINER
            doc = self.world._freight("", odd_value=odd, bad_container=bad)
        else:
            odd, bad = plan.odd_value, plan.bad_container
            doc = self.world._freight("", odd_value=odd, bad_container=bad)
            while plan.sea and doc["mode_of_transport"] != "sea":
                doc = self.world._freight("", odd_value=odd, bad_container=bad)
        declaration_id = doc["declaration_id"]
        doc.update(source="declaration", source_id=declaration_id, received_at=self.now,
                   event_id=stable_id("freight", "declaration", declaration_id))
        event = FreightEvent.model_validate(doc)
        expect = [{"mode": "freight", "event_id": event.event_id}]
        if plan is not None and plan.apply is not None:
            event = plan.apply(event)
        elif odd:
            self._case("misdeclared_consignment", "declared value far outside its HS band",
                       {"declaration_id": declaration_id}, expect, signal=event)
        if plan is None and bad and doc["mode_of_transport"] == "sea":
            self._case("invalid_or_reused_container", "container number fails its check digit",
                       {"declaration_id": declaration_id, "how": "check_digit"}, expect, signal=event)
        value = declaration_bytes(declaration_from_event(event))
        return [FeedMessage("declaration", TOPIC_OF["declaration"], declaration_id.encode(), value, 1)]

    # -- vessels --

    def _vessel(self) -> list[FeedMessage]:
        roll = self.rng.random()
        plant = "gap" if roll < P_GAP else "speed" if roll < P_GAP + P_ODD_TRACK / 2 else (
            "jump" if roll < P_GAP + P_ODD_TRACK else None)
        doc = self.world._vessel_report("", commit=True, plant=plant)
        event = _vessel_event(doc, self.now)
        if plant is not None:
            kind = "ais_gap" if plant == "gap" else "implausible_track"
            self._case(kind, {"gap": "AIS silent for hours", "speed": "impossible reported speed",
                              "jump": "position jumps impossibly far"}[plant],
                       {"mmsi": event.mmsi}, [{"mode": "vessel", "key": f"mmsi:{event.mmsi}"}], signal=event)
        return [self._ais(event)]

    def _ais(self, event: VesselEvent) -> FeedMessage:
        lines = ais_sentences(event, station=f"sim{self.seed % 100}", seq_id=next(self._ids) % 10)
        return FeedMessage("ais", TOPIC_OF["ais"], event.mmsi.encode(), "\n".join(lines).encode(), 1)

    def _plant_rendezvous(self) -> None:
        """Two ships meet in the western Channel; one goes dark for ~12 h, then reappears off
        Felixstowe bound for it. The other loiters and leaves. Reports are scheduled ahead."""
        rng, t0 = self.rng, self.now + timedelta(minutes=30)
        meet = (49.9 + rng.uniform(-0.2, 0.2), -3.0 + rng.uniform(-0.5, 0.5))
        dark, other = (self._case_vessel(), self._case_vessel())
        case = self._case("dark_vessel_rendezvous",
                          "vessel meets another at sea, goes dark, then calls at a UK port",
                          {"mmsi": dark.mmsi, "met": other.mmsi, "port": "GBFXT"},
                          [{"mode": "vessel", "key": f"mmsi:{dark.mmsi}"}])
        del case
        for minutes in range(-60, 241, 20):
            at = t0 + timedelta(minutes=minutes)
            self._later(at, self._ais(_report(other, at, (meet[0] + 0.002, meet[1] + 0.003), 0.4, 90.0)))
        for minutes, dist_nm in ((-60, 10.0), (-40, 6.5), (-20, 3.2), (0, 0.3), (20, 0.2)):
            at = t0 + timedelta(minutes=minutes)
            pos = (meet[0] - dist_nm / 60, meet[1])
            self._later(at, self._ais(_report(dark, at, pos, 9.8 if dist_nm > 1 else 0.5, 0.0)))
        back = t0 + timedelta(hours=12, minutes=rng.randint(0, 90))
        port = (51.90, 1.45)
        self._later(back, self._ais(_report(dark, back, (port[0] - 0.35, port[1] + 0.2), 11.5, 350.0)))
        voyage = dark.model_copy(update={
            "report_type": "voyage", "destination": "GB FXT", "eta": back + timedelta(hours=3),
            "observed_at": back + timedelta(minutes=5), "occurred_at": back + timedelta(minutes=5),
        })
        self._later(back + timedelta(minutes=5), self._ais(voyage))
        for minutes in (180, 200, 220):
            at = back + timedelta(minutes=minutes)
            self._later(at, self._ais(_report(dark, at, (port[0] + 0.05, port[1] - 0.13), 0.0, 0.0)))

    def _case_vessel(self) -> VesselEvent:
        """A ship outside the background fleet, as a voyage-report template."""
        self._case_vessels += 1
        ship = self.world._new_vessel(200 + self._case_vessels)
        return VesselEvent(
            event_id="-", source="ais", source_id="-", occurred_at=self.now, received_at=self.now,
            observed_at=self.now, report_type="voyage", mmsi=ship.mmsi, imo=ship.imo,
            name=ship.name.replace("SAMPLE", "SPECIMEN"), call_sign=ship.call_sign, flag=ship.flag,
            ship_type=70, destination=ship.destination, draught_m=ship.draught,
        )

    # -- watchlist background and broken messages --

    def _add_background_watchlist(self, n: int) -> None:
        rng = self.rng
        for _ in range(n):
            self._listed(
                rng.choice(TRANSLITERATIONS)[rng.randrange(2)], self.world._surname() + "er",
                date(1960, 1, 1) + timedelta(days=rng.randrange(16000)), rng.choice(NATIONALITIES),
            )

    def _listed(self, given: str, surname: str, born: date, nationality: str) -> str:
        """Put a person on the watchlist, as a FollowTheMoney ``Person`` entity; its id."""
        entity_id = f"gh-sim-wanted-{len(self.watchlist) + 1:05d}"
        country = countries_by_alpha3.get(nationality)
        self.watchlist.append({
            "id": entity_id,
            "schema": "Person",
            "properties": {
                "name": [f"{given} {surname}".upper()],
                "firstName": [given.upper()],
                "lastName": [surname.upper()],
                "birthDate": [born.isoformat()],
                "nationality": [country.alpha2.lower()] if country else [],
                "notes": ["synthetic test entry"],
            },
            "datasets": ["gatehound_sim_wanted"],
        })
        return entity_id

    def _phone(self) -> str:
        """A phone number no one else in the simulation has (until the fiction ranges run out)."""
        return next(self._phones)

    def _scratch(self) -> FeedSimulator:
        """A copy sharing the world and the random streams but none of the bookkeeping: the
        cases, manifests due and travellers it makes are thrown away with it."""
        scratch = copy.copy(self)
        scratch._due, scratch._members, scratch._freight_plans = [], [], []
        scratch.cases, scratch.counts = [], dict(self.counts)
        scratch._mode_events = dict(self._mode_events)
        return scratch

    def _malformed(self) -> FeedMessage:
        """A broken message of a random format, built apart from the world (so no case and
        no vessel's track loses anything), of a kind its parser refuses whole."""
        rng = self.rng
        fmt = rng.choice(sorted(FILES))
        value: bytes
        if fmt in ("paxlst", "pnrgov"):
            scratch = self._scratch()
            push = scratch._flight()[0].value
            good = push if fmt == "pnrgov" else scratch._due[0].message.value
            how = rng.choice(("truncated", "bad_syntax_id", "binary"))
            value = {"truncated": good[: rng.randint(20, max(21, good.rfind(b"UNT")))],
                     "bad_syntax_id": re.sub(rb"UNB\+[A-Z]{4}", b"UNB+ZZZZ", good, count=1),
                     "binary": good[:40] + bytes(rng.randrange(256) for _ in range(30))}[how]
        elif fmt == "ais":
            doc = self.world._vessel_report("", commit=False)
            good = self._ais(_vessel_event(doc, self.now)).value.split(b"\n")[0]
            value = good[:-2] + (b"00" if good[-2:] != b"00" else b"11")  # checksum that fails
        else:
            good = self._scratch()._consignment()[0].value
            how = rng.choice(("truncated", "hs_chapter", "country"))
            value = {"truncated": good[: rng.randint(1, len(good) - 1)],
                     "hs_chapter": good.replace(b'"hs_code":"', b'"hs_code":"77', 1),
                     "country": good.replace(b'"country":"', b'"country":"Q', 1)}[how]
        return FeedMessage(fmt, TOPIC_OF[fmt], None, value, 0, valid=False)


# --- helpers ---------------------------------------------------------------------------------


def _passenger(
    source: str, source_id: str, at: datetime, flight: Flight, route: tuple[str, ...],
    traveller: Traveller, document: TravelDocument | None, booking: Booking | None,
    reporting_party: str | None = None,
) -> PassengerEvent:
    return PassengerEvent(
        event_id=stable_id("passenger", source, source_id), source=source, source_id=source_id,
        occurred_at=at, received_at=at, flight=flight, route=route, traveller=traveller,
        document=document, booking=booking, reporting_party=reporting_party,
    )


def _vessel_event(doc: dict[str, Any], now: datetime) -> VesselEvent:
    return VesselEvent.model_validate({**doc, "event_id": "-", "source_id": "-", "received_at": now})


def _report(
    ship: VesselEvent, at: datetime, pos: tuple[float, float], speed: float, course: float
) -> VesselEvent:
    return ship.model_copy(update={
        "report_type": "position", "observed_at": at, "occurred_at": at,
        "position": Position(lat=round(pos[0], 5), lon=round(pos[1], 5)), "speed_knots": speed,
        "course": course, "heading": int(course) % 360, "nav_status": 0,
    })


def _flight_ref(flight: Flight) -> str:
    return f"{flight.carrier}{flight.number}/{flight.scheduled_departure:%Y-%m-%d}"


def _typo(name: str, rng: random.Random) -> str:
    """One keyboard slip that changes the name: two letters swapped, one dropped or one doubled."""
    while True:
        i = rng.randrange(1, len(name) - 2)
        how = rng.randrange(3)
        if how == 0:
            typo = name[:i] + name[i + 1] + name[i] + name[i + 2:]
        elif how == 1:
            typo = name[:i] + name[i + 1:]
        else:
            typo = name[:i] + name[i] + name[i:]
        if typo.upper() != name.upper():
            return typo


#: Ofcom's ranges of UK numbers for drama (never allocated to anyone): prefix, 1,000 each.
_DRAMA_RANGES: tuple[str, ...] = (
    "+447700900", "+441134960", "+441144960", "+441154960", "+441164960", "+441174960",
    "+441184960", "+441214960", "+441314960", "+441414960", "+441514960", "+441614960",
    "+442079460", "+441632960", "+442896490", "+442920180", "+441914980",
)


def _fiction_phones(rng: random.Random) -> Iterator[str]:
    """Every drama-range number once, in a seeded order; then round again."""
    numbers = [f"{prefix}{n:03d}" for prefix in _DRAMA_RANGES for n in range(1000)]
    while True:
        rng.shuffle(numbers)
        yield from numbers


def _card_number(rng: random.Random) -> str:
    """A 16-digit number in a test range (4000 00..), with a valid Luhn digit; never a real card."""
    body = "400000" + "".join(str(rng.randrange(10)) for _ in range(9))
    return body + str(luhn_check_digit(body))


def write_truth(out_dir: Path, simulator: FeedSimulator) -> None:
    """truth.jsonl (the cases so far) and watchlist.jsonl."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / TRUTH_FILE).open("wb") as fh:
        for case in simulator.cases:
            fh.write(case.to_json() + b"\n")
    with (out_dir / WATCHLIST_FILE).open("wb") as fh:
        for entry in simulator.watchlist:
            fh.write(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS) + b"\n")


def write_simulation(
    out_dir: Path, simulator: FeedSimulator, count: int | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """Write every format's file, truth.jsonl and watchlist.jsonl; return a summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    handles = {fmt: (out_dir / name).open("wb") for fmt, name in FILES.items()}
    per_format = dict.fromkeys(FILES, 0)
    try:
        for message in simulator.messages(count, until):
            if message.format not in handles:
                continue  # watchlist entries: written whole to watchlist.jsonl below
            fh = handles[message.format]
            fh.write(message.value)
            fh.write(b"\n")
            per_format[message.format] += 1
    finally:
        for fh in handles.values():
            fh.close()
    write_truth(out_dir, simulator)
    kinds: dict[str, int] = {}
    for case in simulator.cases:
        kinds[case.kind] = kinds.get(case.kind, 0) + 1
    return {**simulator.counts, "messages_per_format": per_format, "cases": kinds,
            "simulated_until": simulator.now.isoformat()}
