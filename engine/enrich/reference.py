"""Reference data: where airports are, what country codes mean, which places are high risk.

Country codes come from ``iso3166`` (MIT) and airports from ``airportsdata`` (MIT):
the runtime takes no copyleft code or data.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import airportsdata
import iso3166

from engine.settings import ReferenceSettings


@lru_cache(maxsize=1)
def _airports() -> dict[str, str]:
    """IATA airport code -> ISO alpha-2 country, from airportsdata (loaded once)."""
    return {code: info["country"] for code, info in airportsdata.load("IATA").items()}


@lru_cache(maxsize=1)
def _alpha3_to_alpha2() -> dict[str, str]:
    table = {c.alpha3: c.alpha2 for c in iso3166.countries}
    # ICAO 9303 document codes that are not ISO 3166 countries.
    table.update({"D": "DE", "GBD": "GB", "GBN": "GB", "GBO": "GB", "GBS": "GB", "UNO": "", "XXA": ""})
    return table


@lru_cache(maxsize=1)
def _alpha2() -> frozenset[str]:
    return frozenset(c.alpha2 for c in iso3166.countries)


class ReferenceData:
    """Lookups the enrich stage needs, built once per worker."""

    def __init__(self, settings: ReferenceSettings) -> None:
        self.high_risk_countries = frozenset(c.upper() for c in settings.high_risk_countries)
        self.high_risk_routes = frozenset(r.upper() for r in settings.high_risk_routes)
        self.airports = _airports()
        self.alpha3 = _alpha3_to_alpha2()
        self.alpha2 = _alpha2()

    def airport_country(self, iata: str) -> str | None:
        """ISO alpha-2 country of an IATA airport, or None when unknown."""
        return self.airports.get(iata)

    def country(self, code: str) -> str | None:
        """ISO alpha-2 for an alpha-2 or alpha-3 code, or None when not a country."""
        if len(code) == 2:
            return code if code in self.alpha2 else None
        return self.alpha3.get(code) or None

    def risky_countries(self, countries: Iterable[str]) -> tuple[str, ...]:
        """Those of the countries on the high-risk list, in order, once each."""
        return tuple(dict.fromkeys(c for c in countries if c in self.high_risk_countries))

    def risky_routes(self, origins: Iterable[str], destinations: Iterable[str]) -> tuple[str, ...]:
        """Configured FROM-TO routes matched by any origin and destination code."""
        if not self.high_risk_routes:
            return ()
        dests = list(destinations)
        pairs = (f"{o}-{d}" for o in origins for d in dests)
        return tuple(dict.fromkeys(p for p in pairs if p in self.high_risk_routes))
