"""A throwaway PostgreSQL server for the tests and benchmarks: a new cluster in a temporary
folder, on a free port of 127.0.0.1, without fsync unless asked to be durable, removed when done.

Debian's packages provide the server (`make system-deps` installs them when missing). As root
the server runs as the `postgres` user, since PostgreSQL refuses to run as root. By hand:
``.venv/bin/python scripts/throwaway_postgres.py`` prints a URL and serves until Ctrl+C.
"""
from __future__ import annotations

import fcntl
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PREFIX = "throwaway-postgres-"
FAST = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


def bindir() -> Path:
    """The folder holding initdb and postgres: on PATH, else Debian's newest version."""
    found = shutil.which("postgres")
    candidates = [str(Path(found).resolve().parent)] if found else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for folder in candidates:
        if all(os.access(Path(folder) / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return Path(folder)
    raise RuntimeError("PostgreSQL's initdb and postgres are not installed: run `make system-deps` "
                       "(Debian's postgresql package).")


def _version(folder: str) -> int:
    name = Path(folder).parent.name
    return int(name) if name.isdigit() else 0


@contextmanager
def throwaway_postgres(fast: bool = True) -> Iterator[str]:
    """Yield the URL of a new, empty server (user and database ``postgres``); stop and remove
    it afterwards, also when the caller fails. ``fast``: no fsync (tests); else PostgreSQL's
    durable defaults (benchmarks)."""
    remove_stale()
    folder = Path(tempfile.mkdtemp(prefix=PREFIX))
    with open(folder / "lock", "w") as lock:  # held while in use; see remove_stale()
        fcntl.flock(lock, fcntl.LOCK_EX)
        server = None
        try:
            owner = _owner(folder)
            _run([bindir() / "initdb", "-D", folder / "data", "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync"], owner)
            server, url = _start(folder, owner, FAST if fast else [])
            yield url
        finally:
            if server is not None:
                _stop(server)
            shutil.rmtree(folder, ignore_errors=True)


def _owner(folder: Path) -> str | None:
    """As root: the ``postgres`` user, who is given the folder. Otherwise None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root needs the postgres user of Debian's postgresql package") from None
    os.chown(folder, user.pw_uid, user.pw_gid)
    return "postgres"


def _run(command: list, owner: str | None) -> None:
    done = subprocess.run([str(part) for part in command], user=owner, group=owner,
                          capture_output=True, text=True, timeout=120)
    if done.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stdout}{done.stderr}")


def _start(folder: Path, owner: str | None, options: list[str], tries: int = 5) -> tuple:
    """Start the server on a free port; another free port when that one was taken meanwhile."""
    for _ in range(tries):
        port = _free_port()
        with open(folder / "server.log", "ab") as log:
            server = subprocess.Popen(
                [str(bindir() / "postgres"), "-D", str(folder / "data"), "-k", str(folder),
                 "-h", "127.0.0.1", "-p", str(port), "-c", "max_connections=300", *options],
                user=owner, group=owner, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        if _ready(server, url):
            return server, url
        _stop(server)
    raise RuntimeError(f"PostgreSQL did not start: {(folder / 'server.log').read_text()[-2000:]}")


def _ready(server: subprocess.Popen, url: str, timeout: float = 60) -> bool:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.1)
    return False


def _stop(server: subprocess.Popen) -> None:
    """Fast shutdown (SIGINT: roll back sessions, stop), then kill if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def remove_stale() -> None:
    """Remove the folders (and stop the servers) that a killed run left behind: those whose
    lock no process holds any more."""
    for folder in Path(tempfile.gettempdir()).glob(PREFIX + "*"):
        try:
            with open(folder / "lock") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                _kill_postmaster(folder / "data")
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # in use by a live run, or not ours to remove
            continue


def _kill_postmaster(data: Path) -> None:
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
        if str(data).encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown; the folder goes next
    except (OSError, ValueError, IndexError):  # no pid file (it never started) or no such process
        pass


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # kill PID cleans up too
    with throwaway_postgres() as server_url:
        print(f"PostgreSQL: {server_url}   (Ctrl+C stops and removes it)", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
