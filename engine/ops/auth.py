"""Who may do what in the operations centre: users, roles, logins, permissions.

Local accounts with argon2id password hashes; a login is a random token in a cookie
(HttpOnly, SameSite=Strict, Secure unless configured off), of which the store keeps
only the hash, with the session's CSRF token beside it. Everything is denied unless
``PERMISSIONS`` grants it to the user's role. The identity of a user is looked up in
one place (``authenticate``), so an OIDC provider can be put there later without the
routes knowing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select

from engine.errors import GatehoundError
from engine.ops.store import SessionRow, Store, UserRow, utcnow

ROLES: tuple[str, ...] = ("officer", "supervisor", "rules_engineer", "auditor", "admin")

#: Each action a route can take, and the roles that may take it. What is not here is denied.
PERMISSIONS: dict[str, frozenset[str]] = {
    "session.view": frozenset(ROLES),
    "session.end": frozenset(ROLES),
    "feed.view": frozenset({"officer", "supervisor", "rules_engineer"}),
    "alert.view": frozenset({"officer", "supervisor", "rules_engineer"}),
    # Officers only for cases assigned to them (checked by the route), supervisors any.
    "alert.reveal": frozenset({"officer", "supervisor"}),
    "case.act": frozenset({"officer", "supervisor"}),
    "case.assign": frozenset({"supervisor"}),
    # Disclosing a case's personal data outside the centre (to a named recipient).
    "case.export": frozenset({"supervisor"}),
    "outcome.record": frozenset({"officer", "supervisor"}),
    "fairness.view": frozenset({"supervisor", "auditor"}),
    "audit.view": frozenset({"supervisor", "auditor"}),
    "misuse.view": frozenset({"supervisor", "auditor"}),
    "users.manage": frozenset({"admin"}),
}

MIN_PASSWORD = 12
_NAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
_hasher = PasswordHasher()
# Verified against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone's")


class AccountError(GatehoundError):
    """A user cannot be made as asked (bad name, role or password)."""


@dataclass(frozen=True)
class User:
    """The logged-in user, as routes see them: an id, a login name and a role."""

    id: str
    name: str
    role: str

    def may(self, action: str) -> bool:
        """True when the user's role is granted the action."""
        return self.role in PERMISSIONS.get(action, frozenset())


def add_user(store: Store, name: str, role: str, password: str) -> User:
    """A new local account. Names are lower-case logins; passwords at least 12 characters."""
    if not _NAME.match(name):
        raise AccountError("a user name is 2 to 40 of a-z 0-9 . _ -, starting with a letter")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password has at least {MIN_PASSWORD} characters")
    row = UserRow(id=f"u-{secrets.token_hex(6)}", name=name, role=role, password_hash=_hasher.hash(password))
    with store.session() as s:
        if s.scalars(select(UserRow).where(UserRow.name == name)).first() is not None:
            raise AccountError(f"a user named {name!r} exists")
        s.add(row)
    return User(row.id, row.name, row.role)


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user with this name and password, or None (unknown, wrong or disabled alike)."""
    with store.session() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return User(row.id, row.name, row.role)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(store: Store, user: User) -> tuple[str, str]:
    """A new login for the user: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with store.session() as s:
        s.add(SessionRow(token_hash=_digest(token), user_id=user.id, csrf_token=csrf))
    return token, csrf


def session_user(
    store: Store, token: str, idle: timedelta, now: datetime | None = None
) -> tuple[User, str] | None:
    """The user and CSRF token of a live login, or None. A login unused for ``idle`` ends."""
    now = now or utcnow()
    with store.session() as s:
        found = s.execute(
            select(SessionRow, UserRow)
            .join(UserRow, UserRow.id == SessionRow.user_id)
            .where(SessionRow.token_hash == _digest(token))
        ).first()
        if found is None:
            return None
        session, user = found
        if not user.active or now - session.last_seen > idle:
            s.delete(session)
            return None
        if now - session.last_seen > timedelta(seconds=30):  # not a write per request
            session.last_seen = now
        return User(user.id, user.name, user.role), session.csrf_token


def close_session(store: Store, token: str) -> None:
    """End a login."""
    with store.session() as s:
        s.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))


def csrf_matches(expected: str, given: str | None) -> bool:
    """Whether a form's or header's CSRF token is the session's (in constant time)."""
    return bool(given) and hmac.compare_digest(expected, given or "")
