"""The database part of Settings: where the servers are and how engines connect to them.

A feature that changes how the app reaches PostgreSQL (a connection pooler in front of it)
subclasses DatabaseSettings and overrides `migration_url` and `database_connect_args`.
"""

from typing import Any

from pydantic import Field, PostgresDsn
from pydantic_settings import BaseSettings


class DatabaseSettings(BaseSettings):
    """The database settings, composed into the one Settings class (settings.py)."""

    database_url: PostgresDsn
    database_read_url: PostgresDsn | None = None
    # Per process and engine: about the number of requests one process serves at once.
    database_pool_size: int = Field(default=10, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    # A request waits this long for a free pooled connection, then fails (503).
    database_pool_timeout_seconds: float = Field(default=10, gt=0)
    database_connect_timeout_seconds: int = Field(default=5, ge=1)
    # PostgreSQL cancels a statement that runs longer (the request then gets a 503).
    database_statement_timeout_seconds: float = Field(default=30, gt=0)

    @property
    def writer_url(self) -> str:
        return str(self.database_url)

    @property
    def reader_url(self) -> str:
        """The replica when one is configured, otherwise the writer."""
        return str(self.database_read_url or self.database_url)

    @property
    def migration_url(self) -> str:
        """Alembic, backups and anything else that holds session state connect here."""
        return self.writer_url

    def database_connect_args(self, *, read_only: bool) -> dict[str, Any]:
        """psycopg's connect arguments for an engine's connections.

        Server settings ride on the connection's startup packet (libpq `options`), so they cost
        no round trip per request.
        """
        timeout_ms = round(self.database_statement_timeout_seconds * 1000)
        options = [f"-c statement_timeout={timeout_ms}"]
        if read_only:
            options.append("-c default_transaction_read_only=on")
        return {
            # psycopg bounds each connection attempt by it, the async connect included.
            "connect_timeout": self.database_connect_timeout_seconds,
            "options": " ".join(options),
        }
