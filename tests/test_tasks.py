"""The queue (dashboard/tasks.py) and the jobs the features register on it."""
import uuid

import pytest
from huey.registry import Message

from dashboard import tasks

# The names work queued by earlier releases carries (Huey stores "module.name"): a job that moves
# to another module keeps its name, or that work finds no job after an upgrade.
QUEUED_BEFORE = {
    "dashboard.tasks.deliver": "deliver",
    "dashboard.tasks.sweep": "sweep",
    "dashboard.callback.polls.close_poll": "close_poll",
    "dashboard.sandbox.callbacks.sandbox_callback": "sandbox_callback",
}


@pytest.mark.parametrize("name", sorted(QUEUED_BEFORE))
def test_work_queued_by_an_earlier_release_finds_its_job(app, name):
    huey = app.extensions["huey"]
    old = Message(uuid.uuid4().hex, name, None, 0, 0, None, (1,), {})
    huey.storage.enqueue(huey.serializer.serialize(old))
    task = huey.dequeue()
    assert task is not None and task.name == QUEUED_BEFORE[name] and task.args == (1,)


def test_a_job_runs_in_an_app_context_and_is_queued_by_name(app):
    seen = []
    tasks.job(app, "tests.test_tasks.probe", lambda value: seen.append((value, app.name)))
    app.extensions["huey"].immediate = True  # run at once, in this thread, without a context
    with app.test_request_context():
        tasks.enqueue("tests.test_tasks.probe", 7)
    assert seen == [(7, app.name)]


def test_the_worker_runs_the_features_start_up_work_once(app, monkeypatch):
    started = []
    tasks.on_worker_start(app, lambda: started.append(1))
    monkeypatch.setattr(tasks, "make_consumer", lambda app, workers: type(
        "Consumer", (), {"run": lambda self: started.append("consume")})())
    tasks.run_worker(app)
    assert started == [1, "consume"]
