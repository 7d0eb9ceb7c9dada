"""Dependencies that fail the way real ones do, for the outage tests: a port nobody listens on,
and a black hole (a server that accepts connections and never answers, like a hung process).
Registered in conftest.py's pytest_plugins, for its `dead_port` fixture."""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx2
import pytest

Result = TypeVar("Result")

# Short timeouts, so that a test waits seconds; the defaults are for production.
SHORT_TIMEOUTS: dict[str, Any] = {
    "database_connect_timeout_seconds": 2,  # libpq's minimum
    "s3_connect_timeout_seconds": 1,
    "s3_read_timeout_seconds": 1,
    "s3_max_attempts": 1,
}
# What "fast" means here: a few of those timeouts, with slack for a loaded machine.
FAST_SECONDS = 8.0


def closed_port() -> int:
    """A free port nothing listens on: a connection is refused at once, and a server may bind it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def black_hole() -> Iterator[int]:
    """Listen on a free port, accept every connection and never send a byte; yields the port.

    Leaving the block closes every connection, which ends whatever still waits on one.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    accepted: list[socket.socket] = []
    stopped = threading.Event()

    def accept() -> None:
        while not stopped.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stopped.set()
        acceptor.join()
        listener.close()
        for connection in accepted:
            connection.close()


def answered_within(seconds: float, call: Callable[[], Result]) -> Result:
    """call(), failing the test (instead of hanging it) if it takes longer than `seconds`.

    The call runs in a daemon thread, so a hung one is left behind; close its black hole to end it.
    """
    outcome: list[Result] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"no answer within {seconds} s"
    if failure:
        raise failure[0]
    return outcome[0]


@pytest.fixture(params=["refusing", "hung"])
def dead_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A dependency's address that refuses connections, or one that accepts and never answers."""
    if request.param == "refusing":
        yield closed_port()
        return
    with black_hole() as port:
        yield port


def assert_unavailable(response: httpx2.Response) -> None:
    """The answer to a request whose dependency is down: 503, the error body, when to retry."""
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0
