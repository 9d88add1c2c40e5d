"""`make run`'s last step: start the background worker and the web server, print a closing
banner once both run (the address, the first run's admin password again, how to stop), and on
Ctrl+C stop both within seconds, without an error line.

    python scripts/run.py --host 127.0.0.1 --port 5000 --seed "<what `flask demo seed` printed>"

The two run in their own process group, so the terminal's Ctrl+C reaches this script alone,
which asks each to stop the quick way: gunicorn SIGINT (its worker_int hook ends the workers at
once, gunicorn.conf.py), the worker SIGTERM (Huey stops at once; a batch in flight is taken up
again at the next start, campaigns/leases.py).
"""
import argparse
import os
import re
import signal
import subprocess  # nosec B404 (starts our own two programs, no shell)
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
WAIT = 60.0  # seconds to wait for the server and the worker before giving up on the banner
STOP = 4.0  # seconds the two get to stop before they are killed
FIRST = 1.5  # of which the worker's head start
CREATED = re.compile(r"Admin account created: username (\S+), password (\S+)")


def answers(url: str) -> bool:
    """True once /healthz answers at all (503 while the queue is still starting counts too)."""
    try:
        urllib.request.urlopen(url + "healthz", timeout=1).close()  # nosec B310 (our own http URL)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def banner(url: str, seed: str) -> str:
    lines = [f"Dashboard:  {url}"]
    if created := CREATED.search(seed):
        user, password = created.groups()
        lines += [f"Sign in:    {user} / {password}",
                  "            (first run: shown here and above, never again; to reset it:",
                  "             flask --app wsgi users password admin --password generate)"]
    else:
        lines += ["Sign in:    with your account (a forgotten admin password:",
                  "            flask --app wsgi users password admin --password generate)"]
    lines.append("Stop:       Ctrl+C (stops the web server and the worker)")
    rule = "  " + "─" * (max(len(line) for line in lines) + 2)
    return "\n".join(["", rule, *(f"   {line}" for line in lines), rule, ""])


def stop(worker: subprocess.Popen, web: subprocess.Popen) -> int:
    """The worker first (its jobs may be talking to the sandbox in the web server), then the web
    server; whatever still runs after STOP seconds is killed."""
    deadline = time.monotonic() + STOP
    for process, sig in ((worker, signal.SIGTERM), (web, signal.SIGINT)):
        if process.poll() is None:
            process.send_signal(sig)
        try:
            process.wait(timeout=min(FIRST, deadline - time.monotonic()) if process is worker else 0.01)
        except subprocess.TimeoutExpired:
            pass
    for process in (worker, web):
        try:
            process.wait(timeout=max(0.01, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    parser.add_argument("--seed", default="", help="what `flask demo seed` printed")
    args = parser.parse_args()
    url = f"http://{args.host}:{args.port}/"
    ready = Path(tempfile.gettempdir()) / f"dashboard-worker-{os.getpid()}.ready"
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    worker = subprocess.Popen([*flask, "worker", "--ready-file", str(ready)], process_group=0)  # nosec B603
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind",  # nosec B603
                            f"{args.host}:{args.port}", "wsgi:app"], process_group=0)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with Ctrl+C ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(stop(worker, web)))
    try:
        deadline = time.monotonic() + WAIT
        while web.poll() is None and worker.poll() is None and time.monotonic() < deadline:
            if answers(url) and ready.exists():
                print(banner(url, args.seed), flush=True)
                break
            time.sleep(0.3)
        while web.poll() is None and worker.poll() is None:
            time.sleep(0.5)
        return stop(worker, web) or web.returncode or worker.returncode or 0
    except KeyboardInterrupt:
        return stop(worker, web)
    finally:
        ready.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
