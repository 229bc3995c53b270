"""Watchlist screening finds listed people, organisations and vessels under the names
they really travel under, and leaves their namesakes alone."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.screen import (
    DEFAULT_THRESHOLD,
    ListedDocument,
    ListedOrganisation,
    ListedPerson,
    ListedVessel,
    PartialDate,
    Screener,
    WatchlistError,
    load_watchlist,
    load_watchlists,
    parse_watchlist,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "watchlists"
LISTS = [FIXTURES / "wanted.jsonl", FIXTURES / "sanctions.jsonl", FIXTURES / "documents.jsonl"]
runner = CliRunner()


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener(load_watchlists(LISTS))


def person(screener: Screener, name: str, **facts: str) -> dict[str, float]:
    return {m.entity_id: m.score for m in screener.screen_person([name], **facts)}  # type: ignore[arg-type]


def entity(lines: list[dict[str, object]], name: str = "test") -> Screener:
    return Screener(parse_watchlist([orjson.dumps(line) for line in lines], name, "v1"))


# -- loading ------------------------------------------------------------------------


def test_each_file_is_a_named_list_with_a_content_version() -> None:
    """A file is a list named after it; its version is a hash of its content, the same each load."""
    first, second = load_watchlist(FIXTURES / "wanted.jsonl"), load_watchlist(FIXTURES / "wanted.jsonl")
    assert [w.name for w in first] == ["wanted"]
    assert first[0].version == second[0].version and len(first[0].version) == 16
    other = load_watchlist(FIXTURES / "sanctions.jsonl")[0]
    assert other.version != first[0].version
    assert load_watchlist(FIXTURES / "wanted.jsonl", name="w", version="2024-06")[0].version == "2024-06"


def test_people_are_read_with_aliases_partial_dates_and_alpha3_nationalities() -> None:
    """Names, aliases (any script), weak aliases, partial birth dates and nationalities are kept."""
    wanted = {e.id: e for e in load_watchlist(FIXTURES / "wanted.jsonl")[0].entities}
    petrov = wanted["wp-001"]
    assert isinstance(petrov, ListedPerson)
    assert petrov.names == ("Ivan Sergeyevich Petrov",)
    assert petrov.aliases == ("Иван Сергеевич Петров",)
    assert petrov.birth_dates == (PartialDate(1971, 3, 2),)
    assert petrov.nationalities == ("RUS",)
    assert petrov.documents == ("721234567",)
    assert wanted["wp-002"].birth_dates == (PartialDate(1980),)  # type: ignore[attr-defined]
    assert wanted["wp-003"].names == ("María Fernández Quiroga",)  # built from first and last name
    assert wanted["wp-003"].birth_dates == (PartialDate(1985, 11),)  # type: ignore[attr-defined]
    assert wanted["wp-005"].weak_aliases == ("Big Emeka",)
    assert wanted["wp-005"].nationalities == ("NGA",)  # type: ignore[attr-defined]


def test_organisations_vessels_and_documents_are_typed() -> None:
    """Companies, vessels and documents become their own entries; other schemas are counted, not kept."""
    sanctions = load_watchlist(FIXTURES / "sanctions.jsonl")[0]
    kinds = {e.id: type(e) for e in sanctions.entities}
    assert kinds == {"sx-100": ListedOrganisation, "sx-101": ListedOrganisation, "sx-200": ListedVessel,
                     "sx-201": ListedVessel, "sx-300": ListedPerson}
    vessel = next(e for e in sanctions.entities if e.id == "sx-200")
    assert isinstance(vessel, ListedVessel)
    assert (vessel.imo, vessel.mmsi, vessel.flags) == (("9387425",), ("351234000",), ("PAN", "LBR"))
    assert vessel.aliases == ("Sea Pearl",)
    assert sanctions.report.skipped_schemas == (("Sanction", 1),)
    documents = load_watchlist(FIXTURES / "documents.jsonl")[0].entities
    assert all(isinstance(d, ListedDocument) for d in documents)
    assert [(d.number, d.holder) for d in documents if isinstance(d, ListedDocument)] == [
        ("X1234567", None), ("ID5500912", "wp-005"), ("P998877", "wp-002")]


def test_bad_lines_are_counted_with_line_numbers_and_no_content() -> None:
    """Broken lines are reported by number and reason; the good entries around them still load."""
    broken = load_watchlist(FIXTURES / "broken.jsonl")[0]
    assert [e.id for e in broken.entities] == ["bk-001", "bk-010"]
    assert [(b.line, b.reason) for b in broken.report.bad_lines] == [
        (2, "invalid_json"), (3, "invalid_json"), (4, "not_an_object"), (5, "missing_id"),
        (6, "missing_schema"), (7, "bad_properties"), (8, "no_name"), (9, "no_number"),
    ]
    summary = broken.report.summary()
    assert "line 2: invalid_json" in summary
    assert "Truncated" not in summary and "Identifier" not in summary
    assert broken.entities[0].birth_dates == (PartialDate(1979),)  # type: ignore[attr-defined]


def test_a_missing_file_is_a_clear_error() -> None:
    """A watchlist that cannot be read raises WatchlistError naming the file."""
    with pytest.raises(WatchlistError, match="nope.jsonl"):
        load_watchlist(FIXTURES / "nope.jsonl")


def test_lists_can_be_split_by_ftm_dataset() -> None:
    """With by_dataset, each FtM dataset in a file is its own list with its own version."""
    lines = [
        b'{"id": "a", "schema": "Person", "datasets": ["one"], "properties": {"name": ["Ana Lima"]}}',
        b'{"id": "b", "schema": "Person", "datasets": ["two"], "properties": {"name": ["Rui Costa"]}}',
    ]
    lists = parse_watchlist(lines, "file", by_dataset=True)
    assert {w.name: [e.id for e in w.entities] for w in lists} == {"one": ["a"], "two": ["b"]}
    assert lists[0].version != lists[1].version


# -- names: each kind of variation ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "entity_id"),
    [
        ("Ivan Sergeyevich Petrov", "wp-001"),  # as listed
        ("IVAN SERGEYEVICH PETROV", "wp-001"),  # case
        ("Иван Сергеевич Петров", "wp-001"),  # Cyrillic
        ("Ivan Sergeevich Petrov", "wp-001"),  # another transliteration
        ("PETROV, Ivan Sergeyevich", "wp-001"),  # family name first, with a comma
        ("Petrov Ivan Sergeyevich", "wp-001"),  # family name first, no comma
        ("Ivan Petrov", "wp-001"),  # middle name missing
        ("Ivan Sergeyevich Petorv", "wp-001"),  # typo: two letters swapped
        ("Ivan Sergeyevich Petrof", "wp-001"),  # phonetic respelling
        ("Colonel Ivan Sergeyevich Petrov", "wp-001"),  # title
        ("محمد حسن التميمي", "wp-002"),  # Arabic script
        ("Muhammad Hasan Al-Tamimi", "wp-002"),  # other Latin spellings
        ("Mohammed Hassan Tamimi", "wp-002"),  # article dropped
        ("Sheikh Mohamed Hassan al Tamimi", "wp-002"),  # honorific and spelling
        ("Maria Fernandez Quiroga", "wp-003"),  # accents dropped
        ("María Fernández", "wp-003"),  # second surname dropped
        ("王小明", "wp-004"),  # Han characters
        ("Xiaoming Wang", "wp-004"),  # given name first
        ("Wang Xiao Ming", "wp-004"),  # syllables written apart
        ("Chukwuemeka Okonkwo", "wp-005"),  # middle name missing
        ("Chukwuemeka Obinna Okonkow", "wp-005"),  # typo
        ("John Edward Smyth", "wp-006"),  # phonetic
    ],
)
def test_a_listed_person_is_found_under_a_varied_name(screener: Screener, name: str, entity_id: str) -> None:
    """Transliteration, case, accents, order, missing middle names, typos, phonetic spelling
    and titles do not hide a listed person."""
    assert person(screener, name).get(entity_id, 0) >= DEFAULT_THRESHOLD


@pytest.mark.parametrize(
    "name",
    [
        "Sergei Petrov",  # shares the surname only
        "Ivan Sokolov",  # shares the given name only
        "Jane Smith",  # a common surname
        "Mary Edward Smith",  # two of three parts, the given name differs
        "Ahmed Hassan Al-Masri",  # shares a common given name only
        "Wang Xiaolong",  # shares the family name
        "Maria Gonzalez",  # shares a common given name
    ],
)
def test_namesakes_sharing_common_parts_are_not_matched(screener: Screener, name: str) -> None:
    """Different people who share a given name or a surname with a listed person are not matches."""
    assert person(screener, name) == {}


def test_a_different_birth_date_clearly_lowers_the_score(screener: Screener) -> None:
    """The same name with another birth year is a namesake: it falls under the threshold."""
    same = person(screener, "John Edward Smith", birth_date="1968-04-12")["wp-006"]
    assert same == 1.0
    assert person(screener, "John Edward Smith").get("wp-006") == 1.0
    assert "wp-006" not in person(screener, "John Edward Smith", birth_date="1990-01-01")
    mismatched = screener.screen_person(["John Edward Smith"], birth_date="1990-01-01", threshold=0.0)
    assert mismatched[0].score <= 0.7 and "birth date differs" in mismatched[0].explanation


def test_birth_dates_corroborate_exactly_partially_or_transposed(screener: Screener) -> None:
    """An exact date raises a weak name match above the threshold; a year-only listing agrees
    with any date of that year; swapped day and month or transposed year digits do not count
    against a match."""
    weak = "Ivan Sergeyev Petrov"  # middle name misspelt beyond a typo
    without = screener.screen_person([weak], threshold=0.0)[0].score
    with_date = screener.screen_person([weak], birth_date="1971-03-02", threshold=0.0)[0].score
    assert with_date > without
    assert person(screener, "Mohammed Hassan Al-Tamimi", birth_date="1980-06-30")["wp-002"] == 1.0
    assert person(screener, "Ivan Sergeyevich Petrov", birth_date="1971-02-03")["wp-001"] == 1.0
    assert person(screener, "Ivan Sergeyevich Petrov", birth_date="1917-03-02")["wp-001"] == 1.0
    assert "wp-001" not in person(screener, "Ivan Petrov", birth_date="1975-03-02")


def test_nationality_moves_the_score_both_ways(screener: Screener) -> None:
    """A listed nationality (alpha-3 or alpha-2) adds a little; another one takes a little off."""
    base = screener.screen_person(["Ivan Petrov"], threshold=0.0)[0].score
    agrees = screener.screen_person(["Ivan Petrov"], nationality="RUS", threshold=0.0)[0].score
    alpha2 = screener.screen_person(["Ivan Petrov"], nationality="ru", threshold=0.0)[0].score
    differs = screener.screen_person(["Ivan Petrov"], nationality="FRA", threshold=0.0)[0].score
    assert differs < base < agrees == alpha2


def test_several_names_of_one_traveller_are_screened_together(screener: Screener) -> None:
    """The best of the traveller's names (API and PNR spellings) decides, once per listed person."""
    matches = screener.screen_person(["I PETROV", "Ivan Sergeyevich Petrov"])
    assert [m.entity_id for m in matches] == ["wp-001"] and matches[0].score == 1.0


# -- identifiers ----------------------------------------------------------------------


def test_a_lost_or_stolen_document_matches_by_number_alone(screener: Screener) -> None:
    """A listed document number matches exactly after normalisation, whatever the name."""
    matches = screener.screen_person(["Somebody Else"], document_number="x 123-4567")
    assert [(m.entity_id, m.list, m.score) for m in matches] == [("ld-001", "documents", 1.0)]
    assert "document number exact" in matches[0].explanation
    assert screener.screen_person(["Somebody Else"], document_number="X1234568") == []


def test_a_document_linked_to_its_holder_flags_the_holder(screener: Screener) -> None:
    """A document whose holder is listed flags the holder too, and its own number on a person counts."""
    found = person(screener, "Unrelated Name", document_number="ID-55-00912")
    assert found["ld-002"] == 1.0 and found["wp-005"] >= 0.95
    assert person(screener, "Nobody Known", document_number="721234567")["wp-001"] >= 0.95


def test_vessels_match_on_imo_and_mmsi_exactly_and_on_names_fuzzily(screener: Screener) -> None:
    """IMO (with or without its prefix) and MMSI match exactly; a renamed ship is still found
    by number; names match fuzzily; a different IMO number is another ship."""
    assert [m.entity_id for m in screener.screen_vessel(imo="IMO 9387425")] == ["sx-200"]
    assert [m.entity_id for m in screener.screen_vessel(name="Renamed Totally", imo=9387425)] == ["sx-200"]
    assert [m.entity_id for m in screener.screen_vessel(mmsi="351234000")] == ["sx-200"]
    assert screener.screen_vessel(imo="9387426") == []
    assert [m.entity_id for m in screener.screen_vessel(name="M/V Ocean Harmonie")] == ["sx-200"]
    assert [m.entity_id for m in screener.screen_vessel(name="SEA PEARL")] == ["sx-200"]
    assert screener.screen_vessel(name="Ocean Harmony", imo="9123453")[0].entity_id == "sx-201"
    assert "sx-200" not in {m.entity_id for m in screener.screen_vessel(name="Ocean Harmony", imo="9123453")}


def test_organisations_match_without_legal_forms_and_by_registration_number(screener: Screener) -> None:
    """Legal forms do not count; a registration number matches exactly; Cyrillic aliases work."""
    assert screener.screen_organisation("Blue Meridian Shipping Ltd")[0].entity_id == "sx-100"
    by_number = screener.screen_organisation("Nothing Alike", registration_number="dmcc 88123")
    assert by_number[0].entity_id == "sx-100"
    assert screener.screen_organisation("Северная Звезда")[0].entity_id == "sx-101"
    assert screener.screen_organisation("Blue Ocean Shipping") == []


# -- results -------------------------------------------------------------------------


def test_explanations_name_the_listed_parts_but_nothing_of_the_traveller(screener: Screener) -> None:
    """The explanation says how each listed part matched; the screened birth date, document
    number and the traveller's own spelling are not in it."""
    match = screener.screen_person(["Ivan Petorv"], birth_date="1971-03-02", nationality="RUS",
                                   document_number="72 1234567")[0]
    assert match.entity_id == "wp-001" and match.list == "wanted"
    assert "PETROV fuzzy" in match.explanation and "IVAN exact" in match.explanation
    assert "SERGEYEVICH not in the name screened" in match.explanation
    assert "birth date exact" in match.explanation and "document number exact" in match.explanation
    for private in ("1971", "PETORV", "Petorv", "1234567"):
        assert private not in match.explanation
    assert 0.0 <= match.score <= 1.0


def test_versions_are_recorded_on_every_match_and_screeners_are_swapped_whole() -> None:
    """Each match carries its list's version; a new list version is a new Screener, and the
    old one keeps answering with the old version."""
    line = {"id": "p1", "schema": "Person", "properties": {"name": ["Ana Maria Lima"]}}
    old = entity([line])
    new = Screener(parse_watchlist([orjson.dumps(line)], "test", "v2"))
    assert old.versions() == {"test": "v1"} and new.versions() == {"test": "v2"}
    assert old.screen_person(["Ana Lima"])[0].list_version == "v1"
    assert new.screen_person(["Ana Lima"])[0].list_version == "v2"
    with pytest.raises(dataclasses.FrozenInstanceError):
        old.screen_person(["Ana Lima"])[0].score = 0.0  # type: ignore[misc]


def test_a_weak_alias_alone_is_not_enough(screener: Screener) -> None:
    """A nickname marked weak scores under a full match, and under the threshold on its own."""
    assert "wp-005" not in person(screener, "Big Emeka")
    assert screener.screen_person(["Big Emeka"], threshold=0.0)[0].score < DEFAULT_THRESHOLD


# -- command line ----------------------------------------------------------------------


def test_screen_batch_writes_one_line_per_input(tmp_path: Path) -> None:
    """Batch mode writes {"id", "matches"} per input line, in order; bad lines are reported by
    number on standard error and skipped."""
    names = tmp_path / "names.jsonl"
    names.write_text(
        '{"id": "t1", "name": "Иван Петров", "birth_date": "1971-03-02"}\n'
        '{"id": "t2", "name": "Jane Doe"}\n'
        "not json\n"
        '{"id": "t4", "name": "Someone", "birth_date": "31/12/1970"}\n'
        '{"name": "no id"}\n'
        '{"id": "t6", "name": "Ocean Harmony", "kind": "vessel"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "results.jsonl"
    args = ["screen", "--names", str(names), "--out", str(out)]
    for path in LISTS:
        args += ["--watchlist", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["id"] for r in rows] == ["t1", "t2", "t6"]
    assert rows[0]["matches"][0]["entity_id"] == "wp-001" and rows[0]["matches"][0]["list"] == "wanted"
    assert set(rows[0]["matches"][0]) >= {"entity_id", "list", "score", "explanation", "list_version"}
    assert rows[1]["matches"] == []
    assert rows[2]["matches"][0]["entity_id"] == "sx-200"
    assert "line 3: invalid_json" in result.output
    assert 'line 4: "birth_date" is not a date' in result.output
    assert 'line 5: no "id"' in result.output
    assert "31/12/1970" not in result.output


def test_screen_quick_look_prints_matches_readably() -> None:
    """A name on the command line prints each match with its score, list and explanation."""
    result = runner.invoke(app, ["screen", "-w", str(LISTS[0]), "-w", str(LISTS[1]), "PETROV, Ivan"])
    assert result.exit_code == 0, result.output
    assert "wp-001" in result.output and "wanted" in result.output and "IVAN exact" in result.output
    nothing = runner.invoke(app, ["screen", "-w", str(LISTS[0]), "Jane Doe"])
    assert "no match" in nothing.output


def test_screen_threshold_option_changes_what_is_reported() -> None:
    """--threshold lowers or raises the bar from the default."""
    low = runner.invoke(app, ["screen", "-w", str(LISTS[0]), "--threshold", "0.6", "Ivan Sergeyevich Ivanov"])
    assert "wp-001" in low.output
    default = runner.invoke(app, ["screen", "-w", str(LISTS[0]), "Ivan Sergeyevich Ivanov"])
    assert "no match" in default.output
    high = runner.invoke(app, ["screen", "-w", str(LISTS[0]), "--threshold", "0.99", "Ivan Petrov"])
    assert "no match" in high.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["screen", "Ivan Petrov"], "--watchlist"),
        (["screen", "-w", "missing.jsonl", "Ivan Petrov"], "missing.jsonl"),
        (["screen", "-w", str(FIXTURES / "wanted.jsonl")], "--names"),
        (["screen", "-w", str(FIXTURES / "wanted.jsonl"), "--names", "absent.jsonl"], "absent.jsonl"),
    ],
)
def test_screen_errors_say_what_to_do(args: list[str], message: str) -> None:
    """A missing watchlist, no name, or an unreadable names file exit with a message that says so."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_screen_help_teaches_both_modes() -> None:
    """`gatehound screen --help` shows the batch and the quick-look usage and the threshold."""
    result = runner.invoke(app, ["screen", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("--names", "--watchlist", "--threshold", "Quick look", f"default {DEFAULT_THRESHOLD}"):
        assert text in result.output


# -- benchmark ---------------------------------------------------------------------------


def test_the_screening_benchmark_runs_small_and_reports_its_figures() -> None:
    """The benchmark at 1,000 entities returns speed, memory, recall and precision figures."""
    from engine.bench.screening import markdown, run_screening_bench

    report = run_screening_bench(sizes=(1_000,), variants=140, decoys=140)
    row = report["sizes"][0]
    assert row["entities"] == 1_000 and row["queries"] == 280
    for key in ("build_seconds", "memory_bytes_per_entity", "us_per_name", "us_per_name_warm",
                "names_per_second", "candidates_per_name", "recall", "precision", "precision_with_birth_date",
                "precision_without_birth_date", "precision_namesakes_aside", "false_positives_namesakes",
                "precision_ceiling_by_score",
                "recall_by_variant", "decoys_flagged"):
        assert key in row
    assert 0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0
    # Leaving namesakes aside can only remove false positives, never add them.
    assert row["precision_namesakes_aside"] is None or row["precision_namesakes_aside"] >= row["precision"]
    assert 0 <= row["false_positives_namesakes"] <= row["false_positives"]
    # The ceiling drops false positives only: it is never under the strict figure.
    assert row["precision_ceiling_by_score"] is None or row["precision_ceiling_by_score"] >= row["precision"]
    assert set(row["recall_by_variant"]) >= {"transliteration", "typo", "swapped_order", "honorific"}
    text = markdown(report)
    assert "| 1,000 |" in text and "namesakes of a variant's entry left aside" in text
    assert "most a score cut-off could give" in text and "compiled with mypyc" in text


def test_a_listed_entity_is_found_by_its_id_in_the_first_list_that_has_it() -> None:
    person = {"id": "x-1", "schema": "Person", "properties": {"name": ["A B"]}}
    vessel = {"id": "x-1", "schema": "Vessel", "properties": {"name": ["C"]}}
    first = parse_watchlist([orjson.dumps(person)], "first", "v1")
    second = parse_watchlist([orjson.dumps(vessel)], "second", "v1")
    both = Screener([*first, *second])
    found = both.entity("x-1")
    assert found is not None and found.list == "first" and found.schema == "Person"
    assert both.entity("x-2") is None
