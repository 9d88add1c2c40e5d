"""`make run`'s last step (scripts/run.py): the web server and the worker start, a closing banner
repeats the first run's admin password and says how to stop, and Ctrl+C stops both promptly
with no error line, even while a browser holds a half-sent request open (which kept gunicorn's
workers alive until its 30 s graceful timeout and a SIGKILL)."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.campaign_factories import ROOT, wait_until
from tests.servers import free_port

BIN = os.path.dirname(sys.executable)


@pytest.mark.slow
def test_make_run_prints_a_closing_banner_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "TASK_QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite'}",
           "DASHBOARD_URL": f"http://127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    flask = [os.path.join(BIN, "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    seed = subprocess.run([*flask, "demo", "seed"], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout
    password = seed.split("password ", 1)[1].split()[0]
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen([sys.executable, "scripts/run.py", "--port", str(port), "--seed", seed],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until(lambda: "Stop:" in log_path.read_text(), timeout=120)
            banner = log_path.read_text().rsplit("Dashboard:", 1)[1]
            assert f"http://127.0.0.1:{port}/" in banner and f"admin / {password}" in banner
            assert "Ctrl+C" in banner
            held = socket.create_connection(("127.0.0.1", port))
            held.sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")  # the rest never comes
            time.sleep(0.5)
            os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl+C
            returncode = run.wait(timeout=20)  # gunicorn's own graceful stop would take 30 s
            held.close()
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
    output = log_path.read_text()
    assert returncode == 0, output[-2000:]
    assert "Traceback" not in output and "[ERROR]" not in output and "SIGKILL" not in output, output[-2000:]
    assert "Worker stopped" in output and "Shutting down: Master" in output
    for pattern in (f"127.0.0.1:{port}", f"dashboard-worker-{run.pid}.ready"):  # nothing left behind
        assert subprocess.run(["pgrep", "-f", pattern], capture_output=True).returncode == 1
