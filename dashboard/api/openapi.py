"""The OpenAPI 3.1 description of the API, built from plain dicts: the request schemas are the
ones the API checks (schemas.REQUESTS), the card schema is the validator's (wecom.cards), and
each operation's roles are read from its view's access rule."""
from __future__ import annotations

import copy
from functools import cache

from flask import current_app

from ..models.campaign import BATCH_STATUSES, CAMPAIGN_STATUSES
from ..conversations.validation import rule_schema
from ..wecom.cards import CARD_TYPES, json_schema
from ..wecom.menus import BUTTON_TYPES, MENU_LIMITS
from . import examples
from .schemas import MAX_ID, REQUESTS, ref

STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
COUNTS = {"type": "object", "additionalProperties": INT}
TASK_ID_NOTE = "Leave task_id out: the sender assigns a fresh one to every send. "


def _object(required: bool = True, **properties) -> dict:
    return {"type": "object", "properties": properties,
            **({"required": list(properties)} if required else {})}


def _page(item: str) -> dict:
    return _object(items={"type": "array", "items": ref(item)}, total=INT, page=INT, per_page=INT)


CARD = {"id": INT, "version": {**INT, "description": "The latest version's number."},
        "name": STR, "card_type": {"enum": list(CARD_TYPES)}}
CARD_SUMMARY = {**CARD, "archived": BOOL, "updated_at": TIME,
                "valid": {**BOOL, "description": "False: the card has problems and cannot be sent."}}
STATUS = {"id": INT, "status": {"enum": list(CAMPAIGN_STATUSES)}}
MENU_SUB_BUTTON = {  # the app's menu as menu/create takes it (the API checks it with menu_problems)
    "type": "object", "required": ["name"], "properties": {
        "type": {"enum": list(BUTTON_TYPES), "description": "Left out on a button with sub-buttons."},
        "name": {**STR, "description": f"At most {MENU_LIMITS['name_bytes']} UTF-8 bytes on the bar, "
                 f"{MENU_LIMITS['sub_name_bytes']} in a list."},
        "key": {**STR, "description": f"Every type but view and view_miniprogram: at most "
                f"{MENU_LIMITS['key_bytes']} bytes, unique. A click's key is answered by the reply "
                "rules like a keyword."},
        "url": {**STR, "description": "view (and optionally view_miniprogram): http(s), at most "
                f"{MENU_LIMITS['url_bytes']} bytes."},
        "appid": {**STR, "description": "view_miniprogram: a mini program bound to the company."},
        "pagepath": {**STR, "description": "view_miniprogram: the page it opens."}}}

WARNINGS = {"type": "array", "items": ref("Warning"), "description": (
    "Where WeCom truncates a text (a recommended length) or falls back to a default (a "
    "selected_id that is not an option, a button style outside 1-4): the card stays usable.")}

RESPONSES = {
    "Problem": _object(path=STR, message=STR, code={"type": ["integer", "null"],
                                                    "description": "WeCom's errcode for it."}),
    "Warning": _object(path=STR, message=STR),
    "Error": _object(error=STR, message=STR),
    "ValidationError": _object(error=STR, message=STR, errors={"type": "array", "items": ref("Problem")}),
    "Card": _object(**CARD),
    "CardSummary": _object(**CARD_SUMMARY),
    "CardDetail": _object(**CARD_SUMMARY, created_at=TIME, template_card=ref("TemplateCard"),
                          errors={"type": "array", "items": ref("Problem")}, warnings=WARNINGS),
    "CardPage": _page("CardSummary"),
    "CardValidation": _object(valid=BOOL, errors={"type": "array", "items": ref("Problem")},
                              warnings=WARNINGS),
    "CampaignStatus": _object(**STATUS),
    "CampaignCheck": _object(
        id=INT, recipients={**INT, "description": "People it would reach, groups expanded."},
        everyone={**BOOL, "description": "Sent in one @all call."},
        calls={**INT, "description": "message/send calls (1,000 people each)."},
        can_send={**BOOL, "description": "False: a notice of level danger blocks the send."},
        notices={"type": "array", "items": _object(level={"enum": ["danger", "warning", "info"]},
                                                    text=STR)}),
    "RecallResult": _object(**STATUS, recalled=INT, failed=INT),
    "ClosePollResult": _object(**STATUS, message=STR),
    "Progress": _object(batches_total=INT, batches_done=INT, accepted=INT, invalid=INT,
                        unlicensed=INT, failed=INT),
    "Batch": _object(task_id=STR, status={"enum": list(BATCH_STATUSES)},
                     msgid={"type": ["string", "null"]}, errcode={"type": ["integer", "null"]},
                     errmsg={"type": ["string", "null"]}),
    "Campaign": _object(**STATUS, name=STR, send_at={**TIME, "type": ["string", "null"]},
                        progress=ref("Progress"), batches={"type": "array", "items": ref("Batch")}),
    "Report": _object(
        recipients=INT, accepted=INT, responders=INT, response_rate={"type": "number"},
        invalid={"type": "array", "items": STR}, unlicensed={"type": "array", "items": STR},
        clicks={**COUNTS, "description": "People's clicks per button key."},
        votes={"type": "object", "additionalProperties": COUNTS,
               "description": "question_key -> option_id -> people, counting each person's latest "
                              "answer to each question (as the report page does)."},
        menu={**COUNTS, "description": "Choices per card-menu key."}),
    "Event": _object(
        user={"type": ["string", "null"], "description": "The WeCom user id; null when the "
              "campaign's privacy is \"aggregate\"."},
        event={"type": ["string", "null"]}, event_key={"type": ["string", "null"]},
        task_id={"type": ["string", "null"]}, card_type={"type": ["string", "null"]},
        selected={"type": "object", "additionalProperties": {"type": "array", "items": STR}},
        created_at={**TIME, "type": ["string", "null"], "description": "WeCom's CreateTime."}),
    "EventPage": _page("Event"),
    "Directory": _object(
        read_at={**TIME, "type": ["string", "null"], "description": "When the last whole read "
                 "ended; null: never read (the first campaign that needs it reads it)."},
        reading={**BOOL, "description": "A whole read is under way."},
        progress=_object(done=INT, total=INT),
        users=INT, departments=INT, tags=INT,
        error={"type": ["string", "null"], "description": "Why the last read failed; the last "
               "good copy is kept and used."},
        error_at={**TIME, "type": ["string", "null"]},
        names_hidden={**BOOL, "description": "WeCom gave ids without names (apps created after "
                      "mid-2022 without the contacts permission): grant it, or import names "
                      "from the admin console's member export on the Directory page."},
        imported_at={**TIME, "type": ["string", "null"]},
        next_read_at={**TIME, "type": ["string", "null"]},
        sync_interval={**INT, "description": "DIRECTORY_SYNC_INTERVAL, in seconds."},
        pending_changes={**INT, "description": "WeCom change_contact events not applied yet."}),
    "DirectoryRead": {"allOf": [ref("Directory"), _object(started={
        **BOOL, "description": "False: a read was under way already."})]},
    "Member": _object(userid=STR, name={**STR, "description": "The userid when WeCom gives no "
                                        "name and none was imported."},
                      departments={"type": "array", "items": INT}),
    "MemberPage": _page("Member"),
    "ReplyRuleCreate": rule_schema(required=("name", "replies")),
    "ReplyRuleUpdate": rule_schema(),
    "ReplyRule": rule_schema(answer=True),
    "ReplyRulePage": _page("ReplyRule"),
    "ReplyRuleDeleted": _object(id=INT, deleted={"const": True}),
    "Token": _object(
        id=INT, name=STR, prefix={**STR, "description": "The token's first characters, to tell it apart."},
        scope={"enum": ["full", "read"]}, created_at=TIME,
        expires_at={"type": ["string", "null"], "format": "date-time", "description": "null: until revoked."},
        last_used_at={"type": ["string", "null"], "format": "date-time"},
        revoked_at={"type": ["string", "null"], "format": "date-time"},
        current={**BOOL, "description": "True for the token that made this request."}),
    "TokenCreated": {"allOf": [ref("Token"), _object(token={**STR, "description": (
        "The token itself (wcd_...), in this answer only: store it now.")})]},
    "TokenList": _object(items={"type": "array", "items": ref("Token")}),
    "MessageReply": {  # the body of POST /messages/{message_id}/reply (the API checks this schema)
        "type": "object", "required": ["text"], "additionalProperties": False,
        "properties": {"text": {**STR, "minLength": 1, "maxLength": 2048, "description":
                                "Sent as a WeCom text message; not blank, at most 2,048 UTF-8 bytes."}}},
    "MessageAnswer": _object(
        rule_id={"type": ["integer", "null"], "description": "The reply rule that answered; null "
                 "for an answer by hand."},
        rule={"type": ["string", "null"], "description": "The rule's name (null: by hand, or the "
              "rule was deleted)."},
        type={"enum": ["text", "news", "card"]}, text={**STR, "description": "A text reply's words."},
        articles={"type": ["array", "null"], "items": _object(False, title=STR, description=STR, url=STR,
                                                              picurl=STR),
                  "description": "A news reply's articles; null for other types."},
        card_id={"type": ["integer", "null"], "description": "The card a card reply sent; null for "
                 "other types."},
        via={"enum": ["passive", "active", "manual"], "description": "passive: in the callback's "
             "answer; active: sent with message/send by the worker; manual: by a person."},
        status={"enum": ["sent", "queued", "failed"]}),
    "Message": _object(
        id=INT, userid=STR,
        msgtype={**STR, "description": "text, image, voice, video, location, link, or a menu "
                 "event: event:click (text: the key), event:view, event:view_miniprogram, and "
                 "event:<type> for the other button types (scancode_push ...; text: the key)."},
        text={**STR, "description": "The words; a place's label, a link's title, a menu key."},
        time={**TIME, "description": "When the callback received it."},
        answered={**BOOL, "description": "A reply rule or a person answered it."},
        answers={"type": "array", "items": ref("MessageAnswer")}),
    "MessagePage": _page("Message"),
    "MenuSubButton": MENU_SUB_BUTTON,
    "MenuButton": {**MENU_SUB_BUTTON, "properties": {**MENU_SUB_BUTTON["properties"], "sub_button": {
        "type": "array", "items": ref("MenuSubButton"), "minItems": MENU_LIMITS["min_sub_buttons"],
        "maxItems": MENU_LIMITS["max_sub_buttons"]}}},
    "Menu": _object(button={"type": "array", "items": ref("MenuButton"),
                            "minItems": MENU_LIMITS["min_buttons"], "maxItems": MENU_LIMITS["max_buttons"]}),
    "MenuState": _object(
        button={"type": "array", "items": ref("MenuButton"), "description": "The saved menu; empty "
                "when there is none."},
        published_at={**TIME, "type": ["string", "null"], "description": "When it was last "
                      "published (or removed) in WeCom; null: never."},
        published_by={"type": ["string", "null"], "description": "Who published it."},
        publish_error={"type": ["string", "null"], "description": "Why WeCom refused the last "
                       "publish; null when it did not."}),
    "ImageUpload": {"type": "object", "required": ["file"], "properties": {"file": {
        "type": "string", "format": "binary", "description": "A JPG or PNG picture of at most 2 MB "
        "(its kind is read from its bytes, not its name) and at most 40 million pixels."}}},
    "ImageUploaded": _object(
        id=INT, url={**STR, "description": "WeCom's permanent URL of the picture, for card_image.url, "
                     "image_text_area.image_url, source.icon_url or a news article's picurl."},
        width=INT, height=INT, bytes=INT, name={**STR, "description": "The file's name, shown only."},
        reused={**BOOL, "description": "True: the same file was uploaded before; its row is "
                "returned and WeCom was not called."}),
    "Image": _object(id=INT, url=STR, name=STR, width=INT, height=INT, bytes=INT, uploaded_at=TIME,
                     uploaded_by={"type": ["string", "null"], "description": "Who uploaded it."}),
    "ImagePage": _page("Image"),
}
#: Request bodies sent as multipart/form-data (a file), not JSON.
MULTIPART = {"ImageUpload"}

# status -> (name, description)
ERRORS = {
    400: ("BadRequest", "The body is not JSON."),
    401: ("Unauthorized", "No token, or an unknown or revoked one."),
    403: ("Forbidden", "The token owner's role may not do this."),
    404: ("NotFound", "No such card or campaign."),
    409: ("Conflict", "The campaign's state does not allow this now; the message says why."),
    413: ("TooLarge", "The body is larger than API_MAX_BODY."),
    422: ("Invalid", "The request breaks a rule; errors lists each problem at its path."),
    429: ("RateLimited", "The token made too many requests; retry after Retry-After seconds."),
    502: ("BadGateway", "WeCom refused the call or did not answer."),
}

# (method, path, view, summary, request, (status, schema), errors, description)
OPERATIONS = [
    ("post", "/cards", "create_card", "Create a card", "CardCreate", (201, "Card"), (400, 403, 413, 422),
     "Checks the card against every WeCom rule first; an invalid card is a 422 listing each "
     "problem at its path. A task_id in the card is dropped: the sender assigns one per send."),
    ("post", "/cards/validate", "validate_card", "Check a card without saving it", "CardValidate",
     (200, "CardValidation"), (400, 413, 422), "The same check as POST /cards; 422 only when the "
     "request itself is malformed."),
    ("get", "/cards", "card_list", "List cards", None, (200, "CardPage"), (422,),
     "Newest change first. Query: q (name contains), card_type, archived, page, per_page."),
    ("get", "/cards/{card_id}", "card", "Read a card", None, (200, "CardDetail"), (404,),
     "The latest version, with its problems (empty when it can be sent)."),
    ("put", "/cards/{card_id}", "update_card", "Save a new version of a card", "CardUpdate",
     (200, "Card"), (400, 403, 404, 413, 422),
     "Versions that a campaign sent never change: if a campaign used the latest version, the card "
     "gets a new version number; otherwise the unused latest version is replaced. An unchanged "
     "card keeps its version (PUT is idempotent)."),
    ("post", "/campaigns", "create_campaign", "Create a campaign (a draft)", "CampaignCreate",
     (201, "CampaignStatus"), (400, 403, 413, 422),
     "The campaign pins the card's latest version. Send it with POST /campaigns/{id}/send."),
    ("get", "/campaigns/{campaign_id}", "campaign", "Read a campaign's progress", None,
     (200, "Campaign"), (404,), "Status, the ledger's counts and every WeCom send call (batch)."),
    ("get", "/campaigns/{campaign_id}/check", "check", "Check a campaign before sending", None,
     (200, "CampaignCheck"), (403, 404, 502),
     "The check page's figures and notices: the people reached (departments, tags and @all "
     "expanded through the directory, which is read first when it never was), the calls, and "
     "every reason to think twice. Sends nothing."),
    ("post", "/campaigns/{campaign_id}/send", "send", "Send a draft campaign", None,
     (202, "CampaignStatus"), (403, 404, 409, 502),
     "Runs the check before sending and plans the batches; the worker delivers them. Status "
     "becomes sending, or scheduled when send_at is set; or awaiting_approval when the send needs "
     "a second person's approval (more than APPROVAL_ABOVE recipients, or @all): each approver "
     "gets a card in WeCom, and nothing is sent before one approves. 409 when the check blocks it "
     "(a cancelled or already sent campaign, nobody to send to, a card with problems, nobody who "
     "could approve)."),
    ("post", "/campaigns/{campaign_id}/cancel", "cancel", "Cancel a campaign", None,
     (200, "CampaignStatus"), (403, 404, 409, 502),
     "Batches not yet sent are cancelled; what WeCom already accepted stays delivered. A campaign "
     "awaiting approval is cancelled too; its approvers' cards then say so."),
    ("post", "/campaigns/{campaign_id}/recall", "recall", "Recall a sent campaign", None,
     (200, "RecallResult"), (403, 404, 409, 502),
     "Recalls every accepted batch sent less than 24 hours ago; sending must have stopped."),
    ("post", "/campaigns/{campaign_id}/close-poll", "close_poll", "Close a poll", None,
     (202, "ClosePollResult"), (403, 404, 409),
     "The worker updates every recipient's card to show the result and stop taking answers."),
    ("get", "/campaigns/{campaign_id}/report", "report", "Read a campaign's report", None,
     (200, "Report"), (403, 404),
     "Answers to reminders count in their campaign's report; test sends have none (404). Staff "
     "read the reports of campaigns they created, managers and admins all."),
    ("get", "/directory", "directory", "Read the directory's state", None, (200, "Directory"), (),
     "When the app's copy of the WeCom directory was last read, its size, a read under way, and "
     "the last error. The worker re-reads it every DIRECTORY_SYNC_INTERVAL seconds and applies "
     "WeCom's change_contact events as they come."),
    ("post", "/directory/refresh", "directory_refresh", "Read the directory again", None,
     (202, "DirectoryRead"), (403,),
     "Queues a whole read by the worker; poll GET /directory until read_at changes. A send that "
     "needs a directory never read reads it first by itself."),
    ("get", "/directory/members", "directory_members", "List the directory's members", None,
     (200, "MemberPage"), (422,),
     "Sorted by name. Query: department (its members and those of the departments below it), "
     "tag, q (userid or name contains), page, per_page."),
    ("get", "/campaigns/{campaign_id}/events", "events", "List a campaign's events", None,
     (200, "EventPage"), (403, 404, 422),
     "Every click, vote and menu choice, oldest first, reminders included. Privacy: when the "
     "campaign's privacy is \"aggregate\", user is null in every item, so integrators see what was "
     "answered but never who. Same access rule as the report."),
    ("get", "/messages", "message_list", "List what members sent the app", None,
     (200, "MessagePage"), (422,),
     "Messages, pictures, places, links and menu clicks members sent the app, oldest first, each "
     "with the answers it got (a reply rule's, or a person's). Query: userid, since (ISO 8601 "
     "with an offset), unanswered (true/false), page, per_page."),
    ("post", "/messages/{message_id}/reply", "message_reply", "Answer a member's message",
     "MessageReply", (201, "MessageAnswer"), (400, 403, 404, 413, 422, 502),
     "Sends the text to the member now with message/send and marks the message answered; "
     "audited. 502 when WeCom refuses (the failed answer is kept in the thread and returned in "
     "answer)."),
    ("get", "/reply-rules", "reply_rules", "List the reply rules", None, (200, "ReplyRulePage"), (422,),
     "Keyword rules in the order they are tried (lowest priority first, then the oldest), then the "
     "default reply and the welcome. Query: kind, page, per_page."),
    ("post", "/reply-rules", "create_reply_rule", "Create a reply rule", "ReplyRuleCreate",
     (201, "ReplyRule"), (400, 403, 413, 422),
     "The editor's checks: 1-10 triggers for a keyword rule (patterns in RE2 syntax), 1-5 replies, "
     "text within 2048 bytes, 1-8 articles, a card that can be sent; at most one default reply and "
     "one welcome. The rule answers the next message; audited."),
    ("get", "/reply-rules/{rule_id}", "reply_rule", "Read a reply rule", None, (200, "ReplyRule"), (404,),
     "The rule as the editor shows it."),
    ("put", "/reply-rules/{rule_id}", "update_reply_rule", "Change a reply rule", "ReplyRuleUpdate",
     (200, "ReplyRule"), (400, 403, 404, 413, 422),
     "Fields left out keep their values (a GET's answer, changed, can be sent back); the whole rule "
     "is then checked as POST checks it. In force for the next message; audited."),
    ("delete", "/reply-rules/{rule_id}", "delete_reply_rule", "Delete a reply rule", None,
     (200, "ReplyRuleDeleted"), (403, 404),
     "Messages it answered stay in the inbox, without their rule; audited."),
    ("get", "/tokens", "token_list", "List your API tokens", None, (200, "TokenList"), (),
     "Your own tokens, live ones first; current marks the one making the request (see its "
     "expires_at and scope)."),
    ("post", "/tokens", "create_token", "Make an API token", "TokenCreate", (201, "TokenCreated"),
     (400, 403, 413, 422),
     "A token of your own, with an optional expiry (expires_in_days, 1-3650) and scope (read: GET "
     "only). The answer holds the token once. A read-only token cannot make one. Audited."),
    ("delete", "/tokens/{token_id}", "revoke_token", "Revoke an API token", None, (200, "Token"),
     (403, 404),
     "One of your own tokens stops working at once (the calling one too). Audited."),
    ("get", "/menu", "menu", "Read the app's menu", None, (200, "MenuState"), (),
     "The menu saved in the dashboard, as menu/create receives it, and its last publication."),
    ("put", "/menu", "update_menu", "Replace and publish the app's menu", "Menu",
     (200, "MenuState"), (400, 403, 413, 422, 502),
     "Checks the menu against WeCom's limits (1-3 buttons, 1-5 sub-buttons each, names, keys and "
     "urls counted in UTF-8 bytes; each problem at its path, with WeCom's errcode), saves it and "
     "publishes it with menu/create, which replaces the app's whole menu. 502 when WeCom refuses: "
     "the menu stays saved and the answer carries its state with publish_error. Audited."),
    ("post", "/images", "upload_image", "Upload a picture for cards", "ImageUpload",
     (201, "ImageUploaded"), (403, 413, 422, 502),
     "Checks the file first, nothing is sent to WeCom for a refused one: 413 over 2 MB; 422 when it "
     "is not a JPG or PNG by its bytes, is damaged or cut short, or has more than 40 million "
     "pixels. Then uploads it with media/uploadimg and keeps it in the image library; the same "
     "file again returns the kept row (reused) without calling WeCom. 502 when WeCom refuses it, "
     "in words. Audited."),
    ("get", "/images", "image_list", "List the image library", None, (200, "ImagePage"), (422,),
     "Pictures uploaded for cards, newest first. Query: q (file name contains), page, per_page."),
]
QUERY = {
    "card_list": [("q", {**STR, "maxLength": 120}), ("card_type", {"enum": list(CARD_TYPES)}),
                  ("archived", {"enum": ["true", "false"], "default": "false"}),
                  ("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
                  ("per_page", {**INT, "minimum": 1, "maximum": 100, "default": 20})],
    "directory_members": [("department", {**INT, "minimum": 1, "maximum": MAX_ID}),
                          ("tag", {**INT, "minimum": 1, "maximum": MAX_ID}),
                          ("q", {**STR, "maxLength": 64}),
                          ("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
                          ("per_page", {**INT, "minimum": 1, "maximum": 500, "default": 50})],
    "message_list": [("userid", {**STR, "maxLength": 64}), ("since", TIME),
                     ("unanswered", {"enum": ["true", "false"]}),
                     ("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
                     ("per_page", {**INT, "minimum": 1, "maximum": 100, "default": 50})],
    "reply_rules": [("kind", {"enum": ["keyword", "default", "welcome"]}),
                    ("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
                    ("per_page", {**INT, "minimum": 1, "maximum": 200, "default": 50})],
    "image_list": [("q", {**STR, "maxLength": 120}),
                   ("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
                   ("per_page", {**INT, "minimum": 1, "maximum": 200, "default": 50})],
    "events": [("page", {**INT, "minimum": 1, "maximum": 100_000, "default": 1}),
               ("per_page", {**INT, "minimum": 1, "maximum": 100, "default": 50})],
}


@cache
def template_card_schemas() -> dict[str, dict]:
    """The validator's JSON Schema, its $defs moved beside it as TemplateCard.<name>, and task_id
    optional: cards are stored without one, the sender assigns it per send (as validate() with
    require_task_id=False). Adapter: json_schema(require_task_id=False) in wecom/cards.py."""
    schema = copy.deepcopy(json_schema())
    defs = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    for branch in schema["allOf"]:
        branch["then"]["required"] = [k for k in branch["then"]["required"] if k != "task_id"]
    schema["description"] = TASK_ID_NOTE + schema["description"]
    out = {f"TemplateCard.{name}": value for name, value in defs.items()}
    out["TemplateCard"] = schema
    return _rewrite_refs(out)


def _rewrite_refs(value):
    if isinstance(value, dict):
        return {k: (v.replace("#/$defs/", "#/components/schemas/TemplateCard.") if k == "$ref"
                    else _rewrite_refs(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


def _json(schema: str, example=None) -> dict:
    media = {"schema": ref(schema), **({"example": example} if example is not None else {})}
    return {"content": {"application/json": media}}


def operation(method, path, view, summary, request, success, errors, description) -> dict:
    roles = [*current_app.view_functions[f"api.{view}"].access, "admin"]
    status, schema = success
    params = [{"name": name, "in": "path", "required": True,
               "schema": {**INT, "minimum": 1, "maximum": MAX_ID}}
              for name in ("card_id", "campaign_id", "message_id", "rule_id", "token_id") if "{" + name + "}" in path]
    params += [{"name": name, "in": "query", "required": False, "schema": s}
               for name, s in QUERY.get(view, [])]
    op = {"operationId": view, "summary": summary, "x-roles": roles,
          "description": f"{description}\n\nRoles: {', '.join(roles)}.", "parameters": params,
          "responses": {str(status): {"description": summary, **_json(schema, examples.RESPONSES.get(view))},
                        **{str(code): ref_response(code) for code in sorted({*errors, 401, 429})}}}
    if request in MULTIPART:
        op["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": ref(request), "encoding": {"file": {"contentType": "image/png, image/jpeg"}}}}}
    elif request:
        op["requestBody"] = {"required": True, **_json(request, examples.REQUESTS.get(view))}
    return op


def ref_response(status: int) -> dict:
    return {"$ref": f"#/components/responses/{ERRORS[status][0]}"}


def error_responses() -> dict:
    out = {}
    for status, (name, description) in ERRORS.items():
        schema = "ValidationError" if status == 422 else "Error"
        out[name] = {"description": description, **_json(schema)}
    out["RateLimited"]["headers"] = {"Retry-After": {"description": "Seconds to wait.",
                                                      "schema": INT}}
    out["Unauthorized"]["headers"] = {"WWW-Authenticate": {"schema": STR}}
    return out


def build() -> dict:
    """The whole description, as served at /api/v1/openapi.json and shown on /api-docs."""
    config = current_app.config
    paths: dict[str, dict] = {}
    for spec in OPERATIONS:
        paths.setdefault(spec[1], {})[spec[0]] = operation(*spec)
    paths["/openapi.json"] = {"get": {
        "operationId": "openapi_json", "summary": "This description", "security": [],
        "x-roles": ["anyone"], "description": "OpenAPI 3.1, no token needed.",
        "responses": {"200": {"description": "The OpenAPI description.",
                              "content": {"application/json": {"schema": {"type": "object"}}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "WeCom card campaigns API", "version": "1.0.0",
                 "description": examples.intro(config["API_RATE_LIMIT"], config["API_RATE_WINDOW"],
                                               config["API_MAX_BODY"])},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A personal API token (wcd_...)."}},
            "schemas": {**REQUESTS, **RESPONSES, **template_card_schemas()},
            "responses": error_responses(),
        },
    }
