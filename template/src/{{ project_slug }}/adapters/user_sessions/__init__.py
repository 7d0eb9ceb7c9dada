"""User sessions (who is signed in): the browser holds an opaque random id, the state lives
outside the process.

Any number of app processes can therefore serve the same user. The backend (PostgreSQL or Redis)
also keeps the login rate limiter's counters, for the same reason. "Session" alone, in this
package, never means a database session: those are SQLAlchemy's (`db.engines`).
"""

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

USER_SESSION_COOKIE = "__Host-session"
_TOKEN_BYTES = 32  # 256 bits of randomness
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


class UserSessionStore(Protocol):
    def create(self, user_id: uuid.UUID) -> str:
        """Start a session and return the id to hand to the browser."""
        ...

    def resolve(self, token: str) -> uuid.UUID | None:
        """Return the user of a live session (extending its idle timeout), else None."""
        ...

    def delete(self, token: str) -> None: ...


class LoginLimiter(Protocol):
    """Counts failed logins per key within a window; see services.rate_limit for the policy."""

    def retry_after_seconds(self, key: str) -> int:
        """0 while attempts are allowed, else the seconds until the next one is."""
        ...

    def record_failure(self, key: str) -> None: ...

    def reset(self, key: str) -> None: ...


@dataclass(frozen=True)
class UserSessionBackend:
    user_sessions: UserSessionStore
    login_limiter: LoginLimiter
    close: Callable[[], None]
    # Dependencies without which no one can sign in: /readyz reports them as unavailable.
    readiness_checks: Mapping[str, Callable[[], object]] = field(default_factory=dict)


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def is_well_formed(token: str) -> bool:
    return _TOKEN_PATTERN.fullmatch(token) is not None


def hash_token(token: str, secret_key: str) -> str:
    """Keyed hash of a session id: a leaked session table or Redis dump cannot be replayed."""
    return hmac.new(secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()
