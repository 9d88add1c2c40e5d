"""Examples and the introduction of the API's description (openapi.py), keyed by view name."""

CARD = {
    "card_type": "button_interaction",
    "main_title": {"title": "报名确认", "desc": "周五 19:00 团建"},
    "button_list": [{"text": "参加", "style": 1, "key": "join"},
                    {"text": "不参加", "style": 3, "key": "decline"}],
}

REQUESTS = {
    "create_card": {"name": "Team dinner RSVP", "template_card": CARD},
    "validate_card": {"template_card": CARD},
    "update_card": {"name": "Team dinner RSVP", "template_card": CARD},
    "create_campaign": {
        "card_id": 7, "name": "Team dinner, Friday",
        "recipients": {"users": ["lisi", "wangwu"], "departments": [2], "tags": [], "all": False},
        "send_at": None,
        "options": {"enable_duplicate_check": True, "duplicate_check_interval": 1800},
    },
}

CARD_REPLY = {"id": 7, "version": 1, "name": "Team dinner RSVP", "card_type": "button_interaction"}
SUMMARY = {**CARD_REPLY, "archived": False, "valid": True, "updated_at": "2025-06-01T01:30:00+00:00"}

RESPONSES = {
    "create_card": CARD_REPLY,
    "update_card": {**CARD_REPLY, "version": 2},
    "validate_card": {"valid": False, "errors": [
        {"path": "template_card.button_list[1].text",
         "message": "Text is 12 characters; WeCom shows at most 10. Shorten it.", "code": 42038}],
        "warnings": [{"path": "template_card.horizontal_content_list[0].keyname",
                      "message": "Keyname is 6 characters; WeCom recommends at most 5 and may cut "
                                 "the rest. Shorten it if it must be read in full."}]},
    "card_list": {"items": [SUMMARY], "total": 1, "page": 1, "per_page": 20},
    "card": {**SUMMARY, "created_at": "2025-06-01T01:00:00+00:00", "template_card": CARD,
             "errors": [], "warnings": []},
    "create_campaign": {"id": 12, "status": "draft"},
    "send": {"id": 12, "status": "sending"},
    "cancel": {"id": 12, "status": "cancelled"},
    "recall": {"id": 12, "status": "sent", "recalled": 1, "failed": 0},
    "close_poll": {"id": 12, "status": "sent", "message": "Closing the poll: every recipient's "
                   "card will show the result and stop taking answers."},
    "campaign": {
        "id": 12, "name": "Team dinner, Friday", "status": "sent", "send_at": None,
        "progress": {"batches_total": 1, "batches_done": 1, "accepted": 2, "invalid": 1,
                     "unlicensed": 0, "failed": 0},
        "batches": [{"task_id": "c12-250601093000-b1", "status": "done", "msgid": "msg-1",
                     "errcode": 0, "errmsg": "ok"}],
    },
    "report": {
        "recipients": 3, "accepted": 2, "invalid": ["nobody"], "unlicensed": [], "responders": 2,
        "response_rate": 1.0, "clicks": {"join": 1, "decline": 1}, "votes": {}, "menu": {},
    },
    "events": {"items": [{
        "user": "lisi", "event": "template_card_event", "event_key": "join",
        "task_id": "c12-250601093000-b1", "card_type": "button_interaction", "selected": {},
        "created_at": "2025-06-01T01:31:07+00:00"}], "total": 1, "page": 1, "per_page": 50},
}


def intro(limit: int, window: int, max_body: int) -> str:
    rate = f"{limit} requests per {window} s per token" if limit else "no rate limit"
    return (
        "Create, check and send WeCom template-card campaigns, and read their results.\n\n"
        "Authentication: every request except this description carries "
        "`Authorization: Bearer <token>`. Create a personal token on /account/tokens (or with "
        "`flask --app wsgi tokens create USERNAME`); it acts with its owner's role. No cookies, "
        "no CSRF token.\n\n"
        "Roles: staff (and admins) create and send; managers read cards, campaigns, reports and "
        "events and get 403 on writes; staff read the reports and events of their own campaigns.\n\n"
        "Errors are JSON: {\"error\", \"message\"}; 422 adds errors: [{\"path\", \"message\"}] "
        "with paths such as recipients.users[3] or template_card.button_list[2].text.\n\n"
        f"Limits: {rate} (429 with Retry-After); bodies up to {max_body:,} bytes (413)."
    )
