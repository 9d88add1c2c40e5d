"""Gunicorn settings for the web process: `gunicorn -c gunicorn.conf.py wsgi:app`.

The environment tunes them (in production, the EnvironmentFile of deploy/systemd/); options on
the command line win over this file (`make run` passes --bind).

    GUNICORN_BIND     address:port to listen on             127.0.0.1:8000
    WEB_CONCURRENCY   worker processes                      2 x CPU cores + 1
    GUNICORN_THREADS  threads per worker process            4  (1: sync workers, see below)
    FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-Proto   127.0.0.1,::1 (gunicorn's own)

Threads (gthread workers) keep a slow client from holding a whole process. Behind a buffering
reverse proxy, GUNICORN_THREADS=1 runs sync workers instead, which take a heavy stream of WeCom
callbacks faster (bench/README.md: about 1.5 times the stored events per second).

Behind a reverse proxy on another machine, set FORWARDED_ALLOW_IPS to its address so that
gunicorn believes its X-Forwarded-Proto (HTTPS), and TRUSTED_PROXIES=1 for the dashboard to take
the client's address from X-Forwarded-For (README: Running on several machines).
"""
import multiprocessing
import os

from gunicorn.glogging import Logger

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("GUNICORN_THREADS") or 4)  # gthread: slow clients do not block a process
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30  # a worker silent this long is restarted (WeCom gives a callback 5 s)
graceful_timeout = 30  # on restart, requests in progress get this long to finish
keepalive = 5  # seconds to hold an idle connection from the proxy
max_requests, max_requests_jitter = 10000, 1000  # recycle processes now and then
control_socket_disable = True  # systemd (or make run) manages the process; no ~/.gunicorn socket
accesslog = "-"  # stdout: the journal under systemd
errorlog = "-"
# The path without its query string: sandbox API calls carry access_token there.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'


class AccessLogger(Logger):
    """No access line for a callback WeCom delivered: the app keeps a row for each (the event, and
    the diagnostics page's callback log), and at thousands a minute the lines cost real CPU.
    Nor for the sandbox's WeCom API answering the app itself (the sandbox keeps its own call log). Refused
    and failed requests are still logged."""

    def access(self, resp, req, environ, request_time):
        path = environ.get("PATH_INFO", "")
        if resp.status_code < 400 and (path == "/wecom/callback" or path.startswith("/sandbox/cgi-bin/")):
            return
        super().access(resp, req, environ, request_time)


logger_class = AccessLogger


def worker_int(worker):
    """Quick shutdown (Ctrl+C, SIGINT or SIGQUIT) ends the worker now. Left to itself, Python
    would first join the gthread pool, and a thread waiting on a browser's half-sent or idle
    connection keeps it alive until the master's SIGKILL (graceful_timeout, 30 s). SIGTERM, the
    graceful stop of systemd and deploys, still lets requests in progress finish."""
    worker.log.info("Worker stopped (pid: %s)", worker.pid)
    os._exit(0)
