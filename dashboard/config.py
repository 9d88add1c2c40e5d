"""Configuration: literal defaults here, then instance/config.py, then environment variables."""
import logging
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Config


class Defaults:
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None  # filled in: a SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    WECOM_CORP_ID = None
    WECOM_AGENT_ID = None
    WECOM_SECRET = None
    WECOM_TOKEN = None
    WECOM_AES_KEY = None
    WECOM_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin"
    # WeCom sign-in: the OAuth page inside the WeCom client, and the QR-code login in a browser
    # (in sandbox mode, left at these, the sandbox's own pages).
    WECOM_OAUTH_BASE = "https://open.weixin.qq.com"
    WECOM_SSO_BASE = "https://login.work.weixin.qq.com"
    WECOM_ADMINS = ""  # comma-separated WeCom userids who sign in as admins on a fresh install
    WECOM_CALLBACK_MAX_AGE = 300
    TASK_QUEUE_URL = None  # filled in: a SQLite-backed queue in the instance folder
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    SESSION_HOURS = 12  # a sign-in ends this long after its last request (PERMANENT_SESSION_LIFETIME)
    REMEMBER_DAYS = 14  # "Keep me signed in" lasts this long (REMEMBER_COOKIE_DURATION)
    BOOTSTRAP_SERVE_LOCAL = True
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    # The recipients page posts one form part per chosen person (a CSV of thousands becomes
    # thousands of chips); Werkzeug's defaults (1,000 parts, 500 KB of fields) would refuse it
    # with 413. MAX_CONTENT_LENGTH still bounds the whole request.
    MAX_FORM_PARTS = 50_000
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    TIMEZONE = "Asia/Shanghai"
    DEFAULT_LANGUAGE = "zh"  # zh or en: when neither the user, the lang cookie nor the browser says
    DASHBOARD_URL = "http://127.0.0.1:5000"  # how WeCom (or the sandbox) reaches this app
    PASSWORD_HASH_METHOD = "scrypt"
    WECOM_SEATS = None  # licensed seats; the daily quota is seats x 200 (unset: directory size)
    # Sends to more recipients than this (after expansion), and every send to @all, wait for a
    # second person's approval (admins and users who may approve, never the author); 0: no approvals.
    APPROVAL_ABOVE = 0
    CAMPAIGN_CONCURRENT_CALLS = 4  # batches of one campaign in flight at once, across all workers
    CAMPAIGN_MAX_ATTEMPTS = 10  # tries of a batch on retryable WeCom errors (about 6-9 minutes)
    CAMPAIGN_RETRY_BASE = 1.0  # seconds; backoff doubles from here, with jitter
    CAMPAIGN_RETRY_MAX = 120.0  # seconds; the longest wait between two tries, before jitter
    API_RATE_LIMIT = 120  # requests per token and window; 0 turns the limit off
    API_RATE_WINDOW = 60  # seconds
    API_MAX_BODY = 1024 * 1024  # bytes
    LOGIN_WINDOW = 900  # seconds over which failed logins count
    LOGIN_SLOW_AFTER = 3  # failures of one account from one address before each attempt waits:
    LOGIN_SLOW_SECONDS = 1.0  # this long, doubled with each further failure,
    LOGIN_SLOW_MAX = 8.0  # up to this long
    LOGIN_REFUSE_AFTER = 10  # failures of one account from one address: that address is locked out
    LOGIN_IP_REFUSE_AFTER = 30  # failures from one address (any account): it is locked out
    LOGIN_ACCOUNT_REFUSE_AFTER = 50  # failures of one account from all addresses: each address
    # with LOGIN_SLOW_AFTER failures is locked out; the others still sign in, each try slowed
    RETENTION_DAYS = 180  # `flask retention purge`: finished campaigns idle this long lose names
    TRUSTED_PROXIES = 0  # reverse proxies in front whose X-Forwarded-For/-Proto/-Host to believe
    WECOM_CALLBACK_ALLOW = ""  # who may call the callback: `wecom` and/or networks; empty = anyone
    DIRECTORY_SYNC_INTERVAL = 21600  # seconds between the worker's whole reads of the directory
    DIRECTORY_READ_CONCURRENCY = 4  # departments read at once during a whole read
    DIRECTORY_READ_WAIT = 120  # seconds a request needing the directory waits for a read
    WELCOME_EVERY = 86400  # seconds: a member gets the welcome at most once in this long
    # How the clicker's card changes after a click: "api" (the worker calls
    # message/update_template_card with the event's ResponseCode) or "reply" (a passive reply in
    # the callback's answer, which WeCom's docs do not reliably list for template_card_event).
    AFTER_CLICK_VIA = "api"


# Environment variable -> config key; the README's configuration table lists the same names.
ENVIRONMENT = {
    "SECRET_KEY": "SECRET_KEY",
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "WECOM_CORP_ID": "WECOM_CORP_ID",
    "WECOM_AGENT_ID": "WECOM_AGENT_ID",
    "WECOM_SECRET": "WECOM_SECRET",
    "WECOM_TOKEN": "WECOM_TOKEN",
    "WECOM_AES_KEY": "WECOM_AES_KEY",
    "WECOM_API_BASE": "WECOM_API_BASE",
    "WECOM_OAUTH_BASE": "WECOM_OAUTH_BASE",
    "WECOM_SSO_BASE": "WECOM_SSO_BASE",
    "WECOM_ADMINS": "WECOM_ADMINS",
    "WECOM_CALLBACK_MAX_AGE": "WECOM_CALLBACK_MAX_AGE",
    "TASK_QUEUE_URL": "TASK_QUEUE_URL",
    "PREFERRED_URL_SCHEME": "PREFERRED_URL_SCHEME",
    "DASHBOARD_URL": "DASHBOARD_URL",
    "WECOM_SEATS": "WECOM_SEATS",
    "API_RATE_LIMIT": "API_RATE_LIMIT",
    "RETENTION_DAYS": "RETENTION_DAYS",
    "CAMPAIGN_CONCURRENT_CALLS": "CAMPAIGN_CONCURRENT_CALLS",
    "TRUSTED_PROXIES": "TRUSTED_PROXIES",
    "WECOM_CALLBACK_ALLOW": "WECOM_CALLBACK_ALLOW",
    "DEFAULT_LANGUAGE": "DEFAULT_LANGUAGE",
    "TIMEZONE": "TIMEZONE",
    "DIRECTORY_SYNC_INTERVAL": "DIRECTORY_SYNC_INTERVAL",
    "DIRECTORY_READ_CONCURRENCY": "DIRECTORY_READ_CONCURRENCY",
    "WELCOME_EVERY": "WELCOME_EVERY",
    "SESSION_HOURS": "SESSION_HOURS",
    "REMEMBER_DAYS": "REMEMBER_DAYS",
    "AFTER_CLICK_VIA": "AFTER_CLICK_VIA",
    "APPROVAL_ABOVE": "APPROVAL_ABOVE",
}
INTEGERS = {"WECOM_CALLBACK_MAX_AGE", "WECOM_SEATS", "API_RATE_LIMIT", "RETENTION_DAYS",
            "CAMPAIGN_CONCURRENT_CALLS", "TRUSTED_PROXIES", "DIRECTORY_SYNC_INTERVAL",
            "DIRECTORY_READ_CONCURRENCY", "WELCOME_EVERY", "SESSION_HOURS", "REMEMBER_DAYS",
            "APPROVAL_ABOVE"}
#: Never shown whole: not in pages, logs, errors or repr(app.config); settings show the last characters.
SECRETS = ("SECRET_KEY", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
#: The WeCom connection; where each came from is kept in CREDENTIAL_SOURCES for the settings page.
CREDENTIALS = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
#: deploy/systemd/dashboard.env.example ships SECRET_KEY=change-me-...: a key everyone knows.
PLACEHOLDER_KEY_PREFIX = "change-me"
AFTER_CLICK_WAYS = ("api", "reply")
MIN_KEY_BYTES = 32
SIGN_IN_BASES = ("WECOM_OAUTH_BASE", "WECOM_SSO_BASE")
USERID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")  # WeCom's rule for a userid
HOW_TO_MAKE_A_KEY = "`python -c 'import secrets; print(secrets.token_hex(32))'`"

log = logging.getLogger(__name__)


class SafeConfig(Config):
    """Flask's config, whose repr (in a traceback, a debugger, a log line) masks the secrets."""

    def __repr__(self) -> str:
        shown = {k: masked(v) if k in SECRETS and v else v for k, v in self.items()}
        return f"<{type(self).__name__} {shown!r}>"


def masked(value) -> str:
    """A secret as dots and its last 4 characters (none of a short one): enough to tell two apart."""
    value = str(value or "")
    return "••••••••" + (value[-4:] if len(value) >= 12 else "") if value else ""


class ConfigError(RuntimeError):
    """The configuration cannot start the app; the message says what to set."""


def load(app, test_config=None):
    """Apply defaults, the instance file and the environment (or test_config) to app.config."""
    app.config.from_object(Defaults)
    blank = set()
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        sources = {**_sources(app.config, "instance config"), **_from_environment(app.config)}
        blank = {key for key in CREDENTIALS if os.environ.get(key, "unset").strip() == ""}
    else:
        app.config.from_mapping(test_config)
        sources = _sources(app.config, "app configuration")
    app.config["CREDENTIAL_SOURCES"] = {k: v for k, v in sources.items() if k in CREDENTIALS}
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_HOURS"])
    app.config["REMEMBER_COOKIE_DURATION"] = timedelta(days=app.config["REMEMBER_DAYS"])
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'dashboard.sqlite'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = with_driver(app.config["SQLALCHEMY_DATABASE_URI"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):  # a file drops no connections:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {  # no ping before each use (a query per callback)
            **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "pool_pre_ping": False}
    if not app.config["TASK_QUEUE_URL"]:
        app.config["TASK_QUEUE_URL"] = f"sqlite:///{instance / 'queue.sqlite'}"
    problems = credential_problems(app.config, blank, complete=not app.testing)
    app.config["SANDBOX"] = not problems and not app.config["WECOM_CORP_ID"]
    if app.config["SANDBOX"]:
        apply_sandbox_credentials(app.config, instance / "sandbox.json")
        log.info("sandbox mode: no WECOM_CORP_ID nor any other WeCom credential is set, so this app "
                 "plays WeCom itself at %s; set all five WECOM_ variables to use a real WeCom app",
                 app.config["WECOM_API_BASE"])
    if not app.config["SECRET_KEY"] and (app.config["SANDBOX"] or app.debug or app.testing):
        app.config["SECRET_KEY"] = kept_secret(instance / "secret_key")
    problems += secret_key_problems(app.config["SECRET_KEY"], strong=not app.testing)
    problems += _locale_problems(app.config)
    problems += _after_click_problems(app.config)
    problems += _sign_in_problems(app.config)
    if problems:
        raise ConfigError("\n".join(problems))


def credential_problems(config, blank: set[str], *, complete: bool) -> list[str]:
    """Sandbox mode is for an install that sets no WeCom credential at all; one set but empty
    (`WECOM_CORP_ID=`, as the example env file ships them) or, when complete, a partial set would
    otherwise silently start the sandbox (or a connection that fails) on a real server."""
    blank = blank | {key for key in CREDENTIALS
                     if config.get(key) is not None and not str(config[key]).strip()}
    given = [key for key in CREDENTIALS if key not in blank and config.get(key)]
    missing = [key for key in CREDENTIALS if key not in given]
    if not blank and (not complete or not given or not missing):
        return []
    empty = f" ({', '.join(sorted(blank, key=CREDENTIALS.index))} set but empty)" if blank else ""
    return [f"WeCom credentials: fill in {', '.join(missing)}{empty} with your self-built app's "
            "values (README, Running it for real), or remove all five WECOM_ variables for "
            "sandbox mode."]


def secret_key_problems(key, *, strong: bool) -> list[str]:
    """Anyone who knows the key can forge any user's session or remember cookie."""
    where = ("Set the SECRET_KEY environment variable (or SECRET_KEY in instance/config.py) to "
             f"{MIN_KEY_BYTES} or more random bytes, e.g. the output of {HOW_TO_MAKE_A_KEY}.")
    if not key:
        return [f"SECRET_KEY is not set. {where}"]
    raw = key if isinstance(key, bytes) else str(key).encode()
    if raw.startswith(PLACEHOLDER_KEY_PREFIX.encode()):
        return [f"SECRET_KEY is the example file's placeholder, which anyone can read. {where}"]
    if strong and len(raw) < MIN_KEY_BYTES:
        return [f"SECRET_KEY has {len(raw)} bytes, too few to resist guessing. {where}"]
    return []


def _locale_problems(config) -> list[str]:
    """A mistyped language or time zone is reported at start-up, not on the first page shown."""
    from zoneinfo import ZoneInfo

    if config["DEFAULT_LANGUAGE"] not in ("zh", "en"):
        return [f"DEFAULT_LANGUAGE must be zh or en, not {config['DEFAULT_LANGUAGE']!r}."]
    try:
        ZoneInfo(str(config["TIMEZONE"]))
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return [f"TIMEZONE {config['TIMEZONE']!r} is not a time zone: use a name such as "
                "Asia/Shanghai."]
    return []


def _after_click_problems(config) -> list[str]:
    """A mistyped AFTER_CLICK_VIA would otherwise leave every clicked card unchanged, silently."""
    if config["AFTER_CLICK_VIA"] not in AFTER_CLICK_WAYS:
        return [f"AFTER_CLICK_VIA must be api or reply, not {config['AFTER_CLICK_VIA']!r}."]
    return []


def _sign_in_problems(config) -> list[str]:
    """A mistyped sign-in address or admin userid would otherwise show first as a login that
    goes nowhere, or an admin who cannot get in."""
    problems = [f"{key} must be an http:// or https:// address, not {config[key]!r}."
                for key in SIGN_IN_BASES if not re.match(r"https?://[^/\s]+", str(config[key] or ""))]
    if bad := [u for u in wecom_admins(config) if not USERID.fullmatch(u)]:
        problems.append(f"WECOM_ADMINS holds {', '.join(map(repr, bad))}, not a WeCom userid: give "
                        "userids separated by commas (letters, digits and _ . @ -).")
    return problems


def wecom_admins(config) -> list[str]:
    """The userids of WECOM_ADMINS, as given (WeCom's userids ignore case: compare lowered)."""
    return [u.strip() for u in str(config.get("WECOM_ADMINS") or "").split(",") if u.strip()]


def with_driver(url: str) -> str:
    """postgresql:// and postgres:// URLs (as libpq and hosting services write them) use psycopg 3."""
    scheme, found, rest = str(url).partition("://")
    return f"postgresql+psycopg://{rest}" if found and scheme in ("postgresql", "postgres") else url


def _from_environment(config) -> dict[str, str]:
    """Apply the ENVIRONMENT variables that are set; {key: "environment"} for each."""
    applied = {}
    for env_name, key in ENVIRONMENT.items():
        if value := os.environ.get(env_name):
            config[key] = int(value) if key in INTEGERS else value
            applied[key] = "environment"
    return applied


def _sources(config, source: str) -> dict[str, str]:
    return {key: source for key in CREDENTIALS if config.get(key)}


def apply_sandbox_credentials(config, path: Path) -> None:
    """Sandbox mode: WeCom credentials generated once and kept, and the API and the sign-in pages
    served by this app."""
    import json

    if not path.exists():
        generated = {
            "WECOM_CORP_ID": "wwsandbox" + secrets.token_hex(4),
            "WECOM_AGENT_ID": "1000002",
            "WECOM_SECRET": secrets.token_urlsafe(32),
            "WECOM_TOKEN": secrets.token_urlsafe(12),
            "WECOM_AES_KEY": secrets.token_urlsafe(40).replace("-", "a").replace("_", "b")[:43],
        }
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(generated, f, indent=2)
        except FileExistsError:  # another process wrote it first
            pass
    sources = config.setdefault("CREDENTIAL_SOURCES", {})
    for key, value in json.loads(path.read_text()).items():
        if not config.get(key):
            config[key], sources[key] = value, "sandbox generated"
    here = config["DASHBOARD_URL"].rstrip("/")
    if config["WECOM_API_BASE"] == Defaults.WECOM_API_BASE:
        config["WECOM_API_BASE"] = here + "/sandbox/cgi-bin"
    if config["WECOM_OAUTH_BASE"] == Defaults.WECOM_OAUTH_BASE:  # the sandbox plays WeCom's
        config["WECOM_OAUTH_BASE"] = here + "/sandbox/oauth"  # sign-in pages too
    if config["WECOM_SSO_BASE"] == Defaults.WECOM_SSO_BASE:
        config["WECOM_SSO_BASE"] = here + "/sandbox/sso"


def kept_secret(path: Path, nbytes: int = 32) -> str:
    """A random secret generated once and kept in a file, so restarts keep sessions valid."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


def migrations_dir() -> str:
    """The Alembic folder at the top of the repository, wherever flask is started from."""
    return str(Path(__file__).resolve().parent.parent / "migrations")
