"""Security headers on every response: CSP, framing, referrer, sniffing, and HSTS in production."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response


def tile_origin(tile_url: str) -> str:
    """Return the origin the map tiles come from, for img-src ("{s}." subdomains as "*.")."""
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(tile_url: str) -> str:
    """Return the CSP of the pages: their own scripts and styles only, map tiles as images."""
    images = " ".join(filter(None, ("'self'", "data:", "blob:", tile_origin(tile_url))))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def init_app(app: Flask) -> None:
    """Add the security headers to every response."""
    csp = content_security_policy(app.config["MAP_TILE_URL"])
    production = app.config["ENV_NAME"] == "production"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # a tracking page's address names the request: other sites get the origin only
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
