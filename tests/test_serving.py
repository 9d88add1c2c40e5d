"""gunicorn.conf.py: the production web server starts from it, takes its settings from the
environment, answers /healthz, keeps query strings (tokens) out of its access log, and logs a
callback only when it was refused (the app keeps a row for each one it took)."""
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import ROOT, wait_until
from tests.servers import free_port

GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


@pytest.mark.slow
@pytest.mark.parametrize(("threads", "worker"), [("4", "gthread"), ("1", "sync")])
def test_gunicorn_serves_the_app_from_its_config_file(tmp_path, threads, worker):
    port = free_port()
    env = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": threads,
           "SECRET_KEY": "test" * 8, "WECOM_CORP_ID": "wwtest", "WECOM_AGENT_ID": "1000002",
           "WECOM_SECRET": "s", "WECOM_TOKEN": "t", "WECOM_AES_KEY": "a" * 43,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}"}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    subprocess.run([flask, "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    query, body = CallbackCrypto("t", "a" * 43, "wwtest").encrypt_message(
        "<xml><ToUserName>wwtest</ToUserName><FromUserName>lisi</FromUserName><CreateTime>"
        f"{int(time.time())}</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>")
    with open(tmp_path / "gunicorn.log", "wb") as log:
        server = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}/healthz?access_token=secret-in-the-query"
            response = wait_until(lambda: _get(url), timeout=30)
            callback = f"http://127.0.0.1:{port}/wecom/callback"
            taken = requests.post(callback, params=query, data=body, timeout=10)
            refused = requests.post(callback, params={**query, "msg_signature": "0" * 40}, data=body, timeout=10)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    assert response.status_code == 200 and response.json()["status"] == "ok"
    output = (tmp_path / "gunicorn.log").read_text()
    assert output.count("Booting worker") == 2  # WEB_CONCURRENCY
    assert f"Using worker: {worker}" in output  # GUNICORN_THREADS=1: sync workers
    assert '"GET /healthz HTTP/1.1" 200' in output and "secret-in-the-query" not in output
    assert (taken.status_code, refused.status_code) == (200, 403)
    assert '"POST /wecom/callback HTTP/1.1" 403' in output and '/wecom/callback HTTP/1.1" 200' not in output


def _get(url):
    try:
        return requests.get(url, timeout=5)
    except (requests.ConnectionError, requests.Timeout):  # not up yet, or a busy machine
        return None
