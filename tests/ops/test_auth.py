"""Accounts and logins: argon2 hashes, sessions that end, deny by default."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from engine.ops.auth import (
    PERMISSIONS,
    ROLES,
    AccountError,
    User,
    add_user,
    authenticate,
    close_session,
    csrf_matches,
    open_session,
    session_user,
)
from engine.ops.store import SessionRow, Store, UserRow, utcnow
from tests.ops.conftest import OpsUnderTest

PASSWORD = "correct horse battery"


@pytest.fixture
def store(tmp_path: object) -> Store:
    return Store(f"sqlite:///{tmp_path}/ops.db")


def test_a_user_logs_in_with_the_right_password_only(store: Store) -> None:
    """The right password gives the user; a wrong one, or an unknown name, gives None."""
    made = add_user(store, "ana.officer", "officer", PASSWORD)
    assert authenticate(store, "ana.officer", PASSWORD) == made
    assert authenticate(store, "ana.officer", PASSWORD + "x") is None
    assert authenticate(store, "nobody", PASSWORD) is None


def test_passwords_are_stored_as_argon2_hashes(store: Store) -> None:
    """The store keeps an argon2id hash, never the password."""
    add_user(store, "ana", "officer", PASSWORD)
    with store.session() as s:
        stored = s.scalars(select(UserRow.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


@pytest.mark.parametrize(
    ("name", "role", "password", "says"),
    [
        ("Ana Smith", "officer", PASSWORD, "user name"),
        ("ana", "king", PASSWORD, "unknown role"),
        ("ana", "officer", "short", "12 characters"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(
    store: Store, name: str, role: str, password: str, says: str
) -> None:
    """A bad name, role or password is refused and the message says which."""
    with pytest.raises(AccountError, match=says):
        add_user(store, name, role, password)


def test_a_name_is_taken_once(store: Store) -> None:
    """Two accounts cannot share a login name."""
    add_user(store, "ana", "officer", PASSWORD)
    with pytest.raises(AccountError, match="exists"):
        add_user(store, "ana", "auditor", PASSWORD)


def test_a_session_lasts_until_idle_or_closed(store: Store) -> None:
    """A login is found by its token, ends after the idle time, and ends when closed;
    the store keeps only the token's hash."""
    user = add_user(store, "ana", "officer", PASSWORD)
    token, csrf = open_session(store, user)
    assert session_user(store, token, timedelta(minutes=5)) == (user, csrf)
    with store.session() as s:
        assert s.scalars(select(SessionRow.token_hash)).one() != token
    assert session_user(store, token, timedelta(minutes=5), now=utcnow() + timedelta(minutes=6)) is None
    assert session_user(store, token, timedelta(minutes=5)) is None  # an expired login is gone
    token, _ = open_session(store, user)
    close_session(store, token)
    assert session_user(store, token, timedelta(minutes=5)) is None


def test_csrf_tokens_must_match_exactly() -> None:
    """Only the session's own token passes; a missing one never does."""
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd") and not csrf_matches("abc", None) and not csrf_matches("", "")


def test_every_action_names_only_known_roles_and_admin_sees_no_alerts() -> None:
    """Permissions grant only real roles; an admin manages accounts but reads no alerts."""
    assert all(roles <= set(ROLES) for roles in PERMISSIONS.values())
    admin = User("u-1", "root", "admin")
    assert admin.may("users.manage") and not admin.may("alert.view") and not admin.may("made.up")


def test_fetching_static_files_does_not_keep_an_idle_login_alive(ops: OpsUnderTest) -> None:
    """A page's assets, /healthz and /metrics are served without reading the login: only
    a page or an API call counts as use of the session."""
    ops.login("officer")
    an_hour_ago = utcnow() - timedelta(hours=1)

    def last_seen() -> object:
        with ops.store.session() as s:
            return s.scalars(select(SessionRow.last_seen)).one()

    with ops.store.session() as s:
        s.execute(update(SessionRow).values(last_seen=an_hour_ago))
    for path in ("/static/ops.css", "/healthz", "/metrics"):
        assert ops.client.get(path).status_code == 200, path
    assert last_seen() == an_hour_ago
    assert ops.client.get("/api/me").status_code == 200
    assert last_seen() != an_hour_ago
