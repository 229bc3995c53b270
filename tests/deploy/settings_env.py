"""Whether an environment variable set in deploy/ is one the engine reads. Settings ignores
unknown GATEHOUND_* variables, so a typo there would silently leave a default in place.

>>> names_a_setting("GATEHOUND_WORKER__METRICS_PORT"), names_a_setting("GATEHOUND_WORKER__METRIC_PORT")
(True, False)
"""

from __future__ import annotations

from typing import get_origin

from pydantic import BaseModel

from engine.settings import CONFIG_FILE_ENV, Settings

PREFIX = "GATEHOUND_"


def names_a_setting(variable: str) -> bool:
    """True when a GATEHOUND_* variable is a field path of Settings (A__B__C), or the settings
    file variable. Below a mapping setting (rules, typologies) any key is taken."""
    if variable == CONFIG_FILE_ENV:
        return True
    if not variable.startswith(PREFIX):
        return False
    model: type[BaseModel] = Settings
    parts = variable.removeprefix(PREFIX).lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        if i == len(parts) - 1:
            return True
        kind = field.annotation
        if get_origin(kind) is dict:
            return True
        if not (isinstance(kind, type) and issubclass(kind, BaseModel)):
            return False
        model = kind
    return False
