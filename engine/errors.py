"""The error family of gatehound: one root, a retriable flag, and the dead-letter signal."""

from __future__ import annotations


class GatehoundError(Exception):
    """Root of every error gatehound raises on purpose."""

    #: True when trying the same thing again later may succeed.
    retriable: bool = False


class InvalidMessage(GatehoundError):
    """A message that cannot be taken: it goes to the dead-letter topic, not up the stack.

    ``reason`` is a short machine-readable code (``invalid_json``, ``invalid_schema``...);
    ``detail`` names the field and the problem but never the field's value, because the
    value may be personal data.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class ConfigError(GatehoundError):
    """Settings or a plug-in (rule, model) that cannot be used as given."""


class BrokerError(GatehoundError):
    """The Kafka broker could not be started, reached or set up."""

    retriable = True
