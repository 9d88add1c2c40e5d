"""The plain hand-written WeCom callback receiver an integrator would write, to measure ours
against (issue 27; run by ``bench/bench_callback.py --against-peer``).

Honest, and no less than a receiver must do: the signature check, the decryption and the
corp-id check (wechatpy's ``WeChatCrypto.decrypt_message``), parsing (xmltodict), and a durable,
de-duplicated store: one table with a UNIQUE key of FromUserName + CreateTime + TaskId +
EventKey, ``INSERT OR IGNORE`` (PostgreSQL: ``ON CONFLICT DO NOTHING``) and a commit per event,
before answering 200. SQLite runs in WAL mode with ``synchronous=NORMAL``, as ours does (the
same durability: a commit survives the process, not a power cut). ``GET /ok`` answers "ok": the
server's ceiling.

A member's TEXT message (``MsgType`` text, issue 27's note on the app that talks back) is stored
once by its MsgId, with the reply, in a second table, and answered with an encrypted passive
text reply: the first of the keyword rules in ``PEER_RULES`` (a JSON file: a list of
``{"triggers": [{"match": "whole"|"contains"|"pattern", "text": ...}], "reply": ...}``) that
matches, found as a hand-written receiver would: a dict of whole keywords, then each contained
keyword and each regular expression in turn. No rule matches: an empty 200.

    PEER_DATABASE_URL=sqlite:////tmp/peer.sqlite WECOM_TOKEN=... WECOM_AES_KEY=... \\
    WECOM_CORP_ID=... gunicorn -c gunicorn.conf.py bench.peer_callback:app
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
import time
from pathlib import Path

import xmltodict
from flask import Flask, abort, request
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

SCHEMA = ("CREATE TABLE IF NOT EXISTS event (from_user TEXT NOT NULL, create_time BIGINT NOT NULL, "
          "task_id TEXT NOT NULL, event_key TEXT NOT NULL, xml TEXT NOT NULL, "
          "UNIQUE (from_user, create_time, task_id, event_key))")
MESSAGE_SCHEMA = ("CREATE TABLE IF NOT EXISTS message (msg_id BIGINT PRIMARY KEY, from_user TEXT NOT NULL, "
                  "create_time BIGINT NOT NULL, content TEXT NOT NULL, reply TEXT, xml TEXT NOT NULL)")
INSERT = {"sqlite": "INSERT OR IGNORE INTO event VALUES (?, ?, ?, ?, ?)",
          "postgresql": "INSERT INTO event VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"}
INSERT_MESSAGE = {"sqlite": "INSERT OR IGNORE INTO message VALUES (?, ?, ?, ?, ?, ?)",
                  "postgresql": "INSERT INTO message VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"}

app = Flask(__name__)
crypto = WeChatCrypto(os.environ["WECOM_TOKEN"], os.environ["WECOM_AES_KEY"], os.environ["WECOM_CORP_ID"])
URL = os.environ["PEER_DATABASE_URL"]
KIND = "sqlite" if URL.startswith("sqlite:///") else "postgresql"
_local = threading.local()


def load_rules(path: str | None) -> tuple[dict, list, list]:
    """(whole keyword -> reply, [(contained keyword, reply)], [(compiled pattern, reply)])."""
    whole, contains, patterns = {}, [], []
    for rule in json.loads(Path(path).read_text(encoding="utf-8")) if path else []:
        for trigger in rule["triggers"]:
            if trigger["match"] == "whole":
                whole.setdefault(trigger["text"], rule["reply"])
            elif trigger["match"] == "contains":
                contains.append((trigger["text"], rule["reply"]))
            else:
                patterns.append((re.compile(trigger["text"]), rule["reply"]))
    return whole, contains, patterns


WHOLE, CONTAINS, PATTERNS = load_rules(os.environ.get("PEER_RULES"))


def reply_to(content: str) -> str | None:
    """The first matching rule's reply."""
    if content in WHOLE:
        return WHOLE[content]
    for keyword, reply in CONTAINS:
        if keyword in content:
            return reply
    for pattern, reply in PATTERNS:
        if pattern.search(content):
            return reply
    return None


def _connect():
    if KIND == "sqlite":
        conn = sqlite3.connect(URL.removeprefix("sqlite:///"), timeout=30, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn
    import psycopg

    return psycopg.connect(URL.replace("postgresql+psycopg://", "postgresql://"))


def create_schema(tries: int = 100) -> None:
    """The two tables and, on SQLite, WAL mode (which the file keeps), made as each worker starts,
    as a deployment's migration would. Made by each thread at its first request instead, two of
    them now and then met in ``PRAGMA journal_mode=WAL`` and one answered 500 ("database is
    locked": SQLite does not wait for that lock), which stopped a benchmark run; a worker that
    starts beside another may still find the file locked, and tries again."""
    for attempt in range(tries):
        conn = _connect()
        try:
            if KIND == "sqlite":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SCHEMA)
            conn.execute(MESSAGE_SCHEMA)
            conn.commit()
            return
        except Exception:  # noqa: BLE001 - the other worker holds the file, or made a table first
            if attempt == tries - 1:
                raise
            time.sleep(0.05)
        finally:
            conn.close()


def connection():
    """This thread's connection, made once."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = _connect()
    return conn


create_schema()


@app.post("/wecom/callback")
def callback():
    args = request.args
    try:
        xml = crypto.decrypt_message(request.get_data(), args.get("msg_signature", ""),
                                     args.get("timestamp", ""), args.get("nonce", ""))
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(400)
    event = xmltodict.parse(xml)["xml"]
    if event.get("MsgType") == "text":
        return message(event, xml)
    conn = connection()
    conn.execute(INSERT[KIND], (event["FromUserName"], int(event["CreateTime"]), event.get("TaskId") or "",
                                event.get("EventKey") or "", xml))
    conn.commit()
    return ""


def message(event: dict, xml: str):
    """Store the message once by its MsgId, with its reply, then answer with the reply encrypted."""
    content = event.get("Content") or ""
    reply = reply_to(content)
    conn = connection()
    conn.execute(INSERT_MESSAGE[KIND], (int(event["MsgId"]), event["FromUserName"], int(event["CreateTime"]),
                                        content, reply, xml))
    conn.commit()
    if reply is None:
        return ""
    answer = xmltodict.unparse({"xml": {
        "ToUserName": event["FromUserName"], "FromUserName": event["ToUserName"],
        "CreateTime": int(time.time()), "MsgType": "text", "Content": reply}}, full_document=False)
    args = request.args
    return crypto.encrypt_message(answer, args.get("nonce", ""), args.get("timestamp")), {"Content-Type": "text/xml"}


@app.get("/ok")
def ok():
    return "ok"
