"""Every page of the product, read in Chromium in Chinese and in English, with realistic data.

A Chinese browser (locale zh-CN, so Accept-Language zh-CN) signs in as an admin and visits every
page: the text a person sees must not contain the English of a message the catalog translates
(an id left out of gettext, or glued together in code, shows up that way). The same crawl in an
English browser must not show the Chinese of a message. Pages are found from the app's URL map:
a page the crawl does not visit fails test_the_crawl_visits_every_page, so a new page is crawled
or the test says why not. At 375 px (a phone) no Chinese page may scroll sideways.

Set I18N_SCREENSHOTS to a folder to get full-page screenshots of the main Chinese pages at 1366 px
(`I18N_SCREENSHOTS=docs/screenshots pytest tests/e2e/test_i18n_crawl.py`).

What people typed (cards, campaign names, the directory) is seeded in the crawl's own language
(tests/e2e/i18n_seed.py), so it cannot be mistaken for a message. Not checked: an element showing
user content that cannot be chosen so (mark it `data-user-content`), text marked as being in the
other language (`lang="zh-CN"` / `lang="en"`, e.g. the language switcher, or WeCom's Chinese
words quoted on an English page), code (<pre>, <code>, <kbd>, <samp>: JSON, field names, paths),
and the other language's words that a message itself contains ("WeCom shows 提交 when empty.").
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from flask import template_rendered
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect
from werkzeug.serving import WSGIRequestHandler, make_server

from dashboard.auth import wecom_access
from dashboard.extensions import db
from dashboard.i18n import TRANSLATIONS
from dashboard.models import DirectoryState, utcnow
from tests import databases
from tests.conftest import PASSWORD, make_app
from tests.e2e.i18n_seed import EN, ZH, Seeded, Words, seed

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CATALOG = TRANSLATIONS / "zh" / "LC_MESSAGES" / "messages.po"  # what the pages are checked against
TEMPLATES = Path(__file__).resolve().parents[2] / "dashboard" / "templates"
SCREENSHOTS = os.environ.get("I18N_SCREENSHOTS")
WIDE, PHONE = {"width": 1366, "height": 900}, {"width": 375, "height": 812}
# The main pages: screenshots at 1366 px (the phone check at 375 px reads every page).
MAIN_PAGES = ("home", "designer-vote_interaction", "campaign-sent", "report", "settings",
              "sandbox-inbox")

# GET endpoints that are not pages a person reads, and why; every other one must be crawled.
NOT_PAGES = {
    "static": "files", "bootstrap.static": "files",
    "main.healthz": "JSON for load balancers",
    "callback.": "WeCom's callback (XML for WeCom)",
    "api.": "the JSON API (its messages: tests/test_i18n.py)",
    "sandbox.cgi": "the sandbox's WeCom API (JSON)",
    "campaigns.progress": "JSON the campaign page polls",
    "reports.live": "JSON the report polls",
    "sandbox.feed": "JSON the inbox polls",
    "cards.download": "a card version as a JSON file",
    "reports.export": "CSV files",
    "conversations.report_csv": "CSV files",
    "directory.status": "JSON the directory pages poll",
    "directory.search_json": "JSON the people picker loads as one types",
    "auth.wecom_start": "a redirect to WeCom's sign-in page",
    "sandbox.open_link": "a redirect: an inbox card's link opened as its employee",
    "settings.test_card_status": "JSON the settings page's live self-test polls",
    "images.image_list": "JSON the designer's image picker loads",
    "sandbox.media_file": "pictures the sandbox serves, as WeCom's CDN does",
}

# Pages whose answer is not 200: what they answer.
REFUSED_PAGES = {"not-found": 404, "sandbox-unknown-user": 404, "wecom-refused": 400,
                 "sandbox-wecom-refused": 400}

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]?\d*(?:\.\d+)?[sdifeEgGxXorc]|\{\w+\}|\x00")
CODE = re.compile(r"<(pre|code|kbd|samp)\b[^>]*>.*?</\1>", re.S | re.I)  # not checked: a gap
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^<>]*>")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LETTER = re.compile(r"[A-Za-z]")
# A phrase is whole words, not part of an identifier or a path: "recipients" is not found in
# recipients.users, campaign_sent, department/list or {campaign_id}.
START_OF_WORDS = r"(?<![A-Za-z0-9_{])(?<![A-Za-z0-9_\]][./-])"
END_OF_WORDS = r"(?![A-Za-z0-9_}])(?![./-][A-Za-z0-9_])"

# The visible text of the page, its title, and the texts of visible attributes people read
# (placeholders, tooltips, labels, button values, options), leaving out user content, other-language text and
# code (<pre>, <code>...: JSON, field names, requests, never translated).
PAGE_TEXT = """(pageLanguage) => {
  const CODE = 'pre, code, kbd, samp', hidden = [];
  for (const el of document.body.querySelectorAll('[data-user-content], [lang], ' + CODE)) {
    const lang = el.getAttribute('lang');
    if (el.matches('[data-user-content], ' + CODE) ||
        (lang !== null && !lang.toLowerCase().startsWith(pageLanguage))) {
      hidden.push([el, el.style.getPropertyValue('display'), el.style.getPropertyPriority('display')]);
      el.style.setProperty('display', 'none', 'important');
    }
  }
  const text = document.body.innerText, attributes = [];
  for (const el of document.body.querySelectorAll(
      '[placeholder], [title], [aria-label], [alt], input[type=submit], input[type=button], ' +
      'input[type=reset], select')) {
    if (!el.checkVisibility()) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) {
      if (el.getAttribute(name)) attributes.push(el.getAttribute(name));
    }
    if (el.matches('input[type=submit], input[type=button], input[type=reset]')) attributes.push(el.value);
    if (el.matches('select')) {
      for (const option of el.options) attributes.push(option.text);
      for (const group of el.querySelectorAll('optgroup')) attributes.push(group.label);
    }
  }
  for (const [el, value, priority] of hidden) el.style.setProperty('display', value, priority);
  attributes.push(document.title);
  return {text, attributes, lang: document.documentElement.lang};
}"""

# A page wider than the screen: the widest element that sticks out (not one inside a box that
# scrolls or clips), as a selector and its text.
OVERFLOW = """() => {
  const width = window.innerWidth, scroll = document.documentElement.scrollWidth;
  if (scroll <= width + 1) return null;
  const clipped = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  let widest = null, right = width + 1;
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right < right || clipped(el)) continue;
    widest = el, right = box.right;
  }
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      [...el.classList].map(c => '.' + c).join('');
  const path = [];
  for (let el = widest; el && el !== document.body && path.length < 4; el = el.parentElement) path.unshift(name(el));
  return {scrollWidth: scroll, innerWidth: width, right: Math.round(right),
          element: path.join(' > '), text: widest ? widest.innerText.trim().slice(0, 80) : ''};
}"""


# --- what to look for --------------------------------------------------------------------------


def literal_parts(message: str) -> list[str]:
    """The text a message shows whatever its values: split at its placeholders, its tags (markup
    of a {% trans %} block, or text such as <token>: either way the longest part is looked for)
    and its code (not checked on the pages)."""
    text = html.unescape(TAG.sub("\x00", CODE.sub("\x00", message))).replace("%%", "%")
    return [" ".join(part.split()) for part in PLACEHOLDER.split(text)]


def read_catalog(path: Path | None = None):
    with (path or CATALOG).open("rb") as f:
        return read_po(f)


def pairs(catalog):
    """(English id, Chinese) of each translated message; both forms of a plural."""
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        chinese = next((s for s in strings if s), "")
        if chinese:
            for msgid in ids:
                yield msgid, chinese


@dataclass(frozen=True)
class Needle:
    phrase: str  # what must not be on the page
    message: str  # the catalog's id
    translation: str
    pattern: re.Pattern


def english_needles(catalog) -> list[Needle]:
    """For Chinese pages: the English of each translated message of at least 2 words or 8
    characters, with letters (of a message with placeholders: its longest literal part, if at
    least 8 characters), matched case-sensitively as a whole phrase."""
    needles = {}
    for msgid, chinese in pairs(catalog):
        if msgid == chinese or not LETTER.search(msgid):
            continue
        parts = literal_parts(msgid)
        phrase = max(parts, key=len)
        long_enough = len(phrase) >= 8 or (len(parts) == 1 and len(phrase.split()) >= 2)
        if not long_enough or not LETTER.search(phrase):
            continue
        edge_start = START_OF_WORDS if phrase[0].isalnum() else ""
        edge_end = END_OF_WORDS if phrase[-1].isalnum() else ""
        needles.setdefault(phrase, Needle(phrase, msgid, chinese,
                                          re.compile(edge_start + re.escape(phrase) + edge_end)))
    return list(needles.values())


def chinese_needles(catalog) -> list[Needle]:
    """For English pages: the Chinese of each message (its longest literal part) with at least
    2 CJK characters, unless the same as the id."""
    needles = {}
    for msgid, chinese in pairs(catalog):
        if msgid == chinese:
            continue
        phrase = max(literal_parts(chinese), key=lambda part: len(CJK.findall(part)))
        if len(CJK.findall(phrase)) >= 2:
            needles.setdefault(phrase, Needle(phrase, msgid, chinese, re.compile(re.escape(phrase))))
    return list(needles.values())


# --- the crawl ---------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    status: int
    endpoint: str
    text: str
    attributes: list[str]
    lang: str  # of <html>

    def shown(self) -> str:
        return " ".join((self.text + "\n" + "\n".join(self.attributes)).split())


@dataclass
class Crawl:
    language: str
    seeded: Seeded
    endpoints: list[tuple[str, bool]]  # every GET endpoint of the app: (name, takes arguments)
    pages: dict[str, Page] = field(default_factory=dict)
    rendered: set[str] = field(default_factory=set)  # templates the pages rendered
    overflow: dict[str, dict] = field(default_factory=dict)  # phone: page -> widest element


def missing_chinese_font() -> str | None:
    """Why Chromium would draw Chinese as empty boxes (of the wrong width), or None."""
    if not shutil.which("fc-list"):
        return None  # not fontconfig (macOS, Windows): the system's own CJK fonts
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout
    return None if fonts.strip() else (
        "no Chinese font is installed, so Chromium draws boxes instead of Chinese: install one "
        "(Debian: apt-get install fonts-noto-cjk)")


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@contextmanager
def serving(app):
    """The app over HTTP, its DASHBOARD_URL and sandbox API pointing at itself."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    base = f"http://127.0.0.1:{server.server_port}"
    app.config.update(DASHBOARD_URL=base, WECOM_API_BASE=f"{base}/sandbox/cgi-bin",
                      WECOM_SSO_BASE=f"{base}/sandbox/sso", WECOM_OAUTH_BASE=f"{base}/sandbox/oauth")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


def endpoint_of(app, url: str) -> str:
    try:
        endpoint, _args = app.url_map.bind("localhost").match(urlsplit(url).path, method="GET")
    except RequestRedirect as redirect:
        return endpoint_of(app, redirect.new_url)
    except HTTPException as exc:
        return str(exc.code)
    return endpoint


def get_endpoints(app) -> list[tuple[str, bool]]:
    return sorted({(rule.endpoint, bool(rule.arguments)) for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and not rule.redirect_to})


def pages_of(seeded: Seeded) -> list[tuple[str, str]]:
    """(name, path) of every page, signed in as an admin."""
    sent, pages = seeded.sent, [
        ("home", "/"), ("cards", "/cards/"), ("gallery", "/cards/new"),
        ("starter-copy", "/cards/new/poll-single")]
    pages += [(f"designer-{card_type}", f"/cards/{card_id}") for card_type, card_id in seeded.cards.items()]
    pages += [
        ("card-history", f"/cards/{seeded.cards['text_notice']}/history"),
        ("campaigns", "/campaigns/"), ("campaign-new", "/campaigns/new"),
        ("campaign-edit", f"/campaigns/{seeded.draft}/edit"),
        ("recipients", f"/campaigns/{seeded.draft}/recipients"),
        ("check", f"/campaigns/{seeded.draft}/check"),
        ("campaign-sent", f"/campaigns/{sent}"),
        ("campaign-aggregate", f"/campaigns/{seeded.aggregate}"),
        ("campaign-scheduled", f"/campaigns/{seeded.scheduled}"),
        ("audiences", "/campaigns/audiences"),
        ("reports", "/reports/"), ("report", f"/reports/{sent}"),
        ("report-answers", f"/reports/{sent}/answers"),
        ("report-departments", f"/reports/{sent}/departments"),
        ("report-person", f"/reports/{sent}/people/{seeded.voter}"),
        ("report-waiting", f"/reports/{sent}/waiting"),
        ("report-aggregate", f"/reports/{seeded.aggregate}"),
        ("report-aggregate-answers", f"/reports/{seeded.aggregate}/answers"),
        ("audit", "/reports/audit"),
        ("directory", "/directory/"), ("directory-filtered", "/directory/?department=2&q=a"),
        ("settings-after-click", f"/settings/cards/{seeded.cards['vote_interaction']}/after-click"),
        ("settings-close-poll", f"/settings/campaigns/{sent}/close-poll"),
        ("users", "/users"), ("user-edit", f"/users/{seeded.staff_id}"),
        ("wecom-refused", "/auth/wecom/callback?code=c&state=not-started-here"),
        ("api-tokens", "/account/tokens"), ("api-tokens-all", "/account/tokens/all"),
        ("account", "/account"), ("api-docs", "/api-docs/"),
        ("sandbox-control", "/sandbox/control"), ("sandbox-inbox", f"/sandbox/?user={seeded.voter}"),
        ("sandbox-unknown-user", "/sandbox/?user=nobody-here"),
        ("sandbox-wecom-qr", "/auth/wecom?next=/reports/"),
        ("sandbox-wecom-refused", "/sandbox/oauth/connect/oauth2/authorize?appid=nobody"),
        ("conversations-report", "/conversations/report"),
        ("conversations-menu", "/conversations/menu"),
        ("conversations-inbox", "/conversations/inbox"),
        ("conversations-thread", f"/conversations/inbox/{seeded.voter}"),
        ("conversations-rules", "/conversations/"), ("conversations-rule-new", "/conversations/rules/new"),
        ("conversations-rule", f"/conversations/rules/{seeded.rule}"),
        ("conversations-default", "/conversations/default"), ("conversations-welcome", "/conversations/welcome"),
        ("images", "/images/"), ("images-filtered", "/images/?q=nothing-matches"),
        ("approvals", "/approvals/"), ("approval", f"/approvals/{seeded.approval}"),
        ("approval-rejected", f"/approvals/{seeded.rejection}"),
        ("approval-reason", f"/approvals/{seeded.rejection}/reason"),
    ]
    return pages


class Crawler:
    def __init__(self, app, page, base: str, crawl: Crawl):
        self.app, self.page, self.base, self.crawl = app, page, base, crawl
        self.in_flight = set()
        page.on("request", lambda request: self.in_flight.add(request))
        page.on("requestfinished", lambda request: self.in_flight.discard(request))
        page.on("requestfailed", lambda request: self.in_flight.discard(request))

    def open(self, path: str):
        response = self.page.goto(self.base + path, wait_until="load")
        self.settle()
        return response

    def settle(self, quiet=0.15, limit=3.0):
        """Wait until the scripts' requests (the designer's preview, the inbox's feed) are
        answered and none follows for `quiet` seconds; Playwright's networkidle waits 0.5 s."""
        deadline, quiet_since = time.monotonic() + limit, None
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(30)  # Playwright delivers the page's events meanwhile
            if self.in_flight:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    def record(self, name: str, status: int):
        found = self.page.evaluate(PAGE_TEXT, self.crawl.language)
        self.crawl.pages[name] = Page(name, self.page.url, status, endpoint_of(self.app, self.page.url),
                                      found["text"], found["attributes"], found["lang"])
        if SCREENSHOTS and self.crawl.language == "zh" and name in MAIN_PAGES:
            if problem := missing_chinese_font():
                raise RuntimeError(f"No screenshots: {problem}")
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SCREENSHOTS) / f"zh-{name}.png"), full_page=True)

    def visit(self, name: str, path: str):
        response = self.open(path)
        self.record(name, response.status if response else 0)

    def sign_in(self, username: str):
        self.open("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.click("form:has(input[name=username]) [type=submit]")

    def self_test_then_settings(self):
        """The settings page with the self-test's steps on it (the admin's button)."""
        self.open("/settings/")
        with self.page.expect_navigation():
            self.page.click("form[action$='/settings/self-test'] [type=submit]")
        self.settle()
        self.record("settings", 200)

    def while_reading(self, name: str, path: str):
        """The page that waits for a read, while one is under way (as the worker marks it)."""
        with self.app.app_context():
            db.session.execute(db.update(DirectoryState).values(running_since=utcnow(), progress_done=3,
                                                                 progress_total=12))
            db.session.commit()
        try:
            self.visit(name, path)
        finally:
            with self.app.app_context():
                db.session.execute(db.update(DirectoryState).values(running_since=None))
                db.session.commit()

    def phone(self, names):
        self.page.set_viewport_size(PHONE)
        for name in names:
            self.open(urlsplit(self.crawl.pages[name].url)._replace(scheme="", netloc="").geturl())
            if overflow := self.page.evaluate(OVERFLOW):
                self.crawl.overflow[name] = overflow
        self.page.set_viewport_size(WIDE)


def run_crawl(browser, tmp_path, words: Words, locale: str, language: str, phone=False) -> Crawl:
    """Seed the data, then visit every page signed out (login) and as an admin."""
    app = make_app(tmp_path, DEFAULT_LANGUAGE="zh")
    crawl = Crawl(language, Seeded(), get_endpoints(app))

    def rendered(sender, template, context, **extra):
        crawl.rendered.add(template.name)

    template_rendered.connect(rendered, app)
    context = browser.new_context(locale=locale, viewport=WIDE)
    try:
        with serving(app) as base:
            crawl.seeded = seed(app, words)
            with app.app_context():  # a WeCom sign-in grant, for the users page's panel
                wecom_access.add_grant("tag", 1, "manager", actor="crawl")
                db.session.commit()
            page = context.new_page()
            page.set_default_timeout(15_000)
            crawler = Crawler(app, page, base, crawl)
            crawler.visit("login", "/login")  # signed out
            crawler.sign_in("admin")
            for name, path in pages_of(crawl.seeded):
                crawler.visit(name, path)
            crawler.self_test_then_settings()
            crawler.while_reading("directory-reading", "/directory/reading?next=/campaigns/")
            crawler.visit("not-found", "/no-such-page")
            if phone:
                crawler.phone([name for name in crawl.pages if name != "login"])
    finally:
        context.close()
        template_rendered.disconnect(rendered, app)
        with app.app_context():
            db.engine.dispose()
        databases.after_test()  # PostgreSQL: the other crawl seeds the same (shared) database
    return crawl


@pytest.fixture(scope="module")
def chinese(browser, tmp_path_factory) -> Crawl:
    """The whole Chinese crawl, once: the pages' texts, the templates rendered, the phone widths."""
    return run_crawl(browser, tmp_path_factory.mktemp("zh"), ZH, "zh-CN", "zh", phone=True)


@pytest.fixture(scope="module")
def english(browser, tmp_path_factory) -> Crawl:
    return run_crawl(browser, tmp_path_factory.mktemp("en"), EN, "en-US", "en", phone=True)


@pytest.fixture(scope="module")
def catalog():
    return read_catalog()


# --- the checks --------------------------------------------------------------------------------


def masks(catalog, language: str) -> list[str]:
    """Text of the catalog that is meant to be in the other language: the Chinese inside English
    ids ("WeCom shows 提交 when empty.") and the English inside Chinese ones ("API 令牌"). It is
    blanked out before looking for the other language's phrases."""
    texts = []
    for message in catalog:
        if not message.id:
            continue
        chosen = message.id if language == "en" else message.string
        texts += list(chosen) if isinstance(chosen, tuple) else [chosen]
    parts = {part for text in texts if text for part in literal_parts(text)
             if CJK.search(part) and LETTER.search(part)}  # mixed: "API" alone stays checked
    return sorted(parts, key=len, reverse=True)


def found_on(crawl: Crawl, needles: list[Needle], blanked: list[str]) -> list[str]:
    """One line per phrase found: the message, where it was seen first, and every page."""
    seen: dict[Needle, list[tuple[str, str]]] = {}
    for page in crawl.pages.values():
        shown = page.shown()
        for text in blanked:
            shown = shown.replace(text, " | ")
        for needle in needles:
            if match := needle.pattern.search(shown):
                around = shown[max(match.start() - 50, 0):match.end() + 50]
                seen.setdefault(needle, []).append((f"{page.name} ({urlsplit(page.url).path})", around))
    return [f"{needle.phrase!r} [id {needle.message!r} -> {needle.translation!r}] on "
            f"{len(where)} page(s): {', '.join(name for name, _ in where)}; first in “…{where[0][1]}…”"
            for needle, where in seen.items()]


def test_every_page_opens_in_the_browsers_language(chinese, english):
    for crawl, lang in ((chinese, "zh-CN"), (english, "en")):
        wrong = [f"{page.name}: HTTP {page.status}, <html lang={page.lang!r}> at {page.url}"
                 for page in crawl.pages.values()
                 if page.status != REFUSED_PAGES.get(page.name, 200) or page.lang != lang]
        assert not wrong, f"{lang} crawl: " + "; ".join(wrong)
        assert crawl.pages["not-found"].endpoint == "404"
        assert crawl.pages["login"].endpoint == "auth.login"
        assert all(page.text.strip() for page in crawl.pages.values()), "a page without text"


def test_chinese_pages_show_no_english_of_the_catalog(chinese, catalog):
    found = found_on(chinese, english_needles(catalog), masks(catalog, "zh"))
    assert not found, (f"{len(found)} English texts of translated messages on Chinese pages "
                       "(left out of gettext, or glued from pieces?):\n  " + "\n  ".join(found))


def test_english_pages_show_no_chinese_of_the_catalog(english, catalog):
    found = found_on(english, chinese_needles(catalog), masks(catalog, "en"))
    assert not found, (f"{len(found)} Chinese texts of the catalog on English pages:\n  "
                       + "\n  ".join(found))


def test_the_crawl_visits_every_page(chinese, english):
    """Every GET endpoint of the app is a crawled page or listed in NOT_PAGES with a reason,
    and every page template was rendered: a new page cannot escape the language checks."""
    def excluded(endpoint):
        return any(endpoint == name or name.endswith(".") and endpoint.startswith(name)
                   for name in NOT_PAGES)

    for crawl in (chinese, english):
        visited = {page.endpoint for page in crawl.pages.values()}
        missed = [f"{endpoint}{' (takes arguments)' if args else ''}"
                  for endpoint, args in crawl.endpoints if not excluded(endpoint) and endpoint not in visited]
        assert not missed, ("pages the crawl does not visit: add each to pages_of() (with data "
                            "that shows it at its fullest) or, if not a page, to NOT_PAGES: "
                            + ", ".join(missed))
        no_args = {endpoint for endpoint, args in crawl.endpoints if not args and not excluded(endpoint)}
        assert no_args <= visited
        pages = {str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                 if not path.name.startswith("_") and path.name != "base.html"}
        assert not pages - crawl.rendered, f"templates no crawled page renders: {sorted(pages - crawl.rendered)}"


@pytest.mark.parametrize("language", ["chinese", "english"])
def test_pages_fit_a_phone_in_either_language(request, language):
    """At 375 px the page does not scroll sideways: a label too long for the screen does."""
    problem = missing_chinese_font()
    assert not problem, f"Widths not measurable: {problem}"
    crawl = request.getfixturevalue(language)
    wide = [f"{name}: {o['scrollWidth']} px wide for {o['innerWidth']} px; widest: {o['element']} "
            f"(right edge at {o['right']} px) “{o['text']}”" for name, o in crawl.overflow.items()]
    assert not wide, f"{language.title()} pages wider than a phone:\n  " + "\n  ".join(wide)

