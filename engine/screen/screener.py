"""Screening: a person, organisation or vessel against every loaded watchlist.

How a score is made (all numbers are in :class:`ScoringConfig`):

1. **Name score** (0-1) from the name index: how many parts of the name match the
   listed name's parts and how well (exact, transliteration, phonetic, fuzzy),
   see :meth:`engine.screen.index.NameIndex.search`. Several names of one
   traveller (API and PNR spellings) and all names and aliases of a listed
   entity are tried; the best pair counts.
2. **Corroboration** moves it, when both sides know the fact:

   ===========================================  =============
   birth date exact                             +0.08
   birth year (and month) agree, rest unknown   +0.04
   day and month swapped, or digits transposed   0
   same year, month or day different            -0.08
   year one apart                               -0.10
   birth date different                         -0.30
   nationality among the listed ones            +0.03
   nationality not among them                   -0.05
   ===========================================  =============

   So a namesake born in another year falls well under the threshold, while a
   name variant with the right birth date rises above it.
3. **Identifiers** are exact, after normalisation (document numbers: letters and
   digits, upper case; IMO: seven digits; MMSI: nine digits). A listed document
   number or IMO number that matches is a match on its own (score 1.0 for the
   document or vessel; at least 0.95 for the person holding that document,
   whatever the name), and it adds to a name match. A ship whose IMO number is
   known on both sides and differs is another ship (-0.30).

A result is kept when its score reaches the threshold (:data:`DEFAULT_THRESHOLD`
unless given) and, for people and organisations, when no other listed entry fits
better by ``best_margin`` (0.05) or more, birth date and nationality included:
the better entry then explains the name as written, and the weaker one would
need the name or the facts to have varied further (a letter changed where the
better entry needs none, a nationality that differs). Entries within the margin
of the best are all reported, however many: the screener does not choose among
near-equals (namesakes), the officer does. Never dropped this way: matches on an
identifier (document, registration number), and listed people whose name is the
name screened as written with more parts (a traveller's record often leaves out
a middle name, so ``IVAN PETROV`` stays a candidate for ``IVAN SERGEYEVICH
PETROV`` beside a listed ``IVAN PETROV``). That forgives the missing part, not
the facts: such a name is still dropped when its birth date and nationality fit
worse than the best entry's by the margin, or when another longer name fits
better by the margin.

Each :class:`Match` says why in its explanation, in terms of the
listed entity's own name parts; the screened person's name, birth date and
document number are never repeated in it.

A :class:`Screener` is immutable: build a new one for new list versions and
swap the reference; screenings in flight finish on the old one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from engine.screen.index import NameIndex, ScoredName
from engine.screen.names import NameKind, identifier_key, imo_key, mmsi_key
from engine.screen.watchlist import (
    ListedDocument,
    ListedEntity,
    ListedOrganisation,
    ListedPerson,
    ListedVessel,
    PartialDate,
    Watchlist,
    country_alpha3,
)

#: A match is reported from this score up, unless a threshold is given.
DEFAULT_THRESHOLD = 0.84


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """The numbers of the scoring model (see the module docstring)."""

    birth_exact: float = 0.08
    birth_partial: float = 0.04
    birth_transposed: float = 0.0
    birth_same_year: float = -0.08
    birth_year_near: float = -0.10
    birth_differs: float = -0.30
    nationality_agrees: float = 0.03
    nationality_differs: float = -0.05
    document_bonus: float = 0.15
    document_floor: float = 0.95
    imo_differs: float = -0.30
    mmsi_score: float = 0.95
    registration_floor: float = 0.95
    best_margin: float = 0.05


@dataclass(frozen=True, slots=True)
class Match:
    """One listed entity that matched, how well (0-1) and why."""

    entity_id: str
    list: str
    list_version: str
    schema: str
    score: float
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        """The match as ``gatehound screen`` writes it."""
        return {
            "entity_id": self.entity_id, "list": self.list, "list_version": self.list_version,
            "schema": self.schema, "score": self.score, "explanation": self.explanation,
        }


class _Ranked(Protocol):
    @property
    def entity_id(self) -> str: ...
    @property
    def list(self) -> str: ...
    @property
    def score(self) -> float: ...


R = TypeVar("R", bound=_Ranked)


@dataclass
class _Verdict:
    """A candidate being scored: its score so far and the reasons, the name
    match's own explanation made only if the candidate is reported."""

    score: float
    reasons: list[str] = field(default_factory=list)
    name: ScoredName | None = None

    def explanation(self) -> str:
        return "; ".join([self.name.hit().explain(), *self.reasons] if self.name else self.reasons)


@dataclass(slots=True)
class _Found:
    """A match before its explanation is written."""

    entity_id: str
    list: str
    score: float
    owner: int
    verdict: _Verdict


def compare_birth_dates(
    query: PartialDate, listed: Iterable[PartialDate], config: ScoringConfig = ScoringConfig()
) -> tuple[float, str] | None:
    """How a birth date bears on a match: ``(adjustment, reason)``, the best over
    the listed dates, or None when the list has none.

    >>> compare_birth_dates(PartialDate(1980, 5, 17), [PartialDate(1980)])
    (0.04, 'birth year agrees')
    >>> compare_birth_dates(PartialDate(1980, 5, 17), [PartialDate(1975, 2, 1)])
    (-0.3, 'birth date differs')
    """
    best: tuple[float, str] | None = None
    for date in listed:
        found = _birth(query, date, config)
        if best is None or found[0] > best[0]:
            best = found
    return best


def _birth(q: PartialDate, d: PartialDate, c: ScoringConfig) -> tuple[float, str]:
    if q.year == d.year:
        if q.month is None or d.month is None:
            return c.birth_partial, "birth year agrees"
        if q.month == d.month:
            if q.day is None or d.day is None:
                return c.birth_partial, "birth year and month agree"
            if q.day == d.day:
                return c.birth_exact, "birth date exact"
        if q.day is not None and d.day is not None and (q.month, q.day) == (d.day, d.month):
            return c.birth_transposed, "birth date with day and month swapped"
        return c.birth_same_year, "birth year agrees, month or day differs"
    qy, dy = f"{q.year:04d}", f"{d.year:04d}"
    same_rest = (q.month, q.day) == (d.month, d.day) or q.month is None or d.month is None
    if same_rest and any(qy[:i] + qy[i + 1] + qy[i] + qy[i + 2 :] == dy for i in range(3)):
        return c.birth_transposed, "birth year with two digits transposed"
    if abs(q.year - d.year) == 1:
        return c.birth_year_near, "birth year one apart"
    return c.birth_differs, "birth date differs"


def _kind_of(entity: ListedEntity) -> NameKind | None:
    if isinstance(entity, ListedPerson):
        return "person"
    if isinstance(entity, ListedOrganisation):
        return "organisation"
    if isinstance(entity, ListedVessel):
        return "vessel"
    return None


def _names_of(entity: ListedEntity) -> Iterable[tuple[str, bool]]:
    for name in (*entity.names, *entity.aliases):
        yield name, False
    for name in entity.weak_aliases:
        yield name, True


def _file(table: dict[str, list[int]], key: str, owner: int) -> None:
    if key:
        owners = table.setdefault(key, [])
        if owner not in owners:
            owners.append(owner)


class _Facts:
    """What a traveller's birth date and nationality do to each listed person's
    score, worked out once per person: first to skip names that cannot reach the
    threshold (:meth:`lift`), then to explain the matches (:meth:`of`)."""

    def __init__(
        self, entities: Sequence[ListedEntity], born: PartialDate | None, country: str | None,
        document_owners: set[int], config: ScoringConfig,
    ) -> None:
        self.entities = entities
        self.born = born
        self.country = country
        self.document_owners = document_owners
        self.config = config
        self.found: dict[int, list[tuple[float, str]]] = {}

    def of(self, owner: int) -> list[tuple[float, str]]:
        """The adjustments for a listed person and their reasons."""
        known = self.found.get(owner)
        if known is not None:
            return known
        out: list[tuple[float, str]] = []
        person = self.entities[owner]
        c = self.config
        if isinstance(person, ListedPerson):
            if self.born is not None:
                birth = compare_birth_dates(self.born, person.birth_dates, c)
                if birth is not None:
                    out.append(birth)
            if self.country and person.nationalities:
                if self.country in person.nationalities:
                    out.append((c.nationality_agrees, "nationality agrees"))
                else:
                    out.append((c.nationality_differs, "nationality differs"))
        self.found[owner] = out
        return out

    def adjustment(self, owner: int) -> float:
        """What the birth date and nationality do to this owner's score."""
        return sum(delta for delta, _ in self.of(owner))

    def lift(self, owner: int) -> float:
        """What the facts given (a listed document's number included) do to this owner's score."""
        return 1.0 if owner in self.document_owners else self.adjustment(owner)


class Screener:
    """Screens names and identifiers against a set of watchlists.

    >>> from engine.screen.watchlist import parse_watchlist
    >>> lists = parse_watchlist(['{"id": "p1", "schema": "Person", "properties": '
    ...     '{"name": ["Ivan Sergeyevich Petrov"], "birthDate": ["1971"]}}'], "wanted", "v1")
    >>> [(m.entity_id, round(m.score, 2)) for m in Screener(lists).screen_person(
    ...     ["PETROV, Ivan"], birth_date="1971-03-02")]
    [('p1', 0.96)]
    """

    def __init__(
        self,
        lists: Sequence[Watchlist],
        threshold: float = DEFAULT_THRESHOLD,
        config: ScoringConfig | None = None,
    ) -> None:
        self.threshold = threshold
        self.config = config or ScoringConfig()
        self._lists = tuple(lists)
        entities = [e for w in self._lists for e in w.entities]
        self._entities: tuple[ListedEntity, ...] = tuple(entities)
        #: The first list's entity per id (the enrich stage looks a matched vessel up per report).
        self._by_id: dict[str, ListedEntity] = {}
        for entity in reversed(entities):
            self._by_id[entity.id] = entity
        self._version_of = {w.name: w.version for w in self._lists}
        by_id = {e.id: i for i, e in enumerate(entities)}
        documents: dict[str, list[int]] = {}
        held: dict[int, set[str]] = {}
        imo: dict[str, list[int]] = {}
        mmsi: dict[str, list[int]] = {}
        registrations: dict[str, list[int]] = {}
        names: dict[NameKind, list[tuple[int, str, bool]]] = {"person": [], "organisation": [], "vessel": []}
        for i, entity in enumerate(entities):
            kind = _kind_of(entity)
            if kind is not None:
                names[kind].extend((i, name, weak) for name, weak in _names_of(entity))
            if isinstance(entity, ListedPerson):
                for number in entity.documents:
                    _file(documents, number, i)
                    held.setdefault(i, set()).add(number)
            elif isinstance(entity, ListedDocument):
                _file(documents, entity.number, i)
                holder = by_id.get(entity.holder or "")
                if holder is not None and isinstance(entities[holder], ListedPerson):
                    _file(documents, entity.number, holder)
                    held.setdefault(holder, set()).add(entity.number)
            elif isinstance(entity, ListedVessel):
                for number in entity.imo:
                    _file(imo, number, i)
                for number in entity.mmsi:
                    _file(mmsi, number, i)
            elif isinstance(entity, ListedOrganisation):
                for number in entity.registration_numbers:
                    _file(registrations, number, i)
        self._people = NameIndex(names["person"], "person")
        self._organisations = NameIndex(names["organisation"], "organisation")
        self._vessels = NameIndex(names["vessel"], "vessel")
        self._documents = {k: tuple(v) for k, v in documents.items()}
        self._held = {k: frozenset(v) for k, v in held.items()}
        self._imo = {k: tuple(v) for k, v in imo.items()}
        self._mmsi = {k: tuple(v) for k, v in mmsi.items()}
        self._registrations = {k: tuple(v) for k, v in registrations.items()}

    # -- what is loaded --

    def versions(self) -> dict[str, str]:
        """Each list's name and the version screened against."""
        return dict(self._version_of)

    @property
    def lists(self) -> tuple[Watchlist, ...]:
        """The lists, as given."""
        return self._lists

    def __len__(self) -> int:
        return len(self._entities)

    def entity(self, entity_id: str) -> ListedEntity | None:
        """A listed entity by its id (the first list that has it)."""
        return self._by_id.get(entity_id)

    # -- screening --

    def screen_person(
        self,
        names: Sequence[str] | str = (),
        birth_date: str | PartialDate | None = None,
        nationality: str | None = None,
        document_number: str | None = None,
        threshold: float | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """Listed people (and listed documents) matching a traveller, best first.

        ``names`` are the traveller's names as written (any script, any order);
        ``birth_date`` ISO (``1980-05-17``, or partial ``1980``); ``nationality``
        ISO alpha-3 or alpha-2; ``document_number`` as printed.
        """
        threshold = self.threshold if threshold is None else threshold
        if isinstance(names, str):
            names = [names]
        born = PartialDate.parse(birth_date) if isinstance(birth_date, str) else birth_date
        country = country_alpha3(nationality) if nationality else None
        document = identifier_key(document_number) if document_number else ""
        c = self.config
        document_owners = self._documents.get(document, ()) if document else ()
        most = (c.birth_exact if born else 0.0) + (c.nationality_agrees if country else 0.0)
        if document_owners:
            most += 1.0  # a listed document matches whatever the name

        facts = _Facts(self._entities, born, country, set(document_owners), c)
        verdicts = self._by_name(self._people, names, threshold, facts.lift, most)
        matches: list[_Found] = []
        for owner in document_owners:
            entity = self._entities[owner]
            if isinstance(entity, ListedDocument):
                kind = entity.document_type or entity.schema.lower()
                matches.append(self._match(owner, _Verdict(1.0, [f"document number exact ({kind})"])))
            elif owner not in verdicts:
                verdicts[owner] = _Verdict(0.0, ["name does not match"])
        for owner, verdict in verdicts.items():
            if not isinstance(self._entities[owner], ListedPerson):
                continue
            for delta, reason in facts.of(owner):
                verdict.score += delta
                verdict.reasons.append(f"{reason} ({delta:+.2f})")
            if document and owner in document_owners:
                verdict.score = max(verdict.score + c.document_bonus, c.document_floor)
                verdict.reasons.append("document number exact")
            if verdict.score >= threshold:
                matches.append(self._match(owner, verdict))
        kept = set(document_owners)
        # A listed name that extends the name screened is kept beside a better entry:
        # its missing middle name is forgiven, not facts that fit worse. Among such
        # names the margin holds as usual (their names fit alike).
        longer = {o: v.score for o, v in verdicts.items() if v.name is not None and v.name.extends_query()}
        reported = [(v.score, o) for o, v in verdicts.items() if v.score >= threshold] if longer else []
        if reported:
            top = max(reported)[1]
            least = max(longer.values()) - c.best_margin - 1e-9
            facts_least = facts.adjustment(top) - c.best_margin - 1e-9
            kept.update(o for o, score in longer.items()
                        if score >= least and facts.adjustment(o) >= facts_least)
        return self._report(self._near_best(matches, kept), limit)

    def screen_organisation(
        self,
        name: str | None = None,
        country: str | None = None,
        registration_number: str | None = None,
        threshold: float | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """Listed companies and organisations matching a name (and country,
        registration number), best first."""
        threshold = self.threshold if threshold is None else threshold
        code = country_alpha3(country) if country else None
        boost = self.config.nationality_agrees if code else 0.0
        verdicts = self._by_name(self._organisations, [name] if name else [], threshold - boost)
        registration = identifier_key(registration_number) if registration_number else ""
        owners = self._registrations.get(registration, ()) if registration else ()
        for owner in owners:
            verdicts.setdefault(owner, _Verdict(0.0, ["name does not match"]))
        c = self.config
        matches = []
        for owner, verdict in verdicts.items():
            entity = self._entities[owner]
            if not isinstance(entity, ListedOrganisation):
                continue
            if code and entity.countries:
                agrees = code in entity.countries
                delta = c.nationality_agrees if agrees else c.nationality_differs
                verdict.score += delta
                verdict.reasons.append(f"country {'agrees' if agrees else 'differs'} ({delta:+.2f})")
            if owner in owners:
                verdict.score = max(verdict.score + c.document_bonus, c.registration_floor)
                verdict.reasons.append("registration number exact")
            if verdict.score >= threshold:
                matches.append(self._match(owner, verdict))
        return self._report(self._near_best(matches, set(owners)), limit)

    def screen_vessel(
        self,
        name: str | None = None,
        imo: str | int | None = None,
        mmsi: str | int | None = None,
        flag: str | None = None,
        threshold: float | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """Listed vessels matching a ship: IMO and MMSI exactly, the name fuzzily."""
        threshold = self.threshold if threshold is None else threshold
        c = self.config
        verdicts = self._by_name(self._vessels, [name] if name else [], threshold)
        imo_number = imo_key(str(imo)) if imo else ""
        mmsi_number = mmsi_key(str(mmsi)) if mmsi else ""
        by_imo = set(self._imo.get(imo_number, ())) if imo_number else set()
        by_mmsi = set(self._mmsi.get(mmsi_number, ())) if mmsi_number else set()
        for owner in by_imo | by_mmsi:
            verdicts.setdefault(owner, _Verdict(0.0, ["name does not match"]))
        code = country_alpha3(flag) if flag else None
        matches = []
        for owner, verdict in verdicts.items():
            vessel = self._entities[owner]
            if not isinstance(vessel, ListedVessel):
                continue
            if owner in by_imo:
                verdict.score = 1.0
                verdict.reasons.append("IMO number exact")
            elif imo_number and vessel.imo:
                verdict.score += c.imo_differs
                verdict.reasons.append(f"IMO number differs ({c.imo_differs:+.2f})")
            if owner in by_mmsi:
                verdict.score = max(verdict.score, c.mmsi_score)
                verdict.reasons.append("MMSI exact")
            if code and vessel.flags:
                verdict.reasons.append("flag agrees" if code in vessel.flags else "flag differs")
            if verdict.score >= threshold:
                matches.append(self._match(owner, verdict))
        return self._report(matches, limit)

    def screen_any(
        self,
        name: str,
        birth_date: str | None = None,
        nationality: str | None = None,
        document_number: str | None = None,
        threshold: float | None = None,
        limit: int = 10,
    ) -> list[Match]:
        """A name against every kind of entry: people (with the other facts),
        organisations and vessels. For a quick look when the kind is not known."""
        matches = self.screen_person([name], birth_date, nationality, document_number, threshold, limit)
        matches += self.screen_organisation(name, nationality, None, threshold, limit)
        matches += self.screen_vessel(name, threshold=threshold, limit=limit)
        return self._best(matches, limit)

    # -- parts --

    def _by_name(
        self, index: NameIndex, names: Iterable[str], floor: float,
        lift: Callable[[int], float] | None = None, most: float = 0.0,
    ) -> dict[int, _Verdict]:
        """The best name hit per listed entity, as a verdict to corroborate. Hits
        under ``floor`` (the threshold less every bonus the facts given could
        still add; or the threshold, less what ``lift`` says the facts do for the
        entity) cannot become matches and are not even scored in full."""
        floor -= 1e-9
        best: dict[int, ScoredName] = {}
        for text in names:
            if not text or not text.strip():
                continue
            for hit in index.scores(text, floor, lift, most):
                known = best.get(hit.owner)
                if known is None or hit.score > known.score:
                    best[hit.owner] = hit
        return {owner: _Verdict(hit.score, [], hit) for owner, hit in best.items()}

    def _match(self, owner: int, verdict: _Verdict) -> _Found:
        entity = self._entities[owner]
        return _Found(entity.id, entity.list, round(min(1.0, max(0.0, verdict.score)), 4), owner, verdict)

    def _report(self, found: list[_Found], limit: int) -> list[Match]:
        """The best ``limit`` matches, explained (only these: words cost more than numbers)."""
        out = []
        for f in self._best(found, limit):
            entity = self._entities[f.owner]
            out.append(Match(f.entity_id, f.list, self._version_of[f.list], entity.schema, f.score,
                             f.verdict.explanation()))
        return out

    def _near_best(self, matches: list[_Found], kept: set[int]) -> list[_Found]:
        """The matches within ``best_margin`` of the best one, and those of the
        owners ``kept`` whatever their score (see the module docstring: a clearly
        better entry explains the name)."""
        if len(matches) < 2:
            return matches
        least = max(m.score for m in matches) - self.config.best_margin - 1e-9
        keep = {self._entities[o].id for o in kept}
        return [m for m in matches if m.score >= least or m.entity_id in keep]

    @staticmethod
    def _best(matches: list[R], limit: int) -> list[R]:
        seen: dict[tuple[str, str], R] = {}
        for match in matches:
            key = (match.list, match.entity_id)
            if key not in seen or match.score > seen[key].score:
                seen[key] = match
        ordered = sorted(seen.values(), key=lambda m: (-m.score, m.list, m.entity_id))
        return ordered[:limit]
