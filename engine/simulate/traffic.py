"""Deterministic demo traffic: raw passenger, freight and vessel messages for ``raw.*``.

Everything is synthetic and generated from one seed, so a demo, a benchmark and a
test see byte-identical streams. Most messages are unremarkable; a small share carries
a planted risk signal that a rule under ``rules/`` should pick up, and a small share
is deliberately malformed so the dead-letter path gets exercised too.

Times come from a simulated clock that starts at ``start`` and advances a few seconds
per message; the wall clock is never read.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import airportsdata
import orjson

from schemas.codes import imo_check_digit, iso6346_check_digit, iso6346_remainder

#: Where the simulated clock starts unless told otherwise.
DEFAULT_START = datetime(2026, 6, 1, 6, 0, 0, tzinfo=UTC)

TOPICS: tuple[str, ...] = ("raw.passenger", "raw.freight", "raw.vessel")

# Times as RFC 3339 with "Z", whole seconds: stable bytes for a stable seed.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_OMIT_MICROSECONDS

# --- passenger reference lists ------------------------------------------------------------

#: Where travellers arrive: the border this demo guards.
HOME_AIRPORTS: tuple[str, ...] = ("LHR", "LGW", "MAN", "EDI", "BHX")

#: Busy origins, with carriers that plausibly fly from them to the home airports.
ORIGIN_CARRIERS: dict[str, tuple[str, ...]] = {
    "ATL": ("DL", "VS"),
    "DXB": ("EK", "BA"),
    "DFW": ("AA", "BA"),
    "HND": ("JL", "NH", "BA"),
    "ORD": ("UA", "AA", "BA"),
    "LAX": ("BA", "VS", "UA"),
    "IST": ("TK", "BA"),
    "DEL": ("AI", "BA", "VS"),
    "CDG": ("AF", "BA"),
    "AMS": ("KL", "BA"),
    "FRA": ("LH", "BA"),
    "MAD": ("IB", "BA"),
    "JFK": ("BA", "AA", "VS", "DL"),
    "SIN": ("SQ", "BA"),
    "ICN": ("KE", "OZ"),
    "DOH": ("QR", "BA"),
    "HKG": ("CX", "BA"),
    "BKK": ("TG", "BA"),
    "PVG": ("MU", "VS"),
    "YYZ": ("AC", "BA"),
    "GRU": ("LA", "BA"),
    "JNB": ("BA", "VS"),
    "LOS": ("BA", "VS"),
    "BOM": ("AI", "BA"),
    "KUL": ("MH",),
    "NBO": ("KQ", "BA"),
}

#: Hubs where a journey may connect on its way to a home airport.
HUBS: tuple[str, ...] = ("DXB", "DOH", "IST", "AMS", "FRA", "CDG")

#: Origins in the default high-risk countries (IR, MM), and hubs that connect them.
HIGH_RISK_ORIGINS: dict[str, tuple[str, ...]] = {
    "IKA": ("IST", "DXB", "DOH", "FRA"),
    "MHD": ("IST", "DXB"),
    "RGN": ("BKK", "SIN", "DOH"),
    "MDL": ("BKK",),
}

# Small lists, combined, so names are varied yet plainly made up.
GIVEN_NAMES: tuple[str, ...] = (
    "Alex", "Maria", "Wei", "Fatima", "Jonas", "Aiko", "Omar", "Priya", "Lucas", "Amara",
    "Ivan", "Sofia", "Kwame", "Elena", "Hiro", "Leila", "Mateo", "Nadia", "Tomasz", "Zara",
)
SURNAME_STEMS: tuple[str, ...] = ("Sample", "Example", "Testa", "Mock", "Demo", "Proto", "Fictus")
SURNAME_ENDINGS: tuple[str, ...] = ("son", "berg", "ova", "ini", "ley", "sen", "ez", "ski", "well")

NATIONALITIES: tuple[str, ...] = (
    "GBR", "GBR", "GBR", "IRL", "FRA", "DEU", "NLD", "ESP", "ITA", "POL", "USA", "CAN", "IND",
    "PAK", "CHN", "JPN", "NGA", "KEN", "ZAF", "BRA", "TUR", "ARE", "AUS", "IRN", "MMR",
)
CITIES: tuple[str, ...] = ("London", "Leeds", "Bristol", "Glasgow", "Cardiff", "Norwich", "York")
STREETS: tuple[str, ...] = (
    "Sample Street", "Example Road", "Test Lane", "Demo Avenue", "Mock Close",
)

# --- freight reference lists --------------------------------------------------------------

# HS code, description, and a typical declared USD per kg well inside the chapter's band
# in rules/freight/value_per_kg.py, so ordinary consignments do not trip that rule.
GOODS: tuple[tuple[str, str, float, float], ...] = (
    ("090111", "Coffee, not roasted, not decaffeinated", 2.5, 8.0),
    ("090121", "Coffee, roasted, not decaffeinated", 6.0, 18.0),
    ("090240", "Black tea, fermented, in bulk", 2.5, 10.0),
    ("090411", "Pepper, neither crushed nor ground", 3.0, 12.0),
    ("610910", "T-shirts of cotton, knitted", 8.0, 30.0),
    ("611020", "Jerseys and pullovers of cotton, knitted", 10.0, 40.0),
    ("620342", "Men's trousers of cotton", 12.0, 45.0),
    ("620520", "Men's shirts of cotton", 12.0, 50.0),
    ("640411", "Sports footwear with textile uppers", 12.0, 60.0),
    ("640399", "Footwear with leather uppers", 15.0, 70.0),
    ("847130", "Portable computers, under 10 kg", 60.0, 300.0),
    ("841510", "Air conditioning machines, window or wall type", 8.0, 25.0),
    ("848180", "Taps, cocks and valves", 10.0, 60.0),
    ("851762", "Machines for reception and transmission of data", 60.0, 450.0),
    ("850760", "Lithium-ion accumulators", 15.0, 60.0),
    ("852872", "Television receivers, colour", 10.0, 40.0),
    ("870899", "Parts and accessories of motor vehicles", 5.0, 30.0),
    ("870830", "Brakes and servo-brakes, parts thereof", 6.0, 25.0),
    ("871200", "Bicycles, not motorised", 10.0, 40.0),
    ("940360", "Wooden furniture", 3.0, 15.0),
    ("940161", "Upholstered seats with wooden frames", 4.0, 20.0),
)

#: The bands of rules/freight/value_per_kg.py (USD per kg) and its factor: planted
#: outliers land well beyond them.
VALUE_BANDS: dict[str, tuple[float, float]] = {
    "09": (1.0, 40.0), "61": (4.0, 150.0), "62": (4.0, 200.0), "64": (4.0, 250.0),
    "84": (2.0, 2000.0), "85": (3.0, 5000.0), "87": (2.0, 300.0), "94": (1.0, 100.0),
}
VALUE_FACTOR = 3.0
USD_PER_UNIT: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "CNY": 0.14, "JPY": 0.0067}

#: UN/LOCODE of a loading port -> (country, currency the trade is invoiced in).
SEA_LOADING: dict[str, tuple[str, str]] = {
    "CNSHA": ("CN", "CNY"), "CNNGB": ("CN", "USD"), "CNYTN": ("CN", "USD"), "SGSIN": ("SG", "USD"),
    "HKHKG": ("HK", "USD"), "KRPUS": ("KR", "USD"), "VNSGN": ("VN", "USD"), "INNSA": ("IN", "USD"),
    "NLRTM": ("NL", "EUR"), "DEHAM": ("DE", "EUR"), "BEANR": ("BE", "EUR"), "ESVLC": ("ES", "EUR"),
    "USNYC": ("US", "USD"), "TRMER": ("TR", "EUR"), "JPTYO": ("JP", "JPY"),
}
AIR_LOADING: dict[str, tuple[str, str]] = {
    "HKHKG": ("HK", "USD"), "CNPVG": ("CN", "CNY"), "SGSIN": ("SG", "USD"), "USJFK": ("US", "USD"),
    "AEDXB": ("AE", "USD"), "INDEL": ("IN", "USD"),
}
ROAD_LOADING: dict[str, tuple[str, str]] = {
    "FRCQF": ("FR", "EUR"), "NLRTM": ("NL", "EUR"), "BEZEE": ("BE", "EUR"), "DEHAM": ("DE", "EUR"),
    "PLWAW": ("PL", "EUR"), "ESMAD": ("ES", "EUR"),
}
SEA_ARRIVAL: tuple[str, ...] = ("GBFXT", "GBSOU", "GBLGP", "GBIMM", "GBTIL")
#: Transhipment countries a sea consignment may pass through, by loading region.
SEA_ROUTING: dict[str, tuple[str, ...]] = {
    "CN": ("SG", "NL"), "HK": ("SG",), "KR": ("SG", "BE"), "VN": ("SG",), "IN": ("AE",),
    "SG": ("NL",), "JP": ("SG",), "TR": ("ES",), "US": ("BE",), "NL": (), "DE": (), "BE": (),
    "ES": (),
}

LEGAL_FORM: dict[str, str] = {
    "CN": "Co., Ltd.", "HK": "Limited", "SG": "Pte Ltd", "KR": "Co., Ltd.", "VN": "JSC",
    "IN": "Pvt Ltd", "NL": "B.V.", "DE": "GmbH", "BE": "NV", "ES": "S.L.", "US": "Inc.",
    "TR": "A.S.", "JP": "K.K.", "AE": "FZE", "FR": "SAS", "PL": "Sp. z o.o.", "GB": "Ltd",
}
TRADER_STEMS: tuple[str, ...] = ("Sample", "Example", "Specimen", "Demo", "Placeholder", "Mock")
TRADER_TRADES: tuple[str, ...] = (
    "Trading", "Imports", "Exports", "Textiles", "Electronics", "Logistics", "Furniture",
    "Footwear", "Machinery", "Coffee", "Components", "Supplies",
)
SHIPPING_LINES: tuple[str, ...] = (
    "Example Ocean Lines", "Sample Container Shipping", "Demo Maritime", "Specimen Sealink",
)
CARGO_AIRLINES: tuple[str, ...] = ("BA", "CX", "EK", "QR", "LH", "SQ")
#: Container owner prefixes (owner code + equipment category "U").
CONTAINER_OWNERS: tuple[str, ...] = (
    "MSCU", "MAEU", "CMAU", "HLXU", "OOLU", "COSU", "EGHU", "ONEU", "TGHU", "TCNU",
)

# --- vessel reference lists ---------------------------------------------------------------

#: Flag state -> an MMSI maritime identification digit (MID) allocated to it.
FLAG_MID: dict[str, str] = {
    "GB": "235", "NL": "244", "DE": "211", "NO": "257", "DK": "219", "MT": "248", "LR": "636",
    "PA": "370", "MH": "538", "SG": "563", "HK": "477", "CY": "209", "GR": "240", "BS": "311",
}
#: AIS ship type -> (share of the fleet, service speed range in knots).
SHIP_TYPES: dict[int, tuple[float, tuple[float, float]]] = {
    70: (0.5, (12.0, 21.0)),   # cargo
    80: (0.25, (10.0, 15.0)),  # tanker
    60: (0.15, (16.0, 24.0)),  # passenger / ferry
    30: (0.10, (6.0, 11.0)),   # fishing
}
VESSEL_NAME_FIRST: tuple[str, ...] = (
    "NORDIC", "EXAMPLE", "SAMPLE", "OCEAN", "CAPE", "STAR", "GULF", "SILVER", "ATLANTIC", "PACIFIC",
)
VESSEL_NAME_SECOND: tuple[str, ...] = (
    "SPIRIT", "TRADER", "PIONEER", "HARMONY", "EXPRESS", "VOYAGER", "BREEZE", "HORIZON", "DAWN",
)
#: Shipping lanes as (lat, lon) waypoints at sea; vessels shuttle along one each.
LANES: dict[str, tuple[tuple[float, float], ...]] = {
    "channel": ((49.75, -5.2), (50.05, -2.5), (50.45, 0.2), (50.95, 1.45), (51.45, 2.0)),
    "north_sea": ((51.6, 2.6), (52.3, 3.4), (53.6, 4.3), (55.0, 5.5), (57.5, 6.5)),
    "thames": ((51.45, 1.6), (51.55, 1.25), (51.75, 1.55), (51.92, 1.45)),
    "biscay": ((48.6, -5.6), (46.5, -7.5), (44.0, -9.4), (42.5, -9.6)),
    "gibraltar": ((35.95, -6.3), (35.95, -5.4), (36.2, -3.5), (37.0, 0.0), (37.8, 4.0)),
    "malacca": ((1.15, 104.2), (1.2, 103.7), (1.9, 102.4), (2.9, 100.9), (4.5, 99.3), (5.9, 97.6)),
    "new_york": ((40.45, -73.8), (40.35, -73.3), (40.2, -71.5), (39.8, -69.0)),
    "red_sea": ((29.8, 32.6), (27.5, 34.0), (22.0, 37.8), (15.0, 41.8), (12.6, 43.4)),
}
DESTINATIONS: dict[str, tuple[str, ...]] = {
    "channel": ("GB SOU", "FR LEH", "NL RTM"), "north_sea": ("NL RTM", "DE HAM", "NO OSL"),
    "thames": ("GB FXT", "GB LGP"), "biscay": ("ES BIO", "PT LIS"),
    "gibraltar": ("ES ALG", "IT GOA"), "malacca": ("SG SIN", "MY PKG"),
    "new_york": ("US NYC", "US BAL"), "red_sea": ("EG SUZ", "DJ JIB"),
}
VESSEL_COUNT = 30

_EARTH_RADIUS_NM = 3440.065
_LOCATOR_CHARS = string.ascii_uppercase + string.digits
#: States whose citizens may travel on a national identity card.
_ID_CARD_STATES = frozenset({"FRA", "DEU", "NLD", "ESP", "ITA", "POL", "IRL"})


@dataclass(frozen=True, slots=True)
class TrafficMessage:
    """One message ready to publish: the raw topic's base name, its key and its bytes."""

    topic_base: str
    key: bytes
    value: bytes
    valid: bool


# --- small domain helpers -----------------------------------------------------------------


def _haversine_nm(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_NM * math.asin(min(1.0, math.sqrt(h)))


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(x, y)) % 360


@lru_cache(maxsize=1)
def _airport_positions() -> dict[str, tuple[float, float]]:
    """(lat, lon) of every airport the generator uses; fails loudly on an unknown code."""
    table = airportsdata.load("IATA")
    codes = set(HOME_AIRPORTS) | set(ORIGIN_CARRIERS) | set(HUBS) | set(HIGH_RISK_ORIGINS)
    return {code: (float(table[code]["lat"]), float(table[code]["lon"])) for code in sorted(codes)}


@dataclass
class _Vessel:
    """A simulated ship: identity, lane, speed, and where it is along its lane."""

    mmsi: str
    imo: str
    name: str
    call_sign: str
    flag: str
    ship_type: int
    speed: float
    lane: str
    waypoints: tuple[tuple[float, float], ...]
    legs_nm: tuple[float, ...]
    progress_nm: float
    draught: float
    destination: str
    # Its own clock runs ahead of the shared one by ``ahead`` after it has gone dark.
    ahead: timedelta = timedelta(0)
    last_seen: datetime | None = None

    @property
    def lane_nm(self) -> float:
        """Length of the lane one way."""
        return sum(self.legs_nm)

    def fix_at(self, progress_nm: float) -> tuple[float, float, float]:
        """(lat, lon, course) at a distance travelled; ships shuttle to and fro along the lane."""
        length = self.lane_nm
        s = progress_nm % (2 * length)
        outbound = s <= length
        along = s if outbound else 2 * length - s
        for i, leg in enumerate(self.legs_nm):
            if along <= leg or i == len(self.legs_nm) - 1:
                a, b = self.waypoints[i], self.waypoints[i + 1]
                f = min(1.0, along / leg) if leg > 0 else 0.0
                lat = a[0] + (b[0] - a[0]) * f
                lon = a[1] + (b[1] - a[1]) * f
                course = _bearing(a, b) if outbound else _bearing(b, a)
                return lat, lon, course
            along -= leg
        raise AssertionError("unreachable: the last leg always matches")


# --- the generator ------------------------------------------------------------------------


class TrafficGenerator:
    """A deterministic stream of raw messages: same seed and start, same bytes.

    Roughly half the messages are passenger events, a quarter freight declarations and a
    quarter vessel reports. ``malformed_share`` of them are deliberately broken. Calling
    :meth:`messages` again continues the same stream where the last call stopped.
    """

    # Planted-risk rates per valid event, chosen so alerts appear steadily (a few % a mode).
    P_EXPIRED_DOCUMENT = 0.02
    P_LATE_CASH = 0.02
    P_HIGH_RISK_ORIGIN = 0.025
    P_LATE_CASH_GIVEN_HIGH_RISK = 0.35  # couriers: a risky origin often comes with a cash ticket
    P_BAD_CONTAINER = 0.04  # of sea consignments, which carry the containers
    P_ODD_VALUE = 0.03
    P_REPORTED_SPEED = 0.015
    P_POSITION_JUMP = 0.008  # the jump and the return to the real track both look impossible
    P_GAP = 0.02
    P_VOYAGE_REPORT = 0.1

    def __init__(
        self, seed: int = 1, malformed_share: float = 0.05, start: datetime | None = None
    ) -> None:
        """Build the fleet and trader pools from ``seed``; nothing is read from the clock."""
        if not 0.0 <= malformed_share <= 1.0:
            raise ValueError("malformed_share must be between 0 and 1")
        if start is not None and start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.seed = seed
        self.malformed_share = malformed_share
        self._rng = random.Random(seed)
        self._clock = (start or DEFAULT_START).astimezone(UTC).replace(microsecond=0)
        self._count = 0
        self._airports = _airport_positions()
        self._vessels = [self._new_vessel(i) for i in range(VESSEL_COUNT)]
        self._vessel_queue: list[int] = []
        self._boxes: set[str] = set()
        self._contacts = 0
        # Fixed pools so the same traders recur, as they do in real declarations.
        self._consignors = {
            code: [self._trader(country) for _ in range(3)]
            for code, (country, _) in {**SEA_LOADING, **AIR_LOADING, **ROAD_LOADING}.items()
        }
        self._consignees = [self._trader("GB") for _ in range(25)]

    # -- the public stream --

    def messages(self, count: int) -> Iterator[TrafficMessage]:
        """The next ``count`` messages of the stream, in order."""
        for _ in range(count):
            yield self._next()

    def _next(self) -> TrafficMessage:
        rng = self._rng
        self._count += 1
        self._clock += timedelta(seconds=rng.randint(1, 5))
        roll = rng.random()
        mode = "passenger" if roll < 0.5 else "freight" if roll < 0.75 else "vessel"
        if rng.random() < self.malformed_share:
            topic = rng.choice(TOPICS)
            # Broken in the topic's own mode, so the defect itself is what gets refused.
            topic_mode = topic.removeprefix("raw.")
            key = f"{topic_mode}-{self.seed}-{self._count}"
            value = self._malformed(topic_mode, key)
            return TrafficMessage(topic, key.encode(), value, valid=False)
        source_id = f"{mode}-{self.seed}-{self._count}"
        doc = self._build(mode, source_id, commit=True)
        # AIS reports are keyed by vessel, as a real feed producer should: one vessel's
        # reports then share a partition and keep their order into the track state.
        key = doc["mmsi"] if mode == "vessel" else source_id
        return TrafficMessage(f"raw.{mode}", key.encode(), _dumps(doc), valid=True)

    def _build(self, mode: str, source_id: str, commit: bool) -> dict[str, Any]:
        if mode == "passenger":
            return self._passenger(source_id)
        if mode == "freight":
            return self._freight(source_id)
        return self._vessel_report(source_id, commit)

    # -- passengers --

    def _passenger(self, source_id: str) -> dict[str, Any]:
        rng, now = self._rng, self._clock
        high_risk = rng.random() < self.P_HIGH_RISK_ORIGIN
        late_cash = rng.random() < (
            self.P_LATE_CASH_GIVEN_HIGH_RISK if high_risk else self.P_LATE_CASH
        )
        expired = rng.random() < self.P_EXPIRED_DOCUMENT
        crew = not (high_risk or late_cash) and rng.random() < 0.03
        # A PNR exists for most travellers; crew and some API-only feeds have none.
        with_pnr = high_risk or late_cash or (not crew and rng.random() < 0.7)

        arrival = rng.choice(HOME_AIRPORTS)
        if high_risk:
            origin = rng.choice(sorted(HIGH_RISK_ORIGINS))
            departure = rng.choice(HIGH_RISK_ORIGINS[origin])
            route: tuple[str, ...] = (origin, departure, arrival)
        else:
            departure = rng.choice(sorted(ORIGIN_CARRIERS))
            route = (departure, arrival)
            if rng.random() < 0.2:
                hub = rng.choice([h for h in HUBS if h != departure])
                route, departure = (departure, hub, arrival), hub
        carrier = rng.choice(ORIGIN_CARRIERS.get(departure, ("BA",)))

        if late_cash:
            booked_at = now - timedelta(minutes=rng.randint(5, 120))
            dep_at = booked_at + timedelta(minutes=rng.randint(180, 20 * 60))
        elif with_pnr:
            # PNRs are pushed from 72 h before departure; bookings are weeks old.
            dep_at = now + timedelta(minutes=rng.randint(60, 72 * 60))
            booked_at = dep_at - timedelta(days=rng.randint(5, 120), minutes=rng.randint(0, 1439))
        else:
            # API data is sent at check-in close.
            dep_at = now + timedelta(minutes=rng.randint(15, 60))
            booked_at = dep_at
        dep_at = _round_to_five_minutes(dep_at)
        arr_at = dep_at + self._flight_time(departure, arrival)

        given, surname = rng.choice(GIVEN_NAMES), self._surname()
        # Nationality is drawn independently of the route and of every planted risk, so
        # the demo data does not bake a bias into fairness figures.
        nationality = rng.choice(NATIONALITIES)
        if expired:
            expiry = arr_at.date() - timedelta(days=rng.randint(3, 400))
        else:
            expiry = arr_at.date() + timedelta(days=rng.randint(200, 9 * 365))
        id_card = nationality in _ID_CARD_STATES and rng.random() < 0.3

        event: dict[str, Any] = {
            "mode": "passenger",
            "source": "pnr" if with_pnr else "api",
            "source_id": source_id,
            "occurred_at": now,
            "flight": {
                "carrier": carrier,
                "number": str(rng.randint(1, 2999)),
                "departure_airport": departure,
                "arrival_airport": arrival,
                "scheduled_departure": dep_at,
                "scheduled_arrival": arr_at,
            },
        }
        if with_pnr:
            event["route"] = list(route)
        event["traveller"] = {
            "role": "crew" if crew else "passenger",
            "given_names": given,
            "surname": surname,
            "date_of_birth": now.date() - timedelta(days=rng.randint(2 * 365, 85 * 365)),
            "sex": rng.choice(("F", "M", "F", "M", "X")) if rng.random() < 0.99 else "U",
            "nationality": nationality,
            "country_of_residence": rng.choice((nationality, "GBR")),
        }
        event["document"] = {
            "type": "id_card" if id_card else "passport",
            "number": rng.choice(string.ascii_uppercase) + f"{rng.randrange(10**8):08d}",
            "issuing_state": nationality,
            "expiry": expiry,
        }
        if with_pnr:
            event["booking"] = self._booking(given, surname, booked_at, late_cash)
        return event

    def _booking(
        self, given: str, surname: str, booked_at: datetime, cash: bool
    ) -> dict[str, Any]:
        rng = self._rng
        payment = "cash" if cash else rng.choices(
            ("card", "invoice", "miles", "voucher", "cash"), weights=(80, 8, 6, 3, 3)
        )[0]
        booking: dict[str, Any] = {
            "record_locator": "".join(rng.choices(_LOCATOR_CHARS, k=6)),
            "booked_at": booked_at,
            "agency": rng.choice((None, "Example Travel", "Sample Tours", "Demo Flights Online")),
            "payment_type": payment,
        }
        if payment == "card":
            booking["payment_instrument_hash"] = f"{rng.getrandbits(128):032x}"
        # Every traveller their own phone and email, as in life: +999 is a country code
        # ITU has not assigned (so the numbers are plainly fake), example.com is
        # reserved (RFC 2606). Shared contacts are what networks are made of, so the
        # background must not share them by chance.
        self._contacts += 1
        booking["phones"] = [f"+999{self.seed % 1000:03d}{self._contacts:07d}"]
        booking["emails"] = [f"{given}.{surname}.{self._contacts}@example.com".lower()]
        if rng.random() < 0.5:
            booking["address"] = {
                "line": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": rng.choice(CITIES),
                "country": "GBR",
            }
        if rng.random() < 0.25:
            booking["co_travellers"] = [
                f"{rng.choice(GIVEN_NAMES)} {surname}" for _ in range(rng.randint(1, 3))
            ]
        booking["bags"] = rng.randint(0, 3)
        booking["seat"] = f"{rng.randint(1, 60)}{rng.choice('ABCDEFGHJK')}"
        return booking

    def _surname(self) -> str:
        return self._rng.choice(SURNAME_STEMS) + self._rng.choice(SURNAME_ENDINGS)

    def _flight_time(self, origin: str, destination: str) -> timedelta:
        # About 450 kn cruise plus taxi, climb and descent: good enough for a timetable.
        nm = _haversine_nm(self._airports[origin], self._airports[destination])
        return timedelta(minutes=5 * round((nm / 450 * 60 + 35) / 5))

    # -- freight --

    def _freight(
        self, source_id: str, odd_value: bool | None = None, bad_container: bool | None = None
    ) -> dict[str, Any]:
        """A consignment; ``odd_value``/``bad_container`` plant (or rule out) a signal
        instead of leaving it to chance."""
        rng, now = self._rng, self._clock
        transport = rng.choices(("sea", "air", "road"), weights=(70, 15, 15))[0]
        drawn_odd = rng.random() < self.P_ODD_VALUE
        drawn_bad = transport == "sea" and rng.random() < self.P_BAD_CONTAINER
        odd_value = drawn_odd if odd_value is None else odd_value
        bad_container = drawn_bad if bad_container is None else bad_container and transport == "sea"
        loading_table = {"sea": SEA_LOADING, "air": AIR_LOADING, "road": ROAD_LOADING}[transport]
        loading = rng.choice(sorted(loading_table))
        country, currency = loading_table[loading]

        means: dict[str, Any]
        if transport == "sea":
            cargo = [v for v in self._vessels if v.ship_type == 70] or self._vessels
            means = {"vessel_imo": rng.choice(cargo).imo}
            arrival = {"place": rng.choice(SEA_ARRIVAL), "at": now + _hours(rng, 24, 240)}
            routing = [country, *SEA_ROUTING.get(country, ()), "GB"]
            carrier = rng.choice(SHIPPING_LINES)
        elif transport == "air":
            airline = rng.choice(CARGO_AIRLINES)
            means = {"flight": f"{airline}{rng.randint(1, 9999):04d}"}
            airport = rng.choice(("GBLHR", "GBEMA", "GBSTN"))
            arrival = {"place": airport, "at": now + _hours(rng, 3, 14)}
            routing = [country, "GB"]
            carrier = f"{airline} Cargo"
        else:
            means = {
                "vehicle_registration": _registration(rng),
                "trailer_registration": _registration(rng),
            }
            arrival = {"place": rng.choice(("GBDVR", "GBFOL")), "at": now + _hours(rng, 2, 30)}
            routing = [country, "FR", "GB"] if country != "FR" else [country, "GB"]
            carrier = f"{rng.choice(TRADER_STEMS)} Haulage {LEGAL_FORM.get(country, 'Ltd')}"

        n_items = rng.choices((1, 2, 3), weights=(60, 28, 12))[0]
        odd_index = rng.randrange(n_items) if odd_value else -1
        bad_index = rng.randrange(n_items) if bad_container else -1
        goods = [
            self._goods_item(
                transport, country, currency, odd=i == odd_index, bad_box=i == bad_index
            )
            for i in range(n_items)
        ]
        consignee = rng.choice(self._consignees)
        return {
            "mode": "freight",
            "source": "ens",
            "source_id": source_id,
            "occurred_at": now,
            "declaration_id": f"{now:%y}GB{''.join(rng.choices(_LOCATOR_CHARS, k=14))}",
            "mode_of_transport": transport,
            "expected_arrival": arrival,
            "carrier": {"name": carrier},
            "means": means,
            "consignor": rng.choice(self._consignors[loading]),
            "consignee": consignee,
            "notify_party": consignee if rng.random() < 0.6 else rng.choice(self._consignees),
            "goods": goods,
            "routing_countries": list(dict.fromkeys(routing)),
            "place_of_loading": loading,
        }

    def _goods_item(
        self, transport: str, country: str, currency: str, odd: bool, bad_box: bool
    ) -> dict[str, Any]:
        rng = self._rng
        hs, description, low, high = rng.choice(GOODS)
        mass = {"sea": (800.0, 22000.0), "air": (20.0, 1500.0), "road": (300.0, 12000.0)}[transport]
        kg = round(math.exp(rng.uniform(math.log(mass[0]), math.log(mass[1]))), 1)
        if odd:
            band_low, band_high = VALUE_BANDS[hs[:2]]
            if rng.random() < 0.6:  # undervaluation is the common fraud
                per_kg = band_low / VALUE_FACTOR / rng.uniform(2.0, 8.0)
            else:
                per_kg = band_high * VALUE_FACTOR * rng.uniform(1.5, 4.0)
        else:
            per_kg = math.exp(rng.uniform(math.log(low), math.log(high)))
        item: dict[str, Any] = {
            "hs_code": hs,
            "description": description,
            "gross_mass_kg": kg,
            "packages": max(1, int(kg / rng.uniform(5.0, 40.0))),
            "value": round(per_kg * kg / USD_PER_UNIT[currency], 2),
            "currency": currency,
        }
        if transport == "sea":
            boxes = [self._container() for _ in range(1 if kg < 12000 else 2)]
            if bad_box:
                boxes[0] = boxes[0][:10] + str((int(boxes[0][10]) + rng.randint(1, 9)) % 10)
            item["containers"] = boxes
        item["origin_country"] = country
        return item

    def _container(self) -> str:
        """A valid container number not issued before: a box is in one place at a time."""
        rng = self._rng
        while True:
            first_ten = rng.choice(CONTAINER_OWNERS) + f"{rng.randrange(10**6):06d}"
            if iso6346_remainder(first_ten) != 10 and first_ten not in self._boxes:
                self._boxes.add(first_ten)
                return first_ten + str(iso6346_check_digit(first_ten))

    def _trader(self, country: str) -> dict[str, Any]:
        rng = self._rng
        legal_form = LEGAL_FORM.get(country, "Ltd")
        name = f"{rng.choice(TRADER_STEMS)} {rng.choice(TRADER_TRADES)} {legal_form}"
        return {
            "name": name,
            # Business premises: a trader's address is not a traveller's home by chance.
            "address": f"Unit {rng.randint(1, 400)} {rng.choice(TRADER_STEMS)} Business Park",
            "country": country,
            "trader_id": f"{country}{rng.randrange(10**12):012d}",
        }

    # -- vessels --

    def _new_vessel(self, index: int) -> _Vessel:
        rng = self._rng
        ship_type = rng.choices(list(SHIP_TYPES), weights=[w for w, _ in SHIP_TYPES.values()])[0]
        lo, hi = SHIP_TYPES[ship_type][1]
        flag = rng.choice(sorted(FLAG_MID))
        lane = rng.choice(sorted(LANES))
        waypoints = LANES[lane]
        legs = tuple(_haversine_nm(a, b) for a, b in zip(waypoints, waypoints[1:], strict=False))
        imo6 = f"9{rng.randrange(10**5):05d}"
        return _Vessel(
            mmsi=f"{FLAG_MID[flag]}{index:03d}{rng.randrange(1000):03d}",
            imo=imo6 + str(imo_check_digit(imo6)),
            name=f"{rng.choice(VESSEL_NAME_FIRST)} {rng.choice(VESSEL_NAME_SECOND)} {index + 1}",
            call_sign="".join(rng.choices(string.ascii_uppercase, k=2))
            + f"{rng.randrange(10**4):04d}",
            flag=flag,
            ship_type=ship_type,
            speed=round(rng.uniform(lo, hi), 1),
            lane=lane,
            waypoints=waypoints,
            legs_nm=legs,
            progress_nm=rng.uniform(0, 2 * sum(legs)),
            draught=round(rng.uniform(4.0, 14.5), 1),
            destination=rng.choice(DESTINATIONS[lane]),
        )

    def _pick_vessel(self) -> _Vessel:
        # Shuffled rounds: every ship reports about as often, and rarely twice in a row.
        if not self._vessel_queue:
            self._vessel_queue = self._rng.sample(range(VESSEL_COUNT), VESSEL_COUNT)
        return self._vessels[self._vessel_queue.pop()]

    def _vessel_report(
        self, source_id: str, commit: bool, plant: str | None = None
    ) -> dict[str, Any]:
        """The next report of the fleet; ``plant`` ("gap", "speed" or "jump") forces that
        signal into it, where the vessel allows (a gap needs an earlier report)."""
        rng = self._rng
        vessel = self._pick_vessel() if commit else rng.choice(self._vessels)
        drawn_gap = rng.random() < self.P_GAP
        gap = commit and vessel.last_seen is not None and (drawn_gap or plant == "gap")
        silence = timedelta(minutes=rng.randint(7 * 60, 11 * 60)) if gap else timedelta(0)
        ahead = vessel.ahead + silence
        observed = self._clock + ahead
        if vessel.last_seen is not None:
            # Reports of one ship always move forward in time, never closer than 90 s.
            observed = max(observed, vessel.last_seen + timedelta(seconds=90))
        hours = (observed - vessel.last_seen).total_seconds() / 3600 if vessel.last_seen else 0.0
        progress = vessel.progress_nm + vessel.speed * hours
        if commit:
            vessel.ahead = observed - self._clock
            vessel.last_seen, vessel.progress_nm = observed, progress

        report: dict[str, Any] = {
            "mode": "vessel",
            "source": "ais",
            "source_id": source_id,
            "occurred_at": observed,
            "mmsi": vessel.mmsi,
        }
        if rng.random() < self.P_VOYAGE_REPORT and plant not in ("speed", "jump"):
            report["report_type"] = "voyage"
            report.update(
                imo=vessel.imo,
                name=vessel.name,
                call_sign=vessel.call_sign,
                flag=vessel.flag,
                ship_type=vessel.ship_type,
                destination=vessel.destination,
                eta=(observed + timedelta(hours=rng.randint(4, 96))).replace(minute=0, second=0),
                draught_m=vessel.draught,
            )
        else:
            lat, lon, course = vessel.fix_at(progress)
            speed = max(0.0, vessel.speed + rng.uniform(-0.4, 0.4))
            roll = rng.random()
            odd = plant if plant in ("speed", "jump") else None if plant else (
                "speed" if roll < self.P_REPORTED_SPEED
                else "jump" if roll < self.P_REPORTED_SPEED + self.P_POSITION_JUMP else None
            )
            if odd == "speed":
                speed = rng.uniform(55.0, 95.0)  # spoofed or corrupted transponder
            elif odd == "jump":
                # A second transmitter using this identity far away.
                lat = max(-80.0, min(80.0, lat + rng.choice((-1, 1)) * rng.uniform(2.0, 6.0)))
                lon = ((lon + rng.choice((-1, 1)) * rng.uniform(2.0, 6.0) + 180) % 360) - 180
            report["report_type"] = "position"
            report.update(
                position={"lat": round(lat, 5), "lon": round(lon, 5)},
                speed_knots=round(speed, 1),
                course=round(course, 1) % 360,
                heading=round(course + rng.uniform(-3, 3)) % 360,
                nav_status=7 if vessel.ship_type == 30 else 0,  # fishing / under way using engine
            )
        report["observed_at"] = observed
        return report

    # -- malformed --

    def _malformed(self, mode: str, key: str) -> bytes:
        kind = self._rng.choice(sorted(_MALFORMERS))
        value = _MALFORMERS[kind](self, mode, key)
        # One message per line in files: a malformed value must still be one non-empty line.
        value = value.replace(b"\n", b" ").replace(b"\r", b" ")
        return value or b"{"


def _dumps(doc: Any) -> bytes:
    return orjson.dumps(doc, option=_JSON_OPTIONS)


def _hours(rng: random.Random, low: int, high: int) -> timedelta:
    return timedelta(hours=rng.randint(low, high))


def _round_to_five_minutes(when: datetime) -> datetime:
    return when.replace(minute=when.minute - when.minute % 5, second=0)


def _registration(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_uppercase, k=2)) + f"{rng.randint(10, 99)} " + "".join(
        rng.choices(string.ascii_uppercase, k=3)
    )


# --- the catalogue of broken messages -----------------------------------------------------


def _template(gen: TrafficGenerator, mode: str, key: str) -> dict[str, Any]:
    # commit=False: a broken vessel report must not move the real ship's track along.
    return gen._build(mode, key, commit=False)


def _truncated_json(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    data = _dumps(_template(gen, mode, key))
    return data[: gen._rng.randint(1, len(data) - 1)]


def _binary(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    rng = gen._rng
    # gzip magic, a UTF-16 byte order mark, or plain noise: all things seen on real feeds.
    head = rng.choice((b"\x1f\x8b\x08\x00", b"\xff\xfe{\x00", b"\xc3\x28"))
    body = bytes(b for b in rng.randbytes(rng.randint(8, 200)) if b not in (10, 13))
    return head + body


def _latin1_text(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    # A JSON object encoded in Latin-1 rather than UTF-8: valid-looking, undecodable.
    return b'{"mode":"' + mode.encode() + b'","source":"json","source_id":"' + key.encode() + (
        b'","note":"M\xfcller \xe9t\xe9"}'
    )


def _json_array(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    return _dumps([_template(gen, mode, key)])


def _json_number(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    return str(gen._rng.randint(-1000, 10**9)).encode()


def _wrong_type(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    if mode == "passenger":
        doc["flight"]["scheduled_departure"] = "tomorrow morning"
    elif mode == "freight":
        doc["goods"][0]["gross_mass_kg"] = "heavy"
    elif doc["report_type"] == "position":
        doc["speed_knots"] = "fast"
    else:
        doc["draught_m"] = "deep"
    return _dumps(doc)


def _wrong_topic(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    # A well-formed event of another mode, published to the wrong feed.
    other = gen._rng.choice([m for m in ("passenger", "freight", "vessel") if m != mode])
    return _dumps(_template(gen, other, key))


def _missing_field(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    required = {"passenger": "flight", "freight": "goods", "vessel": "mmsi"}[mode]
    del doc[gen._rng.choice((required, "source_id", "occurred_at"))]
    return _dumps(doc)


def _unknown_mode(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    doc["mode"] = gen._rng.choice(("aircraft", "rail", "PASSENGER", "", None))
    return _dumps(doc)


def _nan_literal(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    # orjson never writes NaN, so put a marker in and swap it for the bare literal.
    if mode == "freight":
        doc["goods"][0]["value"] = "__nan__"
    elif mode == "vessel":
        doc["observed_confidence"] = "__nan__"
    else:
        doc["flight"]["number"] = "__nan__"
    return _dumps(doc).replace(b'"__nan__"', b"NaN")


def _deep_nesting(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    depth = gen._rng.choice((64, 512, 4000))
    head = (
        b'{"mode":"' + mode.encode() + b'","source":"json","source_id":"' + key.encode()
        + b'","payload":'
    )
    return head + b'{"a":' * depth + b"1" + b"}" * depth + b"}"


def _unknown_field(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    doc[gen._rng.choice(("passport_photo", "comment", "legacy_ref"))] = "x"
    return _dumps(doc)


def _naive_datetime(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    doc["occurred_at"] = gen._clock.replace(tzinfo=None).isoformat()
    return _dumps(doc)


def _out_of_range(gen: TrafficGenerator, mode: str, key: str) -> bytes:
    doc = _template(gen, mode, key)
    if mode == "passenger":
        doc["flight"]["departure_airport"] = "London"
    elif mode == "freight":
        doc["goods"][0]["gross_mass_kg"] = -12.5
    elif doc["report_type"] == "position":
        doc["position"]["lat"] = 123.4
    else:
        doc["mmsi"] = "12345"
    return _dumps(doc)


_MALFORMERS: dict[str, Callable[[TrafficGenerator, str, str], bytes]] = {
    "binary": _binary,
    "deep_nesting": _deep_nesting,
    "json_array": _json_array,
    "json_number": _json_number,
    "latin1_text": _latin1_text,
    "missing_field": _missing_field,
    "nan_literal": _nan_literal,
    "naive_datetime": _naive_datetime,
    "out_of_range": _out_of_range,
    "truncated_json": _truncated_json,
    "unknown_field": _unknown_field,
    "unknown_mode": _unknown_mode,
    "wrong_topic": _wrong_topic,
    "wrong_type": _wrong_type,
}


def write_jsonl(messages: Iterable[TrafficMessage], path: Path) -> int:
    """Write one message value per line to ``path`` (what ``replay`` reads); return the count."""
    written = 0
    with Path(path).open("wb") as out:
        for message in messages:
            if b"\n" in message.value or b"\r" in message.value:
                raise ValueError(f"message {message.key!r} spans lines; not one JSONL line")
            out.write(message.value + b"\n")
            written += 1
    return written

