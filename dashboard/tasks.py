"""The background queue (Huey) and the worker that runs it. It knows no feature: each feature
package owns its jobs in its ``jobs.py`` and registers them at app creation with :func:`job` (and
:func:`on_worker_start`); the feature queues its own work with :func:`enqueue`.

TASK_QUEUE_URL chooses the storage: ``sqlite:///path`` (the default, one machine) or
``redis://host:port/db`` (workers on several machines). The durable state is in the database;
a job only says "look at campaign N now (or at eta)", so a lost queue entry costs a sweep, and a
job queued twice does no harm.
"""
from __future__ import annotations

import importlib.util
import logging
import signal
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import current_app
from huey import Huey, RedisHuey
from huey.api import TaskWrapper
from huey.consumer import Consumer, Scheduler
from huey.storage import RedisStorage, SqliteStorage

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
    """Build the queue from config; the features register their jobs on it afterwards."""
    app.extensions["huey"] = make_huey(app.config["TASK_QUEUE_URL"], app.instance_path)
    app.extensions["jobs"] = {}
    app.extensions["worker_start"] = []


def job(app, name: str, func: Callable, *, periodic: bool = False) -> TaskWrapper:
    """Register ``func`` as a job run in an app context (every SWEEP_SECONDS if periodic).

    ``name`` is the dotted name that queued work carries ("dashboard.tasks.deliver"): keep it
    when the function moves, or work queued before an upgrade finds no job to run.
    """
    module, _, short = name.rpartition(".")

    def run(*args):
        with app.app_context():
            return func(*args)

    run.__module__, run.__name__, run.__doc__ = module, short, func.__doc__
    huey = app.extensions["huey"]
    register = huey.periodic_task(_every_sweep, name=short) if periodic else huey.task(name=short)
    app.extensions["jobs"][name] = task = register(run)
    return task


def _every_sweep(_now) -> bool:
    return True  # the scheduler itself runs every SWEEP_SECONDS (see _Scheduler)


def enqueue(name: str, *args, eta: datetime | None = None, delay: float | None = None) -> None:
    """Queue the job registered as ``name``: now, at ``eta`` or after ``delay`` seconds."""
    task = current_app.extensions["jobs"][name]
    if eta is None and not delay:
        task(*args)
    else:
        task.schedule(args, eta=eta, delay=delay)


def on_worker_start(app, func: Callable[[], object]) -> None:
    """Run ``func`` once, in an app context, when `flask worker` starts (before it takes jobs)."""
    app.extensions["worker_start"].append(func)


def stop_flag():
    """The worker's stop event (set when it shuts down gracefully), or None outside a worker."""
    return current_app.extensions.get("worker_stop")


def redis_connection(app):
    """The queue's Redis client when TASK_QUEUE_URL is Redis, else None."""
    storage = app.extensions["huey"].storage
    return storage.conn if isinstance(storage, RedisStorage) else None


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


def run_worker(app, workers: int = 2, *, ready_file: str | None = None) -> None:
    """`flask --app wsgi worker`: the features' start-up work (recovering from an earlier stop),
    then consume until signalled; ``ready_file`` is created once the consumer's threads run."""
    with app.app_context():
        for start in app.extensions["worker_start"]:
            start()
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:  # not a line per task and sweep
        for name in ("huey", "huey.consumer.Scheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)
    consumer = make_consumer(app, workers)
    if ready_file:
        consumer.huey.on_startup()(lambda: Path(ready_file).touch())
    consumer.run()


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
