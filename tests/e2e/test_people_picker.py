"""The people picker on a phone (375 x 740 in Chromium): find 张伟 by `zw`, add a department, see
the chips and the count change, read a CSV without losing it, save, and the check page agrees."""
import re

import pytest
from playwright.sync_api import expect

from dashboard.campaigns import service
from dashboard.extensions import db
from tests.campaign_factories import card_version, make_campaign, wired_app
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_people_picker import PEOPLE

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def fake():
    with FakeWeCom(users=PEOPLE) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    """The fake WeCom's directory read, and a draft campaign to choose recipients for."""
    app = wired_app(tmp_path, fake)
    with app.app_context():
        service.refresh_directory(actor="test")
        app.config["DRAFT_ID"] = make_campaign({"users": []}, card=card_version()).id
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def chips(page) -> list[str]:
    return page.locator("#chosen + .ts-wrapper .item").evaluate_all(
        "items => items.map(item => item.dataset.value)")


def fits(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_pick_by_pinyin_add_a_department_and_the_check_page_agrees(app, live_server, phone):
    page = phone
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "staff")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{live_server}/campaigns/{app.config['DRAFT_ID']}/recipients")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.locator("#chosen-ts-control")

    box.tap()
    box.fill("zw")
    option = page.locator(".ts-dropdown .option", has_text="张伟").first
    expect(option).to_contain_text("zhangwei · 总部 / 研发部")
    assert fits(page, "#chosen-ts-dropdown")
    option.tap()
    assert chips(page) == ["user:zhangwei"]
    expect(page.locator("#picker-count")).to_have_text("1 person")

    box.fill("市场")
    page.locator(".ts-dropdown .option[data-value='department:3']").tap()
    assert chips(page) == ["user:zhangwei", "department:3"]
    expect(page.locator("#picker-count")).to_have_text("3 people")  # + zhangwei2, zhaoliu
    assert fits(page, "#chosen + .ts-wrapper .item")

    box.fill("lisi")  # the keyboard path: arrows and Enter choose, Backspace removes the last chip
    expect(page.locator(".ts-dropdown .option[data-value='user:lisi']")).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert chips(page) == ["user:zhangwei", "department:3", "user:lisi"]
    page.keyboard.press("Backspace")
    assert chips(page) == ["user:zhangwei", "department:3"]

    page.set_input_files("input[name=upload]", files=[{
        "name": "more.csv", "mimeType": "text/csv", "buffer": "userid\nwangwu\nbad id!\n".encode()}])
    expect(page.locator("#import-report")).to_contain_text("Line 3: “bad id!”")
    assert chips(page) == ["user:zhangwei", "department:3", "user:wangwu"]
    expect(page.locator("#picker-count")).to_have_text("4 people")
    assert page.locator("input[name=upload]").evaluate("input => input.files.length") == 1

    page.get_by_role("button", name="Save and check").tap()
    page.wait_for_url(re.compile(r"/check$"))
    assert page.locator("#check-recipients").inner_text() == "4"
