"""The designer's one Save keeps every section, for every card type, after-click included; leaving
with unsaved changes asks first, leaving after Save does not (issue 29)."""
import pytest
from playwright.sync_api import expect

from dashboard.wecom.cards import CARD_TYPES
from tests.e2e.test_designer import field, new_card
from tests.e2e.test_login import sign_in
from tests.test_cards_designer import VOTE, make_card, with_

pytestmark = pytest.mark.e2e

INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
TEXT_INPUTS = 'input[type=text][data-path], textarea[data-path]'


def input_at(page, path):
    """The input of a field (a scalar block's section carries the same data-path)."""
    return page.locator(f'#designer-fields :is(input, textarea, select)[data-path="{path}"]')


def open_every_section(page) -> None:
    """Switch on every optional block and give every empty list its first item."""
    blocks = page.locator("#designer-fields section.designer-block")
    for i in range(blocks.count()):
        block = blocks.nth(i)
        switch = block.locator("input[role=switch]")
        if switch.count() and not switch.is_checked():
            switch.check()
        if not block.locator(TEXT_INPUTS).count() and block.get_by_role("button", name="+ Add").count():
            block.get_by_role("button", name="+ Add").first.click()


def fill_every_section(page) -> dict[str, str]:
    """One field of each section: the first text field, else the first list's last choice.
    Returns {data-path: value} of what was entered."""
    entered, selects = {}, []
    blocks = page.locator("#designer-fields section.designer-block")
    for i in range(blocks.count()):
        block = blocks.nth(i)
        text = block.locator(TEXT_INPUTS)
        if text.count():
            path = text.first.get_attribute("data-path")
            entered[path] = f"S{i}"
            text.first.fill(entered[path])
        else:
            selects.append(block.locator("select[data-path]").first.get_attribute("data-path"))
    for path in selects:  # a select re-renders the form: choose them once the texts are in
        select = input_at(page, path)
        value = select.locator("option").last.get_attribute("value")
        select.select_option(value)
        entered[path] = value
    return entered


@pytest.mark.parametrize("card_type", CARD_TYPES)
def test_one_save_keeps_every_section(page, live_server, card_type):
    new_card(page, live_server, card_type)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.fill("#name", f"Every section of {card_type}")
    open_every_section(page)
    entered = fill_every_section(page)
    assert len(entered) == page.locator("#designer-fields section.designer-block").count() >= 3
    if card_type in INTERACTIVE:
        page.get_by_label("Reply nothing (the card stays as it is)").check()
        page.get_by_label("Grey out the button with a caption").check()
        page.locator("#after_click-replace_name").fill("已收到")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text(f"Saved “Every section of {card_type}”")
    page.reload()
    expect(page.locator("#name")).to_have_value(f"Every section of {card_type}")
    for path, value in entered.items():
        expect(input_at(page, path)).to_have_value(value)
    if card_type in INTERACTIVE:
        expect(page.get_by_label("Grey out the button with a caption")).to_be_checked()
        expect(page.locator("#after_click-replace_name")).to_have_value("已收到")
    else:  # a notice card takes no clicks: only its menu items answer (every section filled: it has one)
        expect(page.locator("#after-click-menu .after-menu-item").first).to_be_visible()
        expect(page.locator('input[type=radio][name="after_click-mode"]')).to_have_count(0)
    assert dialogs == []  # Save and reload after it never ask


def test_an_unsaved_after_click_change_asks_before_leaving(page, live_server):
    new_card(page, live_server, "vote_interaction")
    expect(page.get_by_label("Grey out the button with a caption")).to_be_checked()  # the default
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.locator("#after_click-replace_name").fill("已投票")
    page.reload()
    assert dialogs == ["beforeunload"]
    expect(page.locator("#after_click-replace_name")).to_have_value("已选择：{option}")  # it was never saved


def test_send_this_card_saves_and_opens_a_campaign_with_it(page, live_server):
    new_card(page, live_server, "vote_interaction")
    send = page.get_by_role("button", name="Send this card")
    expect(send).to_be_disabled()  # a blank vote has problems
    page.fill("#name", "Lunch vote")
    field(page, "main_title.title").fill("Where shall we eat?")
    field(page, "checkbox.option_list[0].text").fill("Noodles")
    field(page, "checkbox.option_list[1].text").fill("Dumplings")
    field(page, "submit_button.text").fill("Vote")
    expect(send).to_be_enabled()
    send.click()
    expect(page).to_have_url(f"{live_server}/campaigns/new?card=1")
    expect(page.locator("#card_version option:checked")).to_have_text("Lunch vote · v1 (vote_interaction)")


def test_the_preview_cuts_long_titles_where_wecom_does(page, live_server):
    new_card(page, live_server, "text_notice")
    title = "一" * 47
    field(page, "main_title.title").fill(title)
    shown = page.get_by_test_id("card-preview").locator(".wc-title")
    expect(shown).to_have_text("一" * 36 + "…")
    expect(shown).to_have_attribute("title", title)
    expect(page.get_by_test_id("payload-json")).to_contain_text('"touser": "(chosen when you send)"')
    expect(page.get_by_test_id("payload-json")).not_to_contain_text("@all")


def test_the_card_list_keeps_name_status_and_send_on_a_phone(app, page, live_server):
    make_card(app, name="A poll with a rather long name for a phone screen")
    make_card(app, with_(VOTE, main_title={"desc": "no title"}), name="Broken poll")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, "staff")
    page.goto(f"{live_server}/cards/")
    ready = page.locator("tr", has_text="A poll with a rather long name")
    expect(ready.get_by_role("link", name="A poll with a rather long name")).to_be_in_viewport()
    expect(ready.get_by_text("Ready")).to_be_in_viewport()
    expect(ready.get_by_role("link", name="Send this card")).to_be_in_viewport()
    broken = page.locator("tr", has_text="Broken poll")
    expect(broken.get_by_text("1 problem", exact=True)).to_be_in_viewport()
    expect(broken.get_by_role("button", name="Send this card")).to_be_disabled()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    ready.get_by_role("link", name="Send this card").click()
    expect(page.locator("#card_version option:checked")).to_contain_text("A poll with a rather long name")
