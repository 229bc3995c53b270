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
"""

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
