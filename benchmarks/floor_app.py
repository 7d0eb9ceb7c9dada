"""The floor of the authenticated list endpoint: only its two SQL statements, async, with no ORM.

`GET /items?status=open&sort=-created_at&limit=20` as the generated app answers it (same query parameters, same
response shape), doing nothing but what the request cannot do without: look the session up by the keyed hash of
its cookie in the generated project's `user_sessions` table, then read the signed-in user's newest items, both on
one connection from a psycopg 3 async pool. No middleware, no threadpool, no ORM, no idle-expiry write (the
generated database store rewrites the expiry at most once a minute per session). What the generated service costs
above this is what its stack costs.

It reads the generated service's own settings (DATABASE_URL, SECRET_KEY) from the same env file, so it serves the
same database and accepts the same session cookies. psycopg and FastAPI come from the generated project's
virtualenv; psycopg_pool, which the project does not depend on, is layered on by `uv run --with`.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal

from fastapi import FastAPI, HTTPException, Request
from psycopg.rows import tuple_row
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

SESSION_COOKIE = "__Host-session"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
POOL_SIZE = 10  # more than the load generator's connections: no request waits for a connection

SESSION_LOOKUP = (
    "SELECT user_id, expires_at, absolute_expires_at FROM user_sessions WHERE token_hash = %s AND expires_at > now()"
)
NEWEST_ITEMS = (
    "SELECT id, title, status, priority, created_at FROM items WHERE owner_id = %s AND status = %s "
    "ORDER BY created_at DESC, id DESC LIMIT %s"
)


class ItemResponse(BaseModel):
    id: uuid.UUID
    title: str
    status: str
    priority: int
    created_at: datetime


class ItemPageResponse(BaseModel):
    items: list[ItemResponse]
    next_cursor: str | None


def _cursor(item: ItemResponse) -> str:
    payload = {"sort": "-created_at", "value": item.created_at.isoformat(), "id": str(item.id)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def create_app() -> FastAPI:
    conninfo = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://", 1)
    secret_key = os.environ["SECRET_KEY"].encode()
    pool = AsyncConnectionPool(
        conninfo, min_size=POOL_SIZE, max_size=POOL_SIZE, kwargs={"autocommit": True}, open=False
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/livez")
    async def livez() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/items")
    async def list_items(
        request: Request, status: str, sort: Literal["-created_at"] = "-created_at", limit: int = 20
    ) -> ItemPageResponse:
        token = request.cookies.get(SESSION_COOKIE, "")
        if TOKEN_PATTERN.fullmatch(token) is None:
            raise HTTPException(401)
        token_hash = hmac.new(secret_key, token.encode(), hashlib.sha256).hexdigest()
        async with pool.connection() as connection:
            cursor = connection.cursor(row_factory=tuple_row)
            await cursor.execute(SESSION_LOOKUP, (token_hash,))
            session = await cursor.fetchone()
            if session is None:
                raise HTTPException(401)
            await cursor.execute(NEWEST_ITEMS, (session[0], status, limit + 1))
            rows = await cursor.fetchall()
        items = [
            ItemResponse(id=id_, title=title, status=status_, priority=priority, created_at=created_at)
            for id_, title, status_, priority, created_at in rows[:limit]
        ]
        return ItemPageResponse(items=items, next_cursor=_cursor(items[-1]) if len(rows) > limit else None)

    return app
