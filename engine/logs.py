"""One log configuration for gatehound, Faust and aiokafka: structlog events, JSON lines.

Our code logs events with fields (``log.info("alert.emitted", alert_id=...)``);
stdlib loggers used by Faust, mode and aiokafka are routed through the same
formatter so an SRE reads one format. Never log personal data: ids only.
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]

# Faust and aiokafka are chatty at INFO about routine rebalances; one level up
# keeps their warnings and errors without drowning our own events.
_QUIET_LIBRARIES = ("faust", "mode", "aiokafka", "kafka")


def logging_dict_config(level: str = "info", fmt: str = "json") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for our format; handed to Faust's Worker too."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    lib_level = "WARNING" if level.upper() in ("DEBUG", "INFO") else level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "gatehound": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    renderer,
                ],
                "foreign_pre_chain": _SHARED,
            }
        },
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "gatehound",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            name: {"level": lib_level, "propagate": True} for name in _QUIET_LIBRARIES
        },
    }


def configure_logging(level: str = "info", fmt: str = "json") -> None:
    """Configure structlog and the stdlib root logger once, for the whole process."""
    logging.config.dictConfig(logging_dict_config(level, fmt))
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    logging.captureWarnings(True)


def get_logger(name: str) -> Any:
    """A structlog logger bound to a module name."""
    return structlog.get_logger(name)
