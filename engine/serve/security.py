"""Response headers every dashboard response carries.

The Content-Security-Policy allows only the app's own origin (``default-src 'self'``) and no
inline script or style: pages link their stylesheet and draw charts as inline SVG elements, which
need neither. Framing is refused, referrers are not sent, MIME sniffing is off, and pages are not
cached (they show evidence to a signed-in user). Behind TLS, browsers are told to keep to HTTPS.
"""
from __future__ import annotations

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def headers(behind_tls: bool) -> list[tuple[bytes, bytes]]:
    found = [("content-security-policy", CSP), ("x-content-type-options", "nosniff"),
             ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer"),
             ("cross-origin-opener-policy", "same-origin"), ("cross-origin-resource-policy", "same-origin"),
             ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
             ("cache-control", "no-store")]
    if behind_tls:
        found.append(("strict-transport-security", "max-age=31536000"))
    return [(k.encode(), v.encode()) for k, v in found]


class SecurityHeaders:
    """ASGI middleware: adds :func:`headers` to every HTTP response (replacing any same-named
    header a route set, so no route can weaken them)."""

    def __init__(self, app, behind_tls: bool = False) -> None:
        self.app = app
        self.extra = headers(behind_tls)
        self.names = {k for k, _ in self.extra}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message = {**message, "headers": kept + self.extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
