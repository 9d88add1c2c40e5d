"""Languages: Simplified Chinese by default, English second (Flask-Babel, dashboard/translations/).

Message ids are short English sentences; `_()` in templates and views, `_l()` (lazy) in forms
and module-level tables, `N_()` in the WeCom library (which has no Flask) only marks them. The
language of a page: the user's saved choice, else the ``lang`` cookie (the login page's switcher),
else the browser's Accept-Language, else DEFAULT_LANGUAGE. The JSON API answers in English unless
the request's Accept-Language asks for Chinese; the CLI, the logs and the worker stay English.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates
from babel.messages.extract import extract_from_file
from babel.support import Translations
from flask import current_app, has_request_context, request
from flask_babel import get_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from .extensions import babel
from .wecom.cards import FIELD_LABELS, CardError

LANGUAGES = {"zh": "简体中文", "en": "English"}
COOKIE = "lang"
API_PREFIX = "/api/"
JS_FOLDER = Path(__file__).parent / "static" / "js"
TRANSLATIONS = Path(__file__).parent / "translations"
# Times, in the locale's own order and words, by size: "long" (2026年12月2日 17:03 / Dec 2, 2026,
# 5:03 PM) unless a page asks for a date, seconds, or a short form without the year.
TIME_FORMS = {
    "long": {"zh": "y年M月d日 HH:mm", "en": "MMM d, y, h:mm a"},
    "date": {"zh": "y年M月d日", "en": "MMM d, y"},
    "seconds": {"zh": "y年M月d日 HH:mm:ss", "en": "MMM d, y, h:mm:ss a"},
    "short": {"zh": "M月d日 HH:mm", "en": "MMM d, h:mm a"},
    "short_seconds": {"zh": "M月d日 HH:mm:ss", "en": "MMM d, h:mm:ss a"},
    "time": {"zh": "HH:mm:ss", "en": "h:mm:ss a"},
}


def init_app(app) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    babel.init_app(app, default_locale="en", locale_selector=select_language,
                   timezone_selector=lambda: current_app.config["TIMEZONE"])
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks: whitespace folded
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, language=language, js_catalog=js_catalog)
    app.jinja_env.filters.update(datetime=format_time, in_zone=in_zone)


def select_language() -> str:
    """The language of this request (see the module docstring); English outside one (the worker
    and the CLI, whose texts go to logs and the audit trail)."""
    if not has_request_context():
        return "en"
    if request.path.startswith(API_PREFIX):
        return request.accept_languages.best_match(LANGUAGES) or "en"
    chosen = getattr(current_user, "language", None) if current_user.is_authenticated else None
    return (chosen if chosen in LANGUAGES else None) or _cookie() \
        or request.accept_languages.best_match(LANGUAGES) or current_app.config["DEFAULT_LANGUAGE"]


def _cookie() -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value in LANGUAGES else None


def language() -> str:
    """The current language code: "zh" or "en"."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def format_time(value: datetime | None, form: str = "long", zone: str | None = None) -> str:
    """A stored UTC time in ``zone`` (default TIMEZONE), in the page's language (TIME_FORMS)."""
    if value is None:
        return ""
    tzinfo = ZoneInfo(zone or current_app.config["TIMEZONE"])
    return dates.format_datetime(value, TIME_FORMS[form][language()], tzinfo=tzinfo,
                                 locale=get_locale() or "en")


def in_zone(value: datetime | None, zone: str, form: str = "long") -> str:
    """The `in_zone` filter: a time in a campaign's own time zone."""
    return format_time(value, form, zone)


@cache
def _js_message_ids() -> frozenset[str]:
    """The message ids the scripts in static/js use (as `_("...")`), read once per process."""
    ids = set()
    for path in sorted(JS_FOLDER.glob("*.js")):
        for _line, message, _comments, _context in extract_from_file(
                "javascript", str(path), keywords={"_": None}):
            ids.add(message)
    return frozenset(ids)


@cache
def _js_catalog(code: str) -> dict[str, str]:
    translations = Translations.load(str(TRANSLATIONS), [code])
    return {msgid: translations.gettext(msgid) for msgid in sorted(_js_message_ids())}


def js_catalog() -> Markup:
    """The scripts' messages in the page's language, as JSON for a <script type=application/json>."""
    text = json.dumps(_js_catalog(language()), ensure_ascii=False, sort_keys=True)
    # Safe markup (bandit B704): JSON of our own catalog, < > & escaped: it cannot end the <script>
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))  # nosec B704


# --- the card rules' messages: dashboard.wecom.cards keeps English messages and a stable code per
# problem, with a template and its values; pages and the API show them through card_error_text().


def card_error_text(error: CardError) -> str:
    """The problem's message for a person, in the current language: its template translated and
    filled in with its values, the field's label and a pattern's words translated too. The
    English message when the error has no template, or when a translation does not fit it."""
    if not error.template:
        return error.message
    params = dict(error.params)
    label, chars = params.get("label"), params.get("chars")
    if isinstance(label, str):
        params["label"] = field_label(label)
    if isinstance(chars, str) and chars:
        params["chars"] = gettext(chars)
    try:
        return gettext(error.template).format(**params)
    except (KeyError, IndexError, ValueError):  # a translation naming a value the error lacks
        return error.message


def field_label(label: str) -> str:
    """A card field's English label ("Main title") in the current language: its translation
    ("主标题（main_title）"), else the label itself (its message id carries the field's key, so
    that a page's own "Type" or "Text" keeps its own translation)."""
    label_id = FIELD_LABELS.get(label)
    said = gettext(label_id) if label_id else label
    return label if said == label_id else said
