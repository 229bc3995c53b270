"""Reading the ``links`` topic whole, for ``gatehound network``."""

from __future__ import annotations

from pydantic import ValidationError

from engine.broker import read_to_end
from engine.settings import Settings
from schemas.link import Link


async def read_links(settings: Settings) -> list[Link]:
    """Every Link on the topic, from the start to its end (records that do not parse are
    skipped: the link hop dead-letters them)."""
    links: list[Link] = []
    for r in await read_to_end(settings.kafka.bootstrap_servers, settings.topics.name("links")):
        try:
            links.append(Link.model_validate_json(r.value or b""))
        except ValidationError:
            continue
    return links
