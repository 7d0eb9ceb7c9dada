"""Dependencies that fail the way real ones do, for the outage tests: a port nobody listens on,
and a black hole (a server that accepts connections and never answers, like a hung process)."""

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

Result = TypeVar("Result")


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused at once."""
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
