"""Every route of the ops centre against every role: each pair allowed or denied on
purpose, by the table below, and every denial written to the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from engine.ops.access import PUBLIC, check_every_route_guarded, route_action
from engine.ops.auth import PERMISSIONS, ROLES
from engine.ops.store import AuditRow
from tests.ops.conftest import OpsUnderTest, make_alert, take

OFFICER_ETC = {"officer", "supervisor", "rules_engineer"}
CASE_WORKERS = {"officer", "supervisor"}
OVERSIGHT = {"supervisor", "auditor"}
EVERYONE = set(ROLES)

#: (method, route) -> the roles that may use it. A route missing here fails the test.
MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/"): OFFICER_ETC,
    ("GET", "/feed/stream"): OFFICER_ETC,
    ("GET", "/alerts/{alert_id}"): OFFICER_ETC,
    ("POST", "/alerts/{alert_id}/reveal"): CASE_WORKERS,
    ("POST", "/cases/{case_id}/action"): CASE_WORKERS,
    ("POST", "/alerts/{alert_id}/outcome"): CASE_WORKERS,
    ("GET", "/search"): CASE_WORKERS,
    ("GET", "/cases/{case_id}/export"): {"supervisor"},
    ("GET", "/oversight/fairness"): OVERSIGHT,
    ("GET", "/oversight/audit"): OVERSIGHT,
    ("GET", "/oversight/misuse"): OVERSIGHT,
    ("GET", "/admin/users"): {"admin"},
    ("POST", "/admin/users"): {"admin"},
    ("POST", "/logout"): EVERYONE,
    ("GET", "/api/me"): EVERYONE,
    ("GET", "/api/alerts"): OFFICER_ETC,
    ("GET", "/api/alerts/{alert_id}"): OFFICER_ETC,
    ("POST", "/api/alerts/{alert_id}/reveal"): CASE_WORKERS,
    ("POST", "/api/cases/{case_id}/actions"): CASE_WORKERS,
    ("POST", "/api/alerts/{alert_id}/outcome"): CASE_WORKERS,
    ("GET", "/api/fairness"): OVERSIGHT,
    ("GET", "/api/audit/verify"): OVERSIGHT,
    ("GET", "/api/misuse"): OVERSIGHT,
    # Public on purpose: the login page, health and metrics for probes and Prometheus.
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/metrics"): EVERYONE,
}

PURPOSE = "checking the access matrix"


def _request(method: str, path: str, n: int) -> tuple[str, dict[str, Any]]:
    """A valid request to a route, on the fixture's alert n (each role its own alert, so
    one role's outcome does not refuse the next role's)."""
    url = path.replace("{alert_id}", f"alert-passenger-{n}").replace("{case_id}", f"case-{n}")
    body: dict[str, dict[str, Any]] = {
        "/alerts/{alert_id}/reveal": {"data": {"purpose": PURPOSE}},
        "/cases/{case_id}/action": {"data": {"action": "acknowledge", "alert_id": f"alert-passenger-{n}"}},
        "/alerts/{alert_id}/outcome": {"data": {"result": "nothing_found"}},
        "/admin/users": {"data": {"name": f"new{n}", "role": "officer", "password": "another long password"}},
        "/login": {"data": {"name": "nobody", "password": "x"}},
        "/api/alerts/{alert_id}/reveal": {"json": {"purpose": PURPOSE}},
        "/api/cases/{case_id}/actions": {"json": {"action": "acknowledge"}},
        "/api/alerts/{alert_id}/outcome": {"json": {"result": "nothing_found"}},
    }
    kwargs = dict(body.get(path, {}))
    if path == "/search":
        url += f"?q=example&purpose={PURPOSE.replace(' ', '+')}"
    if path == "/cases/{case_id}/export":
        url += f"?purpose={PURPOSE.replace(' ', '+')}&recipient=partner+agency"
    if path == "/feed/stream":
        url += "?after=999999"
    return url, kwargs


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted((m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods - {"HEAD"})


def test_the_matrix_names_every_route(ops: OpsUnderTest) -> None:
    """A route added without a decision here fails: access is decided on purpose."""
    assert set(_routes(ops.client.app)) == set(MATRIX)  # type: ignore[arg-type]


def test_the_matrix_agrees_with_the_permissions(ops: OpsUnderTest) -> None:
    """Each guarded route's action grants exactly the roles the matrix gives it."""
    for route in ops.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, APIRoute):
            action = route_action(route)
            for method in route.methods - {"HEAD"}:
                granted = PERMISSIONS[action] if action else EVERYONE
                assert MATRIX[(method, route.path)] == granted, (method, route.path)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_each_role_reaches_what_the_matrix_allows_and_no_more(ops: OpsUnderTest, role: str) -> None:
    """Every route answered for the role as the matrix says: allowed routes do not say
    401 or 403, denied ones do (or send an anonymous user to log in), and each denial
    to a logged-in user leaves an audit record."""
    n = 1 + ROLES.index(role) if role in ROLES else 1
    take(ops.store, ops.settings, [make_alert(i) for i in range(4, 7)], offset=100)
    if role in ROLES:
        csrf = ops.login(role)
        headers = {"x-csrf-token": csrf}
    else:
        csrf, headers = "", {}
    if role == "officer":  # an officer sees personal data on their own cases only
        sup = OpsUnderTest(ops.settings, ops.store, ops.client, ops.users)
        sup_csrf = sup.login("supervisor")
        r = ops.client.post(
            f"/api/cases/case-{n}/actions",
            json={"action": "assign", "assignee_id": ops.users["officer"].id},
            headers={"x-csrf-token": sup_csrf},
        )
        assert r.status_code == 204, r.text
        csrf = ops.login(role)
        headers = {"x-csrf-token": csrf}
    for method, path in MATRIX:
        allowed = role in MATRIX[(method, path)] or path in PUBLIC
        if path == "/logout" or (path == "/feed/stream" and allowed):
            # Logging out would end the test's session; an allowed stream never ends (the
            # broker tests read it on a real server).
            continue
        url, kwargs = _request(method, path, n)
        if "data" in kwargs:
            kwargs["data"] = {**kwargs["data"], "csrf": csrf}
        before = _denials(ops)
        r = ops.client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
        if role == "anonymous" and not allowed:
            assert r.status_code in (303, 401), (method, path, r.status_code)
        elif allowed:
            assert r.status_code not in (401, 403), (method, path, r.status_code, r.text[:200])
        else:
            assert r.status_code == 403, (method, path, r.status_code)
            assert _denials(ops) == before + 1, (method, path)


def test_a_post_without_the_csrf_token_is_refused_and_audited(ops: OpsUnderTest) -> None:
    """A logged-in supervisor's POST without its CSRF token is refused, and audited."""
    ops.login("supervisor")
    before = _denials(ops)
    r = ops.client.post("/api/cases/case-1/actions", json={"action": "acknowledge"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert _denials(ops) == before + 1


def test_an_unguarded_route_stops_the_app_from_starting(ops: OpsUnderTest) -> None:
    """Deny by default: a route that names no action is refused at start-up."""
    app = ops.client.app
    assert isinstance(app, FastAPI)

    @app.get("/forgotten")
    def forgotten() -> str:
        return "oops"

    with pytest.raises(RuntimeError, match="/forgotten"):
        check_every_route_guarded(app)
    assert "/forgotten" not in PUBLIC


def _denials(ops: OpsUnderTest) -> int:
    with ops.store.session() as s:
        return len(list(s.scalars(select(AuditRow.seq).where(AuditRow.allowed.is_(False)))))
