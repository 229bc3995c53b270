"""Deny by default: every route names the action it takes, and only roles granted that
action (engine/ops/auth.py ``PERMISSIONS``) get through; every refusal is audited."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.routing import APIRoute

from engine.ops.auth import User, csrf_matches
from engine.ops.centre import OpsCentre

#: Routes anyone may reach, logged in or not.
PUBLIC = frozenset({"/login", "/healthz", "/metrics", "/static"})


@dataclass(frozen=True)
class Access:
    """A route's requirement: the action it takes. Kept on the dependency so the access
    matrix test and the start-up check can read every route's action."""

    action: str

    async def __call__(self, request: Request) -> User:
        ops: OpsCentre = request.app.state.ops
        user: User | None = getattr(request.state, "user", None)
        if user is None:
            raise HTTPException(401, "log in first")
        if not user.may(self.action):
            await asyncio.to_thread(
                ops.audit.append, user.id, user.role, self.action, _ids(request), allowed=False
            )
            raise HTTPException(403, f"your role may not {self.action}")
        if request.method not in ("GET", "HEAD"):
            given = request.headers.get("x-csrf-token")
            if given is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                value = (await request.form()).get("csrf")  # parsed once: the route reads it again
                given = value if isinstance(value, str) else None
            if not csrf_matches(request.state.csrf, given):
                await asyncio.to_thread(
                    ops.audit.append, user.id, user.role, self.action, _ids(request), allowed=False
                )
                raise HTTPException(403, "missing or wrong CSRF token: reload the page")
        return user


def allow(action: str) -> Any:
    """The dependency that lets a route run only for roles granted ``action``."""
    return Depends(Access(action))


def _ids(request: Request) -> list[str]:
    return [str(v) for v in request.path_params.values()][:5]


def route_action(route: APIRoute) -> str | None:
    """The action a route requires, or None for a public one."""
    for dep in route.dependant.dependencies:
        if isinstance(dep.call, Access):
            return dep.call.action
    return None


def check_every_route_guarded(app: FastAPI) -> None:
    """Deny by default: a route that is not public and names no action is a bug."""
    for route in app.routes:
        if isinstance(route, APIRoute) and route.path not in PUBLIC and route_action(route) is None:
            raise RuntimeError(f"route {route.path} names no action: add allow(...) or make it public")


Viewer = Annotated[User, Depends(Access("feed.view"))]
