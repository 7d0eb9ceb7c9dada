"""The baseline of item 4: FastAPI with no middleware, no session and no database, served like the real app.

Its endpoints answer like the generated app's `GET /accounts/me` (same pydantic model shape) and `GET /livez`
(same body), from plain `def`s run in the thread pool as the generated endpoints are, so what differs is the
generated app's stack.
"""

import uuid
from datetime import UTC, datetime

from fastapi import FastAPI
from pydantic import BaseModel


class UserResponse(BaseModel):
    id: uuid.UUID
    email: str
    created_at: datetime


ME = UserResponse(id=uuid.uuid4(), email="bench-0@example.com", created_at=datetime(2026, 1, 1, tzinfo=UTC))


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    def me() -> UserResponse:
        return ME

    @app.get("/livez")
    def livez() -> dict[str, str]:
        return {"status": "ok"}

    return app
