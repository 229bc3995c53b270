"""What officers and supervisors get from the ops centre: masked alerts, reveals for a
purpose, filters, case steps, outcomes, exports; and what the audit log keeps of it."""

from __future__ import annotations

from sqlalchemy import select
from typer.testing import CliRunner

from engine.cli import app as cli
from engine.ops.store import AuditRow, CaseEventRow
from tests.ops.conftest import OpsUnderTest, make_alert, take

PURPOSE = "preparing the examination at arrival"


def _audit(ops: OpsUnderTest) -> list[AuditRow]:
    with ops.store.session() as s:
        return list(s.scalars(select(AuditRow).order_by(AuditRow.seq)))


def test_an_alert_is_masked_until_revealed_for_a_purpose(ops: OpsUnderTest) -> None:
    """The API masks the traveller's name and document; a reveal without a purpose is
    refused; with one it shows them and the audit record keeps the purpose and the ids,
    never the personal data."""
    csrf = ops.login("supervisor")
    masked = ops.client.get("/api/alerts/alert-passenger-1").json()
    assert masked["event"]["traveller"]["surname"] == "•••" and masked["event"]["document"]["number"] == "•••"
    assert masked["event"]["flight"]["arrival_airport"] == "LHR" and not masked["revealed"]
    assert ops.client.get("/alerts/alert-passenger-1").text.count("Example") == 0

    refused = ops.client.post(
        "/api/alerts/alert-passenger-1/reveal", json={"purpose": "x"}, headers={"x-csrf-token": csrf}
    )
    assert refused.status_code == 422 and "purpose" in str(refused.json()["detail"])
    shown = ops.client.post(
        "/api/alerts/alert-passenger-1/reveal", json={"purpose": PURPOSE}, headers={"x-csrf-token": csrf}
    ).json()
    assert shown["revealed"] and shown["event"]["traveller"]["surname"] == "Example"

    reveals = [r for r in _audit(ops) if r.action.startswith("reveal")]
    assert [(r.allowed, r.action, r.purpose) for r in reveals] == [(True, "reveal_unassigned", PURPOSE)]
    assert reveals[0].record_ids == ["alert-passenger-1", "case-1"]
    assert all("Example" not in str(vars(r)) for r in _audit(ops))


def test_an_officer_sees_personal_data_only_on_a_case_assigned_to_them(ops: OpsUnderTest) -> None:
    """An officer's reveal on someone else's case is refused; after taking it, allowed."""
    csrf = ops.login("officer")
    r = ops.client.post(
        "/api/alerts/alert-passenger-2/reveal", json={"purpose": PURPOSE}, headers={"x-csrf-token": csrf}
    )
    assert r.status_code == 403
    assert (
        ops.client.post(
            "/api/cases/case-2/actions", json={"action": "take"}, headers={"x-csrf-token": csrf}
        ).status_code
        == 204
    )
    r = ops.client.post(
        "/api/alerts/alert-passenger-2/reveal", json={"purpose": PURPOSE}, headers={"x-csrf-token": csrf}
    )
    assert r.status_code == 200 and r.json()["event"]["traveller"]["surname"] == "Sample"
    assert r.json()["assignee"] == "officer"


def test_a_refusal_inside_the_page_is_a_page_that_says_why(ops: OpsUnderTest) -> None:
    """A form posted in the background by htmx and refused gets the error page (which htmx
    swaps in), not JSON; the API keeps answering JSON."""
    csrf = ops.login("officer")
    r = ops.client.post("/alerts/alert-passenger-2/reveal", data={"purpose": PURPOSE, "csrf": csrf},
                        headers={"hx-request": "true"})
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    assert "officers see personal data only on cases assigned to them" in r.text
    api = ops.client.post("/api/alerts/alert-passenger-2/reveal", json={"purpose": PURPOSE},
                          headers={"x-csrf-token": csrf})
    assert api.status_code == 403 and api.json()["detail"].startswith("officers see")


def test_the_feed_filters_and_orders_by_priority(ops: OpsUnderTest) -> None:
    """Mode, severity, port, status and time to arrival each narrow the feed; the highest
    priority comes first."""
    take(ops.store, ops.settings, [make_alert(20, severity="low", arrival_h=30)], offset=50)
    ops.login("rules_engineer")

    def ids(**params: object) -> list[str]:
        return [a["alert_id"] for a in ops.client.get("/api/alerts", params=params).json()]

    assert ids()[0] == "alert-passenger-20" and len(ids()) == 5
    assert ids(mode="freight") == ["alert-freight-9"]
    assert ids(severity="low") == ["alert-passenger-20"]
    assert ids(port="GBFXT") == ["alert-freight-9"]
    assert "alert-passenger-20" not in ids(arriving_within_hours=24)
    assert ids(status="closed") == []


def test_case_steps_follow_the_case_and_are_in_its_history(ops: OpsUnderTest) -> None:
    """Acknowledge, escalate and close move every alert of the case and leave history;
    only supervisors assign to others; an unknown step is refused."""
    csrf = ops.login("officer")
    h = {"x-csrf-token": csrf}
    for step in ("acknowledge", "escalate"):
        assert (
            ops.client.post("/api/cases/case-1/actions", json={"action": step}, headers=h).status_code == 204
        )
    assert ops.client.get("/api/alerts/alert-passenger-1").json()["status"] == "escalated"
    assert (
        ops.client.post(
            "/api/cases/case-1/actions", json={"action": "assign", "assignee_id": "u-x"}, headers=h
        ).status_code
        == 403
    )
    assert (
        ops.client.post("/api/cases/case-1/actions", json={"action": "dance"}, headers=h).status_code == 422
    )
    with ops.store.session() as s:
        steps = list(s.scalars(select(CaseEventRow.action).where(CaseEventRow.case_id == "case-1")))
    assert steps == ["opened", "acknowledge", "escalate"]


def test_an_outcome_is_recorded_once(ops: OpsUnderTest) -> None:
    """The first outcome of an alert is stored and audited; a second is refused; a seizure
    without what was seized is refused."""
    csrf = ops.login("officer")
    h = {"x-csrf-token": csrf}
    bad = ops.client.post("/api/alerts/alert-passenger-1/outcome", json={"result": "seizure"}, headers=h)
    assert bad.status_code == 409
    ok = ops.client.post("/api/alerts/alert-passenger-1/outcome", json={"result": "nothing_found"}, headers=h)
    assert ok.status_code == 200 and ok.json()["recorded_by"] == ops.users["officer"].id
    again = ops.client.post("/api/alerts/alert-passenger-1/outcome", json={"result": "arrest"}, headers=h)
    assert again.status_code == 409
    assert [r.record_ids for r in _audit(ops) if r.action == "outcome"] == [["alert-passenger-1"]]


def test_searches_and_exports_are_audited_without_what_was_searched(ops: OpsUnderTest) -> None:
    """A search needs a purpose and records the alerts found, not the words; an export
    names its recipient and purpose in the audit log and carries the personal data."""
    ops.login("supervisor")
    assert "purpose" in ops.client.get("/search", params={"q": "Sample"}).text
    page = ops.client.get("/search", params={"q": "Sample", "purpose": PURPOSE})
    assert "alert-passenger-2" in page.text and "alert-passenger-1" not in page.text
    export = ops.client.get(
        "/cases/case-2/export", params={"purpose": PURPOSE, "recipient": "partner agency"}
    )
    assert (
        export.status_code == 200 and export.json()["alerts"][0]["event"]["traveller"]["surname"] == "Sample"
    )
    assert ops.client.get("/cases/case-2/export", params={"purpose": PURPOSE}).status_code == 422
    records = {r.action: r for r in _audit(ops) if r.allowed}
    assert records["search"].record_ids == ["alert-passenger-2"] and records["search"].purpose == PURPOSE
    assert "Sample" not in str(vars(records["search"]))
    assert records["export"].recipient == "partner agency" and records["export"].record_ids[0] == "case-2"


def test_users_add_reads_the_password_from_stdin(ops: OpsUnderTest) -> None:
    """`gatehound users add` makes an account that can log in; a short password is refused
    with exit code 2."""
    url = ops.settings.ops.database_url
    r = CliRunner().invoke(
        cli,
        ["users", "add", "nadia", "--role", "auditor", "--database", url],
        input="a long enough password\n",
    )
    assert r.exit_code == 0 and "added nadia (auditor)" in r.output
    r = CliRunner().invoke(
        cli, ["users", "add", "nina", "--role", "auditor", "--database", url], input="short\n"
    )
    assert r.exit_code == 2 and "12 characters" in r.output
    login = ops.client.post(
        "/login", data={"name": "nadia", "password": "a long enough password"}, follow_redirects=False
    )
    assert login.status_code == 303


def test_a_feed_position_past_what_a_database_holds_is_refused_not_a_server_error(ops: OpsUnderTest) -> None:
    """after_seq is a 64-bit sequence number: one more is a 422 (schemathesis found it was
    a 500), the largest is an empty page, and the live stream takes a forged resume point as none."""
    ops.login("officer")
    assert ops.client.get("/api/alerts", params={"after_seq": 2**63}).status_code == 422
    r = ops.client.get("/api/alerts", params={"after_seq": 2**63 - 1})
    assert r.status_code == 200 and r.json() == []
    assert ops.client.get("/feed/stream", params={"after": 2**63}).status_code == 422
