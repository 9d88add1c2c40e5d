"""Background jobs on a Huey queue: campaign delivery, and a sweep that starts scheduled
campaigns and picks up those a stopped worker left behind.

TASK_QUEUE_URL chooses the storage: ``sqlite:///path`` (the default, one machine) or
``redis://host:port/db`` (workers on several machines). The durable state is in the database;
the queue only says "look at campaign N now (or at eta)", so a lost queue entry costs a sweep,
and a run queued twice does no harm: runs share out a campaign's batches (campaigns/leases.py).
"""
from __future__ import annotations

import importlib.util
import logging
import signal
from contextlib import contextmanager
from datetime import datetime
from functools import wraps
from pathlib import Path

from flask import current_app
from huey import Huey, RedisHuey
from huey.consumer import Consumer, Scheduler
from huey.storage import RedisStorage, SqliteStorage

from .campaigns import delivery, leases
from .reports import rollup
from .config import ConfigError

log = logging.getLogger(__name__)

SWEEP_SECONDS = 20


class _SqliteStorage(SqliteStorage):
    """Creates its tables on first use rather than when the app is built (no I/O in the factory)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, create_tables=False, **kwargs)

    def _create_connection(self):
        conn = super()._create_connection()
        for statement in self.ddl:  # all "if (not) exists": safe on every connection
            conn.execute(statement)
        return conn


def make_huey(url: str, instance_path: str) -> Huey:
    if url.startswith("sqlite:///"):  # relative paths are in the instance folder
        path = Path(instance_path) / url.removeprefix("sqlite:///")
        return Huey("dashboard", storage_class=_SqliteStorage, filename=str(path), results=False)
    if url.startswith(("redis://", "rediss://", "unix://")):
        if importlib.util.find_spec("redis") is None:
            raise ConfigError("TASK_QUEUE_URL is a Redis URL but the redis package is missing: "
                              "run `pip install redis` in the app's environment, or use sqlite:///.")
        from redis import ConnectionPool

        # Bounded waits, so /healthz and the web process fail fast when Redis is away; the
        # socket timeout is well above the consumer's 1 s blocking read.
        pool = ConnectionPool.from_url(url, socket_connect_timeout=3, socket_timeout=10,
                                       health_check_interval=30)
        return RedisHuey("dashboard", connection_pool=pool, results=False)
    raise ConfigError(f"TASK_QUEUE_URL must be sqlite:///path or redis://host:port/db, not {url!r}.")


def init_app(app) -> None:
    """Build the queue from config and register the jobs on it, each run in an app context."""
    huey = make_huey(app.config["TASK_QUEUE_URL"], app.instance_path)

    def in_app(job):
        @wraps(job)
        def run(*args):
            with app.app_context():
                return job(*args)

        return run

    @huey.task(name="deliver")
    @in_app
    def deliver_task(campaign_id: int) -> None:
        stop = app.extensions.get("worker_stop")  # set when the worker shuts down gracefully
        if (when := delivery.run(campaign_id, lambda: deliver_task(campaign_id),
                                 stopping=stop.is_set if stop else None)) is not None:
            deliver_task.schedule((campaign_id,), eta=when)

    @huey.periodic_task(lambda now: True, name="sweep")  # every SWEEP_SECONDS, see _Scheduler
    @in_app
    def sweep() -> None:
        for campaign_id in delivery.due_campaigns():
            deliver_task(campaign_id)
        rollup.catch_up()  # so a report has only the last few seconds' events to count

    app.extensions["huey"] = huey
    app.extensions["campaign_tasks"] = {"deliver": deliver_task, "sweep": sweep}


def redis_connection(app):
    """The queue's Redis client when TASK_QUEUE_URL is Redis, else None."""
    storage = app.extensions["huey"].storage
    return storage.conn if isinstance(storage, RedisStorage) else None


def deliver(campaign_id: int, eta: datetime | None = None) -> None:
    """Queue delivery work for a campaign, now or at eta (the sweep is the safety net)."""
    task = current_app.extensions["campaign_tasks"]["deliver"]
    if eta is None:
        task(campaign_id)
    else:
        task.schedule((campaign_id,), eta=eta)


# --- the consumer ----------------------------------------------------------------------------


class _Scheduler(Scheduler):
    periodic_task_seconds = SWEEP_SECONDS  # Huey's default is a minute


class _Consumer(Consumer):
    scheduler_class = _Scheduler


def make_consumer(app, workers: int = 2) -> Consumer:
    """Threads that poll the queue at most 0.5 s apart when idle, and run the sweep."""
    consumer = _Consumer(app.extensions["huey"], workers=workers, worker_type="thread",
                         initial_delay=0.05, backoff=1.5, max_delay=0.5, scheduler_interval=1)
    app.extensions["worker_stop"] = consumer.stop_flag
    return consumer


def run_worker(app, workers: int = 2) -> None:
    """`flask --app wsgi worker`: recover from an earlier stop, then consume until signalled."""
    with app.app_context():
        if released := leases.free_orphans():
            log.info("released %d batch(es) held by a stopped worker of this host", released)
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:  # not a line per task and sweep
        for name in ("huey", "huey.consumer.Scheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)
    make_consumer(app, workers).run()


@contextmanager
def running(app, workers: int = 2):
    """The consumer in threads of this process until the block ends (tests, benchmarks)."""
    consumer = make_consumer(app, workers)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for sig, handler in handlers.items():  # start() takes the signals; give them back
        signal.signal(sig, handler)
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
