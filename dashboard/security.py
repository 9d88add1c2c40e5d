"""Security headers on every response, Secure cookies when served over HTTPS, and the client's
address and scheme from X-Forwarded-* headers when TRUSTED_PROXIES proxies stand in front."""
from werkzeug.middleware.proxy_fix import ProxyFix

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


def init_app(app) -> None:
    if hops := app.config["TRUSTED_PROXIES"]:  # else anyone could claim any address
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    headers = dict(HEADERS)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        app.config.update(SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
        headers.update(HSTS)

    @app.after_request
    def add_headers(response):
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
