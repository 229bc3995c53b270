"""`gatehound ops`: the operations centre web app.

Server-rendered pages (Jinja2), htmx for actions and a Server-Sent Events stream for
the live feed; a JSON API beside them under /api with its OpenAPI description at
/api/openapi.json. Every route but the login page, static files, /healthz and
/metrics names the action it takes (engine/ops/auth.py ``PERMISSIONS``); the app
refuses to start if one does not, and every refusal is written to the audit log.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import orjson
from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, Response
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from engine.logs import get_logger
from engine.metrics import OPS_REQUEST_DURATION, OPS_REQUESTS, OPS_SSE_CLIENTS
from engine.ops import actions
from engine.ops.access import Access, Viewer, allow, check_every_route_guarded
from engine.ops.actions import MIN_PURPOSE, FeedFilter, NotFound, OutcomeForm, Purpose, Refused, purpose_given
from engine.ops.api_models import AlertDetail, AlertSummary, CaseActionRequest, Me, RevealRequest
from engine.ops.auth import (
    ROLES,
    AccountError,
    User,
    add_user,
    authenticate,
    close_session,
    open_session,
    session_user,
)
from engine.ops.centre import OpsCentre
from engine.ops.follow import StoreFollower
from engine.ops.publish import publish_loop, publish_outcome
from engine.ops.store import AlertRow, AuditRow, Store, UserRow, utcnow
from engine.oversight.audit import AuditLog, records_after
from engine.oversight.fairness import fairness_report, last_days
from engine.oversight.misuse import misuse_signals
from engine.oversight.watch import oversee
from engine.settings import Settings
from schemas import Outcome
from schemas.outcome import Seizure

log = get_logger(__name__)

HERE = Path(__file__).parent
COOKIE = "gatehound_session"


# ------------------------------------------------------------------------------ app


#: The largest alert sequence number a database column holds (a signed 64-bit integer).
MAX_SEQ = 2**63 - 1


def resume_point(last_event_id: str | None, after: int) -> int:
    """Where a live stream resumes: after the browser's ``Last-Event-ID`` when it
    sends one that is a sequence number, else after ``after``.

    >>> resume_point("42", 0), resume_point(None, 7), resume_point("forged", 7), resume_point("9" * 30, 0)
    (42, 7, 7, 0)
    """
    given = last_event_id or ""
    if given.isascii() and given.isdigit() and int(given) <= MAX_SEQ:
        return int(given)
    return after


#: Paths served without looking up the login.
ANONYMOUS = ("/static/", "/healthz", "/metrics")


def create_app(settings: Settings, store: Store | None = None, *, follow: bool = True) -> FastAPI:
    """The web app on a store (made from settings when not given). With ``follow`` it
    reads the alerts, links and passenger topics into the store and publishes outcomes
    and audit records to Kafka while it runs."""
    store = store or Store(settings.ops.database_url)
    ops = OpsCentre(
        settings=settings,
        store=store,
        audit=AuditLog(
            store,
            settings.ops.audit_key.get_secret_value().encode(),
            settings.ops.checkpoint_every,
        ),
    )
    ops.audit.publish = ops.publish_audit

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        ops.loop = asyncio.get_running_loop()
        ops.audit_queue = asyncio.Queue()
        if follow:
            ops.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, acks="all")
            follower = StoreFollower(settings, store, ops.hub.notify)
            tasks = [asyncio.create_task(follower.run()), asyncio.create_task(publish_loop(ops))]
        tasks.append(asyncio.create_task(oversee(store, settings, lambda: ops.chain_report(fresh=True))))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError, Exception):
                    await task
            with suppress(Exception):
                await asyncio.to_thread(ops.audit.checkpoint_now)

    app = FastAPI(
        title="gatehound operations centre",
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="Live alerts, cases and outcomes. Log in at /login; the session cookie and the "
        "X-CSRF-Token header (from GET /api/me) authorise calls. Personal data is masked "
        "unless revealed with a stated purpose; every reveal is audited.",
    )
    app.state.ops = ops
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["roles"] = ROLES
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def sessions_and_metrics(request: Request, call_next: Callable[[Request], Any]) -> Response:
        started = time.perf_counter()
        request.state.user, request.state.csrf = None, ""
        token = request.cookies.get(COOKIE)
        # Static files, health and metrics need no identity: no store read for them, and
        # no keeping an idle login alive because a page's assets were fetched.
        if token and not request.url.path.startswith(ANONYMOUS):
            found = await asyncio.to_thread(
                session_user, store, token, timedelta(minutes=settings.ops.session_minutes)
            )
            if found:
                request.state.user, request.state.csrf = found
        response: Response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        OPS_REQUESTS.labels(route=template, method=request.method, status=str(response.status_code)).inc()
        if template != "/feed/stream":
            OPS_REQUEST_DURATION.labels(route=template).observe(time.perf_counter() - started)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        # Pages, htmx's background posts included (it swaps error pages in too): a page.
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return templates.TemplateResponse(
            request,
            "error.html",
            {"user": request.state.user, "status": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
        )

    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"user": request.state.user, "csrf": request.state.csrf, **context}
        )

    # ---- public

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> HTMLResponse:
        return page(request, "login.html", next=_safe_next(next), error=None)

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        name: Annotated[str, Form(max_length=100)],
        password: Annotated[str, Form(max_length=200)],
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        user = authenticate(store, name, password)
        if user is None:
            ops.audit.append("anonymous", "none", "login", allowed=False)
            return page(request, "login.html", next=_safe_next(next), error="Wrong name or password.")
        token, _csrf = open_session(store, user)
        ops.audit.append(user.id, user.role, "login")
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=settings.ops.secure_cookies,
            max_age=settings.ops.session_minutes * 60,
        )
        return response

    # ---- the live feed

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, user: Annotated[User, Depends(Access("session.end"))]) -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            close_session(store, token)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def feed_page(request: Request, user: Viewer, flt: Annotated[FeedFilter, Query()]) -> HTMLResponse:
        with store.session() as s:
            rows = actions.list_alerts(s, flt)
        return page(
            request,
            "feed.html",
            rows=rows,
            flt=flt,
            now=utcnow(),
            last_seq=max((r.seq for r in rows), default=0),
        )

    @app.get("/feed/stream", include_in_schema=False)
    async def feed_stream(
        request: Request, user: Viewer, flt: Annotated[FeedFilter, Query()],
        after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    ) -> StreamingResponse:
        last = resume_point(request.headers.get("last-event-id"), after)
        row_template = templates.get_template("_row.html")

        async def events() -> AsyncIterator[bytes]:
            nonlocal last
            OPS_SSE_CLIENTS.inc()
            try:
                yield b"retry: 1000\n\n"
                while not await request.is_disconnected():
                    with store.session() as s:
                        rows = actions.list_alerts(s, flt, after_seq=last, limit=500)
                    for row in sorted(rows, key=lambda r: r.seq):
                        html = row_template.render(row=row, now=utcnow()).replace("\n", " ")
                        yield f"id: {row.seq}\nevent: alert\ndata: {html}\n\n".encode()
                        last = max(last, row.seq)
                    if not rows:
                        yield b": keep-alive\n\n"
                    await ops.hub.wait(1.0)
            finally:
                OPS_SSE_CLIENTS.dec()

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    # ---- one alert

    @app.get("/alerts/{alert_id}", response_class=HTMLResponse, include_in_schema=False)
    def alert_page(
        request: Request, alert_id: str, user: Annotated[User, allow("alert.view")]
    ) -> HTMLResponse:
        return _alert_page(request, alert_id, user, reveal=False)

    @app.post("/alerts/{alert_id}/reveal", response_class=HTMLResponse, include_in_schema=False)
    def reveal_page(
        request: Request,
        alert_id: str,
        user: Annotated[User, allow("alert.reveal")],
        purpose: Annotated[str, Form(max_length=500)] = "",
    ) -> HTMLResponse:
        try:
            _reveal(alert_id, user, purpose)
        except Refused as exc:
            return _alert_page(request, alert_id, user, reveal=False, error=str(exc), status=400)
        return _alert_page(request, alert_id, user, reveal=True)

    def _reveal(alert_id: str, user: User, purpose: str) -> None:
        """Check and audit a reveal: a purpose always; for an officer, the case is theirs."""
        with store.session() as s:
            row = actions.get_alert(s, alert_id)
            case = actions.get_case(s, row.case_id)
        assigned = case.assignee_id == user.id
        if not purpose_given(purpose):
            ops.audit.append(user.id, user.role, "reveal", [alert_id, case.case_id], allowed=False)
            raise Refused(f"state the purpose (at least {MIN_PURPOSE} characters) to see personal data")
        if user.role == "officer" and not assigned:
            ops.audit.append(
                user.id, user.role, "reveal", [alert_id, case.case_id], purpose=purpose.strip(), allowed=False
            )
            raise HTTPException(403, "officers see personal data only on cases assigned to them")
        ops.audit.append(
            user.id,
            user.role,
            "reveal" if assigned else "reveal_unassigned",
            [alert_id, case.case_id],
            purpose=purpose.strip(),
        )

    def _alert_page(
        request: Request, alert_id: str, user: User, reveal: bool, error: str | None = None, status: int = 200
    ) -> HTMLResponse:
        with store.session() as s:
            try:
                view = actions.view_alert(s, alert_id, reveal=reveal)
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from exc
            users = list(
                s.scalars(select(UserRow).where(UserRow.active, UserRow.role.in_(("officer", "supervisor"))))
            )
        response = page(
            request,
            "alert.html",
            view=view,
            fields=actions.flat_fields(view.event or {}),
            error=error,
            users=users,
            actions=actions.CASE_ACTIONS,
            now=utcnow(),
        )
        response.status_code = status
        return response

    @app.post("/cases/{case_id}/action", include_in_schema=False)
    def case_action(
        request: Request,
        case_id: str,
        user: Annotated[User, allow("case.act")],
        action: Annotated[str, Form(max_length=20)],
        alert_id: Annotated[str, Form(max_length=200)],
        assignee: Annotated[str, Form(max_length=40)] = "",
        note: Annotated[str, Form(max_length=300)] = "",
    ) -> Response:
        _act(case_id, user, action, assignee or None, note)
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    def _act(case_id: str, user: User, action: str, assignee: str | None, note: str) -> None:
        if action == "assign" and not user.may("case.assign"):
            ops.audit.append(user.id, user.role, "case.assign", [case_id], allowed=False)
            raise HTTPException(403, "only supervisors assign cases to others")
        with store.session() as s:
            try:
                actions.act_on_case(s, case_id, action, user.id, assignee, note)
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from exc
            except Refused as exc:
                raise HTTPException(400, str(exc)) from exc
        ops.audit.append(user.id, user.role, f"case.{action}", [case_id] + ([assignee] if assignee else []))

    @app.post("/alerts/{alert_id}/outcome", include_in_schema=False)
    async def outcome_form(
        request: Request,
        alert_id: str,
        user: Annotated[User, allow("outcome.record")],
        result: Annotated[str, Form(max_length=20)],
        goods: Annotated[str, Form(max_length=200)] = "",
        quantity: Annotated[str, Form(max_length=20)] = "",
        unit: Annotated[str, Form(max_length=20)] = "",
        notes: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        try:
            seizures = (
                [Seizure(goods=goods, quantity=float(quantity or 0), unit=unit or "kg")] if goods else []
            )
            form = OutcomeForm(result=result, seizures=seizures, notes=notes)  # type: ignore[arg-type]
        except (ValidationError, ValueError) as exc:
            raise HTTPException(400, "the outcome form is not complete: " + _first_error(exc)) from exc
        await _record(alert_id, user, form)
        return RedirectResponse(f"/alerts/{alert_id}", status_code=303)

    async def _record(alert_id: str, user: User, form: OutcomeForm) -> Outcome:
        def write() -> Outcome:
            with store.session() as s:
                return actions.record_outcome(s, alert_id, form, user.id)

        try:
            outcome = await asyncio.to_thread(write)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except Refused as exc:
            raise HTTPException(409, str(exc)) from exc
        await asyncio.to_thread(ops.audit.append, user.id, user.role, "outcome", [alert_id])
        await publish_outcome(ops, outcome)
        return outcome

    @app.get(
        "/cases/{case_id}/export",
        tags=["cases"],
        responses={404: {"description": "No such case."}},
    )
    def case_export(
        case_id: str,
        user: Annotated[User, allow("case.export")],
        purpose: Annotated[Purpose, Query()],
        recipient: Annotated[str, Query(min_length=1, max_length=200, pattern=r"\S")],
    ) -> JSONResponse:
        """A case's alerts with their source events, personal data included, as a JSON file
        for a named recipient (another agency, a prosecutor); the purpose and the recipient
        go to the audit log."""
        with store.session() as s:
            try:
                case = actions.get_case(s, case_id)
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from exc
            rows = list(s.scalars(select(AlertRow).where(AlertRow.case_id == case_id).order_by(AlertRow.seq)))
            body = {
                "case_id": case.case_id,
                "status": case.status,
                "exported_at": utcnow().isoformat(),
                "recipient": recipient.strip(),
                "alerts": [r.body for r in rows],
            }
        ops.audit.append(
            user.id,
            user.role,
            "export",
            [case_id, *(r.alert_id for r in rows)][:50],
            purpose=purpose.strip(),
            recipient=recipient.strip(),
        )
        return JSONResponse(
            body, headers={"Content-Disposition": f'attachment; filename="case-{case_id[:40]}.json"'}
        )

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(
        request: Request, user: Annotated[User, allow("alert.reveal")], q: str = "", purpose: str = ""
    ) -> HTMLResponse:
        rows: list[AlertRow] = []
        error = None
        if q:
            if not purpose_given(purpose):
                error = f"state the purpose of the search (at least {MIN_PURPOSE} characters)"
            else:
                with store.session() as s:
                    try:
                        rows = actions.search_alerts(s, q)
                    except Refused as exc:
                        error = str(exc)
                if error is None:
                    ops.audit.append(
                        user.id, user.role, "search", [r.alert_id for r in rows][:50], purpose=purpose.strip()
                    )
        return page(request, "search.html", rows=rows, q=q, purpose=purpose, error=error, now=utcnow())

    # ---- oversight

    @app.get("/oversight/fairness", response_class=HTMLResponse, include_in_schema=False)
    def fairness_page(
        request: Request,
        user: Annotated[User, allow("fairness.view")],
        days: Annotated[int, Query(ge=1, le=366)] = 30,
    ) -> HTMLResponse:
        report = _fairness(days)
        return page(
            request,
            "fairness.html",
            report=report,
            days=days,
            band=settings.ops.fairness_band,
            delta_day=timedelta(days=1),
        )

    def _fairness(days: int) -> Any:
        since, until = last_days(store, days)
        return fairness_report(
            store,
            since,
            until,
            band=settings.ops.fairness_band,
            min_traffic=settings.ops.fairness_min_traffic,
        )

    @app.get("/oversight/audit", response_class=HTMLResponse, include_in_schema=False)
    def audit_page(request: Request, user: Annotated[User, allow("audit.view")]) -> HTMLResponse:
        with store.session() as s:
            records = list(s.scalars(select(AuditRow).order_by(AuditRow.seq.desc()).limit(200)))
        return page(request, "audit.html", report=ops.chain_report(), records=records)

    @app.get("/oversight/misuse", response_class=HTMLResponse, include_in_schema=False)
    def misuse_page(request: Request, user: Annotated[User, allow("misuse.view")]) -> HTMLResponse:
        signals = _signals()
        return page(request, "misuse.html", signals=signals)

    def _signals() -> Any:
        records = records_after(store, -1, since=utcnow() - timedelta(days=7))
        return misuse_signals(records, settings.ops.shift_hours, settings.ops.reveals_per_hour, utcnow())

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request, user: Annotated[User, allow("users.manage")]) -> HTMLResponse:
        with store.session() as s:
            users = list(s.scalars(select(UserRow).order_by(UserRow.name)))
        return page(request, "users.html", users=users, error=None)

    @app.post("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_add(
        request: Request,
        user: Annotated[User, allow("users.manage")],
        name: Annotated[str, Form(max_length=100)],
        role: Annotated[str, Form(max_length=20)],
        password: Annotated[str, Form(max_length=200)],
    ) -> HTMLResponse:
        error = None
        try:
            made = add_user(store, name, role, password)
            ops.audit.append(user.id, user.role, "users.add", [made.id])
        except AccountError as exc:
            error = str(exc)
        with store.session() as s:
            users = list(s.scalars(select(UserRow).order_by(UserRow.name)))
        response = page(request, "users.html", users=users, error=error)
        response.status_code = 400 if error else 200
        return response

    # ---- the JSON API

    @app.get("/api/me", response_model=Me, tags=["session"])
    def api_me(request: Request, user: Annotated[User, Depends(Access("session.view"))]) -> Me:
        """Who is logged in, their role, and the CSRF token to send as X-CSRF-Token."""
        return Me(id=user.id, name=user.name, role=user.role, csrf_token=request.state.csrf)

    @app.get("/api/alerts", response_model=list[AlertSummary], tags=["alerts"])
    def api_alerts(
        user: Viewer,
        flt: Annotated[FeedFilter, Query()],
        after_seq: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AlertSummary]:
        """The live feed as JSON, highest priority first; no personal data."""
        with store.session() as s:
            return [AlertSummary.of(r) for r in actions.list_alerts(s, flt, after_seq=after_seq, limit=limit)]

    @app.get(
        "/api/alerts/{alert_id}",
        response_model=AlertDetail,
        tags=["alerts"],
        responses={404: {"description": "No such alert."}},
    )
    def api_alert(alert_id: str, user: Annotated[User, allow("alert.view")]) -> AlertDetail:
        """One alert with its masked source event, its case and outcome."""
        with store.session() as s:
            try:
                return AlertDetail.of(actions.view_alert(s, alert_id))
            except NotFound as exc:
                raise HTTPException(404, str(exc)) from exc

    @app.post(
        "/api/alerts/{alert_id}/reveal",
        response_model=AlertDetail,
        tags=["alerts"],
        responses={400: {"description": "No purpose given."}, 404: {"description": "No such alert."}},
    )
    def api_reveal(
        alert_id: str, body: RevealRequest, user: Annotated[User, allow("alert.reveal")]
    ) -> AlertDetail:
        """The alert with its personal data, for a stated purpose; audited."""
        try:
            _reveal(alert_id, user, body.purpose)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from exc
        except Refused as exc:
            raise HTTPException(400, str(exc)) from exc
        with store.session() as s:
            return AlertDetail.of(actions.view_alert(s, alert_id, reveal=True))

    @app.post(
        "/api/cases/{case_id}/actions",
        status_code=204,
        tags=["cases"],
        responses={404: {"description": "No such case or user."}},
    )
    def api_case_action(
        case_id: str, body: CaseActionRequest, user: Annotated[User, allow("case.act")]
    ) -> Response:
        """Acknowledge, take, assign (supervisors), escalate, close or reopen a case."""
        _act(case_id, user, body.action, body.assignee_id, body.note)
        return Response(status_code=204)

    @app.post(
        "/api/alerts/{alert_id}/outcome",
        response_model=Outcome,
        tags=["alerts"],
        responses={404: {"description": "No such alert."}, 409: {"description": "Recorded already."}},
    )
    async def api_outcome(
        alert_id: str, body: OutcomeForm, user: Annotated[User, allow("outcome.record")]
    ) -> Outcome:
        """Record what the intervention found; published to the outcomes topic for learning."""
        return await _record(alert_id, user, body)

    @app.get("/api/fairness", tags=["oversight"])
    def api_fairness(
        user: Annotated[User, allow("fairness.view")], days: Annotated[int, Query(ge=1, le=366)] = 30
    ) -> JSONResponse:
        """Alert, intervention and yield rates per protected group against all traffic."""
        return JSONResponse(orjson.loads(orjson.dumps(_fairness(days), default=_plain)))

    @app.get("/api/audit/verify", tags=["oversight"])
    def api_audit_verify(user: Annotated[User, allow("audit.view")]) -> JSONResponse:
        """Check the audit chain in the store now."""
        return JSONResponse(ops.chain_report(fresh=True).as_dict())

    @app.get("/api/misuse", tags=["oversight"])
    def api_misuse(user: Annotated[User, allow("misuse.view")]) -> JSONResponse:
        """Misuse signals over the last 7 days, for supervisors."""
        return JSONResponse(orjson.loads(orjson.dumps(_signals(), default=_plain)))

    check_every_route_guarded(app)
    return app


# ------------------------------------------------------------------------ helpers


def _safe_next(target: str) -> str:
    """Only a path on this site: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc)


def _plain(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(type(value).__name__)
