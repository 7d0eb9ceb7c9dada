"""JSON logs to stdout with a request id on every line.

The request id comes from the client's X-Request-ID header when it looks sane (so a trace can
span a proxy, this app and its callers) or is generated here; it is echoed in the response
header and put on every log line written while the request runs, through a context variable.
"""

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, bounded: enough for UUIDs and trace ids, nothing that
# could forge log structure or bloat every line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
access_logger = logging.getLogger("http.access")


class RequestIdFilter(logging.Filter):
    """Stamp each record with the request id of the request being served (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class JsonLogHandler(logging.StreamHandler[TextIO]):
    """The handler configure_logging installs; marked so that calling it again replaces it."""


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Route every logger, uvicorn's included, through one JSON handler (stdout by default)."""
    handler = JsonLogHandler(stream or sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            ["levelname", "name", "message", "request_id"],
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",
            # uvicorn repeats its message with terminal colour codes; a log line needs it once.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not isinstance(h, JsonLogHandler)] + [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # RequestIdMiddleware writes the access log, with the request id; uvicorn's would lack it.
    logging.getLogger("uvicorn.access").disabled = True


def current_request_id() -> str | None:
    """The id of the request being served (None outside one)."""
    return _request_id.get()


def accept_or_generate_request_id(candidate: str | None) -> str:
    if candidate is not None and _SANE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI middleware: sets the request id, returns it, and writes one access log line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = accept_or_generate_request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception:
            access_logger.exception("unhandled error")
            raise
        finally:
            access_logger.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            _request_id.reset(token)
