"""The card designer and library: pages, the preview's payload, saving, versions, import, gallery."""
import json
import re
from pathlib import Path

import pytest

from dashboard.cards import gallery, queries, service, spec
from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, Card
from dashboard.wecom import cards as rules
from tests.conftest import make_app

DATA = Path(__file__).parent / "data"
GOLDEN = sorted((DATA / "golden").glob("*.json"))
EXAMPLES = sorted((DATA / "cards").glob("*.json"))
VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q_1", "option_list": [
            {"id": "opt_1", "text": "Yes", "is_checked": False},
            {"id": "opt_2", "text": "No", "is_checked": False}]},
        "submit_button": {"text": "Vote", "key": "submit"}}


def make_card(app, template_card=VOTE, name="Lunch poll"):
    with app.app_context():
        card = service.create_card(name, json.loads(json.dumps(template_card)), actor="test")
        db.session.commit()
        return card.id


def pin(app, card_id):
    """A campaign that sent the card's latest version."""
    with app.app_context():
        version = db.session.get(Card, card_id).latest
        db.session.add(Campaign(name="Sent", card_version_id=version.id, recipients={}))
        db.session.commit()


def preview(client, card):
    return client.post("/cards/preview", json={"template_card": json.dumps(card)})


def save(client, card_id, card, name="Lunch poll"):
    return client.post(f"/cards/{card_id}", data={"name": name, "template_card": json.dumps(card)})


# --- access ---


@pytest.mark.parametrize("role, status", [("staff", 200), ("admin", 200), ("manager", 403)])
@pytest.mark.parametrize("path", ["/cards/", "/cards/new", "/cards/{id}", "/cards/{id}/history",
                                  "/cards/{id}/versions/1.json"])
def test_pages_per_role(app, client, login, role, status, path):
    card_id = make_card(app)
    login(role)
    assert client.get(path.format(id=card_id)).status_code == status


def test_manager_cannot_preview_or_save(app, client, login):
    card_id = make_card(app)
    login("manager")
    assert preview(client, VOTE).status_code == 403
    assert save(client, card_id, VOTE).status_code == 403


# --- the preview is the sender's payload builder ---


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_preview_payload_matches_golden(client, login, golden):
    login("staff")
    expected = {**json.loads(golden.read_text("utf-8")), "touser": "(chosen when you send)"}
    card = {k: v for k, v in expected["template_card"].items() if k != "task_id"}
    response = preview(client, card)
    assert response.json["errors"] == []
    assert response.json["payload"] == expected
    assert list(response.json["payload"]["template_card"]) == list(expected["template_card"])


def test_goldens_cover_every_card_type():
    assert sorted(p.stem for p in GOLDEN) == sorted(rules.CARD_TYPES)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_protocol_example_survives_import(client, login, example):
    login("staff")
    response = client.post("/cards/import", json={"text": example.read_text("utf-8")})
    original = json.loads(example.read_text("utf-8"))
    original = original.get("template_card", original)
    sent = response.json["payload"]["template_card"]
    assert {k: v for k, v in sent.items() if k != "task_id"} == {
        k: v for k, v in original.items() if k != "task_id"}
    assert sent.get("task_id") in (None, service.PLACEHOLDER_TASK_ID)


# --- validation through the form: messages from wecom/cards.py at their paths ---


def with_(card, **changes):
    return {**json.loads(json.dumps(card)), **changes}


BUTTONS = {"card_type": "button_interaction", "main_title": {"title": "RSVP"},
           "button_list": [{"text": "Yes", "key": "yes"}]}
VALIDATION = [
    (with_(VOTE, main_title={"title": 37}), "main_title.title", "must be text"),
    (with_(BUTTONS, button_list=[{"text": "Way too long a text", "key": "a"}]),
     "button_list[0].text", "at most 10"),
    (with_(BUTTONS, button_list=[{"text": str(i), "key": f"k{i}"} for i in range(7)]),
     "button_list", "at most 6"),
    (with_(BUTTONS, button_list=[{"text": "A", "key": "k"}, {"text": "B", "key": "k"}]),
     "button_list[1].key", "unique"),
    (with_(BUTTONS, horizontal_content_list=[{"type": 1, "keyname": "Doc"}]),
     "horizontal_content_list[0].url", "required when type is 1"),
    (with_(VOTE, checkbox={**VOTE["checkbox"], "option_list": [
        {"id": "a", "text": "A", "is_checked": True}, {"id": "b", "text": "B", "is_checked": True}]}),
     "checkbox.option_list[1].is_checked", "single-choice"),
    ({"card_type": "text_notice", "main_title": {"title": "Hi"}}, "card_action", "required"),
    ({"card_type": "news_notice", "main_title": {"title": "Hi"}, "card_action": {"type": 1, "url": "u"}},
     "card_image", "card_image or an image_text_area"),
    (with_(VOTE, colour="blue"), "colour", "Unknown field"),
    (with_(VOTE, replace_text="Done"), "replace_text", "only allowed when updating"),
]


@pytest.mark.parametrize("card, path, words", VALIDATION)
def test_validation_errors_arrive_at_their_field(client, login, card, path, words):
    login("staff")
    errors = preview(client, card).json["errors"]
    assert any(e["path"] == path and words in e["message"] for e in errors), errors


def test_preview_never_asks_for_a_task_id(client, login):
    login("staff")
    assert preview(client, VOTE).json["errors"] == []


# --- saving, versions, drafts ---


def test_card_with_problems_saves_as_draft_but_is_not_usable(app, client, login):
    card_id = make_card(app)
    login("staff")
    broken = with_(VOTE, main_title={"desc": "no title"})
    response = save(client, card_id, broken)
    assert response.status_code == 302
    assert "can't be used in a campaign" in client.get(response.location).get_data(as_text=True)
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.latest.template_card == broken and len(card.versions) == 1
        assert [e.path for e in service.card_problems(card)] == ["main_title.title"]
        assert not service.usable_in_campaign(card.latest)


def test_saving_a_card_a_campaign_used_creates_a_new_version(app, client, login):
    card_id = make_card(app)
    pin(app, card_id)
    login("staff")
    save(client, card_id, with_(VOTE, main_title={"title": "Dinner?"}))
    save(client, card_id, with_(VOTE, main_title={"title": "Dinner at 7?"}))
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert [v.number for v in card.versions] == [1, 2]
        assert card.versions[0].template_card == VOTE  # the campaign's version never changes
        assert card.latest.template_card["main_title"]["title"] == "Dinner at 7?"
        assert db.session.scalar(db.select(AuditLog).filter_by(action="card.saved")).actor_name == "staff"


def test_save_rejects_bad_json_and_keeps_the_card(app, client, login):
    card_id = make_card(app)
    login("staff")
    response = client.post(f"/cards/{card_id}", data={"name": "x", "template_card": "{oops"})
    assert response.status_code == 200 and "Line 1, column 2" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Card, card_id).latest.template_card == VOTE


def test_autosave_offers_the_draft_until_saved_or_discarded(app, client, login):
    card_id = make_card(app)
    login("staff")
    changed = with_(VOTE, main_title={"title": "Unsaved"})
    assert client.post(f"/cards/{card_id}/autosave", json={
        "template_card": json.dumps(changed), "name": "Lunch poll"}).status_code == 200
    assert '"Unsaved"' in client.get(f"/cards/{card_id}").get_data(as_text=True)
    client.post(f"/cards/{card_id}/draft/discard")
    with app.app_context():
        assert queries.pending_draft(db.session.get(Card, card_id)) is None


# --- library: search, clone, archive, delete, history ---


def test_search_by_name_and_type(app, client, login):
    make_card(app, name="Lunch poll")
    make_card(app, BUTTONS, name="Lunch RSVP")
    login("staff")
    page = client.get("/cards/?q=lunch&type=button_interaction").get_data(as_text=True)
    assert "Lunch RSVP" in page and "Lunch poll" not in page


def test_clone_archive_and_delete(app, client, login):
    card_id = make_card(app)
    login("staff")
    copy_url = client.post(f"/cards/{card_id}/clone").location
    assert "Copy of Lunch poll" in client.get(copy_url).get_data(as_text=True)
    client.post(f"/cards/{card_id}/archive")
    assert ">Lunch poll</a>" not in client.get("/cards/").get_data(as_text=True)
    assert "Lunch poll" in client.get("/cards/?archived=1").get_data(as_text=True)
    pin(app, card_id)
    client.post(f"/cards/{card_id}/delete")
    with app.app_context():
        assert db.session.get(Card, card_id) is not None  # used by a campaign: never deleted


def test_history_shows_a_field_by_field_diff(app, client, login):
    card_id = make_card(app)
    pin(app, card_id)
    login("staff")
    save(client, card_id, with_(VOTE, main_title={"title": "Dinner?"}))
    page = client.get(f"/cards/{card_id}/history?a=1&b=2").get_data(as_text=True)
    assert "main_title.title" in page and "Lunch?" in page and "Dinner?" in page
    assert "checkbox.question_key" not in page


def test_diff_lists_added_removed_and_changed_fields():
    rows = queries.diff({"a": 1, "b": [1, 2]}, {"a": 2, "b": [1], "c": True})
    assert [(r["path"], r["kind"]) for r in rows] == [
        ("a", "changed"), ("b[1]", "removed"), ("c", "added")]


# --- import ---


@pytest.mark.parametrize("text, words", [
    ('{"card_type": "vote_interaction",', "Line 1, column 34"),
    ("[1, 2]", "Expected a JSON object"),
    ('{"title": "no type"}', "No card_type"),
    ('{"card_type": "poster"}', "not a card type"),
])
def test_import_rejects_what_is_not_a_card(client, login, text, words):
    login("staff")
    response = client.post("/cards/import", json={"text": text})
    assert response.status_code == 400 and words in response.json["errors"][0]["message"]


def test_import_reports_unknown_fields_with_paths(client, login):
    login("staff")
    card = with_(VOTE, checkbox={**VOTE["checkbox"], "colour": "red"})
    body = {"touser": "a", "msgtype": "template_card", "template_card": {**card, "task_id": "t1"}}
    response = client.post("/cards/import", json={"text": json.dumps(body)})
    assert [e["path"] for e in response.json["errors"]] == ["checkbox.colour"]
    assert "task_id" not in response.json["template_card"]
    assert len(response.json["notes"]) == 2


# --- gallery and spec ---


def test_gallery_has_every_starter_and_each_is_valid_once_sent():
    starters = gallery.starters()
    assert len(starters) >= 7
    assert {s["template_card"]["card_type"] for s in starters.values()} == set(rules.CARD_TYPES)
    for starter in starters.values():
        assert rules.validate({**starter["template_card"], "task_id": "camp1-1"}) == []


def test_starting_from_the_gallery_and_from_a_type(client, login):
    login("staff")
    assert "Approval request (copy)" in client.get("/cards/new/approval").get_data(as_text=True)
    assert client.post("/cards/new", data={"starter": "approval"}).status_code == 400
    blank = client.post("/cards/new", data={"card_type": "vote_interaction"})
    assert "Untitled vote card" in client.get(blank.location).get_data(as_text=True)
    assert client.post("/cards/new", data={"card_type": "poster"}).status_code == 400


def test_seed_gallery_runs_once(app):
    with app.app_context():
        assert "Added" in gallery.seed_gallery()[0]
        assert "not added" in gallery.seed_gallery()[0]
        assert db.session.scalar(db.select(db.func.count(Card.id))) == len(gallery.starters())


@pytest.mark.parametrize("card_type", rules.CARD_TYPES)
def test_form_spec_shows_every_field_of_every_block(card_type):
    def paths(nodes, prefix=""):
        for node in nodes:
            path = prefix + node["name"]
            yield path
            yield from paths(node.get("fields", []), path + ("[]." if node["kind"] == "list" else "."))

    shown = set(paths(spec.designer_spec()["types"][card_type]["blocks"]))
    expected = {p for p, r in rules.limits()[card_type].items()
                if not r.get("update_only") and p.split(".")[0] not in ("card_type", "task_id")}
    assert shown == expected


# --- CSRF on ---


def test_preview_needs_the_csrf_token_when_csrf_is_on(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    from dashboard.auth import service as auth_service
    from tests.conftest import PASSWORD
    with app.app_context():
        auth_service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    card_id = make_card(app)
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/cards/{card_id}").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    assert preview(client, VOTE).status_code == 400
    response = client.post("/cards/preview", json={"template_card": json.dumps(VOTE)},
                           headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.json["errors"] == []


def test_designer_has_the_after_click_section_and_new_versions_keep_it(app, client, login):
    card_id = make_card(app)
    login("staff")
    page = client.get(f"/cards/{card_id}").get_data(as_text=True)
    assert 'id="after-click"' in page and f"/settings/cards/{card_id}/after-click" in page
    client.post(f"/settings/cards/{card_id}/after-click",
                data={"mode": "button", "replace_name": "已投票", "card": ""})
    pin(app, card_id)
    save(client, card_id, with_(VOTE, main_title={"title": "Dinner?"}))
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert [v.number for v in card.versions] == [1, 2]
        assert card.latest.after_click == card.versions[0].after_click
        assert card.latest.after_click["replace_name"] == "已投票"


# --- one Save keeps every section (issue 29) ---


def save_all(client, card_id, card=VOTE, name="Lunch poll", **after_click):
    """The designer's one Save as the browser posts it: name, card JSON and the after-click fields."""
    fields = {f"after_click-{key}": value for key, value in after_click.items()}
    return client.post(f"/cards/{card_id}", data={"name": name, "template_card": json.dumps(card),
                                                 "after_click-card": "", **fields})


def checked_mode(page: str) -> list[str]:
    return re.findall(r'<input[^>]*\bchecked\b[^>]*name="after_click-mode"[^>]*value="(\w+)"', page) + \
        re.findall(r'<input[^>]*name="after_click-mode"[^>]*\bchecked\b[^>]*value="(\w+)"', page) + \
        re.findall(r'<input[^>]*name="after_click-mode"[^>]*value="(\w+)"[^>]*\bchecked\b', page)


def test_the_one_save_keeps_the_after_click_settings(app, client, login):
    card_id = make_card(app)
    login("staff")
    renamed = with_(VOTE, main_title={"title": "Dinner?"})
    response = save_all(client, card_id, renamed, name="Dinner poll", mode="card", replace_name="已投票")
    assert response.status_code == 302 and response.location.endswith(f"/cards/{card_id}")
    page = client.get(f"/cards/{card_id}").get_data(as_text=True)
    assert checked_mode(page) == ["card"] and 'value="已投票"' in page
    assert 'form="card-form"' in page  # the fields belong to the designer's one form
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.name == "Dinner poll" and card.latest.template_card == renamed
        assert card.latest.after_click == {"mode": "card", "replace_name": "已投票"}


def test_after_click_settings_saved_with_a_new_version_leave_the_sent_one_alone(app, client, login):
    card_id = make_card(app)
    pin(app, card_id)
    login("staff")
    save_all(client, card_id, with_(VOTE, main_title={"title": "Dinner?"}), mode="none")
    with app.app_context():
        first, second = db.session.get(Card, card_id).versions
        assert first.after_click == {"mode": "button", "replace_name": "已选择：{option}"}
        assert second.after_click == {"mode": "none"}
        actions = db.session.scalars(db.select(AuditLog.action).filter_by(object_id=str(card_id)))
        assert "card.after_click" in set(actions)


def test_a_bad_caption_is_shown_at_its_field_and_nothing_is_lost_or_saved(app, client, login):
    card_id = make_card(app)
    login("staff")
    changed = with_(VOTE, main_title={"title": "Unsaved title"})
    response = save_all(client, card_id, changed, name="New name", mode="button", replace_name="")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    field = re.search(r'<input[^>]*name="after_click-replace_name"[^>]*>\s*<div class="invalid-feedback">([^<]*)',
                      page)
    assert "Give the caption the button shows" in field.group(1) and "is-invalid" in field.group(0)
    assert 'value="New name"' in page and "Unsaved title" in page and checked_mode(page) == ["button"]
    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.name == "Lunch poll" and card.latest.template_card == VOTE
        assert card.latest.after_click == {"mode": "button", "replace_name": "已选择：{option}"}


def test_a_save_without_the_after_click_fields_leaves_them_as_they_are(app, client, login):
    card_id = make_card(app)
    login("staff")
    save_all(client, card_id, mode="none")
    save(client, card_id, with_(VOTE, main_title={"title": "Dinner?"}))
    with app.app_context():
        assert db.session.get(Card, card_id).latest.after_click == {"mode": "none"}


@pytest.mark.parametrize("card_type, expected", [
    ("vote_interaction", {"mode": "button", "replace_name": "已选择：{option}"}),
    ("multiple_interaction", {"mode": "button", "replace_name": "已选择：{option}"}),
    ("button_interaction", {"mode": "button", "replace_name": "已提交"}),
    ("text_notice", None), ("news_notice", None)])
def test_new_cards_grey_out_the_button_after_a_click(app, client, login, card_type, expected):
    login("staff")
    response = client.post("/cards/new", data={"card_type": card_type})
    with app.app_context():
        card = db.session.get(Card, int(response.location.rsplit("/", 1)[1]))
        assert card.latest.after_click == expected
    if expected:
        assert checked_mode(client.get(response.location).get_data(as_text=True)) == ["button"]


def test_a_clone_keeps_the_settings_of_its_card(app, client, login):
    card_id = make_card(app)
    login("staff")
    save_all(client, card_id, mode="button", replace_name="已投票")
    copy = client.post(f"/cards/{card_id}/clone")
    with app.app_context():
        clone = db.session.get(Card, int(copy.location.rsplit("/", 1)[1]))
        assert clone.latest.after_click == {"mode": "button", "replace_name": "已投票"}


def test_versions_saved_before_the_default_keep_replying_nothing(app, client, login):
    with app.app_context():
        card = service.create_card("Old", json.loads(json.dumps(VOTE)), actor="test")
        card.latest.after_click = None
        db.session.commit()
        card_id = card.id
    login("staff")
    assert checked_mode(client.get(f"/cards/{card_id}").get_data(as_text=True)) == ["none"]
    save(client, card_id, with_(VOTE, main_title={"title": "Still old"}))
    with app.app_context():
        assert db.session.get(Card, card_id).latest.after_click is None


# --- a starter opens as an unsaved copy ---


def card_count(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(Card.id)))


def test_a_starter_opens_unsaved_and_its_save_creates_the_card(app, client, login):
    login("staff")
    page = client.get("/cards/new/poll-single").get_data(as_text=True)
    assert card_count(app) == 0
    assert 'value="Single-choice poll (copy)"' in page and 'id="unsaved-copy"' in page
    data = json.loads(re.search(r'id="designer-data">(.*?)</script>', page, re.S).group(1))
    assert "autosave" not in data["urls"] and data["draft"] is None
    starter = gallery.starters()["poll-single"]["template_card"]
    response = client.post("/cards/new/poll-single", data={
        "name": "Single-choice poll (copy)", "template_card": json.dumps(starter),
        "after_click-mode": "button", "after_click-replace_name": "已选择：{option}", "after_click-card": ""})
    assert response.status_code == 302 and card_count(app) == 1
    with app.app_context():
        card = db.session.scalar(db.select(Card))
        assert response.location.endswith(f"/cards/{card.id}")
        assert card.name == "Single-choice poll (copy)" and card.latest.template_card == starter
        assert card.latest.after_click == {"mode": "button", "replace_name": "已选择：{option}"}


def test_a_starter_with_a_mistake_saves_nothing(app, client, login):
    login("staff")
    response = client.post("/cards/new/poll-single", data={"name": "", "template_card": "{}"})
    assert response.status_code == 200 and card_count(app) == 0
    assert client.get("/cards/new/no-such-starter").status_code == 404


# --- the preview shows what WeCom shows ---


def test_the_preview_never_sends_to_everyone(client, login):
    login("staff")
    payload = preview(client, VOTE).json["payload"]
    assert payload["touser"] == "(chosen when you send)" and "@all" not in json.dumps(payload)


# --- warnings: WeCom truncates or falls back there, the card stays usable (issue 22) ---


def test_preview_shows_warnings_beside_problems_and_they_do_not_block(app, client, login):
    login("staff")
    card = with_(BUTTONS, main_title={"title": "RSVP", "desc": "d" * 45},
                 button_list=[{"text": "Yes", "key": "yes", "style": 9}])
    answer = preview(client, card).json
    assert answer["errors"] == []
    assert [w["path"] for w in answer["warnings"]] == ["main_title.desc", "button_list[0].style"]
    assert "at most 44" in answer["warnings"][0]["message"]
    assert set(answer["warnings"][0]) == {"path", "message"}
    card_id = make_card(app, card, name="Warned")
    with app.app_context():
        assert service.usable_in_campaign(db.session.get(Card, card_id).latest)


def test_preview_keeps_errors_and_warnings_apart(client, login):
    login("staff")
    card = with_(VOTE, main_title={"title": 5, "desc": "说" * 161})
    answer = preview(client, card).json
    assert [e["path"] for e in answer["errors"]] == ["main_title.title"]
    assert [w["path"] for w in answer["warnings"]] == ["main_title.desc"]
    assert "at most 160" in answer["warnings"][0]["message"]  # vote cards: 160, not 44
    assert preview(client, VOTE).json["warnings"] == []


def test_import_answers_warnings_too(client, login):
    login("staff")
    card = with_(VOTE, checkbox={**VOTE["checkbox"]}, main_title={"title": "Lunch?"})
    card = {**card, "card_type": "multiple_interaction", "select_list": [
        {"question_key": "q", "selected_id": "zz", "option_list": [{"id": "a", "text": "A"}]}]}
    del card["checkbox"]
    answer = client.post("/cards/import", json={"text": json.dumps(card)}).json
    assert answer["errors"] == []
    assert [w["path"] for w in answer["warnings"]] == ["select_list[0].selected_id"]


def test_designer_script_shows_warnings_as_notes_not_problems():
    """The designer counts errors only for Save and Send; warnings get their own yellow note."""
    js = (Path(__file__).parents[1] / "dashboard/static/js/designer-problems.js").read_text()
    designer = (Path(__file__).parents[1] / "dashboard/static/js/designer.js").read_text()
    assert "designer-warning" in js and "bg-warning-subtle" in js and "alert-warning" in js
    assert "DesignerProblems.show(els.fields, els.problems, errors, state.warnings)" in designer
    assert "showSendable(errors.length)" in designer
