"""Watchlist screening: FollowTheMoney lists in, scored and explained matches out.

- :mod:`engine.screen.watchlist` reads FtM JSON lines into typed entries
  (people, organisations, vessels, documents) in named, versioned lists;
- :mod:`engine.screen.names` makes names comparable (transliteration, case,
  accents, titles) and compares two name tokens;
- :mod:`engine.screen.index` finds the few listed names worth comparing
  (token expansion and pair blocking) and scores them;
- :mod:`engine.screen.screener` adds birth date, nationality and identifiers,
  and is what callers use::

      screener = Screener(load_watchlists(["sanctions.jsonl", "wanted.jsonl"]))
      screener.screen_person(["Ivan Petrov"], birth_date="1971-03-02", nationality="RUS")
      screener.screen_vessel(name="Ocean Star", imo="9123456")
      screener.versions()   # {"sanctions": "3f1c...", "wanted": "a07b..."}

The name comparison and the index run compiled when ``make install`` has built
them (:mod:`engine.screen.native`); ``NATIVE`` says whether they do, and why not.
"""

from engine.screen.native import use_native

# Before the modules it may swap for their compiled build are imported.
NATIVE = use_native(__path__)

# ruff: noqa: E402 - the imports below come after the native switch
from engine.screen.index import NameHit, NameIndex
from engine.screen.screener import DEFAULT_THRESHOLD, Match, ScoringConfig, Screener, compare_birth_dates
from engine.screen.watchlist import (
    BadLine,
    ListedDocument,
    ListedEntity,
    ListedOrganisation,
    ListedPerson,
    ListedVessel,
    LoadReport,
    PartialDate,
    Watchlist,
    WatchlistError,
    load_watchlist,
    load_watchlists,
    parse_watchlist,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "NATIVE",
    "BadLine",
    "ListedDocument",
    "ListedEntity",
    "ListedOrganisation",
    "ListedPerson",
    "ListedVessel",
    "LoadReport",
    "Match",
    "NameHit",
    "NameIndex",
    "PartialDate",
    "ScoringConfig",
    "Screener",
    "Watchlist",
    "WatchlistError",
    "compare_birth_dates",
    "load_watchlist",
    "load_watchlists",
    "parse_watchlist",
]
