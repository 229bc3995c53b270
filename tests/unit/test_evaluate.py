"""Scoring a run against ground truth: recall per kind, alert precision."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.evaluate import BadInput, evaluate, read_jsonl, render

TRUTH = [
    {"case_id": "c1", "kind": "courier_network", "expect": [
        {"mode": "passenger", "event_id": "p1"}, {"mode": "passenger", "event_id": "p2"}]},
    {"case_id": "c2", "kind": "courier_network", "expect": [{"mode": "passenger", "event_id": "p3"}]},
    {"case_id": "c3", "kind": "ais_gap", "expect": [{"mode": "vessel", "key": "mmsi:235000001"}]},
    {"case_id": "c4", "kind": "cross_mode_link", "expect": []},
]


def alert(alert_id: str, event_id: str, key: str | None = None) -> dict[str, str]:
    return {"alert_id": alert_id, "event_id": event_id, "key": key or event_id}


def test_recall_per_kind_and_precision() -> None:
    """One alert on either traveller detects c1; a vessel alert matches by key; an alert on
    nothing planted is a false one; a case nobody could flag counts as missed."""
    result = evaluate(TRUTH, [
        alert("a1", "p2"),
        alert("a2", "v9", "mmsi:235000001"),
        alert("a3", "x1"),
    ])
    got = result.as_dict()
    assert got["kinds"] == {
        "ais_gap": {"cases": 1, "detected": 1, "recall": 1.0},
        "courier_network": {"cases": 2, "detected": 1, "recall": 0.5},
        "cross_mode_link": {"cases": 1, "detected": 0, "recall": 0.0},
    }
    assert (got["alerts"], got["true_alerts"], got["precision"]) == (3, 2, 0.6667)


def test_repeated_alerts_count_once() -> None:
    """A replay's duplicate of an alert (same alert_id) changes nothing."""
    once = evaluate(TRUTH, [alert("a1", "p1"), alert("a3", "x1")])
    twice = evaluate(TRUTH, [alert("a1", "p1"), alert("a1", "p1"), alert("a3", "x1")])
    assert once.as_dict() == twice.as_dict()


def test_no_alerts_is_zero_not_an_error() -> None:
    """A run that alerted on nothing: recall 0 everywhere, precision 0."""
    result = evaluate(TRUTH, [])
    assert result.precision == 0.0 and all(k.recall == 0.0 for k in result.kinds.values())
    assert "precision: 0.0%" in render(result)


def test_render_has_a_row_per_kind() -> None:
    """The table names every kind with its figures."""
    text = render(evaluate(TRUTH, [alert("a1", "p1")]))
    assert "courier_network" in text and "50.0%" in text and "ais_gap" in text


def test_bad_files_are_named_with_the_line(tmp_path: Path) -> None:
    """A line that is not JSON, or alerts without ids, say so."""
    path = tmp_path / "t.jsonl"
    path.write_text('{"kind": "x", "expect": []}\nnot json\n')
    with pytest.raises(BadInput, match="t.jsonl:2"):
        read_jsonl(path, "truth cases")
    with pytest.raises(BadInput, match="alert_id"):
        evaluate(TRUTH, [{"event_id": "p1"}])
    with pytest.raises(BadInput, match="kind"):
        evaluate([{"expect": []}], [])
