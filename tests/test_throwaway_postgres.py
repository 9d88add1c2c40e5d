"""The throwaway PostgreSQL server of the tests and benchmarks: real servers, started and ended."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from scripts import throwaway_postgres as throwaway

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow  # each test starts a server (initdb and all)


def answers(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False


def folder_of(url: str) -> Path:
    with psycopg.connect(url) as conn:
        return Path(conn.execute("SHOW data_directory").fetchone()[0]).parent


def test_a_server_for_the_block_then_nothing_left():
    with throwaway.throwaway_postgres() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE scratch")
            assert conn.execute("SHOW fsync").fetchone()[0] == "off"
        folder = folder_of(url)
    assert not answers(url) and not folder.exists()


def test_a_taken_port_is_skipped(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        ports = iter([taken.getsockname()[1], throwaway._free_port()])
        monkeypatch.setattr(throwaway, "_free_port", lambda: next(ports))
        with throwaway.throwaway_postgres() as url:
            assert answers(url) and f":{taken.getsockname()[1]}/" not in url


def test_what_a_killed_run_left_is_ended_and_removed_by_the_next(tmp_path):
    script = "from scripts.throwaway_postgres import throwaway_postgres\nimport time\n" \
             "with throwaway_postgres() as url:\n    print(url, flush=True)\n    time.sleep(600)\n"
    run = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = run.stdout.readline().strip()
        folder = folder_of(url)
    finally:
        os.kill(run.pid, signal.SIGKILL)  # no clean-up: the server outlives it
        run.wait()
    assert answers(url) and folder.exists()
    throwaway.remove_stale()
    deadline = time.monotonic() + 30
    while answers(url) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not answers(url) and not folder.exists()
