"""Errors the business logic raises; the HTTP layer maps each to a 4xx status (api/errors.py)."""


class ServiceError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    code = "invalid_input"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Unauthenticated(ServiceError):
    code = "unauthenticated"


class Unavailable(ServiceError):
    """A dependency the request needs is down; the client may retry later."""

    code = "unavailable"


class TooManyAttempts(ServiceError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
