"""Plain factories for the campaign tests: an app wired to a FakeWeCom, cards, campaigns, and
`flask --app wsgi worker` processes."""
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from dashboard.campaigns import jobs
from dashboard.auth import service as auth_service
from dashboard.campaigns import service
from dashboard.extensions import db
from dashboard.models import Campaign, Card, CardVersion, User
from tests.conftest import PASSWORD, make_app

ROOT = Path(__file__).resolve().parent.parent
BUTTON_CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "报名确认", "desc": "周五 19:00 团建"},
    "button_list": [{"text": "参加", "style": 1, "key": "join"},
                    {"text": "不参加", "style": 3, "key": "decline"}],
}


def userids(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(count)]


def wecom_config(fake) -> dict:
    """Config pointing the app at the fake server (not the sandbox)."""
    return {"WECOM_CORP_ID": fake.corp_id, "WECOM_AGENT_ID": str(fake.agent_id),
            "WECOM_SECRET": fake.secret, "WECOM_TOKEN": "callback-token",
            "WECOM_AES_KEY": "a" * 43, "WECOM_API_BASE": fake.base_url}


def wired_app(tmp_path, fake, *, users=True, **overrides):
    """An app that calls the fake WeCom, with short timeouts, and the three test users (made
    once: on PostgreSQL the apps of one test share the database); ``overrides`` may replace the
    credentials too. The read timeout (5 s) is far above the fake's answers even on a loaded
    machine; tests of a timeout shorten it (``short_timeout``)."""
    app = make_app(tmp_path, **{**wecom_config(fake), **overrides})
    app.extensions["wecom"].client.timeout = (1, 5)
    with app.app_context():
        if users and db.session.scalar(db.select(User.id).limit(1)) is None:
            for role in ("admin", "staff", "manager"):
                auth_service.create_user(role, role, PASSWORD, actor="test")
            db.session.commit()
    return app


def short_timeout(app, read: float = 0.5) -> None:
    """WeCom calls give up after ``read`` seconds without an answer (the fake's hang_next)."""
    app.extensions["wecom"].client.timeout = (1, read)


@contextmanager
def wired(tmp_path, fake, **kwargs):
    """wired_app for a fixture: yields the app, then closes its database connections."""
    app = wired_app(tmp_path, fake, **kwargs)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def card_version(template_card=None, name="RSVP") -> CardVersion:
    """A card with one version (in the current app context, committed)."""
    card_json = template_card or BUTTON_CARD
    card = Card(name=name, card_type=card_json["card_type"])
    version = CardVersion(card=card, number=1, template_card=card_json)
    db.session.add_all([card, version])
    db.session.commit()
    return version


def make_campaign(recipients: dict, *, options=None, send_at=None, card=None) -> Campaign:
    """A draft campaign (in the current app context, committed)."""
    campaign = service.create_campaign(name="Team dinner", card_version=card or card_version(),
                                       recipients=recipients, options=options, send_at=send_at,
                                       actor="test")
    db.session.commit()
    return campaign


def send_now(campaign: Campaign) -> int:
    """Send as the views do: plan, commit, queue. Returns the campaign id."""
    service.send(campaign, actor="test")
    db.session.commit()
    jobs.deliver(campaign.id, eta=campaign.send_at)
    return campaign.id


def wait_until(predicate, timeout: float = 20.0, interval: float = 0.05):
    """Poll predicate until it returns something truthy; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s: {predicate.__doc__ or predicate}")


def status_of(app, campaign_id: int) -> str:
    with app.app_context():
        return db.session.get(Campaign, campaign_id).status


def worker_env(app, fake) -> dict:
    """The environment of a worker process sharing the app's database and queue."""
    return {**os.environ, **wecom_config(fake), "SECRET_KEY": "test" * 8, "LOG_LEVEL": "WARNING",
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            "TASK_QUEUE_URL": app.config["TASK_QUEUE_URL"]}


def start_worker(env, log, *args) -> subprocess.Popen:
    """`flask --app wsgi worker [args]` in its own process group, output to the open file log."""
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", *args],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def consuming(redis_url: str) -> int:
    """Worker threads waiting on the Redis queue (each worker process has some once started)."""
    import redis

    return sum(c["cmd"] == "brpop" for c in redis.Redis.from_url(redis_url).client_list())


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)
