"""Ctrl-C and SIGTERM: harmless while phaseup works in its scratch copy, held back while it writes the result.

Before the final write nothing of the user's project has been touched, so an interrupt simply unwinds (SIGINT as
KeyboardInterrupt, SIGTERM as Terminated). The final write and the summary that describes it run with both signals
recorded instead of acted on, so the project is never left half-written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C does."""


def exit_code_for(interrupt: BaseException) -> int:
    """The shell's convention: 128 + the signal number."""
    return 128 + (signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT)


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated


@contextmanager
def termination_unwinds() -> Iterator[None]:
    """Make SIGTERM raise Terminated (Python already turns SIGINT into KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


_deferring: list[list[int]] = []  # the signals recorded by the outermost signals_deferred() in progress


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Record SIGINT and SIGTERM instead of acting on them; yields the list of signals received meanwhile.

    Nested uses share the outermost recording, so an inner block never re-enables the signals early.
    """
    if _deferring or threading.current_thread() is not threading.main_thread():
        yield _deferring[0] if _deferring else []  # only the main thread receives signals
        return
    received: list[int] = []
    previous = {number: signal.signal(number, lambda signum, frame: received.append(signum)) for number in HANDLED}
    _deferring.append(received)
    try:
        yield received
    finally:
        _deferring.pop()
        for number, handler in previous.items():
            signal.signal(number, handler)
