"""Pictures from the image library in a reply rule's news articles (issue 26 point 1, issue 21): the
article's Upload button fills its picture address with the sandbox WeCom's URL, the library picker
offers what was uploaded to another article, and the rule keeps both addresses."""
import pytest
from playwright.sync_api import expect

from dashboard.extensions import db
from dashboard.models import ReplyRule
from tests.e2e.test_designer_images import LOADED, SANDBOX_MEDIA, png, site  # noqa: F401  (site: fixture)
from tests.e2e.test_login import sign_in

pytestmark = pytest.mark.e2e


def article(page, row):
    """Article ``row`` of the first reply: its fieldset."""
    return page.locator(f"fieldset:has(input[name=replies-0-articles-{row}-title])")


def picture(page, row):
    return page.locator(f"input[name=replies-0-articles-{row}-picurl]")


def upload(page, row, name, data):
    """Press the article's Upload button and pick the file, as a person does."""
    with page.expect_file_chooser() as chooser:
        article(page, row).get_by_role("button", name="Upload a picture").click()
    chooser.value.set_files({"name": name, "mimeType": "image/png", "buffer": data})


def saved_rule(app) -> ReplyRule:
    with app.app_context():
        (rule,) = db.session.scalars(db.select(ReplyRule)).all()
        db.session.expunge(rule)
        return rule


def new_news_rule(page, base_url):
    sign_in(page, base_url, "staff")
    page.goto(f"{base_url}/conversations/rules/new")
    page.fill("input[name=name]", "Handbook")
    page.fill("input[name=triggers-0-text]", "handbook")
    page.select_option("select[name=replies-0-type]", "news")
    page.fill("input[name=replies-0-articles-0-title]", "The handbook")
    page.fill("input[name=replies-0-articles-0-url]", "https://hr.example.com/handbook")


def test_an_article_uploads_a_picture_and_another_takes_one_from_the_library(page, site, app):
    new_news_rule(page, site)
    expect(article(page, 1)).to_be_hidden()  # one article shown; the others wait for "Add an article"

    upload(page, 0, "team-photo.png", png(300, 128, (30, 160, 60)))
    expect(picture(page, 0)).to_have_value(SANDBOX_MEDIA)
    team_photo = picture(page, 0).input_value()
    upload(page, 0, "cover.png", png(1068, 455, (200, 30, 30)))  # a second upload replaces the first
    expect(picture(page, 0)).not_to_have_value(team_photo)
    expect(picture(page, 0)).to_have_value(SANDBOX_MEDIA)
    cover = picture(page, 0).input_value()
    page.wait_for_function(LOADED, arg="fieldset:not(.d-none) .designer-image-thumb")

    page.get_by_role("button", name="Add an article").click()
    page.fill("input[name=replies-0-articles-1-title]", "Our team")
    page.fill("input[name=replies-0-articles-1-url]", "https://hr.example.com/team")
    article(page, 1).get_by_role("button", name="Choose from library").click()
    picker = page.locator("#image-picker")
    expect(picker.get_by_role("button", name="cover.png")).to_contain_text("1068×455")
    picker.get_by_role("button", name="team-photo.png").click()
    expect(picker).to_be_hidden()
    expect(picture(page, 1)).to_have_value(team_photo)
    expect(picture(page, 0)).to_have_value(cover)  # the picker fills only the article it was opened for

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(f"{site}/conversations/")
    rule = saved_rule(app)
    assert rule.replies == [{"type": "news", "articles": [
        {"title": "The handbook", "url": "https://hr.example.com/handbook", "picurl": cover},
        {"title": "Our team", "url": "https://hr.example.com/team", "picurl": team_photo}]}]

    page.goto(f"{site}/conversations/rules/{rule.id}")
    expect(picture(page, 0)).to_have_value(cover)
    expect(picture(page, 1)).to_have_value(team_photo)
    expect(article(page, 1).locator(".designer-image-thumb")).to_be_visible()


def test_removing_an_article_clears_its_picture_tools(page, site):
    new_news_rule(page, site)
    page.get_by_role("button", name="Add an article").click()
    upload(page, 1, "wide.png", png(300, 128, (90, 90, 200)))
    expect(picture(page, 1)).to_have_value(SANDBOX_MEDIA)
    removed = article(page, 1).element_handle()  # the row itself: removing renumbers and moves it
    expect(article(page, 1).locator(".designer-image-thumb")).to_be_visible()
    article(page, 1).get_by_role("button", name="Remove this article").click()
    assert removed.evaluate("""(row) => [row.classList.contains('d-none'), row.querySelector('input[type=url][name$=picurl]').value,
                                         row.querySelector('.designer-image-thumb').hidden]""") == [True, "", True]
