"""The error body as a model, and the `responses=` entries the routers declare with it.

api/errors.py renders every 4xx/5xx as {"error": {"code", "message", "details"?}}. Declaring each
status an operation returns, with this model, keeps the OpenAPI schema true for generated
clients and fuzzers (tests/test_fuzz.py checks every response against it).
"""

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
_STATUSES: dict[int, dict[str, Any]] = {
    400: {"description": "Malformed JSON, or a value the service cannot use (e.g. a cursor)"},
    401: {"description": "Not signed in: the session is missing, expired or invalid"},
    404: {"description": "No such resource, or it belongs to someone else"},
    409: {"description": "Conflicts with the current state"},
    413: {"description": "The request body is too large"},
    422: {"description": "The request does not match the schema"},
    429: {"description": "Too many attempts", "headers": _RETRY_AFTER},
    503: {"description": "A dependency is unavailable; retry later", "headers": _RETRY_AFTER},
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for these statuses, each with the error body's model."""
    return {status: {"model": ErrorResponse, **_STATUSES[status]} for status in statuses}


# What the app itself may answer to any operation, whatever its router does: a malformed (400), too
# large (413) or invalid (422) request, no session (401), a dependency down (503). Declared once, on
# the app (main.py), so every router, a team's own included, is documented truthfully without
# repeating them; a router declares only what its own logic raises (404, 409, 429).
EVERY_OPERATION = error_responses(400, 401, 413, 422, 503)
