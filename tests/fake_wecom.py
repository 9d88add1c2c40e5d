"""A fake WeCom server API on 127.0.0.1 for tests and benchmarks: real HTTP, no mocks.

    with FakeWeCom(latency=0.0) as fake:
        client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url)

It keeps a small directory, issues tokens and one-time response codes, checks what WeCom
checks on the calls the dashboard makes, records every request, counts deliveries per user,
and injects faults: ``fail_next``, ``hang_next``, ``drop_next``, ``expire_tokens``, ``latency``.

The directory can change between reads (``add_user``, ``remove_user``, ``rename_user``,
``set_name``, ``move_user``, ``add_department``, ``remove_department``, ``set_tag``), answer
without names as WeCom does for apps created after mid-2022 (``hide_names``), refuse
user/list_id as it does without the contacts-sync secret (``list_id_forbidden``) and cut
user/list_id into small pages (``list_id_page``).

The app's menu (menu/create, menu/get, menu/delete) is kept in ``menu`` after WeCom's checks.
Pictures uploaded with media/uploadimg (multipart) are kept in ``images`` by the URL answered;
their request's ``media``, ``filename`` and ``content_type`` are in its Recorded.

Sign-in codes for auth/getuserinfo come from ``issue_login_code``: each answers once, as WeCom's
do (a second use, or a code never issued, is errcode 40029).
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

CALLBACK_CARD_TYPES = {"button_interaction", "vote_interaction", "multiple_interaction"}
DEPARTMENTS = [
    {"id": 1, "name": "总部", "parentid": 0, "order": 100000},
    {"id": 2, "name": "研发部", "parentid": 1, "order": 99000},
    {"id": 3, "name": "市场部", "parentid": 1, "order": 98000},
]
USERS = [
    {"userid": "zhangsan", "name": "张三", "department": [1]},
    {"userid": "lisi", "name": "李四", "department": [2]},
    {"userid": "wangwu", "name": "王五", "department": [2]},
    {"userid": "zhaoliu", "name": "赵六", "department": [3]},
]
TAGS = [{"tagid": 1, "tagname": "managers", "userlist": ["zhangsan"], "partylist": [3]}]
NAME_KEYS = ("name", "name_en")  # what hide_names leaves out
MAX_LIST_ID_LIMIT = 10000
CURSOR_PREFIX = "fake-cursor-"
# The app's menu as doc 90231 (a 2021 copy) states it, with the errcodes of WeCom's errcode page.
MENU_TYPES = ("click", "view", "view_miniprogram", "scancode_push", "scancode_waitmsg",
              "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select")
MENU_KEY_BYTES, MENU_URL_BYTES = 128, 1024
MENU_NAME_BYTES = (16, 40)  # (a top-level button, a sub-button)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the /cgi-bin prefix, e.g. "/message/send"
    query: dict
    body: dict | None
    raw: bytes
    time: float  # time.monotonic() on arrival
    # A multipart upload (media/uploadimg): the ``media`` part's bytes, file name and content type.
    media: bytes | None = None
    filename: str | None = None
    content_type: str | None = None


def _error(errcode: int, errmsg: str = "fake error") -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


def _ids(value) -> list[str]:
    return [s for s in str(value or "").split("|") if s]


def _multipart(raw: bytes) -> dict:
    """The ``media`` part of a multipart/form-data body as Recorded's fields, {} when there is none.
    The boundary is read from the body's first line, as a form body starts with it."""
    if not raw.startswith(b"--"):
        return {}
    boundary = raw.split(b"\r\n", 1)[0]
    for part in raw.split(boundary)[1:-1]:
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = head.decode("utf-8", "replace")
        if re.search(r'name="media"', headers):
            filename = re.search(r'filename="([^"]*)"', headers)
            kind = re.search(r"(?im)^content-type:\s*(\S+)", headers)
            return {"media": data.removesuffix(b"\r\n"), "filename": filename and filename.group(1),
                    "content_type": kind and kind.group(1)}
    return {}


def _ok(**fields) -> dict:
    return {"errcode": 0, "errmsg": "ok", **fields}


def _retag(userids: list[str], old: str, new: dict | None) -> list[str]:
    """A tag's userids with ``old`` changed to ``new``'s userid, or left out if ``new`` is None."""
    kept = []
    for userid in userids:
        if userid.lower() != old.lower():
            kept.append(userid)
        elif new is not None:
            kept.append(new["userid"])
    return kept


def _page_start(cursor) -> int | None:
    """Where a user/list_id page starts: 0 without a cursor, None for one the fake never gave."""
    if not cursor:
        return 0
    if not isinstance(cursor, str) or not cursor.startswith(CURSOR_PREFIX):
        return None
    return _int(cursor.removeprefix(CURSOR_PREFIX))


def _int(value) -> int | None:
    """A query parameter as WeCom reads an id: digits, else no id at all."""
    return int(value) if str(value or "").isdigit() else None


def _menu_error(body) -> dict | None:
    """WeCom's refusal of a menu/create body, None when it takes it: the first broken rule's
    errcode, the sub-button code (40022-40027, 40054) when the button is a sub-button."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return _error(40016, "invalid button size")
    return next((e for e in (_button_error(b, sub=False) for b in buttons) if e), None)


def _button_error(button, sub: bool) -> dict | None:
    what = "sub button" if sub else "button"
    if not isinstance(button, dict):
        return _error(40058, f"invalid {what}")
    name = button.get("name")
    if not isinstance(name, str) or not name or len(name.encode()) > MENU_NAME_BYTES[sub]:
        return _error(40025 if sub else 40018, f"invalid {what} name size")
    subs = button.get("sub_button")
    if not (subs or ("type" not in button and "sub_button" in button)):
        return _leaf_error(button, sub, what)
    if sub:
        return _error(40022, "invalid sub_menu level")
    if not isinstance(subs, list) or not 1 <= len(subs) <= 5:
        return _error(40023, "invalid sub button size")
    return next((e for e in (_button_error(b, sub=True) for b in subs) if e), None)


def _leaf_error(button: dict, sub: bool, what: str) -> dict | None:
    """A button without sub-buttons: its type and what the type needs (appid and pagepath of a
    view_miniprogram: 40058, WeCom's errcode for them was not found)."""
    kind, key, url = button.get("type"), button.get("key"), button.get("url")
    if kind not in MENU_TYPES:
        return _error(40024 if sub else 40017, f"invalid {what} type")
    if kind not in ("view", "view_miniprogram") and not (
            isinstance(key, str) and key and len(key.encode()) <= MENU_KEY_BYTES):
        return _error(40026 if sub else 40019, f"invalid {what} key size")
    url_ok = isinstance(url, str) and url and len(url.encode()) <= MENU_URL_BYTES
    if kind == "view" and not url_ok:
        return _error(40027 if sub else 40020, f"invalid {what} url size")
    if kind == "view" and not re.match(r"https?://[^/\s]", url, re.IGNORECASE):
        return _error(40054 if sub else 40055, f"invalid {what} url domain")
    if kind == "view_miniprogram" and not all(
            isinstance(button.get(k), str) and button[k] for k in ("appid", "pagepath")):
        return _error(40058, "view_miniprogram needs appid and pagepath")
    return None


class FakeWeCom:
    """A threaded fake of the WeCom endpoints the dashboard calls; see the module docstring.

    ``users`` are dicts (userid, name, department) or bare userids (put in department 1);
    ``unlicensed`` userids get nothing and come back as ``unlicenseduser``. ``hide_names``:
    no member or department names in any answer; ``list_id_forbidden``: user/list_id answers
    48002; ``list_id_page``: at most this many rows in one user/list_id answer.
    """

    def __init__(
        self,
        *,
        corp_id: str = "wwfakecorp0001",
        secret: str = "fake-secret",
        agent_id: int = 1000002,
        users=None,
        departments=None,
        tags=None,
        unlicensed=(),
        token_ttl: int = 7200,
        latency: float = 0.0,
        hide_names: bool = False,
        list_id_forbidden: bool = False,
        list_id_page: int = MAX_LIST_ID_LIMIT,
    ) -> None:
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.users = [
            u if isinstance(u, dict) else {"userid": u, "name": u, "department": [1]}
            for u in (USERS if users is None else users)
        ]
        # Own lists, replaced (never changed in place) by the directory helpers, so a request
        # reads a whole list and the module's constants stay as they are.
        self.departments = list(DEPARTMENTS if departments is None else departments)
        self.tags = list(TAGS if tags is None else tags)
        self.unlicensed = {u.lower() for u in unlicensed}
        self.token_ttl, self.latency = token_ttl, latency
        self.hide_names, self.list_id_forbidden = hide_names, list_id_forbidden
        self.list_id_page = list_id_page
        self.requests: list[Recorded] = []
        self.deliveries: Counter[str] = Counter()  # userid -> messages delivered
        self.messages: dict[str, dict] = {}  # msgid -> {"body", "recipients", "recalled"}
        self.menu: dict | None = None  # the app's menu, {"button": [...]}, as menu/create took it
        self.images: dict[str, bytes] = {}  # url -> the picture media/uploadimg took
        self.codes_reusable = False  # True: a used response_code is taken again (not 42022)
        self._known = {u["userid"].lower(): u["userid"] for u in self.users}
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._codes: dict[str, bool] = {}  # response_code -> used
        self._login_codes: dict[str, dict] = {}  # sign-in code -> getuserinfo's answer; used: gone
        self._faults: list[list] = []  # [kind, value, path, remaining]
        self._sent: dict[str, tuple[float, dict]] = {}  # duplicate check: body -> (time, answer)
        self._serial = itertools.count(1)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._conns: set[socket.socket] = set()
        self._server: _Server | None = None

    # --- lifecycle ---

    def start(self) -> FakeWeCom:
        """Serve on a free port; after stop(), again on the same one (WeCom back after an outage)."""
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", self._server.server_address[1] if self._server else 0),
                               _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in self._conns:  # end keep-alive connections too
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join()

    def __enter__(self) -> FakeWeCom:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/cgi-bin"

    # --- inspection and fault injection ---

    def calls(self, path: str) -> list[Recorded]:
        """Recorded requests to ``path`` (e.g. "/message/send"), oldest first."""
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def fail_next(
        self, errcode: int, n: int = 1, path: str | None = None, *, http_status: int = 200
    ) -> None:
        """Answer the next ``n`` calls with ``errcode`` (or a bare non-JSON ``http_status``
        page); any path but /gettoken unless ``path`` names it."""
        self._add_fault("fail", (errcode, http_status), path, n)

    def hang_next(self, seconds: float, n: int = 1, path: str | None = None) -> None:
        """Process the next call, then wait ``seconds`` before answering (outcome unknown)."""
        self._add_fault("hang", seconds, path, n)

    def drop_next(self, n: int = 1, path: str | None = None) -> None:
        """Read the next call, then close the connection without processing or answering."""
        self._add_fault("drop", None, path, n)

    def expire_tokens(self) -> None:
        """Expire every issued token: calls get 42001 and gettoken issues a new one."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def issue_response_code(self) -> str:
        """A fresh one-time response code, as a callback would carry."""
        code = f"fake-rc-{next(self._serial):06d}"
        with self._lock:
            self._codes[code] = False
        return code

    def issue_login_code(self, userid: str | None = None, *, openid: str | None = None,
                         old_style: bool = False) -> str:
        """A one-time sign-in code, as WeCom's OAuth or QR-code login hands the app: for member
        ``userid`` (in ``UserId`` with ``old_style``, as older answers spell it), or for someone
        outside the corp (``openid``, no userid)."""
        code = f"fake-login-{next(self._serial):06d}-{'y' * 16}"
        if openid is not None:
            answer = {"openid": openid, "external_userid": ""}
        else:
            answer = {"UserId": userid, "DeviceId": ""} if old_style else {"userid": userid}
        with self._lock:
            self._login_codes[code] = answer
        return code

    def _add_fault(self, kind: str, value, path: str | None, n: int) -> None:
        with self._lock:
            self._faults.append([kind, value, path, n])

    def _take_fault(self, path: str) -> tuple[str | None, object]:
        with self._lock:
            for fault in self._faults:
                kind, value, where, _ = fault
                if where == path or (where is None and path != "/gettoken"):
                    fault[3] -= 1
                    if not fault[3]:
                        self._faults.remove(fault)
                    return kind, value
        return None, None

    # --- changing the directory between reads (as an admin would in WeCom's console) ---

    def add_user(self, userid: str, name: str, departments: list[int]) -> None:
        """A new member; ValueError if the userid is taken (WeCom's userids ignore case)."""
        with self._lock:
            if userid.lower() in self._known:
                raise ValueError(f"userid {userid!r} exists")
            self._check_departments(departments)
            self.users = [*self.users, {"userid": userid, "name": name,
                                        "department": list(departments)}]
            self._known = {**self._known, userid.lower(): userid}

    def remove_user(self, userid: str) -> None:
        """Delete a member, from its tags too; KeyError if unknown."""
        with self._lock:
            self._replace_user(userid, None)

    def rename_user(self, old: str, new: str) -> None:
        """Change a member's userid (WeCom allows it once), in its tags too; name and
        departments stay."""
        with self._lock:
            if new.lower() in self._known and new.lower() != old.lower():
                raise ValueError(f"userid {new!r} exists")
            self._replace_user(old, {**self._user(old), "userid": new})

    def set_name(self, userid: str, name: str) -> None:
        """Change a member's display name."""
        with self._lock:
            self._replace_user(userid, {**self._user(userid), "name": name})

    def move_user(self, userid: str, departments: list[int]) -> None:
        """Put a member in these departments instead of its current ones."""
        with self._lock:
            self._check_departments(departments)
            self._replace_user(userid, {**self._user(userid), "department": list(departments)})

    def add_department(self, id: int, name: str, parentid: int, order: int = 0) -> None:
        """A new department under ``parentid``; ValueError for a taken id or unknown parent."""
        with self._lock:
            if id in {d["id"] for d in self.departments}:
                raise ValueError(f"department {id} exists")
            self._check_departments([parentid])
            department = {"id": id, "name": name, "parentid": parentid, "order": order}
            self.departments = [*self.departments, department]

    def remove_department(self, id: int) -> None:
        """Delete an empty department, as WeCom only allows (ValueError while it has members or
        sub-departments); its tags lose it."""
        with self._lock:
            self._check_departments([id])
            if any(d["parentid"] == id for d in self.departments):
                raise ValueError(f"department {id} has sub-departments")  # WeCom: 60006
            if any(id in u["department"] for u in self.users):
                raise ValueError(f"department {id} has members")  # WeCom: 60005
            self.departments = [d for d in self.departments if d["id"] != id]
            self.tags = [{**t, "partylist": [p for p in t["partylist"] if p != id]}
                         for t in self.tags]

    def set_tag(
        self, tagid: int, userids: list[str], partyids: list[int], tagname: str | None = None
    ) -> None:
        """Create tag ``tagid`` or replace its members (and its name, if given)."""
        with self._lock:
            old = next((t for t in self.tags if t["tagid"] == tagid), None)
            tag = {"tagid": tagid, "tagname": tagname or (old or {}).get("tagname", f"tag{tagid}"),
                   "userlist": list(userids), "partylist": list(partyids)}
            rest = [t for t in self.tags if t["tagid"] != tagid]
            self.tags = sorted([*rest, tag], key=lambda t: t["tagid"])

    def _user(self, userid: str) -> dict:
        """The member with this userid, whatever its case; KeyError if unknown (lock held)."""
        known = self._known[userid.lower()]
        return next(u for u in self.users if u["userid"] == known)

    def _replace_user(self, userid: str, new: dict | None) -> None:
        """Swap a member for ``new`` (None: delete it) in the users, the index and the tags."""
        old = self._user(userid)["userid"]
        replaced = [new if u["userid"] == old else u for u in self.users]
        self.users = [u for u in replaced if u is not None]
        known = {k: v for k, v in self._known.items() if v != old}
        if new is not None:
            known[new["userid"].lower()] = new["userid"]
        self._known = known
        self.tags = [{**t, "userlist": _retag(t["userlist"], old, new)} for t in self.tags]

    def _check_departments(self, ids: list[int]) -> None:
        if unknown := set(ids) - {d["id"] for d in self.departments}:
            raise ValueError(f"no department {sorted(unknown)}")

    # --- dispatch ---

    def handle(self, method: str, target: str, raw: bytes) -> tuple[int, dict | None, float]:
        """(HTTP status, JSON answer, seconds to hang); status 0 means drop the connection."""
        url = urlsplit(target)
        path = url.path.removeprefix("/cgi-bin")
        query = dict(parse_qsl(url.query))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        upload = _multipart(raw) if path == "/media/uploadimg" else {}
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, raw, time.monotonic(), **upload))
        if self.latency:
            self._stopping.wait(self.latency)
        kind, value = self._take_fault(path)
        if kind == "drop":
            return 0, None, 0.0
        if kind == "fail":
            errcode, status = value
            return status, _error(errcode, "injected by FakeWeCom") if status == 200 else None, 0.0
        route = self.ROUTES.get(path)
        if route is None:
            return 404, None, 0.0
        answer = self._token_error(query) if path != "/gettoken" else None
        answer = answer or route(self, query, upload or body)
        return 200, answer, value if kind == "hang" else 0.0

    def _token_error(self, query: dict) -> dict | None:
        expiry = self._tokens.get(query.get("access_token", ""))
        if not query.get("access_token"):
            return _error(41001, "access_token missing")
        if expiry is None:
            return _error(40014, "invalid access_token")
        return _error(42001, "access_token expired") if expiry <= time.monotonic() else None

    def _agent_error(self, body: dict | None) -> dict | None:
        if not isinstance(body, dict):
            return _error(40058, "invalid json request")
        if "agentid" not in body:
            return _error(41011, "missing agentid")
        return None if str(body["agentid"]) == str(self.agent_id) else _error(40056, "bad agentid")

    def _gettoken(self, query: dict, body) -> dict:
        if query.get("corpid") != self.corp_id:
            return _error(40013, "invalid corpid")
        if query.get("corpsecret") != self.secret:
            return _error(40001, "invalid credential")
        now = time.monotonic()
        with self._lock:  # like WeCom: the same token until it expires
            token = next((t for t, exp in self._tokens.items() if exp > now), None)
            if token is None:
                token = f"fake-token-{next(self._serial):06d}-{'x' * 32}"
                self._tokens[token] = now + self.token_ttl
            left = round(self._tokens[token] - now)  # whole seconds, as WeCom gives them
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": left}

    def _send(self, query: dict, body) -> dict:
        if error := self._agent_error(body):
            return error
        if error := self._content_error(body):
            return error
        users, parties, tags = (_ids(body.get(k)) for k in ("touser", "toparty", "totag"))
        if not (users or parties or tags):
            return _error(82001, "All touser & toparty & totag invalid")
        if len(users) > 1000:
            return _error(40032, "invalid userid list size")
        if len(parties) > 100 or len(tags) > 100:
            return _error(40058, "too many parties or tags")
        key, now = json.dumps(body, sort_keys=True), time.monotonic()
        with self._lock:
            if body.get("enable_duplicate_check") and key in self._sent:
                at, answer = self._sent[key]
                if now - at < body.get("duplicate_check_interval", 1800):
                    return answer
            answer = self._deliver(body, users, parties, tags)
            if answer["errcode"] == 0:
                self._sent[key] = (now, answer)
        return answer

    def _deliver(self, body: dict, users: list, parties: list, tags: list) -> dict:
        """Resolve recipients, count deliveries, issue msgid and response code (lock held)."""
        parties = list(parties)
        targets = [u["userid"] for u in self.users] if "@all" in users else []
        bad_users = [u.lower() for u in users if u != "@all" and u.lower() not in self._known]
        targets += [self._known[u.lower()] for u in users if u.lower() in self._known]
        tag_by_id = {str(t["tagid"]): t for t in self.tags}
        bad_tags = [t for t in tags if t not in tag_by_id]
        for tag in (tag_by_id[t] for t in tags if t in tag_by_id):
            targets += [self._known[u.lower()] for u in tag["userlist"] if u.lower() in self._known]
            parties += [str(p) for p in tag["partylist"]]
        dept_ids = {str(d["id"]) for d in self.departments}
        bad_parties = [p for p in dict.fromkeys(parties) if p not in dept_ids]
        for party in (int(p) for p in parties if p in dept_ids):
            targets += [u["userid"] for u in self._members(party, fetch_child=True)]
        targets = list(dict.fromkeys(targets))
        unlicensed = [u for u in targets if u.lower() in self.unlicensed]
        targets = [u for u in targets if u.lower() not in self.unlicensed]
        answer = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(bad_users),
            "invalidparty": "|".join(bad_parties),
            "invalidtag": "|".join(bad_tags),
            "unlicenseduser": "|".join(u.lower() for u in unlicensed),
        }
        if not targets and not unlicensed:
            return {**answer, **_error(81013, "user & party & tag all invalid")}
        msgid = f"fake-msg-{next(self._serial):06d}"
        self.messages[msgid] = {"body": body, "recipients": targets, "recalled": False}
        self.deliveries.update(targets)
        answer["msgid"] = msgid
        card = body.get("template_card") or {}
        if card.get("card_type") in CALLBACK_CARD_TYPES or "action_menu" in card:
            answer["response_code"] = code = f"fake-rc-{next(self._serial):06d}"
            self._codes[code] = False
        return answer

    @staticmethod
    def _content_error(body: dict) -> dict | None:
        """A template card, a text (content ≤ 2048 bytes) or news (1–8 articles with a title)."""
        msgtype = body.get("msgtype")
        content = body.get(msgtype) if msgtype in ("template_card", "text", "news") else None
        if not isinstance(content, dict):
            return _error(40008, "invalid message type")
        if msgtype == "text" and not (0 < len(str(content.get("content", "")).encode()) <= 2048):
            return _error(44004, "empty content or over 2048 bytes")
        articles = content.get("articles") if msgtype == "news" else [{"title": "-"}]
        if not isinstance(articles, list) or not 1 <= len(articles) <= 8 or not all(
                isinstance(a, dict) and a.get("title") for a in articles):
            return _error(40058, "news needs 1-8 articles with a title")
        return None

    def _update(self, query: dict, body) -> dict:
        if error := self._agent_error(body):
            return error
        code = body.get("response_code")
        if not code:
            return _error(40063, "response_code is empty")
        if ("button" in body) == ("template_card" in body):
            return _error(40058, "give button.replace_name or template_card")
        with self._lock:
            if code not in self._codes:
                return _error(60140, "invalid response_code")
            if self._codes[code] and not self.codes_reusable:
                return _error(42022, "code has been used")
            self._codes[code] = True
        invalid = [u.lower() for u in body.get("userids", []) if u.lower() not in self._known]
        return {"errcode": 0, "errmsg": "ok", "invaliduser": invalid}

    def _recall(self, query: dict, body) -> dict:
        with self._lock:
            message = self.messages.get((body or {}).get("msgid", ""))
            if message is None:
                return _error(40058, "invalid msgid")
            message["recalled"] = True
        return _error(0, "ok")

    def _members(self, dept_id: int, fetch_child: bool) -> list[dict]:
        ids = self._subtree(dept_id) if fetch_child else {dept_id}
        return [u for u in self.users if ids & set(u["department"])]

    def _subtree(self, dept_id: int) -> set[int]:
        ids = {dept_id}
        while more := {d["id"] for d in self.departments if d["parentid"] in ids} - ids:
            ids |= more
        return ids

    def _named(self, item: dict) -> dict:
        """``item`` as the app sees it: without names when the admin granted none."""
        return {k: v for k, v in item.items() if k not in NAME_KEYS} if self.hide_names else item

    def _in_subtree(self, query: dict) -> list[dict] | None:
        """All departments, or those at and below ``id``; None for an unknown ``id``."""
        departments = self.departments
        if "id" not in query:
            return departments
        dept_id = _int(query["id"])
        ids = self._subtree(dept_id)
        found = [d for d in departments if d["id"] in ids]
        return found if any(d["id"] == dept_id for d in found) else None

    def _departments(self, query: dict, body) -> dict:
        found = self._in_subtree(query)
        if found is None:
            return _error(60123, "invalid department id")
        return _ok(department=[self._named(d) for d in found])

    def _department_ids(self, query: dict, body) -> dict:
        found = self._in_subtree(query)
        if found is None:
            return _error(60123, "invalid department id")
        return _ok(department_id=[{"id": d["id"], "parentid": d["parentid"],
                                   "order": d.get("order", 0)} for d in found])

    def _department_get(self, query: dict, body) -> dict:
        dept_id = _int(query.get("id"))
        department = next((d for d in self.departments if d["id"] == dept_id), None)
        if department is None:
            return _error(60123, "invalid department id")
        return _ok(department=self._named({"department_leader": [], **department}))

    def _simplelist(self, query: dict, body) -> dict:
        dept_id = _int(query.get("department_id"))
        if dept_id not in {d["id"] for d in self.departments}:
            return _error(60123, "invalid department id")
        users = self._members(dept_id, fetch_child=query.get("fetch_child") == "1")
        return _ok(userlist=[self._named(u) for u in users])

    def _user_get(self, query: dict, body) -> dict:
        if not query.get("userid"):
            return _error(41009, "missing userid")
        with self._lock:
            try:
                user = self._user(query["userid"])
            except KeyError:
                return _error(60111, "userid not found")
        main = {"main_department": user["department"][0]} if user["department"] else {}
        return _ok(**self._named({**user, **main}))

    def _list_id(self, query: dict, body) -> dict:
        if self.list_id_forbidden:
            return _error(48002, "api forbidden")
        if not isinstance(body, dict):
            return _error(40058, "invalid json request")
        limit, start = body.get("limit", MAX_LIST_ID_LIMIT), _page_start(body.get("cursor"))
        if type(limit) is not int or not 1 <= limit <= MAX_LIST_ID_LIMIT:
            return _error(40058, "invalid limit")
        if start is None:
            return _error(40058, "invalid cursor")
        rows = [{"userid": u["userid"], "department": d}
                for u in self.users for d in u["department"]]
        end = start + min(limit, self.list_id_page)
        more = f"{CURSOR_PREFIX}{end}" if end < len(rows) else ""
        return _ok(next_cursor=more, dept_user=rows[start:end])

    def _tag_list(self, query: dict, body) -> dict:
        tags = [{"tagid": t["tagid"], "tagname": t["tagname"]} for t in self.tags]
        return {"errcode": 0, "errmsg": "ok", "taglist": tags}

    def _tag_get(self, query: dict, body) -> dict:
        tag = next((t for t in self.tags if str(t["tagid"]) == query.get("tagid")), None)
        if tag is None:
            return _error(40068, "invalid tagid")
        names = {u["userid"]: u["name"] for u in self.users}
        userlist = [self._named({"userid": u, "name": names.get(u, u)}) for u in tag["userlist"]]
        answer = {"tagname": tag["tagname"], "userlist": userlist, "partylist": tag["partylist"]}
        return {"errcode": 0, "errmsg": "ok", **answer}

    def _getuserinfo(self, query: dict, body) -> dict:
        if not query.get("code"):
            return _error(41008, "missing oauth code")
        with self._lock:
            answer = self._login_codes.pop(query["code"], None)
        return _error(40029, "invalid code") if answer is None else _ok(**answer)

    def _callback_ip(self, query: dict, body) -> dict:
        return {"errcode": 0, "errmsg": "ok", "ip_list": ["101.226.103.0/25", "182.254.11.176/28"]}

    def _menu_agent_error(self, query: dict) -> dict | None:
        """The menu calls name the app in the query: 41011 without it, 40056 for another app."""
        return self._agent_error({"agentid": query["agentid"]} if "agentid" in query else {})

    def _menu_create(self, query: dict, body) -> dict:
        if error := self._menu_agent_error(query) or _menu_error(body):
            return error
        with self._lock:  # no update call in WeCom: create replaces the whole menu
            self.menu = {"button": body["button"]}
        return _ok()

    def _menu_get(self, query: dict, body) -> dict:
        if error := self._menu_agent_error(query):
            return error
        menu = self.menu
        return _error(46003, "menu no exist") if menu is None else _ok(**menu)

    def _menu_delete(self, query: dict, body) -> dict:
        """Deleting when there is no menu answers ok too (WeCom's answer to it was not found)."""
        if error := self._menu_agent_error(query):
            return error
        with self._lock:
            self.menu = None
        return _ok()

    def _uploadimg(self, query: dict, upload) -> dict:
        """media/uploadimg: a JPG or PNG (by its bytes) of 5 bytes to 2 MB, kept in ``images``
        under the URL answered. Refuse one with fail_next(40005, path="/media/uploadimg")."""
        if not isinstance(upload, dict) or "media" not in upload:
            return _error(41005, "media data missing")
        data = upload["media"]
        if not (data.startswith(b"\x89PNG\r\n\x1a\n") or data.startswith(b"\xff\xd8\xff")):
            return _error(40005, "invalid file type")
        if not 5 <= len(data) <= 2 * 1024 * 1024:
            return _error(40006, "invalid file size")
        url = f"http://p.qpic.cn/pic_wework/fake/{next(self._serial):06d}/0"
        with self._lock:
            self.images[url] = data
        return _ok(url=url)

    ROUTES = {
        "/gettoken": _gettoken,
        "/message/send": _send,
        "/message/update_template_card": _update,
        "/message/recall": _recall,
        "/department/list": _departments,
        "/department/simplelist": _department_ids,
        "/department/get": _department_get,
        "/user/simplelist": _simplelist,
        "/user/list_id": _list_id,
        "/user/get": _user_get,
        "/tag/list": _tag_list,
        "/tag/get": _tag_get,
        "/getcallbackip": _callback_ip,
        "/auth/getuserinfo": _getuserinfo,
        "/menu/create": _menu_create,
        "/menu/get": _menu_get,
        "/menu/delete": _menu_delete,
        "/media/uploadimg": _uploadimg,
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for idle keep-alive connections
    fake: FakeWeCom

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client that gave up is not an error
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, with Content-Length on every answer
    wbufsize = -1  # headers and body leave in one write: no Nagle + delayed-ACK 40 ms stall
    timeout = 60

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._conns.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._conns.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, raw: bytes) -> None:
        fake = self.server.fake
        status, payload, hang = fake.handle(self.command, self.path, raw)
        if status == 0 or fake._stopping.is_set():
            self.close_connection = True
            return
        data = json.dumps(payload, ensure_ascii=False).encode() if payload else b"<html>error"
        if hang:
            fake._stopping.wait(hang)
            self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args) -> None:
        pass
