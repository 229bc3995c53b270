"""Take a changed settings file in without a restart: rules, typologies, scoring.

The file ``GATEHOUND_CONFIG_FILE`` names is checked every few seconds. When its bytes
change, the settings are built again (file, then the environment over it) and, if
they are valid, the hops take the reloadable parts (``RELOADABLE``: rule statuses and
configs, typologies, scoring thresholds) from their next batch. A change to anything
else (brokers, topics, the worker) is reported as needing a restart and left as it
was; a file that does not parse or validate is refused with the reason, and the
running configuration stays.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from engine.errors import ConfigError
from engine.settings import CONFIG_FILE_ENV, RELOADABLE, Settings


class ConfigWatch:
    """Notices a settings file's changes and builds the settings a running worker takes."""

    def __init__(self, current: Settings, path: Path | None = None) -> None:
        named = os.environ.get(CONFIG_FILE_ENV)
        self.path = path if path is not None else Path(named) if named else None
        self.current = current
        self._seen = self._fingerprint()

    def _fingerprint(self) -> str | None:
        if self.path is None:
            return None
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def check(self) -> tuple[Settings | None, list[str]]:
        """``(settings to take, sections that need a restart)`` when the file changed,
        ``(None, [])`` when it did not. ConfigError, with the reason, when the changed
        file is not valid (it is not looked at again until it changes again). Settings
        the hops took are the next ones compared against: ``taken``."""
        seen = self._fingerprint()
        if seen is None or seen == self._seen:
            return None, []
        self._seen = seen
        try:
            fresh = Settings()
        except (ConfigError, ValueError) as exc:
            raise ConfigError(f"{self.path}: not taken, the running configuration stays: {exc}") from None
        fixed = [name for name in type(fresh).model_fields
                 if name not in RELOADABLE and getattr(fresh, name) != getattr(self.current, name)]
        return self.current.model_copy(update={name: getattr(fresh, name) for name in RELOADABLE}), fixed

    def taken(self, settings: Settings) -> None:
        """The hops run with these settings now."""
        self.current = settings
