"""Watchlists in the FollowTheMoney (FtM) entity format, read into typed entries.

An FtM file is JSON lines, one entity a line::

    {"id": "wl-001", "schema": "Person", "datasets": ["wanted"],
     "properties": {"name": ["Ivan Petrov"], "birthDate": ["1980-05"], "nationality": ["ru"]}}

Every property holds a list of strings. What is read, by schema:

===================================  =====================================================
schema                               read into
===================================  =====================================================
``Person``                           :class:`ListedPerson`: ``name``, ``alias``,
                                     ``previousName``, ``weakAlias``; a full name built from
                                     ``firstName``/``secondName``/``middleName``/
                                     ``fatherName``/``lastName``; ``birthDate`` (may be
                                     partial: ``1980`` or ``1980-05``); ``nationality`` and
                                     ``citizenship``; ``passportNumber`` and ``idNumber``
``Organization``, ``Company``,       :class:`ListedOrganisation`: names as above;
``LegalEntity``, ``PublicBody``      ``country``, ``jurisdiction``, ``mainCountry``;
                                     ``registrationNumber``, ``innCode``, ``ogrnCode``,
                                     ``taxNumber``, ``imoNumber``
``Vessel``                           :class:`ListedVessel`: names as above; ``imoNumber``,
                                     ``mmsi``, ``flag``, ``pastFlags``
``Passport``, ``Identification``     :class:`ListedDocument`: ``number`` (and the older
                                     ``passportNumber``), ``country``, ``holder`` (the id of
                                     the person it belongs to), ``type``
===================================  =====================================================

Other schemas (``Sanction``, ``Address``, relationships...) are counted and left
out. FtM countries are lower-case ISO alpha-2 codes (``ru``); travellers'
nationalities in gatehound events are alpha-3 (``RUS``), so both are kept as
alpha-3 here.

A line that cannot be read (not JSON, no ``id`` or ``schema``, properties that
are not lists, a person without a name or a document without a number) does not
stop the load: it is counted in :class:`LoadReport` with its line number and a
reason code, never with its content, which is personal data.

Each file is one named list (its file name without extension, unless a name is
given), or, with ``by_dataset``, each FtM dataset in it is. A list's version is
the first 16 hex digits of the SHA-256 of its lines, unless one is given, so the
same content always has the same version and every screening result can say
which version of each list it was screened against.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from iso3166 import countries_by_alpha2, countries_by_alpha3

from engine.errors import GatehoundError
from engine.screen.names import identifier_key, imo_key, mmsi_key

PERSON_SCHEMAS = frozenset({"Person"})
ORGANISATION_SCHEMAS = frozenset({"Organization", "Company", "LegalEntity", "PublicBody"})
VESSEL_SCHEMAS = frozenset({"Vessel"})
DOCUMENT_SCHEMAS = frozenset({"Passport", "Identification"})

_NAME_PROPS = ("name",)
_ALIAS_PROPS = ("alias", "previousName")
_PART_PROPS = ("firstName", "secondName", "middleName", "fatherName", "lastName")
# Codes FtM uses that ISO 3166-1 does not have (or no longer has).
_EXTRA_ALPHA2 = {"XK": "XKX", "SU": "SUN", "YUCS": "YUG", "CSHH": "CSK", "DDDE": "DDR", "ZR": "ZAR"}


class WatchlistError(GatehoundError):
    """A watchlist that cannot be used at all (missing file, unreadable)."""


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date that may be known only to the year or the month (FtM allows both).

    >>> PartialDate.parse("1980-05"), PartialDate.parse("1980-05-17T00:00:00")
    (PartialDate(year=1980, month=5, day=None), PartialDate(year=1980, month=5, day=17))
    >>> PartialDate.parse("May 1980") is None
    True
    """

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartialDate | None:
        """``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (a time after it is ignored), or
        ``YYYYMMDD``; ``None`` for anything else or an impossible month or day."""
        text = text.strip()[:10]
        if len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        parts = text.split("-")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            return None
        numbers = [int(p) for p in parts]
        month = numbers[1] if len(numbers) > 1 else None
        day = numbers[2] if len(numbers) > 2 else None
        if month is not None and not 1 <= month <= 12 or day is not None and not 1 <= day <= 31:
            return None
        return cls(numbers[0], month, day)

    def __str__(self) -> str:
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out


def country_alpha3(code: str) -> str | None:
    """An ISO alpha-3 country code from an alpha-2 (FtM's ``ru``) or alpha-3 code.

    >>> country_alpha3("ru"), country_alpha3("GBR"), country_alpha3("xk"), country_alpha3("")
    ('RUS', 'GBR', 'XKX', None)
    """
    upper = code.strip().upper()
    if not upper:
        return None
    if len(upper) == 2 and upper in countries_by_alpha2:
        return str(countries_by_alpha2[upper].alpha3)
    if len(upper) == 3 and upper in countries_by_alpha3:
        return upper
    return _EXTRA_ALPHA2.get(upper, upper)


@dataclass(frozen=True, slots=True)
class ListedEntity:
    """What every watchlist entry has: where it is listed and what it is called.

    ``names`` are the entity's own names (``name``, and the full name built from
    its parts); ``aliases`` its other and previous names; ``weak_aliases`` the
    nicknames that FtM marks as weak, which alone are not enough for a match.
    """

    id: str
    list: str
    schema: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedPerson(ListedEntity):
    """A listed person: birth dates, nationalities (ISO alpha-3), document numbers
    (normalised: letters and digits, upper case)."""

    birth_dates: tuple[PartialDate, ...] = ()
    nationalities: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedOrganisation(ListedEntity):
    """A listed company, organisation or legal entity."""

    countries: tuple[str, ...] = ()
    registration_numbers: tuple[str, ...] = ()
    imo: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedVessel(ListedEntity):
    """A listed ship: IMO numbers (seven digits), MMSIs (nine digits), flags (alpha-3)."""

    imo: tuple[str, ...] = ()
    mmsi: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ListedDocument(ListedEntity):
    """A listed passport or identity document (lost, stolen, or of a listed person).

    ``holder`` is the FtM id of the person it belongs to, when the list says;
    the screener gives that person the document's number too.
    """

    number: str = ""
    country: str | None = None
    holder: str | None = None
    document_type: str | None = None


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a watchlist file that could not be read: where, and a reason code."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load made of a file: lines read, entries kept, lines refused (with
    line numbers and reasons) and entities of schemas screening does not use."""

    source: str
    lines: int
    entities: int
    bad_lines: tuple[BadLine, ...] = ()
    skipped_schemas: tuple[tuple[str, int], ...] = ()

    def summary(self) -> str:
        """One line for a log or a terminal: no values, only counts and line numbers."""
        text = f"{self.source}: {self.entities} entries from {self.lines} lines"
        if self.bad_lines:
            shown = ", ".join(str(b) for b in self.bad_lines[:5])
            more = f" and {len(self.bad_lines) - 5} more" if len(self.bad_lines) > 5 else ""
            text += f"; {len(self.bad_lines)} bad lines ({shown}{more})"
        if self.skipped_schemas:
            text += "; not screened: " + ", ".join(f"{n} {s}" for s, n in self.skipped_schemas)
        return text


@dataclass(frozen=True, slots=True)
class Watchlist:
    """One named list of entries, at one version."""

    name: str
    version: str
    entities: tuple[ListedEntity, ...]
    report: LoadReport = field(compare=False)

    def __len__(self) -> int:
        return len(self.entities)


def _strings(props: dict[str, Any], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        for value in props.get(name, ()):
            if isinstance(value, str):
                value = value.strip()
                if value and value not in out:
                    out.append(value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                out.append(str(value))
    return out


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _countries(props: dict[str, Any], *names: str) -> tuple[str, ...]:
    return _unique(c for c in (country_alpha3(v) for v in _strings(props, *names)) if c)


def _names(props: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    names = _strings(props, *_NAME_PROPS)
    parts = [" ".join(_strings(props, p)[:1]) for p in _PART_PROPS]
    built = " ".join(p for p in parts if p)
    if built and built.casefold() not in {n.casefold() for n in names}:
        names.append(built)
    return tuple(names), _unique(_strings(props, *_ALIAS_PROPS)), _unique(_strings(props, "weakAlias"))


def _entity(doc: dict[str, Any], list_name: str) -> ListedEntity | str:
    """The entry for one FtM entity, or a reason code when it cannot be one."""
    schema = doc["schema"]
    props: dict[str, Any] = doc["properties"]
    base: dict[str, Any] = {"id": doc["id"], "list": list_name, "schema": schema}
    if schema in DOCUMENT_SCHEMAS:
        numbers = _strings(props, "number", "passportNumber")
        if not numbers or not identifier_key(numbers[0]):
            return "no_number"
        holders = [h for h in props.get("holder", ()) if isinstance(h, str)]
        country = _countries(props, "country")
        doc_type = _strings(props, "type")
        return ListedDocument(
            **base, names=(), number=identifier_key(numbers[0]), country=country[0] if country else None,
            holder=holders[0] if holders else None, document_type=doc_type[0] if doc_type else None,
        )
    names, aliases, weak = _names(props)
    named: dict[str, Any] = {"names": names, "aliases": aliases, "weak_aliases": weak}
    if schema in PERSON_SCHEMAS:
        documents = _unique(identifier_key(v) for v in _strings(props, "passportNumber", "idNumber"))
        if not names and not aliases and not documents:
            return "no_name"
        births = tuple(dict.fromkeys(d for d in map(PartialDate.parse, _strings(props, "birthDate")) if d))
        return ListedPerson(
            **base, **named, birth_dates=births,
            nationalities=_countries(props, "nationality", "citizenship"), documents=documents,
        )
    if schema in VESSEL_SCHEMAS:
        imo = _unique(imo_key(v) for v in _strings(props, "imoNumber"))
        mmsi = _unique(mmsi_key(v) for v in _strings(props, "mmsi"))
        if not names and not aliases and not imo and not mmsi:
            return "no_name"
        return ListedVessel(**base, **named, imo=imo, mmsi=mmsi, flags=_countries(props, "flag", "pastFlags"))
    if not names and not aliases:
        return "no_name"
    registrations = ("registrationNumber", "innCode", "ogrnCode", "taxNumber", "vatCode")
    return ListedOrganisation(
        **base, **named, countries=_countries(props, "country", "jurisdiction", "mainCountry"),
        registration_numbers=_unique(identifier_key(v) for v in _strings(props, *registrations)),
        imo=_unique(imo_key(v) for v in _strings(props, "imoNumber")),
    )


def _check(doc: Any) -> str | None:
    """Why a parsed line is not an FtM entity, or None when it is one."""
    if not isinstance(doc, dict):
        return "not_an_object"
    if not isinstance(doc.get("id"), str) or not doc["id"].strip():
        return "missing_id"
    if not isinstance(doc.get("schema"), str):
        return "missing_schema"
    props = doc.get("properties")
    if not isinstance(props, dict) or not all(isinstance(v, list) for v in props.values()):
        return "bad_properties"
    return None


def content_version(lines: Iterable[bytes]) -> str:
    """The version of a list's content: 16 hex digits of SHA-256 over its lines."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.rstrip(b"\r\n"))
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def json_line(
    number: int, line: bytes, check: Callable[[Any], str | None], bad: list[BadLine]
) -> dict[str, Any] | None:
    """Line ``number``'s JSON document when ``check`` finds no problem with it (``check``
    returns one in words, or None); None for a blank line, and for a bad one, which is
    noted in ``bad``."""
    if not line.strip():
        return None
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError:
        bad.append(BadLine(number, "invalid_json"))
        return None
    problem = check(doc)
    if problem:
        bad.append(BadLine(number, problem))
        return None
    return doc  # type: ignore[no-any-return]


def parse_watchlist(
    lines: Iterable[bytes | str],
    name: str,
    version: str | None = None,
    by_dataset: bool = False,
) -> list[Watchlist]:
    """Read FtM JSON lines into one list named ``name`` (or, with ``by_dataset``,
    one list per FtM dataset named after it, ``name`` for entities without one).

    Never raises for bad content: bad lines are in each list's ``report``.
    Entities of schemas that screening does not use are counted, not kept.
    """
    groups: dict[str, list[ListedEntity]] = {}
    raw: dict[str, list[bytes]] = {}
    bad: list[BadLine] = []
    skipped: Counter[str] = Counter()
    count = 0
    for number, line in enumerate(lines, start=1):
        count = number
        data = line.encode() if isinstance(line, str) else line
        doc = json_line(number, data, _check, bad)
        if doc is None:
            continue
        schema = doc["schema"]
        if schema not in PERSON_SCHEMAS | ORGANISATION_SCHEMAS | VESSEL_SCHEMAS | DOCUMENT_SCHEMAS:
            skipped[schema] += 1
            continue
        datasets = [d for d in doc.get("datasets") or () if isinstance(d, str)] if by_dataset else []
        group = datasets[0] if datasets else name
        entity = _entity(doc, group)
        if isinstance(entity, str):
            bad.append(BadLine(number, entity))
            continue
        groups.setdefault(group, []).append(entity)
        raw.setdefault(group, []).append(data)
    if not groups:
        groups[name] = []
        raw[name] = []
    out = []
    for group, entities in groups.items():
        report = LoadReport(
            source=group, lines=count, entities=len(entities), bad_lines=tuple(bad),
            skipped_schemas=tuple(sorted(skipped.items())),
        )
        out.append(Watchlist(group, version or content_version(raw[group]), tuple(entities), report))
    return out


def load_watchlist(
    path: Path | str, name: str | None = None, version: str | None = None, by_dataset: bool = False
) -> list[Watchlist]:
    """Read a watchlist file (FtM JSON lines). The list is named after the file
    (``sanctions.jsonl`` -> ``sanctions``) unless ``name`` is given.

    Raises :class:`WatchlistError` only when the file cannot be read at all.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WatchlistError(f"cannot read watchlist {path}: {exc.strerror or exc}") from None
    lists = parse_watchlist(data.splitlines(), name or path.name.split(".")[0], version, by_dataset)
    return [_with_source(w, str(path)) for w in lists]


def _with_source(watchlist: Watchlist, source: str) -> Watchlist:
    report = watchlist.report
    label = source if report.source == watchlist.name else f"{source} [{watchlist.name}]"
    return Watchlist(
        watchlist.name, watchlist.version, watchlist.entities,
        LoadReport(label, report.lines, report.entities, report.bad_lines, report.skipped_schemas),
    )


def load_watchlists(paths: Sequence[Path | str], by_dataset: bool = False) -> list[Watchlist]:
    """Several files at once, one list per file (or per dataset); names must not clash."""
    lists: list[Watchlist] = []
    for path in paths:
        lists.extend(load_watchlist(path, by_dataset=by_dataset))
    seen: set[str] = set()
    for watchlist in lists:
        if watchlist.name in seen:
            raise WatchlistError(f"two watchlists are named {watchlist.name!r}: give each file its own name")
        seen.add(watchlist.name)
    return lists
