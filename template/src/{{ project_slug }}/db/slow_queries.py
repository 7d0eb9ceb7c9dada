"""Log SQL statements slower than a threshold, so slow queries show up before users complain.

Parameters are never logged: they may hold personal data or secrets.
"""

import logging
import time
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.engine.interfaces import DBAPICursor

logger = logging.getLogger(__name__)
# Start times live on the connection, keyed by cursor: each execution gets its own cursor.
TIMERS_KEY = "slow_query_started_at"


def log_slow_queries(engine: Engine, threshold_ms: float) -> None:
    """Warn with the statement and its duration whenever one takes at least threshold_ms."""

    @event.listens_for(engine, "before_cursor_execute", named=True)
    def start_timer(conn: Connection, cursor: DBAPICursor, **_: Any) -> None:
        conn.info.setdefault(TIMERS_KEY, {})[id(cursor)] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute", named=True)
    def log_if_slow(conn: Connection, cursor: DBAPICursor, statement: str, **_: Any) -> None:
        duration_ms = (time.perf_counter() - conn.info[TIMERS_KEY].pop(id(cursor))) * 1000
        if duration_ms >= threshold_ms:
            logger.warning(
                "slow query",
                extra={
                    "duration_ms": round(duration_ms, 1),
                    "threshold_ms": threshold_ms,
                    "statement": statement,
                    "database": engine.url.database,
                },
            )

    @event.listens_for(engine, "handle_error")
    def drop_timer(context: ExceptionContext) -> None:
        if context.connection is not None and context.execution_context is not None:
            forget_statement(context.connection, context.execution_context.cursor)


def forget_statement(connection: Connection, cursor: object) -> None:
    """Drop a failed statement's timer (db/plain_sql.py calls it for its own statements)."""
    connection.info.get(TIMERS_KEY, {}).pop(id(cursor), None)
