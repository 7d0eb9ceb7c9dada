"""Ctrl-C and SIGTERM: acted on only where phaseup can stop without harm, held back everywhere else.

`main()` records both signals from the start. Work that leaves the user's files untouched until it finishes (the
merge in a scratch clone, the render into a staging directory) runs `interruptible()`: there SIGINT raises
KeyboardInterrupt and SIGTERM raises Terminated, including a signal recorded while waiting to get there, so the work
unwinds and says nothing was changed. Once the work starts writing the user's files it calls `hold()`: from then on
signals are only recorded, so the write and the summary describing it always complete, and the command ends with
the exit code of the finished work.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)

_recorders: list[list[int]] = []  # one list of recorded signals per signals_deferred() in progress, innermost last
_held: list[bool] = [False]  # whether hold() was called: the command is past the point of no return


class Terminated(Exception):
    """SIGTERM arrived: unwind like Ctrl-C does."""


def exit_code_for(interrupt: BaseException) -> int:
    """The shell's convention: 128 + the signal number."""
    return 128 + (signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT)


def interrupt_behind(error: BaseException) -> BaseException | None:
    """The interrupt that `error` was raised while unwinding from, if any.

    A clean-up can fail because the interrupt stopped it midway (a temporary directory that a git child process,
    signalled with phaseup, was still writing to); what the user did is still interrupt the command.
    """
    context = error.__context__
    while context is not None:
        if isinstance(context, (KeyboardInterrupt, Terminated)):
            return context
        context = context.__context__
    return None


def _raise(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGTERM:
        raise Terminated
    raise KeyboardInterrupt


def _record(signum: int, frame: FrameType | None) -> None:
    if _recorders:
        _recorders[-1].append(signum)


@contextmanager
def _handlers(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals
        return
    previous = {number: signal.signal(number, handler) for number in HANDLED}
    try:
        yield
    finally:
        for number, handler_before in previous.items():
            signal.signal(number, handler_before)


@contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Record SIGINT and SIGTERM instead of acting on them; yields the signals received meanwhile."""
    received: list[int] = []
    _recorders.append(received)
    try:
        with _handlers(_record):
            yield received
    finally:
        _recorders.pop()


@contextmanager
def interruptible() -> Iterator[None]:
    """Let SIGINT and SIGTERM interrupt this block, starting with any recorded while it was not yet running."""
    with _handlers(_raise):
        for received in _recorders:
            if received:
                _raise(received.pop(0), None)
        yield


def hold() -> None:
    """Past this point the work must finish: record SIGINT and SIGTERM until the enclosing block ends."""
    _held[0] = True
    if threading.current_thread() is threading.main_thread():
        for number in HANDLED:
            signal.signal(number, _record)


def held() -> bool:
    """Whether the command passed the point of no return (a signal recorded after it changes nothing)."""
    return _held[0]
