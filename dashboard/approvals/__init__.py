"""Approvals: a second person's yes before a big send, given in the web UI or with a click on a
card in WeCom, and notices to a campaign's author in WeCom (finished, started, decided)."""
from ..callback.service import register_card_handler
from ..campaigns import signals
from . import answer, jobs, notices, service
from .cards import TASK_PREFIX
from .views import bp

__all__ = ["bp", "init_app"]


def init_app(app) -> None:
    jobs.init_app(app)
    register_card_handler(app, TASK_PREFIX, answer.on_click)
    signals.approval_requested.connect(_requested, weak=False)
    signals.approval_withdrawn.connect(_withdrawn, weak=False)
    signals.started.connect(_started, weak=False)
    signals.finished.connect(_finished, weak=False)


def _requested(campaign, *, recipients, everyone, actor):
    approval_id = service.request(campaign, recipients=recipients, everyone=everyone, actor=actor).id
    service.after_commit(lambda: jobs.queue(jobs.SEND_CARDS, approval_id))


def _withdrawn(campaign, *, reason, actor):
    if approval := service.withdraw(campaign, reason=reason, actor=actor):
        approval_id = approval.id
        service.after_commit(lambda: jobs.queue(jobs.UPDATE_CARDS, approval_id))


def _started(campaign):
    jobs.queue(jobs.NOTIFY, campaign.id, *notices.key(campaign, "started"))


def _finished(campaign):
    jobs.queue(jobs.NOTIFY, campaign.id, *notices.key(campaign, campaign.status))
