"""Names are made comparable the same way on both sides, and tokens compare by how they differ."""

from __future__ import annotations

import pytest

from engine.screen.index import NameIndex, other_name
from engine.screen.names import (
    compare_tokens,
    identifier_key,
    imo_key,
    is_syllable_chain,
    normalise_name,
    skeleton,
)


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
        ("Abdulrahman Al-Sayed", ("abdulrahman", "al", "sayed")),  # a title word inside: a name part
        ("Sheikh Khalid Sheikh Mohammed", ("khalid", "sheikh", "mohammed")),  # only the one in front goes
        ("Martin Luther King Jr", ("martin", "luther", "king")),  # a post-nominal goes
        ("Monsieur Pierre Mercier", ("pierre", "mercier")),
        ("Сергій Петрович Зінченко", ("serhii", "petrovych", "zinchenko")),  # Ukrainian rules: Г is H
        ("Юлія Ярова", ("yuliia", "yarova")),
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
        ("joh", "john", "fuzzy"),  # a short part with its last letter lost
        ("mustaf", "mustafa", "fuzzy"),  # a lost final a is not a feminine form
        ("iuliia", "yuliya", "phonetic"),  # passports' (ICAO) spelling of Russian names
    ],
)
def test_tokens_match_by_kind(query: str, listed: str, how: str) -> None:
    """Each kind of difference is recognised and named."""
    similarity, found = compare_tokens(query, listed)
    assert found == how and similarity >= (0.7 if how == "initial" else 0.8)


@pytest.mark.parametrize(
    ("query", "listed"),
    [("mahmoud", "mohammed"), ("ivanov", "ivanenko"), ("john", "juan"), ("smith", "schmitz"), ("li", "lu"),
     ("ivanova", "ivanov"), ("petrov", "petrova"), ("alessandra", "alessandro"),  # feminine forms
     ("ali", "alia"), ("jon", "john")],
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


@pytest.mark.parametrize(
    ("query", "listed", "other"),
    [
        ("juan", "juana", True),  # one letter: another name
        ("chen", "cheng", True),
        ("ivanova", "ivanov", True),  # feminine form
        ("hussein", "hussain", False),  # vowels differ: a spelling
        ("aleksandr", "alexander", False),  # sounds one apart: a spelling
    ],
)
def test_a_listed_token_meets_other_listed_tokens_only_by_sound(query: str, listed: str, other: bool) -> None:
    """When both tokens are names on the list, a letter apart is another name; a sound apart is not."""
    assert other_name(query, listed) is other


def test_a_query_token_that_is_a_listed_name_is_not_read_as_a_typo() -> None:
    """'Juan' is listed in its own right, so it does not match 'Juana'; a real typo still does."""
    index = NameIndex([(1, "Juana Zambrano Flores", False), (2, "Juan Perez", False)], "person")
    assert [h.owner for h in index.search("Juan Zambrano Flores", 0.84)] == []
    assert [h.owner for h in index.search("Juanna Zambrano Flores", 0.84)] == [1]


def test_syllable_names_differ_by_a_vowel() -> None:
    """In Pinyin a changed vowel is another syllable: Na Lu is not Na Luo; other spellings still meet."""
    assert is_syllable_chain("xiaoming") and is_syllable_chain("luo") and not is_syllable_chain("petrov")
    index = NameIndex([(1, "Na Luo", False), (2, "Aleksey Haddad", False)], "person")
    assert index.search("Na Lu", 0.84) == []
    assert [h.owner for h in index.search("Alexei Haddad", 0.84)] == [2]


def test_an_extra_part_in_the_name_screened_costs_in_full() -> None:
    """A listed middle name may be left out; a part the listed name lacks names someone else."""
    shorter = NameIndex([(1, "Aminu Bolamide", False)], "person")
    assert shorter.search("Aminu Khady Bolamide", 0.84) == []
    longer = NameIndex([(1, "Aminu Khady Bolamide", False)], "person")
    assert [h.owner for h in longer.search("Aminu Bolamide", 0.84)] == [1]


def test_names_sharing_two_parts_of_four_are_not_candidates() -> None:
    """Counting pair blocks: a four-part query needs three shared parts to reach 0.84."""
    names = [(i, f"Mohammed Hassan Name{i} Family{i}", False) for i in range(6)]
    names.append((99, "Mohammed Hassan Ali Al-Masri", False))
    index = NameIndex(names, "person")
    query = normalise_name("Mohammed Hassan Ali Al-Masri")
    assert len(index.candidates(query, 0.0)) == 7  # with no floor every name sharing a pair
    found = index.candidates(query, 0.84)
    assert [index.search("Mohammed Hassan Ali Al-Masri", 0.84)[0].owner] == [99]
    assert len(found) == 1


def test_a_part_written_as_one_by_some_names_and_apart_by_others_is_still_a_name_part() -> None:
    """'Abdulrahman' as one word meets its typos even when another name writes 'Abdul Rahman'."""
    index = NameIndex([(1, "Abdul Rahman Saleh", False), (2, "Abdulrahman Khalid", False)], "person")
    assert [h.owner for h in index.search("Abdulrahmam Khalid", 0.84)] == [2]
    assert [h.owner for h in index.search("Abdulrahman Saleh", 0.84)] == [1]  # and still meets the two


def test_dotted_legal_forms_are_dropped_like_written_ones() -> None:
    """'L.L.C.' is 'LLC'; 'M/V' is 'MV'."""
    assert normalise_name("EXAMPLE TRADING L.L.C.", "organisation").tokens == ("example", "trading")
    assert normalise_name("M/V Ocean Harmony", "vessel").tokens == ("ocean", "harmony")


def test_what_the_other_facts_do_to_an_owner_counts_before_the_name_is_scored() -> None:
    """A name kept for its score alone is dropped when its owner's facts take it under the floor."""
    index = NameIndex([(owner, "Ivan Sergeyevich Petrov", False) for owner in (1, 2)], "person")
    assert {h.owner for h in index.scores("Ivan Petrov", 0.84)} == {1, 2}
    kept = index.scores("Ivan Petrov", 0.84, lift=lambda owner: -0.3 if owner == 2 else 0.08, most=0.08)
    assert [h.owner for h in kept] == [1]


def test_a_letter_written_apart_meets_the_name_it_begins() -> None:
    """O SULLIVAN (an apostrophe lost on the way) is O'SULLIVAN; ALSAYED is AL-SAYED."""
    index = NameIndex([(1, "Siobhan O'Sullivan", False), (2, "Abdulrahman Al-Sayed", False)], "person")
    assert [h.owner for h in index.search("Siobhan O Sullivan", 0.84)] == [1]
    assert [h.owner for h in index.search("Abdulrahman Alsayed", 0.84)] == [2]


def test_a_part_cut_short_as_passports_cut_long_names_still_aligns() -> None:
    """VLADIMIRO is VLADIMIROVNA cut short (explained as such) and still lets a three-part
    name through the index's count of shared parts; a stub of a third of the part does not."""
    index = NameIndex([(1, "Galina Vladimirovna Tikhonova", False),
                       (2, "Christopher Alexander Montgomery-Wellington", False)], "person")
    [hit] = index.search("Galina Vladimiro Tikhonova", 0.84)
    assert hit.owner == 1 and "VLADIMIROVNA truncated" in hit.explain()
    assert [h.owner for h in index.search("CHRISTOPHER ALEXANDER MONTGOMERY WELLIN", 0.84)] == [2]
    assert index.search("Galina Vlad Tikhonova", 0.84) == []


def test_an_initial_and_a_name_part_find_the_listed_name_they_may_be() -> None:
    """M. KARIMI is a candidate for MAHMOUD KARIMI (the index files names under their first
    name's initial with each other part), scored with the initial's weight; A. KARIMI is not."""
    index = NameIndex([(1, "Mahmoud Karimi", False), (2, "Brigitte Monika Richter", False)], "person")
    [hit] = index.search("M. Karimi", 0.84)
    assert hit.owner == 1 and "MAHMOUD initial" in hit.explain()
    assert index.search("A. Karimi", 0.5) == []
    assert [h.owner for h in index.search("B. M. Richter", 0.8)] == [2]
