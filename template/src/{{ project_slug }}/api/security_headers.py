"""Security headers on every response the app sends, and HSTS on those sent over https.

Starlette has no middleware for this and the values are constants, so a small pure ASGI wrapper
adds them (cheaper on the hot path than BaseHTTPMiddleware). The set is OWASP's for REST APIs:
no MIME sniffing, no framing, no referrer. HSTS goes only on https responses (RFC 6797 7.2);
behind a TLS-terminating proxy uvicorn takes the scheme from X-Forwarded-Proto when the proxy's
address is in FORWARDED_ALLOW_IPS, so `scope["scheme"]` is the client's.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts_max_age_seconds: int) -> None:
        self.app = app
        hsts = (b"strict-transport-security", b"max-age=%d" % hsts_max_age_seconds)
        self.https_headers = (*SECURITY_HEADERS, hsts) if hsts_max_age_seconds else SECURITY_HEADERS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self.https_headers if scope.get("scheme") == "https" else SECURITY_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)
