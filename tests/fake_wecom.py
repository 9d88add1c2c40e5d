"""A fake WeCom server API on 127.0.0.1 for tests and benchmarks: real HTTP, no mocks.

    with FakeWeCom(latency=0.0) as fake:
        client = WeComClient(fake.corp_id, fake.secret, fake.agent_id, base_url=fake.base_url)

It keeps a small directory, issues tokens and one-time response codes, checks what WeCom
checks on the calls the dashboard makes, records every request, counts deliveries per user,
and injects faults: ``fail_next``, ``hang_next``, ``drop_next``, ``expire_tokens``, ``latency``.
"""

from __future__ import annotations

import itertools
import json
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


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the /cgi-bin prefix, e.g. "/message/send"
    query: dict
    body: dict | None
    raw: bytes
    time: float  # time.monotonic() on arrival


def _error(errcode: int, errmsg: str = "fake error") -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


def _ids(value) -> list[str]:
    return [s for s in str(value or "").split("|") if s]


class FakeWeCom:
    """A threaded fake of the WeCom endpoints the dashboard calls; see the module docstring.

    ``users`` are dicts (userid, name, department) or bare userids (put in department 1);
    ``unlicensed`` userids get nothing and come back as ``unlicenseduser``.
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
    ) -> None:
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.users = [
            u if isinstance(u, dict) else {"userid": u, "name": u, "department": [1]}
            for u in (USERS if users is None else users)
        ]
        self.departments = DEPARTMENTS if departments is None else departments
        self.tags = TAGS if tags is None else tags
        self.unlicensed = {u.lower() for u in unlicensed}
        self.token_ttl, self.latency = token_ttl, latency
        self.requests: list[Recorded] = []
        self.deliveries: Counter[str] = Counter()  # userid -> messages delivered
        self.messages: dict[str, dict] = {}  # msgid -> {"body", "recipients", "recalled"}
        self._known = {u["userid"].lower(): u["userid"] for u in self.users}
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._codes: dict[str, bool] = {}  # response_code -> used
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
        with self._lock:
            self.requests.append(Recorded(method, path, query, body, raw, time.monotonic()))
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
        answer = answer or route(self, query, body)
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
        card = body.get("template_card")
        if body.get("msgtype") != "template_card" or not isinstance(card, dict):
            return _error(40008, "invalid message type")
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
        card = body["template_card"]
        if card.get("card_type") in CALLBACK_CARD_TYPES or "action_menu" in card:
            answer["response_code"] = code = f"fake-rc-{next(self._serial):06d}"
            self._codes[code] = False
        return answer

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
            if self._codes[code]:
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

    def _departments(self, query: dict, body) -> dict:
        if "id" not in query:
            return {"errcode": 0, "errmsg": "ok", "department": self.departments}
        ids = self._subtree(int(query["id"]))
        found = [d for d in self.departments if d["id"] in ids]
        return {"errcode": 0, "errmsg": "ok", "department": found} if found else _error(60123)

    def _simplelist(self, query: dict, body) -> dict:
        dept_id = int(query.get("department_id") or 0)
        if dept_id not in {d["id"] for d in self.departments}:
            return _error(60123, "invalid department id")
        users = self._members(dept_id, fetch_child=query.get("fetch_child") == "1")
        return {"errcode": 0, "errmsg": "ok", "userlist": users}

    def _tag_list(self, query: dict, body) -> dict:
        tags = [{"tagid": t["tagid"], "tagname": t["tagname"]} for t in self.tags]
        return {"errcode": 0, "errmsg": "ok", "taglist": tags}

    def _tag_get(self, query: dict, body) -> dict:
        tag = next((t for t in self.tags if str(t["tagid"]) == query.get("tagid")), None)
        if tag is None:
            return _error(40068, "invalid tagid")
        names = {u["userid"]: u["name"] for u in self.users}
        userlist = [{"userid": u, "name": names.get(u, u)} for u in tag["userlist"]]
        answer = {"tagname": tag["tagname"], "userlist": userlist, "partylist": tag["partylist"]}
        return {"errcode": 0, "errmsg": "ok", **answer}

    def _callback_ip(self, query: dict, body) -> dict:
        return {"errcode": 0, "errmsg": "ok", "ip_list": ["101.226.103.0/25", "182.254.11.176/28"]}

    ROUTES = {
        "/gettoken": _gettoken,
        "/message/send": _send,
        "/message/update_template_card": _update,
        "/message/recall": _recall,
        "/department/list": _departments,
        "/user/simplelist": _simplelist,
        "/tag/list": _tag_list,
        "/tag/get": _tag_get,
        "/getcallbackip": _callback_ip,
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
