"""Screening reports the listed entries that fit a name best, and every near-equal of
them, but not a clearly weaker entry that the better one already explains."""

from __future__ import annotations

import orjson

from engine.screen import ScoringConfig, Screener, parse_watchlist


def screener(*people: tuple[str, str], config: ScoringConfig | None = None,
             documents: dict[str, str] | None = None) -> Screener:
    lines = []
    for entity_id, name in people:
        props: dict[str, list[str]] = {"name": [name]}
        if documents and entity_id in documents:
            props["passportNumber"] = [documents[entity_id]]
        lines.append(orjson.dumps({"id": entity_id, "schema": "Person", "properties": props}))
    return Screener(parse_watchlist(lines, "wanted", "v1"), config=config)


def found(s: Screener, name: str, **facts: str) -> dict[str, float]:
    return {m.entity_id: m.score for m in s.screen_person([name], **facts)}  # type: ignore[arg-type]


def test_a_clearly_better_entry_explains_the_name_and_the_weaker_one_is_not_reported() -> None:
    """MICHAEL YARMORE is listed as written: MICHAEL MARMORE (a letter away) is not reported beside it."""
    s = screener(("p1", "Michael Yarmore"), ("p2", "Michael Marmore"))
    assert found(s, "Michael Yarmore") == {"p1": 1.0}
    # On its own the weaker entry would be a match: the margin is what drops it.
    assert "p2" in found(screener(("p2", "Michael Marmore")), "Michael Yarmore")
    # And a margin of 0.2 keeps it.
    wide = screener(
        ("p1", "Michael Yarmore"), ("p2", "Michael Marmore"), config=ScoringConfig(best_margin=0.2)
    )
    assert set(found(wide, "Michael Yarmore")) == {"p1", "p2"}


def test_near_equals_are_all_reported() -> None:
    """Two listed people with the same name both match: the screener does not pick one."""
    s = screener(("p1", "Antonio Mendoza Gonzalez"), ("p2", "Antonio Mendoza Gonzalez"))
    assert set(found(s, "Antonio Mendoza Gonzalez")) == {"p1", "p2"}


def test_a_listed_name_holding_the_whole_name_screened_stays_beside_an_exact_one() -> None:
    """IVAN PETROV may be IVAN SERGEYEVICH PETROV with the middle name left out, even
    when an IVAN PETROV is listed too."""
    s = screener(("p1", "Ivan Petrov"), ("p2", "Ivan Sergeyevich Petrov"))
    hits = found(s, "Ivan Petrov")
    assert set(hits) == {"p1", "p2"} and hits["p1"] - hits["p2"] > ScoringConfig().best_margin


def people(*entries: tuple[str, str, str]) -> Screener:
    """A list of (id, name, nationality) people."""
    lines = [orjson.dumps({"id": i, "schema": "Person", "properties": {"name": [name], "nationality": [c]}})
             for i, name, c in entries]
    return Screener(parse_watchlist(lines, "wanted", "v1"))


def test_a_longer_name_is_forgiven_its_middle_name_not_facts_that_fit_worse() -> None:
    """Beside a listed IVAN PETROV of the nationality given, IVAN SERGEYEVICH PETROV of
    another nationality is not reported; of the same nationality, or with none given, it is."""
    s = people(("p1", "Ivan Petrov", "ru"), ("p2", "Ivan Sergeyevich Petrov", "ua"))
    assert set(found(s, "Ivan Petrov", nationality="RUS")) == {"p1"}
    assert set(found(s, "Ivan Petrov")) == {"p1", "p2"}
    alike = people(("p1", "Ivan Petrov", "ru"), ("p2", "Ivan Sergeyevich Petrov", "ru"))
    assert set(found(alike, "Ivan Petrov", nationality="RUS")) == {"p1", "p2"}


def test_among_longer_names_the_margin_holds() -> None:
    """Two listed names each hold the name screened with a middle name more: the one whose
    nationality fits is reported, the other (0.08 worse) is not."""
    s = people(("p1", "Hussein Imad Al-Rashid", "iq"), ("p2", "Hussein Mansour Al-Rashid", "sy"))
    assert set(found(s, "Hussein Al-Rashid", nationality="IRQ")) == {"p1"}
    assert set(found(s, "Hussein Al-Rashid")) == {"p1", "p2"}


def test_the_birth_date_decides_which_entry_is_better() -> None:
    """Of two namesakes, the one born on the date given is reported and the other not."""
    lines = [orjson.dumps({"id": i, "schema": "Person",
                           "properties": {"name": ["Fatima Al-Masri"], "birthDate": [born]}})
             for i, born in (("p1", "1980-05-17"), ("p2", "1981-05-17"))]
    s = Screener(parse_watchlist(lines, "wanted", "v1"))
    assert set(found(s, "Fatima Al-Masri", birth_date="1980-05-17")) == {"p1"}


def test_a_document_match_is_never_dropped_by_the_margin() -> None:
    """A listed passport number flags its holder whatever the name, even beside an exact name match."""
    narrow = ScoringConfig(best_margin=0.01)
    s = screener(("p1", "Michael Yarmore"), ("p2", "Zhang Wei"), config=narrow, documents={"p2": "X1234567"})
    hits = found(s, "Michael Yarmore", document_number="X1234567")
    assert hits["p1"] == 1.0 and hits["p2"] < 1.0 - narrow.best_margin
