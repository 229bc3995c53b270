"""The embedded broker starts, answers, creates topics, refuses a taken port and stops."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from engine.broker import EmbeddedBroker, ensure_topics, metadata_ready
from engine.errors import BrokerError

pytestmark = pytest.mark.integration


def test_starts_answers_metadata_and_stops() -> None:
    """A started broker answers a metadata request; a stopped one does not."""
    broker = EmbeddedBroker().start()
    try:
        assert asyncio.run(metadata_ready(broker.bootstrap))
        created = asyncio.run(ensure_topics(broker.bootstrap, ["a.one", "a.two"], 3))
        assert sorted(created) == ["a.one", "a.two"]
        assert asyncio.run(ensure_topics(broker.bootstrap, ["a.one", "a.two"], 3)) == []
    finally:
        broker.stop()
    assert not asyncio.run(metadata_ready(broker.bootstrap, timeout_s=1.0))


def test_taken_port_is_a_clear_error() -> None:
    """Asking for a port someone listens on fails before starting, naming the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(BrokerError, match=f"port {port}"):
            EmbeddedBroker(port=port).start()


def test_missing_binary_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A broker binary that is not there is reported as such, not as a crash."""
    monkeypatch.setenv("CALF_TANSU_BIN", str(tmp_path / "no-such-tansu"))
    with pytest.raises(BrokerError, match="no embedded broker binary"):
        EmbeddedBroker().start()


def test_broker_does_not_outlive_stop() -> None:
    """After stop() the broker process is gone."""
    broker = EmbeddedBroker().start()
    assert broker.process is not None
    pid = broker.process.pid
    broker.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
