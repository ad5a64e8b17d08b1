"""What the LTI tool keeps: registered platforms, pending logins, launches, the tool's keys and score attempts.

:class:`LtiStore` is the interface the rest of app.lti uses; :class:`DatabaseLtiStore` keeps it in the server's
database (its own ``lti_*`` tables, made by app.storage.migrations), on either app.storage back-end.

A login's ``state`` row is the only record of a login in progress: the launch deletes it as it reads it, so a
state (and the nonce bound to it) is used at most once, without a cookie in the LMS frame.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from app.storage.database import Database

#: A login that has not come back as a launch after this long is refused (and swept).
LOGIN_TTL_S = 600.0


@dataclass(frozen=True)
class Platform:
    """One registration of the tool with an LMS: the issuer and the client_id it gave us."""

    issuer: str
    client_id: str
    deployment_ids: tuple[str, ...]
    auth_login_url: str  # the platform's OIDC authorization endpoint
    auth_token_url: str  # its OAuth2 token endpoint (for AGS)
    jwks_url: str  # where its signing keys are published
    name: str = ""
    frame_origins: tuple[str, ...] = ()  # origins whose pages frame our launches, besides the URLs' own

    def ancestors(self) -> tuple[str, ...]:
        """Origins allowed to frame launched pages: the issuer's, the login endpoint's and any given."""
        found = [_origin(self.issuer), _origin(self.auth_login_url), *self.frame_origins]
        return tuple(dict.fromkeys(o for o in found if o))


@dataclass(frozen=True)
class PendingLogin:
    state: str
    nonce: str
    issuer: str
    client_id: str
    created: float


@dataclass(frozen=True)
class ToolKey:
    kid: str
    private_pem: str
    created: float
    retired: float | None = None


@dataclass(frozen=True)
class Attempt:
    attempt_id: str
    launch_id: str
    score: float
    maximum: float
    status: str  # "pending", "posted", "failed", "local" (no line item)
    detail: str = ""


class LtiStore(Protocol):
    def add_platform(self, platform: Platform) -> None: ...
    def platforms(self) -> list[Platform]: ...
    def find_platform(self, issuer: str, client_id: str | None = None) -> Platform | None: ...
    def save_login(self, login: PendingLogin) -> None: ...
    def take_login(self, state: str) -> PendingLogin | None: ...
    def save_launch(self, launch_id: str, claims: dict[str, Any]) -> None: ...
    def launch(self, launch_id: str) -> dict[str, Any] | None: ...
    def add_key(self, key: ToolKey) -> None: ...
    def tool_keys(self) -> list[ToolKey]: ...
    def retire_key(self, kid: str, when: float) -> bool: ...
    def claim_attempt(self, attempt: Attempt) -> bool: ...
    def attempt(self, attempt_id: str) -> Attempt | None: ...
    def set_attempt_status(self, attempt_id: str, status: str, detail: str = "") -> None: ...


class DatabaseLtiStore:
    """The ``lti_*`` tables of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add_platform(self, platform: Platform) -> None:
        """Register a platform, or replace the registration with the same issuer and client_id."""
        with self.db.connect() as db:
            db.execute(
                # An upsert both engines spell alike (SQLite since 3.24).
                "INSERT INTO lti_platforms VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (issuer, client_id) DO UPDATE "
                "SET deployment_ids = excluded.deployment_ids, auth_login_url = excluded.auth_login_url, "
                "auth_token_url = excluded.auth_token_url, jwks_url = excluded.jwks_url, name = excluded.name, "
                "frame_origins = excluded.frame_origins",
                (
                    platform.issuer,
                    platform.client_id,
                    json.dumps(list(platform.deployment_ids)),
                    platform.auth_login_url,
                    platform.auth_token_url,
                    platform.jwks_url,
                    platform.name,
                    json.dumps(list(platform.frame_origins)),
                ),
            )

    def platforms(self) -> list[Platform]:
        with self.db.connect() as db:
            rows = db.execute("SELECT * FROM lti_platforms ORDER BY issuer, client_id").fetchall()
        return [_platform(row) for row in rows]

    def find_platform(self, issuer: str, client_id: str | None = None) -> Platform | None:
        """The registration for ``issuer`` and ``client_id``; without a client_id, the issuer's only one."""
        with self.db.connect() as db:
            if client_id:
                rows = db.execute(
                    "SELECT * FROM lti_platforms WHERE issuer = ? AND client_id = ?", (issuer, client_id)
                ).fetchall()
            else:
                rows = db.execute("SELECT * FROM lti_platforms WHERE issuer = ?", (issuer,)).fetchall()
        return _platform(rows[0]) if len(rows) == 1 else None

    def save_login(self, login: PendingLogin) -> None:
        with self.db.connect() as db:
            db.execute("DELETE FROM lti_logins WHERE created < ?", (time.time() - LOGIN_TTL_S,))
            db.execute(
                "INSERT INTO lti_logins VALUES (?, ?, ?, ?, ?)",
                (login.state, login.nonce, login.issuer, login.client_id, login.created),
            )

    def take_login(self, state: str) -> PendingLogin | None:
        """The pending login for ``state``, deleted in the same statement so two launches cannot share it."""
        with self.db.connect() as db:
            row = db.execute(
                "DELETE FROM lti_logins WHERE state = ? RETURNING state, nonce, issuer, client_id, created",
                (state,),
            ).fetchone()
        return PendingLogin(*row) if row else None

    def save_launch(self, launch_id: str, claims: dict[str, Any]) -> None:
        with self.db.connect() as db:
            db.execute(
                "INSERT INTO lti_launches VALUES (?, ?, ?)", (launch_id, json.dumps(claims), time.time())
            )

    def launch(self, launch_id: str) -> dict[str, Any] | None:
        with self.db.connect() as db:
            row = db.execute("SELECT claims FROM lti_launches WHERE launch_id = ?", (launch_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def add_key(self, key: ToolKey) -> None:
        with self.db.connect() as db:
            db.execute(
                "INSERT OR IGNORE INTO lti_keys VALUES (?, ?, ?, ?)",
                (key.kid, key.private_pem, key.created, key.retired),
            )

    def tool_keys(self) -> list[ToolKey]:
        """Every key, newest first."""
        with self.db.connect() as db:
            rows = db.execute("SELECT * FROM lti_keys ORDER BY created DESC, kid").fetchall()
        return [ToolKey(*row) for row in rows]

    def retire_key(self, kid: str, when: float) -> bool:
        with self.db.connect() as db:
            cur = db.execute("UPDATE lti_keys SET retired = ? WHERE kid = ? AND retired IS NULL", (when, kid))
        return cur.rowcount == 1

    def claim_attempt(self, attempt: Attempt) -> bool:
        """Record an attempt; False when the attempt id is taken (its score was submitted already)."""
        with self.db.connect() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO lti_attempts VALUES (?, ?, ?, ?, ?, ?)",
                (
                    attempt.attempt_id,
                    attempt.launch_id,
                    attempt.score,
                    attempt.maximum,
                    attempt.status,
                    attempt.detail,
                ),
            )
        return cur.rowcount == 1

    def attempt(self, attempt_id: str) -> Attempt | None:
        with self.db.connect() as db:
            row = db.execute("SELECT * FROM lti_attempts WHERE attempt_id = ?", (attempt_id,)).fetchone()
        return Attempt(*row) if row else None

    def set_attempt_status(self, attempt_id: str, status: str, detail: str = "") -> None:
        with self.db.connect() as db:
            db.execute(
                "UPDATE lti_attempts SET status = ?, detail = ? WHERE attempt_id = ?",
                (status, detail, attempt_id),
            )


def _platform(row: tuple) -> Platform:
    issuer, client_id, deployments, login_url, token_url, jwks_url, name, frames = row
    return Platform(
        issuer,
        client_id,
        tuple(json.loads(deployments)),
        login_url,
        token_url,
        jwks_url,
        name,
        tuple(json.loads(frames)),
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""
