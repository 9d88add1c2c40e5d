"""A card goes to a campaign in one step: "Send this card" on the designer and the card list opens a
new campaign with that card chosen; a new campaign without it chooses nothing (issue 29)."""
import json
import re

from dashboard.cards import gallery, service
from dashboard.extensions import db
from dashboard.models import Card
from tests.test_cards_designer import VOTE, make_card, with_

BROKEN = with_(VOTE, main_title={"desc": "no title"})  # a title is required: an error, not a warning


def selected(page: str) -> list[str]:
    """Values of the card select's chosen options."""
    select = re.search(r'<select[^>]*name="card_version".*?</select>', page, re.S).group(0)
    return re.findall(r'<option[^>]*\bselected\b[^>]*value="([^"]*)"', select) + \
        re.findall(r'<option[^>]*value="([^"]*)"[^>]*\bselected\b', select)


def latest_id(app, card_id) -> int:
    with app.app_context():
        return db.session.get(Card, card_id).latest.id


def test_new_campaign_with_a_card_chooses_its_latest_version(app, client, login):
    make_card(app, name="Another poll")
    card_id = make_card(app)
    login("staff")
    page = client.get(f"/campaigns/new?card={card_id}").get_data(as_text=True)
    assert selected(page) == [str(latest_id(app, card_id))]


def test_new_campaign_without_a_card_chooses_nothing_and_asks_for_one(app, client, login):
    make_card(app)
    login("staff")
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert selected(page) == [""] and "— choose a card —" in page
    response = client.post("/campaigns/new", data={
        "name": "No card", "when": "now", "timezone": "Asia/Shanghai", "duplicate_check_interval": 1800,
        "card_version": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'name="card_version".*?<div class="invalid-feedback">Choose the card to send.</div>',
                     page, re.S)


def test_a_card_with_problems_is_not_chosen_and_says_why(app, client, login):
    card_id = make_card(app, BROKEN, name="Broken poll")
    login("staff")
    page = client.get(f"/campaigns/new?card={card_id}", follow_redirects=True).get_data(as_text=True)
    assert selected(page) == [""] and re.search("can('|&#39;)t be sent yet", page)
    assert client.get("/campaigns/new?card=999").status_code == 404


def test_send_this_card_on_the_designer_saves_first_then_opens_the_campaign(app, client, login):
    card_id = make_card(app)
    login("staff")
    changed = with_(VOTE, main_title={"title": "Dinner?"})
    response = client.post(f"/cards/{card_id}", data={
        "name": "Dinner poll", "template_card": json.dumps(changed), "next": "send"})
    assert response.status_code == 302 and response.location.endswith(f"/campaigns/new?card={card_id}")
    with app.app_context():
        assert db.session.get(Card, card_id).latest.template_card == changed
    page = client.get(response.location).get_data(as_text=True)
    assert selected(page) == [str(latest_id(app, card_id))] and "Saved “Dinner poll”" in page


def test_send_this_card_with_problems_stays_in_the_designer(app, client, login):
    card_id = make_card(app)
    login("staff")
    response = client.post(f"/cards/{card_id}", data={
        "name": "Lunch poll", "template_card": json.dumps(BROKEN), "next": "send"})
    assert response.location.endswith(f"/cards/{card_id}")
    page = client.get(response.location).get_data(as_text=True)
    assert "Not sent: 1 problem" in page
    assert re.search(r'<button[^>]*id="send-button"[^>]*disabled', page)


def test_a_starter_copy_can_be_sent_in_one_step(app, client, login):
    login("staff")
    starter = gallery.starters()["poll-single"]["template_card"]
    response = client.post("/cards/new/poll-single", data={
        "name": "Single-choice poll (copy)", "template_card": json.dumps(starter), "next": "send"})
    with app.app_context():
        card = db.session.scalar(db.select(Card))
        assert response.location.endswith(f"/campaigns/new?card={card.id}")
        assert service.usable_in_campaign(card.latest)


def test_the_card_list_offers_send_this_card_unless_the_card_has_problems(app, client, login):
    ready = make_card(app, name="Ready poll")
    broken = make_card(app, BROKEN, name="Broken poll")
    login("staff")
    page = client.get("/cards/").get_data(as_text=True)
    assert f'href="/campaigns/new?card={ready}"' in page
    assert f'href="/campaigns/new?card={broken}"' not in page
    assert re.search(r"title=\"Fix the card(?:'|&#39;)s problems first \(1\)[^\"]*\">\s*<button[^>]*disabled", page)
