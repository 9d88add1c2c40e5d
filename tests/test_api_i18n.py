"""The JSON API in two languages: field names, paths, statuses and codes never change; the human
messages follow Accept-Language, English without it (integrators' logs stay stable). Card
problems are said through dashboard.cards.messages.card_error_text, in the request's language."""
import io
import re

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations

from dashboard.i18n import card_error_text
from dashboard.wecom.cards import validate
from tests.campaign_factories import BUTTON_CARD
from tests.test_api import issue_token

CHINESE = {"Accept-Language": "zh-CN"}
HAN = re.compile("[\u4e00-\u9fff]")
# Two card problems: a button text over WeCom's 10 characters (42038), a field WeCom does not know.
BAD_CARD = {**BUTTON_CARD, "button_list": [{"text": "x" * 12, "key": "join"}], "colour": "red"}
# What each request answers in English, byte for byte: (method, path, body, status, answer).
ENGLISH = [
    ("post", "/cards/validate", {"template_card": BAD_CARD}, 200, {"valid": False, "errors": [
        {"path": "template_card.colour", "code": None,
         "message": "Unknown field “colour”: WeCom does not accept it here. Remove it."},
        {"path": "template_card.button_list[0].text", "code": 42038,
         "message": "Text is 12 characters; WeCom shows at most 10. Shorten it."}], "warnings": []}),
    ("post", "/cards", {"name": " ", "template_card": BUTTON_CARD, "tags": []}, 422, {
        "error": "Unprocessable Entity",
        "message": "The request has 2 problems; each is listed in errors at its path.",
        "errors": [{"path": "name", "message": "must contain more than spaces"},
                   {"path": "tags", "message": "is not a field here; expected name, template_card"}]}),
    ("get", "/cards?archived=maybe", None, 422, {
        "error": "Unprocessable Entity",
        "message": "The request has 1 problem; each is listed in errors at its path.",
        "errors": [{"path": "archived", "message": "must be true or false"}]}),
    ("get", "/cards/999", None, 404, {"error": "Not Found", "message": "There is no card 999."}),
]


@pytest.fixture
def ask(app):
    """ask(method, path, body, **headers): the staff token's request; (status, JSON answer)."""
    client, token = app.test_client(), issue_token(app, "staff")

    def call(method, path, body=None, **headers):
        response = client.open(f"/api/v1{path}", method=method.upper(), json=body,
                               headers={"Authorization": f"Bearer {token}", **headers})
        return response.status_code, response.json

    return call


def shape(answer):
    """The answer without its human messages: the keys, paths, codes and every other value."""
    if isinstance(answer, dict):
        return {k: "<message>" if k == "message" else shape(v) for k, v in answer.items()}
    if isinstance(answer, list):
        return [shape(item) for item in answer]
    return answer


def messages(answer):
    found = [answer["message"]] if "message" in answer else []
    return found + [e["message"] for e in answer.get("errors", [])]


@pytest.mark.parametrize("method, path, body, status, english", ENGLISH)
def test_english_by_default_byte_for_byte(ask, method, path, body, status, english):
    assert ask(method, path, body) == (status, english)
    assert ask(method, path, body, **{"Accept-Language": "en-US,en;q=0.9"}) == (status, english)
    assert ask(method, path, body, **{"Accept-Language": "fr-FR"}) == (status, english)


@pytest.mark.parametrize("method, path, body, status, english", ENGLISH)
def test_chinese_keeps_field_names_paths_statuses_and_codes(ask, method, path, body, status,
                                                           english):
    code, chinese = ask(method, path, body, **CHINESE)
    assert (code, shape(chinese)) == (status, shape(english))


@pytest.mark.parametrize("method, path, body, status, english", ENGLISH)
def test_chinese_messages_when_asked(ask, method, path, body, status, english):
    # Every message is Chinese (dashboard/translations/zh); the English one comes back without
    # the header.
    code, chinese = ask(method, path, body, **CHINESE)
    assert (code, shape(chinese)) == (status, shape(english))
    for said, english_said in zip(messages(chinese), messages(english), strict=True):
        assert said != english_said and HAN.search(said), said
    assert ask(method, path, body) == (status, english)


# --- card problems: the template and the field label are translated, the values kept ----------


def catalog(entries: dict[str, str]) -> Translations:
    """A compiled catalog of these Chinese translations, as Flask-Babel would load one."""
    source = Catalog(locale="zh")
    for msgid, msgstr in entries.items():
        source.add(msgid, msgstr)
    compiled = io.BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    return Translations(compiled)


TOO_LONG = "{label} is {n} characters; WeCom shows at most {max}. Shorten it."


def too_long_text():
    [error] = validate({**BUTTON_CARD, "button_list": [{"text": "x" * 12, "key": "join"}]},
                       require_task_id=False)
    return error


@pytest.fixture
def fake_chinese(monkeypatch):
    """Every gettext answers from a small Chinese catalog (the real one is merged later)."""
    translations = catalog({TOO_LONG: "{label}有{n}个字，企业微信最多显示{max}个字。请缩短。",
                            "Text (text)": "文字（text）", "Text": "正文"})  # a page's own "Text"
    monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: translations)
    return translations


def test_card_error_text_is_the_english_message_without_a_translation(app):
    error = too_long_text()
    with app.test_request_context("/api/v1/cards"):
        assert card_error_text(error) == error.message == (
            "Text is 12 characters; WeCom shows at most 10. Shorten it.")


def test_card_error_text_translates_the_template_and_the_label(app, fake_chinese):
    error = too_long_text()
    with app.test_request_context("/api/v1/cards", headers=CHINESE):
        assert card_error_text(error) == "文字（text）有12个字，企业微信最多显示10个字。请缩短。"
    assert error.message == "Text is 12 characters; WeCom shows at most 10. Shorten it."


def test_a_translation_that_does_not_fit_falls_back_to_english(app, monkeypatch):
    broken = catalog({TOO_LONG: "{label}有{count}个字。"})  # a placeholder the error lacks
    monkeypatch.setattr(flask_babel.Domain, "get_translations", lambda self: broken)
    error = too_long_text()
    with app.test_request_context("/api/v1/cards", headers=CHINESE):
        assert card_error_text(error) == error.message


def test_the_api_says_card_problems_through_card_error_text(ask, fake_chinese):
    status, answer = ask("post", "/cards/validate", {"template_card": BAD_CARD}, **CHINESE)
    assert status == 200 and answer["errors"][1] == {
        "path": "template_card.button_list[0].text", "code": 42038,
        "message": "文字（text）有12个字，企业微信最多显示10个字。请缩短。"}
