"""The plain hand-written WeCom callback receiver an integrator would write, to measure ours
against (issue 27; run by ``bench/bench_callback.py --against-peer``).

Honest, and no less than a receiver must do: the signature check, the decryption and the
corp-id check (wechatpy's ``WeChatCrypto.decrypt_message``), parsing (xmltodict), and a durable,
de-duplicated store: one table with a UNIQUE key of FromUserName + CreateTime + TaskId +
EventKey, ``INSERT OR IGNORE`` (PostgreSQL: ``ON CONFLICT DO NOTHING``) and a commit per event,
before answering 200. SQLite runs in WAL mode with ``synchronous=NORMAL``, as ours does (the
same durability: a commit survives the process, not a power cut). ``GET /ok`` answers "ok": the
server's ceiling.

    PEER_DATABASE_URL=sqlite:////tmp/peer.sqlite WECOM_TOKEN=... WECOM_AES_KEY=... \\
    WECOM_CORP_ID=... gunicorn -c gunicorn.conf.py bench.peer_callback:app
"""
from __future__ import annotations

import os
import sqlite3
import threading

import xmltodict
from flask import Flask, abort, request
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

SCHEMA = ("CREATE TABLE IF NOT EXISTS event (from_user TEXT NOT NULL, create_time BIGINT NOT NULL, "
          "task_id TEXT NOT NULL, event_key TEXT NOT NULL, xml TEXT NOT NULL, "
          "UNIQUE (from_user, create_time, task_id, event_key))")
INSERT = {"sqlite": "INSERT OR IGNORE INTO event VALUES (?, ?, ?, ?, ?)",
          "postgresql": "INSERT INTO event VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"}

app = Flask(__name__)
crypto = WeChatCrypto(os.environ["WECOM_TOKEN"], os.environ["WECOM_AES_KEY"], os.environ["WECOM_CORP_ID"])
URL = os.environ["PEER_DATABASE_URL"]
KIND = "sqlite" if URL.startswith("sqlite:///") else "postgresql"
_local = threading.local()


def connection():
    """This thread's connection, made once."""
    conn = getattr(_local, "conn", None)
    if conn is None:
        if KIND == "sqlite":
            conn = sqlite3.connect(URL.removeprefix("sqlite:///"), timeout=30, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        else:
            import psycopg

            conn = psycopg.connect(URL.replace("postgresql+psycopg://", "postgresql://"))
        try:
            conn.execute(SCHEMA)
            conn.commit()
        except Exception:  # noqa: BLE001 - PostgreSQL: another worker made it at the same moment
            conn.rollback()
        _local.conn = conn
    return conn


@app.post("/wecom/callback")
def callback():
    args = request.args
    try:
        xml = crypto.decrypt_message(request.get_data(), args.get("msg_signature", ""),
                                     args.get("timestamp", ""), args.get("nonce", ""))
    except (InvalidSignatureException, InvalidCorpIdException):
        abort(400)
    event = xmltodict.parse(xml)["xml"]
    conn = connection()
    conn.execute(INSERT[KIND], (event["FromUserName"], int(event["CreateTime"]), event.get("TaskId") or "",
                                event.get("EventKey") or "", xml))
    conn.commit()
    return ""


@app.get("/ok")
def ok():
    return "ok"
