"""Names are made comparable the same way on both sides, and tokens compare by how they differ."""

from __future__ import annotations

import pytest

from engine.screen.index import NameIndex
from engine.screen.names import compare_tokens, identifier_key, imo_key, normalise_name, skeleton


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Jürgen Müßig", ("jurgen", "mussig")),  # accents and ß
        ("O'NEIL, Seán", ("sean", "oneil")),  # apostrophe joins, comma puts the family name last
        ("Dr. Jean-Pierre Dupont", ("jean", "pierre", "dupont")),  # title dropped, hyphen splits
        ("Mr Smith", ("mr", "smith")),  # a title is kept when dropping it would leave one part
        ("Don Smith", ("don", "smith")),
        ("Сергей Иванов", ("sergey", "ivanov")),  # Cyrillic
        ("王小明", ("wang", "xiao", "ming")),  # one token per Han syllable
        ("عمر محمد", ("mr", "mhmd")),  # Arabic: Omar is not the title "mr"
    ],
)
def test_names_are_normalised(text: str, tokens: tuple[str, ...]) -> None:
    """Script, case, accents, punctuation and titles are folded away; the parts stay in order."""
    assert normalise_name(text).tokens == tokens


def test_organisation_and_vessel_names_lose_legal_forms_and_hull_prefixes() -> None:
    """LLC, OOO, GmbH and MV, MT are not part of what a company or ship is called."""
    company = normalise_name("Blue Meridian Shipping LLC", "organisation")
    assert company.tokens == ("blue", "meridian", "shipping")
    assert normalise_name("ООО Ромашка", "organisation").tokens == ("romashka",)
    assert normalise_name("M/V Ocean Harmony", "vessel").tokens == ("ocean", "harmony")


@pytest.mark.parametrize(
    ("query", "listed", "how"),
    [
        ("petrov", "petrov", "exact"),
        ("petorv", "petrov", "fuzzy"),  # two letters swapped
        ("petrv", "petrov", "fuzzy"),  # a letter missing
        ("sergei", "sergey", "fuzzy"),
        ("alexei", "aleksey", "phonetic"),
        ("youssef", "yusuf", "phonetic"),
        ("mhmd", "mohammed", "transliteration"),  # Arabic script, no vowels
        ("j", "john", "initial"),
    ],
)
def test_tokens_match_by_kind(query: str, listed: str, how: str) -> None:
    """Each kind of difference is recognised and named."""
    similarity, found = compare_tokens(query, listed)
    assert found == how and similarity >= (0.7 if how == "initial" else 0.8)


@pytest.mark.parametrize(
    ("query", "listed"),
    [("mahmoud", "mohammed"), ("ivanov", "ivanenko"), ("john", "juan"), ("smith", "schmitz"), ("li", "lu")],
)
def test_different_names_do_not_match(query: str, listed: str) -> None:
    """Names that only look alike are no match at all."""
    assert compare_tokens(query, listed) == (0.0, "none")


def test_identifiers_are_compared_in_one_form() -> None:
    """Document numbers lose spaces, dashes and case; IMO numbers their prefix."""
    assert identifier_key("ab 12-34 56") == identifier_key("AB123456") == "AB123456"
    assert imo_key("IMO 9387425") == imo_key("9387425") == "9387425"
    assert skeleton("hussein") == skeleton("hsyn") == "hsn"


def test_the_index_compares_only_a_few_candidates() -> None:
    """Blocking: a query meets the names sharing two of its parts, not the whole list."""
    names = [(i, f"Given{i:03d} Surname{i % 50:03d}", False) for i in range(2_000)]
    names.append((9_999, "Ivan Sergeyevich Petrov", False))
    index = NameIndex(names, "person")
    candidates = index.candidates(normalise_name("Petrov Ivan"))
    assert len(candidates) <= 3
    hits = index.search("Petrov Ivan", 0.8)
    assert [h.owner for h in hits] == [9_999]
