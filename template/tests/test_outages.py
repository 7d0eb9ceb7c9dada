"""Outages: a dependency that refuses connections or hangs fails, fast and with 503, exactly
the requests that need it; /readyz says so within its own bound; the cache fails open."""

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx2
import psycopg.errors
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import (
    TEST_PASSWORD,
    https_client,
    new_email,
    on_app_loop,
    sign_up_and_log_in,
)
from tests.faults import (
    FAST_SECONDS,
    SHORT_TIMEOUTS,
    answered_within,
    assert_unavailable,
    black_hole,
)


def test_sign_ups_get_503_fast_while_the_database_is_down(
    make_app: Callable[..., FastAPI], dead_port: int
) -> None:
    client = https_client(
        make_app(
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:{dead_port}/app",
            **SHORT_TIMEOUTS,
        )
    )

    def sign_up(_: int) -> httpx2.Response:
        credentials = {"email": new_email(), "password": TEST_PASSWORD}
        return client.post("/accounts/signup", json=credentials)

    def concurrent_sign_ups() -> list[httpx2.Response]:
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(sign_up, range(4)))

    for response in answered_within(FAST_SECONDS, concurrent_sign_ups):
        assert_unavailable(response)


def test_reads_are_served_again_right_after_the_database_drops_its_connections(
    make_app: Callable[..., FastAPI],
) -> None:
    """As after a restart of PostgreSQL: the first request on a dropped connection gets 503, and
    the whole pool is renewed, so the next one is served. The item list is plain SQL
    (db/plain_sql.py), which hands a lost connection to SQLAlchemy to renew the pool."""
    app = make_app()
    client = https_client(app)
    sign_up_and_log_in(client)
    # A page size of its own per request: no cache can answer in the database's place.
    assert client.get("/items?limit=1").status_code == 200
    database = app.state.services.database
    pids = on_app_loop(app, _pooled_backend_pids, database.reader, 3)
    on_app_loop(app, _terminate_backends, database.writer, pids)

    assert_unavailable(client.get("/items?limit=2"))
    served = [client.get(f"/items?limit={limit}").status_code for limit in (3, 4, 5)]
    assert served == [200] * 3


async def _pooled_backend_pids(engine: AsyncEngine, count: int) -> list[int]:
    """Fill the engine's pool with `count` connections; their server processes' ids."""
    connections = [await engine.connect() for _ in range(count)]
    pid = text("SELECT pg_backend_pid()")
    pids = [(await connection.execute(pid)).scalar_one() for connection in connections]
    for connection in connections:
        await connection.close()
    return pids


async def _terminate_backends(engine: AsyncEngine, pids: list[int]) -> None:
    # With a timeout, pg_terminate_backend returns once the process has exited.
    terminate = text(
        "SELECT pg_terminate_backend(pid, 5000) FROM unnest(CAST(:pids AS int[])) AS pid"
    )
    async with engine.connect() as connection:
        assert all((await connection.execute(terminate, {"pids": pids})).scalars())


def test_a_request_that_finds_the_pool_busy_gets_503(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(database_pool_size=1, database_max_overflow=0, database_pool_timeout_seconds=0.5)
    writer: AsyncEngine = app.state.services.database.writer
    holding = threading.Event()

    async def hold_the_only_connection() -> None:
        async with writer.connect():
            holding.set()
            await asyncio.sleep(3)

    held = app.state.event_loop.start_task_soon(hold_the_only_connection)
    assert holding.wait(10)
    credentials = {"email": new_email(), "password": TEST_PASSWORD}

    assert_unavailable(https_client(app).post("/accounts/signup", json=credentials))
    held.result()


def test_confirming_an_upload_gets_503_fast_while_s3_is_down(
    make_app: Callable[..., FastAPI], dead_port: int
) -> None:
    client = https_client(
        make_app(s3_endpoint_url=f"http://127.0.0.1:{dead_port}", **SHORT_TIMEOUTS)
    )
    sign_up_and_log_in(client)
    item = client.post("/items", json={"title": "with a file"}).json()
    pending = client.post(
        f"/items/{item['id']}/attachments",
        json={"filename": "notes.txt", "content_type": "text/plain", "size_bytes": 5},
    ).json()  # signing the form is local: it needs no S3
    confirm = f"/items/{item['id']}/attachments/{pending['attachment']['id']}/confirm"

    assert_unavailable(answered_within(FAST_SECONDS, lambda: client.post(confirm)))


def test_readyz_answers_fast_while_every_dependency_hangs(
    make_app: Callable[..., FastAPI],
) -> None:
    with black_hole() as port:
        client = https_client(
            make_app(
                database_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/app",
                s3_endpoint_url=f"http://127.0.0.1:{port}",
                **SHORT_TIMEOUTS,
            )
        )
        response = answered_within(4, lambda: client.get("/readyz"))

    assert response.status_code == 503
    assert {"database", "s3"} <= set(response.json()["failing"])


def test_a_statement_running_past_the_timeout_is_cancelled(
    make_app: Callable[..., FastAPI],
) -> None:
    app = make_app(database_statement_timeout_seconds=0.5)
    database = app.state.services.database

    async def sleep(engine: AsyncEngine) -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(5)"))

    for engine in (database.writer, database.reader):
        started = time.monotonic()
        with pytest.raises(OperationalError) as cancelled:
            on_app_loop(app, sleep, engine)
        assert isinstance(cancelled.value.orig, psycopg.errors.QueryCanceled)
        assert time.monotonic() - started < 3
