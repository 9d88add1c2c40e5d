"""The card designer in a real browser: typing, limits, live preview, save and reload, import."""
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.test_login import sign_in

pytestmark = pytest.mark.e2e

EXAMPLES = sorted((Path(__file__).parent.parent / "data" / "cards").glob("*.json"))


def new_card(page, base_url, card_type):
    sign_in(page, base_url, "staff")
    page.goto(f"{base_url}/cards/new")
    page.locator(f"form:has(input[name=card_type][value={card_type}]) button").click()
    expect(page.get_by_test_id("payload-json")).to_contain_text(card_type)


def field(page, path):
    return page.locator(f'#designer-fields [data-path="{path}"]')


def error_at(page, path):
    return page.locator(f'.designer-field:has([data-path="{path}"]) .invalid-feedback')


def payload(page):
    return json.loads(page.get_by_test_id("payload-json").inner_text())


def test_build_a_vote_card_with_three_options(page, live_server):
    new_card(page, live_server, "vote_interaction")
    preview, pane = page.get_by_test_id("card-preview"), page.get_by_test_id("payload-json")
    page.fill("#name", "Lunch vote")
    field(page, "main_title.title").fill("Where shall we eat?")
    expect(preview.locator(".wc-title")).to_have_text("Where shall we eat?")
    expect(pane).to_contain_text('"title": "Where shall we eat?"')
    field(page, "checkbox.option_list[0].text").fill("Noodles")
    field(page, "checkbox.option_list[1].text").fill("Dumplings")
    page.get_by_role("button", name="+ Add option").click()
    expect(page.locator(".designer-list-counter")).to_have_text("options 3/20")
    field(page, "checkbox.option_list[2].text").fill("Hotpot with everything on it")
    expect(preview.locator(".wc-option")).to_have_count(3)
    expect(error_at(page, "checkbox.option_list[2].text")).to_contain_text("at most 17")
    expect(page.locator("#problems")).to_contain_text("1 problem")
    field(page, "checkbox.option_list[2].text").fill("Hotpot")
    expect(error_at(page, "checkbox.option_list[2].text")).to_have_count(0)
    expect(page.locator("#problems")).to_contain_text("No problems")
    expect(pane).to_contain_text('"text": "Hotpot"')
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Saved “Lunch vote”")
    page.reload()
    expect(field(page, "checkbox.option_list[2].text")).to_have_value("Hotpot")
    expect(pane).to_contain_text('"text": "Hotpot"')
    options = payload(page)["template_card"]["checkbox"]["option_list"]
    assert [(o["id"], o["text"]) for o in options] == [
        ("opt_1", "Noodles"), ("opt_2", "Dumplings"), ("opt_3", "Hotpot")]


def test_buttons_reorder_in_place_and_add_stops_at_the_limit(page, live_server):
    new_card(page, live_server, "button_interaction")
    field(page, "button_list[0].text").fill("Yes")
    field(page, "button_list[1].text").fill("No")
    page.get_by_role("button", name="Move button 2 up").click()
    expect(field(page, "button_list[0].text")).to_have_value("No")
    expect(page.get_by_test_id("card-preview").locator(".wc-btn").first).to_have_text("No")
    add = page.get_by_role("button", name="+ Add button")
    for _ in range(4):
        add.click()
    expect(add).to_be_disabled()
    expect(page.locator("#block-button_list .designer-list-counter")).to_have_text("buttons 6/6")
    expect(page.get_by_test_id("payload-json")).to_contain_text('"key": "btn_6"')


def import_text(page, text):
    page.get_by_role("button", name="Import JSON").click()
    page.fill("#import-text", text)
    page.get_by_role("button", name="Import", exact=True).click()


def test_importing_an_invalid_card_shows_errors_at_the_fields(page, live_server):
    new_card(page, live_server, "vote_interaction")
    import_text(page, '{"card_type": "vote_interaction",')
    expect(page.locator("#import-errors")).to_contain_text("Line 1, column 34")
    card = {"card_type": "button_interaction", "main_title": {"title": "x" * 40},
            "button_list": [{"text": "Go", "key": "go", "colour": "red"}]}
    page.fill("#import-text", json.dumps(card))
    page.get_by_role("button", name="Import", exact=True).click()
    # WeCom cuts a long title (a warning at the field); it refuses an unknown field (an error)
    expect(page.locator('.designer-warning[data-warning-path="main_title.title"]')).to_contain_text("at most 36")
    expect(error_at(page, "main_title.title")).to_have_count(0)
    extra = page.locator('#block-extras [data-path="button_list[0].colour"]')
    expect(extra).to_contain_text("Unknown field")
    expect(page.locator("#problems")).to_contain_text("1 problem")
    expect(page.locator("#problems")).to_contain_text("1 warning")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_protocol_example_survives_import_form_and_payload(page, live_server, example):
    original = json.loads(example.read_text("utf-8"))
    original = original.get("template_card", original)
    new_card(page, live_server, "text_notice")
    import_text(page, example.read_text("utf-8"))
    expect(page.get_by_test_id("payload-json")).to_contain_text(original["main_title"]["title"])
    sent = payload(page)["template_card"]
    assert {k: v for k, v in sent.items() if k != "task_id"} == {
        k: v for k, v in original.items() if k != "task_id"}


def test_unsaved_work_warns_before_leaving_and_comes_back_as_a_draft(page, live_server):
    new_card(page, live_server, "text_notice")
    field(page, "main_title.title").fill("Half-written")
    expect(page.locator("#save-status")).to_contain_text("Draft autosaved", timeout=10_000)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]
    page.get_by_role("button", name="Restore draft").click()
    expect(field(page, "main_title.title")).to_have_value("Half-written")
    expect(page.get_by_test_id("card-preview").locator(".wc-title")).to_have_text("Half-written")


def test_card_render_reports_clicks_in_interactive_mode(page, live_server):
    new_card(page, live_server, "vote_interaction")
    events = page.evaluate("""() => {
        const events = [], el = document.createElement('div');
        document.body.append(el);
        CardRender.render(el, {card_type: 'vote_interaction', main_title: {title: 'Q'},
            checkbox: {question_key: 'q', mode: 1, option_list: [
                {id: 'a', text: 'A', is_checked: false}, {id: 'b', text: 'B', is_checked: true}]},
            submit_button: {text: 'Go', key: 'go'}}, {interactive: true, onAction: (e) => events.push(e)});
        el.querySelector('.wc-option').click();
        el.querySelector('.wc-submit').click();
        return events;
    }""")
    assert events == [{"kind": "submit", "key": "go",
                       "selections": [{"question_key": "q", "option_ids": ["b", "a"]}]}]
