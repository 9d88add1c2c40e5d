"""Security headers on every response, Secure cookies when served over HTTPS, the client's address
and scheme from X-Forwarded-* headers when TRUSTED_PROXIES proxies stand in front, and no WeCom
secret in the log lines that print URLs."""
import logging

from werkzeug.middleware.proxy_fix import ProxyFix

from .wecom.client import RedactingFilter

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",  # no inline scripts: page scripts live in static/js
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https: http:",  # card icons and images come from anywhere
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
# Loggers whose lines hold whole URLs: the client's gettoken (corpsecret) and every call
# (access_token), and in sandbox mode the access log of the sandbox's own API.
URL_LOGGERS = ("urllib3.connectionpool", "werkzeug", "gunicorn.access")


def init_app(app) -> None:
    redact_urls_in_logs()
    headers = dict(HEADERS)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
        headers.update(HSTS)
    app.extensions["security_headers"] = headers  # also for the callback's fast path

    @app.after_request
    def add_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def trust_proxies(app) -> None:
    """With TRUSTED_PROXIES, the client's address and scheme from X-Forwarded-*; else anyone could
    claim any address. Applied last, so that it wraps every other middleware."""
    if hops := app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def redact_urls_in_logs() -> None:
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
