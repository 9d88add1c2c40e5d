"""The callback's background jobs: folding new events into the report summaries every sweep (so
a report has only the last few seconds' events to count when it is opened), and closing a poll,
which updates every recipient's card."""
from .. import tasks
from . import polls, rollup

CATCH_UP = "dashboard.callback.jobs.catch_up"


def init_app(app) -> None:
    tasks.job(app, CATCH_UP, rollup.catch_up, periodic=True)
    tasks.job(app, polls.CLOSE_POLL, polls.run_close_poll)
