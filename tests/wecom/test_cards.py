"""Template-card rules (PROTOCOL.md section 3): one table of cases with exact paths and errcodes."""
import copy
import json
import re
from pathlib import Path

import jsonschema
import pytest
from babel.messages.extract import extract_from_file

from dashboard.wecom import card_rules, cards
from dashboard.wecom.cards import CardError, validate

DATA = Path(__file__).parents[1] / "data" / "cards"
SCHEMA_FILE = Path(cards.__file__).with_name("template_card.schema.json")
SEND_SCHEMA = jsonschema.Draft202012Validator(cards.json_schema())
UPDATE_SCHEMA = jsonschema.Draft202012Validator(cards.json_schema(for_update=True))
ACTIONS = ("Add", "Remove", "Shorten", "Change", "Choose", "Make", "Untick", "Use")
DEL = object()
ZH = "字"  # one character, three UTF-8 bytes


def load(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def opts(n, **extra):
    return [{"id": f"o{i}", "text": f"选项{i}", **extra} for i in range(n)]


def items(n, **fields):
    return [{k: f"{v}{i}" for k, v in fields.items()} for i in range(n)]


BASE = {
    "text_notice": {"card_type": "text_notice", "main_title": {"title": "通知"},
                    "card_action": {"type": 1, "url": "https://example.com"}},
    "news_notice": {"card_type": "news_notice", "main_title": {"title": "新闻"},
                    "card_image": {"url": "https://example.com/a.png"},
                    "card_action": {"type": 1, "url": "https://example.com"}},
    "button_interaction": {"card_type": "button_interaction", "task_id": "t1",
                           "main_title": {"title": "报名"},
                           "button_list": [{"text": "参加", "key": "join"}]},
    "vote_interaction": {"card_type": "vote_interaction", "task_id": "t1",
                         "main_title": {"title": "投票"},
                         "checkbox": {"question_key": "q",
                                      "option_list": opts(2, is_checked=False)},
                         "submit_button": {"key": "submit"}},
    "multiple_interaction": {"card_type": "multiple_interaction", "task_id": "t1",
                             "main_title": {"title": "选择"},
                             "select_list": [{"question_key": "q", "option_list": opts(2)}],
                             "submit_button": {"key": "submit"}},
}
_SOURCE = {"icon_url": "https://example.com/i.png", "desc": "活动中心", "desc_color": 2}
_MENU = {"desc": "更多", "action_list": [{"text": "不再提醒", "key": "mute"},
                                        {"text": "反馈", "key": "feedback"}]}
_PAIRS = [{"keyname": "地点", "value": "3F"},
          {"type": 1, "keyname": "详情", "value": "点击", "url": "https://example.com"},
          {"type": 2, "keyname": "附件", "value": "a.pdf", "media_id": "MEDIA"},
          {"type": 3, "keyname": "负责人", "value": "张三", "userid": "zhangsan"}]
_JUMPS = [{"type": 1, "title": "网站", "url": "https://example.com"},
          {"type": 2, "title": "小程序", "appid": "wx1", "pagepath": "/index"}, {"title": "纯文本"}]
_QUOTE = {"type": 2, "appid": "wx1", "pagepath": "/p", "title": "引用", "quote_text": "原文"}
_TITLE = {"title": "主标题", "desc": "描述"}
_SUBMIT = {"text": "提交", "key": "submit"}
FULL = {
    "text_notice": {
        "card_type": "text_notice", "task_id": "camp1-a", "source": _SOURCE, "action_menu": _MENU,
        "main_title": _TITLE, "quote_area": _QUOTE,
        "emphasis_content": {"title": "100", "desc": "人"},
        "sub_title_text": "二级文本", "horizontal_content_list": _PAIRS, "jump_list": _JUMPS,
        "card_action": {"type": 2, "appid": "wx1", "pagepath": "/index"}},
    "news_notice": {
        "card_type": "news_notice", "task_id": "camp1-b", "source": _SOURCE, "action_menu": _MENU,
        "main_title": _TITLE, "quote_area": _QUOTE, "horizontal_content_list": _PAIRS,
        "jump_list": _JUMPS, "card_action": {"type": 1, "url": "https://example.com"},
        "card_image": {"url": "https://example.com/a.png", "aspect_ratio": 2.0},
        "image_text_area": {"type": 1, "url": "https://example.com", "title": "图文", "desc": "说明",
                            "image_url": "https://example.com/b.png"},
        "vertical_content_list": [{"title": "卡片二级标题", "desc": "二级文本"}, {"title": "二"}]},
    "button_interaction": {
        "card_type": "button_interaction", "task_id": "camp1-c", "source": _SOURCE,
        "action_menu": _MENU, "main_title": _TITLE, "quote_area": _QUOTE, "sub_title_text": "请确认",
        "horizontal_content_list": _PAIRS, "card_action": {"type": 0},
        "button_selection": {"question_key": "meal", "title": "餐食", "selected_id": "o1",
                             "option_list": opts(2)},
        "button_list": [{"type": 0, "text": "参加", "style": 1, "key": "join"},
                        {"type": 1, "text": "详情", "style": 4, "url": "https://example.com"}]},
    "vote_interaction": {
        "card_type": "vote_interaction", "task_id": "camp1-d", "source": _SOURCE,
        "main_title": _TITLE,
        "checkbox": {"question_key": "q", "mode": 1, "option_list": opts(2, is_checked=True)},
        "submit_button": _SUBMIT},
    "multiple_interaction": {
        "card_type": "multiple_interaction", "task_id": "camp1-e", "source": _SOURCE,
        "main_title": _TITLE, "submit_button": _SUBMIT,
        "select_list": [{"question_key": "q1", "title": "一", "selected_id": "o1",
                         "option_list": opts(2)},
                        {"question_key": "q2", "title": "二", "option_list": opts(3)}]},
}


def edit(card, path, value):
    keys = [k or int(i) for k, i in re.findall(r"(\w+)|\[(\d+)\]", path)]
    for key in keys[:-1]:
        card = card[key]
    if value is DEL:
        del card[keys[-1]]
    else:
        card[keys[-1]] = value


def make(card_type, changes=None, base=BASE):
    card = copy.deepcopy(base[card_type])
    for path, value in (changes or {}).items():
        edit(card, path, value)
    return card


def full(card_type, changes=None):
    return make(card_type, changes, FULL)


def case(desc, card, path=None, code=None, schema=True):
    """One row: the card, the single expected error (path, code) or None, and whether the JSON
    Schema can see the problem too (False for validator-only rules)."""
    return pytest.param(card, path, code, schema, id=desc)


T, N, B, V, M = ("text_notice", "news_notice", "button_interaction", "vote_interaction",
                 "multiple_interaction")
CASES = [
    # every card type, minimal and with every optional block
    *[case(f"{t} minimal", make(t)) for t in cards.CARD_TYPES],
    *[case(f"{t} full", full(t)) for t in cards.CARD_TYPES],
    # card_type
    case("card_type missing", make(T, {"card_type": DEL}), "card_type", 42031),
    case("card_type unknown", make(T, {"card_type": "textcard"}), "card_type", 42031),
    case("card_type not a string", make(T, {"card_type": 1}), "card_type", 42031),
    case("card is not an object", [make(T)], ""),
    # blocks allowed per type, unknown fields at every level
    case("checkbox on text_notice", make(T, {"checkbox": FULL[V]["checkbox"]}), "checkbox"),
    case("emphasis_content on news_notice", make(N, {"emphasis_content": {}}), "emphasis_content"),
    case("jump_list on button_interaction", make(B, {"jump_list": _JUMPS}), "jump_list"),
    case("action_menu on vote_interaction", make(V, {"action_menu": _MENU}), "action_menu"),
    case("button_list on multiple", make(M, {"button_list": BASE[B]["button_list"]}),
         "button_list"),
    case("sub_title_text on news_notice", make(N, {"sub_title_text": "x"}), "sub_title_text"),
    case("unknown top-level field", make(T, {"colour": "red"}), "colour"),
    case("unknown field in object", full(N, {"main_title.color": 1}), "main_title.color"),
    case("unknown field in list item", full(B, {"button_list[1].icon": "x"}),
         "button_list[1].icon"),
    case("unknown field two lists deep", full(M, {"select_list[1].option_list[2].emoji": "x"}),
         "select_list[1].option_list[2].emoji"),
    # required blocks and fields
    case("text_notice card_action missing", make(T, {"card_action": DEL}), "card_action", 42045),
    case("news_notice card_action missing", make(N, {"card_action": DEL}), "card_action", 42045),
    case("news_notice main_title missing", make(N, {"main_title": DEL}), "main_title"),
    case("button main_title.title missing", make(B, {"main_title": {"desc": "d"}}),
         "main_title.title"),
    case("button_list missing", make(B, {"button_list": DEL}), "button_list"),
    case("checkbox missing", make(V, {"checkbox": DEL}), "checkbox"),
    case("vote submit_button missing", make(V, {"submit_button": DEL}), "submit_button"),
    case("select_list missing", make(M, {"select_list": DEL}), "select_list", 42047),
    case("submit_button.key missing", make(M, {"submit_button": {"text": "交"}}),
         "submit_button.key", 42046),
    case("submit_button.text is optional", make(M, {"submit_button": {"key": "k"}})),
    case("button text empty counts as missing", make(B, {"button_list[0].text": ""}),
         "button_list[0].text", 42038),
    case("question_key missing", make(V, {"checkbox.question_key": DEL}), "checkbox.question_key",
         42043),
    case("is_checked missing", make(V, {"checkbox.option_list[1].is_checked": DEL}),
         "checkbox.option_list[1].is_checked"),
    case("action_list missing", make(T, {"action_menu": {"desc": "d"}, "task_id": "t"}),
         "action_menu.action_list"),
    case("option text missing", make(M, {"select_list[0].option_list[1].text": DEL}),
         "select_list[0].option_list[1].text", 42041),
    case("vertical title missing", full(N, {"vertical_content_list[1].title": DEL}),
         "vertical_content_list[1].title", 42033),
    case("jump title missing", full(T, {"jump_list[2].title": ""}), "jump_list[2].title", 42033),
    case("keyname missing", full(T, {"horizontal_content_list[0].keyname": DEL}),
         "horizontal_content_list[0].keyname", 42027),
    case("card_image.url missing", make(N, {"card_image": {"aspect_ratio": 1.5}}),
         "card_image.url", 42044),
    case("text_notice card_action.type missing", make(T, {"card_action": {"url": "https://e"}}),
         "card_action.type", 42045),
    # found by fuzzing: "\ud800" is valid JSON, yet no UTF-8 (WeCom) and no database can take it
    case("lone surrogate in a title", make(T, {"main_title.title": "a\ud800"}), "main_title.title",
         schema=False),
    case("lone surrogate in a button key", make(B, {"button_list[0].key": "\udfff"}),
         "button_list[0].key", 42039, schema=False),
    # text_notice: main_title.title or sub_title_text; news_notice: card_image or image_text_area
    case("text_notice with sub_title_text only",
         make(T, {"main_title": DEL, "sub_title_text": "x"})),
    case("text_notice with neither title", make(T, {"main_title": DEL}), "main_title.title",
         schema=False),
    case("text_notice with empty title", make(T, {"main_title.title": ""}), "main_title.title",
         schema=False),
    case("news_notice with image_text_area only",
         make(N, {"card_image": DEL, "image_text_area": {"image_url": "https://e/a.png"}})),
    case("news_notice with neither image", make(N, {"card_image": DEL}), "card_image",
         schema=False),
    case("image_text_area.image_url missing", full(N, {"image_text_area.image_url": DEL}),
         "image_text_area.image_url"),
    # task_id: required on interactive cards and with action_menu, pattern, bytes
    case("button task_id missing", make(B, {"task_id": DEL}), "task_id", 42014),
    case("vote task_id empty", make(V, {"task_id": ""}), "task_id", 42014),
    case("multiple task_id missing", make(M, {"task_id": DEL}), "task_id", 42014),
    case("text_notice action_menu without task_id", full(T, {"task_id": DEL}), "task_id", 42014,
         schema=False),
    case("news_notice action_menu without task_id", full(N, {"task_id": DEL}), "task_id", 42014,
         schema=False),
    case("task_id every allowed character", make(B, {"task_id": "Camp_42-batch@0009"})),
    case("task_id 128 bytes", make(B, {"task_id": "a" * 128})),
    case("task_id 129 bytes", make(B, {"task_id": "a" * 129}), "task_id", 42014),
    case("task_id with a space", make(B, {"task_id": "camp 42"}), "task_id", 42014),
    case("task_id with a dot", make(B, {"task_id": "camp.42"}), "task_id", 42014),
    case("task_id in Chinese", make(V, {"task_id": "活动"}), "task_id", 42014),
    # Python's re.search (used by jsonschema) lets "$" match before a final newline; ECMA does not.
    case("task_id trailing newline", make(V, {"task_id": "camp\n"}), "task_id", 42014,
         schema=False),
    # types
    case("title is a number", make(N, {"main_title.title": 5}), "main_title.title"),
    case("title is null", make(N, {"main_title.title": None}), "main_title.title"),
    case("main_title is a list", make(B, {"main_title": ["x"]}), "main_title"),
    case("desc_color is a string", full(T, {"source.desc_color": "1"}), "source.desc_color"),
    case("style is a bool", make(B, {"button_list[0].style": True}), "button_list[0].style"),
    # JSON Schema counts 0.0 as an integer; the validator wants a JSON integer.
    case("type is a float", make(B, {"button_list[0].type": 0.0}), "button_list[0].type",
         schema=False),
    case("is_checked is a string", make(V, {"checkbox.option_list[0].is_checked": "yes"}),
         "checkbox.option_list[0].is_checked"),
    case("disable is a number (update)", make(V, {"checkbox.disable": 0}), "checkbox.disable"),
    case("aspect_ratio is a string", make(N, {"card_image.aspect_ratio": "1.5"}),
         "card_image.aspect_ratio"),
    case("aspect_ratio may be an integer", make(N, {"card_image.aspect_ratio": 2})),
    case("button_list is an object", make(B, {"button_list": {"text": "x", "key": "k"}}),
         "button_list"),
    case("button_list item is a string", make(B, {"button_list": ["参加"]}), "button_list[0]"),
    case("sub_title_text is a list", make(T, {"sub_title_text": ["x"]}), "sub_title_text"),
    case("option id is a number", make(M, {"select_list[0].option_list[0].id": 1}),
         "select_list[0].option_list[0].id", 42040),
    # enums
    case("desc_color 3", make(T, {"source": {"desc_color": 3}})),
    case("desc_color 4", make(T, {"source": {"desc_color": 4}}), "source.desc_color"),
    case("quote_area.type 3", full(T, {"quote_area.type": 3}), "quote_area.type"),
    case("horizontal type 4", full(B, {"horizontal_content_list[0].type": 4}),
         "horizontal_content_list[0].type"),
    case("jump type 3", full(N, {"jump_list[2].type": 3}), "jump_list[2].type"),
    case("image_text_area.type 3", full(N, {"image_text_area.type": 3}), "image_text_area.type"),
    case("card_action.type 0 on text_notice", make(T, {"card_action": {"type": 0}}),
         "card_action.type", 42045),
    case("card_action.type 3 on news_notice", make(N, {"card_action.type": 3}),
         "card_action.type", 42045),
    case("card_action.type 3 on button", make(B, {"card_action": {"type": 3}}),
         "card_action.type", 42045),
    case("card_action without type on button", make(B, {"card_action": {}})),
    case("button type 2", make(B, {"button_list[0].type": 2}), "button_list[0].type"),
    # button style outside 1-4, recommended text lengths, a selected_id that is not an option:
    # warnings, not errors (WARNINGS below)
    case("checkbox.mode 2", make(V, {"checkbox.mode": 2}), "checkbox.mode"),
    # list lengths
    case("action_list empty", full(T, {"action_menu.action_list": []}),
         "action_menu.action_list"),
    case("action_list 3", full(N, {"action_menu.action_list": items(3, text="t", key="k")})),
    case("action_list 4", full(N, {"action_menu.action_list": items(4, text="t", key="k")}),
         "action_menu.action_list"),
    case("horizontal 6", make(B, {"horizontal_content_list": items(6, keyname="k")})),
    case("horizontal 7", make(B, {"horizontal_content_list": items(7, keyname="k")}),
         "horizontal_content_list", 42035),
    case("jump_list 3", make(T, {"jump_list": items(3, title="j")})),
    case("jump_list 4", make(T, {"jump_list": items(4, title="j")}), "jump_list", 42042),
    case("vertical 4", make(N, {"vertical_content_list": items(4, title="v")})),
    case("vertical 5", make(N, {"vertical_content_list": items(5, title="v")}),
         "vertical_content_list", 42036),
    case("button_list empty", make(B, {"button_list": []}), "button_list"),
    case("button_list 6", make(B, {"button_list": items(6, text="b", key="k")})),
    case("button_list 7", make(B, {"button_list": items(7, text="b", key="k")}), "button_list"),
    case("button_selection options 10", full(B, {"button_selection.option_list": opts(10)})),
    case("button_selection options 11", full(B, {"button_selection.option_list": opts(11)}),
         "button_selection.option_list", 42037),
    case("button_selection options empty", full(B, {"button_selection.option_list": [],
                                                    "button_selection.selected_id": DEL}),
         "button_selection.option_list", 42037),
    case("checkbox options 20", make(V, {"checkbox.option_list": opts(20, is_checked=False)})),
    case("checkbox options 21", make(V, {"checkbox.option_list": opts(21, is_checked=False)}),
         "checkbox.option_list", 42037),
    case("select_list 3", make(M, {"select_list": [{"question_key": f"q{i}", "option_list": opts(1)}
                                                   for i in range(3)]})),
    case("select_list 4", make(M, {"select_list": [{"question_key": f"q{i}", "option_list": opts(1)}
                                                   for i in range(4)]}), "select_list", 42047),
    case("select_list empty", make(M, {"select_list": []}), "select_list", 42047),
    case("select options 11", make(M, {"select_list[0].option_list": opts(11)}),
         "select_list[0].option_list", 42037),
    case("select options empty", full(M, {"select_list[1].option_list": []}),
         "select_list[1].option_list", 42037),
    # text limits in characters (Chinese counts one per character)
    case("title 36 Chinese chars", make(N, {"main_title.title": ZH * 36})),
    case("source.desc 21 chars", make(T, {"source": {"desc": ZH * 21}}), "source.desc"),
    case("emphasis title 15 chars", full(T, {"emphasis_content.title": "1" * 15}),
         "emphasis_content.title"),
    case("emphasis desc 23 chars", full(T, {"emphasis_content.desc": ZH * 23}),
         "emphasis_content.desc"),
    case("sub_title_text 160 chars", make(T, {"sub_title_text": ZH * 160})),
    case("horizontal value 31 chars", full(N, {"horizontal_content_list[0].value": ZH * 31}),
         "horizontal_content_list[0].value"),
    case("jump title 19 chars", full(T, {"jump_list[0].title": ZH * 19}), "jump_list[0].title",
         42033),
    case("vertical title 39 chars", full(N, {"vertical_content_list[0].title": ZH * 39}),
         "vertical_content_list[0].title", 42033),
    case("vertical desc 161 chars", full(N, {"vertical_content_list[0].desc": ZH * 161}),
         "vertical_content_list[0].desc"),
    case("button text 10 chars", make(B, {"button_list[0].text": ZH * 10})),
    case("button text 11 chars", make(B, {"button_list[0].text": ZH * 11}), "button_list[0].text",
         42038),
    case("button_selection option text 17 chars",
         full(B, {"button_selection.option_list[1].text": ZH * 17}),
         "button_selection.option_list[1].text", 42041),
    case("checkbox option text 17 chars", make(V, {"checkbox.option_list[0].text": ZH * 17})),
    case("checkbox option text 18 chars", make(V, {"checkbox.option_list[0].text": ZH * 18}),
         "checkbox.option_list[0].text", 42041),
    case("select option text 17 chars", make(M, {"select_list[0].option_list[0].text": ZH * 17}),
         "select_list[0].option_list[0].text", 42041),
    case("submit text 11 chars", full(V, {"submit_button.text": ZH * 11}), "submit_button.text",
         42049),
    # key and id limits in UTF-8 bytes
    case("option id 42 Chinese chars = 126 bytes",
         make(V, {"checkbox.option_list[0].id": ZH * 42})),
    case("option id 43 Chinese chars = 129 bytes", make(V, {"checkbox.option_list[0].id": ZH * 43}),
         "checkbox.option_list[0].id", 42040, schema=False),
    case("option id 129 ASCII bytes", make(M, {"select_list[0].option_list[0].id": "i" * 129}),
         "select_list[0].option_list[0].id", 42040),
    case("button key 1024 bytes", make(B, {"button_list[0].key": "k" * 1024})),
    case("button key 1025 bytes", make(B, {"button_list[0].key": "k" * 1025}),
         "button_list[0].key", 42039),
    case("button key 342 Chinese chars = 1026 bytes", make(B, {"button_list[0].key": ZH * 342}),
         "button_list[0].key", 42039, schema=False),
    case("action key 1025 bytes", full(T, {"action_menu.action_list[0].key": "k" * 1025}),
         "action_menu.action_list[0].key"),
    case("question_key 1025 bytes", make(V, {"checkbox.question_key": "q" * 1025}),
         "checkbox.question_key", 42043),
    case("submit key 1025 bytes", make(V, {"submit_button.key": "s" * 1025}), "submit_button.key",
         42046),
    # fields required by type
    case("quote_area type 1 without url", make(T, {"quote_area": {"type": 1}}), "quote_area.url"),
    case("quote_area type 2 without appid", full(N, {"quote_area.appid": DEL}), "quote_area.appid"),
    case("horizontal type 1 without url", full(T, {"horizontal_content_list[1].url": DEL}),
         "horizontal_content_list[1].url", 42028),
    case("horizontal type 2 without media_id", full(T, {"horizontal_content_list[2].media_id": ""}),
         "horizontal_content_list[2].media_id", 42029),
    case("horizontal type 3 without userid", full(B, {"horizontal_content_list[3].userid": DEL}),
         "horizontal_content_list[3].userid", 42050),
    case("jump type 1 without url", full(T, {"jump_list[0].url": DEL}), "jump_list[0].url", 42028),
    case("jump type 2 without appid", full(N, {"jump_list[1].appid": DEL}), "jump_list[1].appid",
         42030),
    case("card_action type 1 without url", make(T, {"card_action.url": DEL}), "card_action.url",
         42028),
    case("card_action type 2 without appid", make(N, {"card_action": {"type": 2}}),
         "card_action.appid", 42030),
    case("image_text_area type 1 without url", full(N, {"image_text_area.url": DEL}),
         "image_text_area.url"),
    case("image_text_area type 2 without appid", full(N, {"image_text_area.type": 2}),
         "image_text_area.appid"),
    case("button type 0 without key", make(B, {"button_list": [{"type": 0, "text": "x"}]}),
         "button_list[0].key", 42039),
    case("button without type or key", make(B, {"button_list": [{"text": "x"}]}),
         "button_list[0].key", 42039),
    case("button type 1 without url", make(B, {"button_list": [{"type": 1, "text": "x"}]}),
         "button_list[0].url"),
    case("button type 1 needs no key", make(B, {"button_list": [{"type": 1, "text": "x",
                                                                 "url": "https://e"}]})),
    # unique keys and ids
    case("duplicate button keys", make(B, {"button_list": [{"text": "a", "key": "k"},
                                                          {"text": "b", "key": "k"}]}),
         "button_list[1].key", 42039, schema=False),
    case("duplicate action_menu keys", full(T, {"action_menu.action_list[1].key": "mute"}),
         "action_menu.action_list[1].key", 42051, schema=False),
    case("duplicate select question_key", full(M, {"select_list[1].question_key": "q1"}),
         "select_list[1].question_key", 42043, schema=False),
    case("duplicate button_selection option id",
         full(B, {"button_selection.option_list[1].id": "o0",
                  "button_selection.selected_id": "o0"}),
         "button_selection.option_list[1].id", 42040, schema=False),
    case("duplicate checkbox option id", make(V, {"checkbox.option_list[1].id": "o0"}),
         "checkbox.option_list[1].id", 42040, schema=False),
    case("duplicate select option id", full(M, {"select_list[1].option_list[2].id": "o0"}),
         "select_list[1].option_list[2].id", 42040, schema=False),
    case("same option id in two selectors", full(M, {"select_list[1].option_list": opts(2)})),
    # selected_id, single choice, aspect ratio
    case("single choice with two pre-selected", make(V, {"checkbox.option_list": opts(
        2, is_checked=True)}), "checkbox.option_list[1].is_checked", schema=False),
    case("single choice with one pre-selected",
         make(V, {"checkbox.mode": 0, "checkbox.option_list[1].is_checked": True})),
    case("aspect_ratio 1.3 (the default)", make(N, {"card_image.aspect_ratio": 1.3})),
    case("aspect_ratio 1.29", make(N, {"card_image.aspect_ratio": 1.29}),
         "card_image.aspect_ratio"),
    case("aspect_ratio 2.249", make(N, {"card_image.aspect_ratio": 2.249})),
    case("aspect_ratio 2.25", make(N, {"card_image.aspect_ratio": 2.25}),
         "card_image.aspect_ratio"),
    # update-only fields on a send
    case("replace_text on a send", make(B, {"replace_text": "已提交"}), "replace_text"),
    case("checkbox.disable on a send", make(V, {"checkbox.disable": False}), "checkbox.disable"),
    case("select_list disable on a send", make(M, {"select_list[0].disable": True}),
         "select_list[0].disable"),
    case("button_selection.disable on a send", full(B, {"button_selection.disable": True}),
         "button_selection.disable"),
]
INVALID = [c for c in CASES if c.values[1] is not None]


@pytest.mark.parametrize("card, path, code, schema", CASES)
def test_rule(card, path, code, schema):
    expected = [] if path is None else [(path, code)]
    assert [(e.path, e.code) for e in validate(card)] == expected


@pytest.mark.parametrize("card, path, code, schema", CASES)
def test_json_schema_sees_structural_problems(card, path, code, schema):
    rejected = any(True for _ in SEND_SCHEMA.iter_errors(card))
    assert rejected == (path is not None and schema)


@pytest.mark.parametrize("card, path, code, schema", INVALID)
def test_messages_are_plain_and_say_what_to_do(card, path, code, schema):
    for error in validate(card):
        assert error.message.endswith(".") and len(error.message) > 20
        assert any(word in error.message for word in ACTIONS), error.message


def test_message_names_the_limit():
    [error] = validate(make(B, {"button_list[0].text": "x" * 12}))
    assert error == CardError("button_list[0].text",
                              "Text is 12 characters; WeCom shows at most 10. Shorten it.", 42038)
    [error] = validate(make(V, {"checkbox.option_list[0].id": ZH * 43}))
    assert "129 bytes" in error.message and "128" in error.message


def test_all_errors_are_collected_in_card_order():
    card = make(B, {"task_id": "bad id", "main_title.title": 40, "button_list[0].style": "9",
                    "button_selection": {"question_key": "q", "option_list": []},
                    "sub_title_text": ZH * 161})
    assert [e.path for e in validate(card)] == [
        "task_id", "main_title.title", "button_selection.option_list", "button_list[0].style"]


def test_bad_card_type_stops_there():
    assert validate({"card_type": "news", "foo": 1, "main_title": 3}) == [
        CardError("card_type", "card_type “news” is not a card type. Use one of text_notice, "
                  "news_notice, button_interaction, vote_interaction, multiple_interaction.",
                  42031)]


@pytest.mark.parametrize("card", [
    make(B, {"replace_text": "已提交", "button_selection": {
        "question_key": "q", "option_list": opts(1), "disable": True}}),
    make(V, {"replace_text": "已投票", "checkbox.disable": True}),
    make(M, {"replace_text": "已提交", "select_list[0].disable": False}),
])
def test_update_only_fields_allowed_for_update(card):
    assert validate(card, for_update=True) == []
    assert not list(UPDATE_SCHEMA.iter_errors(card))


def test_update_does_not_need_task_id_nor_allow_replace_text_on_notices():
    assert validate(make(V, {"task_id": DEL}), for_update=True) == []
    assert [e.path for e in validate(make(T, {"replace_text": "x"}), for_update=True)] == [
        "replace_text"]


def test_drafts_may_omit_task_id_but_not_break_it():
    assert validate(make(B, {"task_id": DEL}), require_task_id=False) == []
    assert validate(full(T, {"task_id": DEL}), require_task_id=False) == []
    errors = validate(make(B, {"task_id": "a b"}), require_task_id=False)
    assert [(e.path, e.code) for e in errors] == [("task_id", 42014)]


def protocol_examples():
    vote = load("vote_interaction_update.json")["template_card"]
    sent_vote = copy.deepcopy(vote)
    del sent_vote["replace_text"], sent_vote["checkbox"]["disable"]
    return {
        "button_interaction 3.5": load("button_interaction_send.json")["template_card"],
        "multiple_interaction 3.5": load("multiple_interaction.json"),
        "text_notice minimal 3.5": load("text_notice_minimal.json"),
        "vote_interaction 2.3 sent": {**sent_vote, "task_id": "camp42-vote-1"},
    }


@pytest.mark.parametrize("name", list(protocol_examples()))
def test_protocol_examples_are_valid(name):
    card = protocol_examples()[name]
    assert validate(card) == []
    assert not list(SEND_SCHEMA.iter_errors(card))


def test_protocol_vote_update_example():
    vote = load("vote_interaction_update.json")["template_card"]
    assert validate(vote, for_update=True) == []
    assert not list(UPDATE_SCHEMA.iter_errors(vote))
    assert [e.path for e in validate(vote)] == ["task_id", "checkbox.disable", "replace_text"]
    assert list(SEND_SCHEMA.iter_errors(vote))
    sent = {k: v for k, v in vote.items() if k != "replace_text"}
    sent["checkbox"] = {k: v for k, v in vote["checkbox"].items() if k != "disable"}
    assert validate(sent, require_task_id=False) == []


def test_schema_file_is_generated_from_the_rule_tables():
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json.loads(json.dumps(cards.json_schema()))
    jsonschema.Draft202012Validator.check_schema(committed)


def test_limits_shape_for_the_designer():
    limits = cards.limits()
    assert json.loads(json.dumps(limits)) == limits
    assert set(limits) == set(cards.CARD_TYPES) == set(cards.BLOCKS_BY_TYPE)
    text = limits["text_notice"]
    assert text["main_title.title"] == {"type": "string", "max_chars": 36}
    assert text["card_action.type"]["enum"] == [1, 2]
    button = limits["button_interaction"]
    assert button["button_list"] == {"type": "list", "required": True, "min_items": 1,
                                     "max_items": 6}
    assert button["button_list[].key"]["max_bytes"] == 1024
    assert button["card_action.type"]["enum"] == [0, 1, 2]
    assert limits["vote_interaction"]["checkbox.disable"]["update_only"] is True
    for card_type, blocks in cards.BLOCKS_BY_TYPE.items():
        top = {p for p in limits[card_type] if "." not in p and "[" not in p} - {"card_type"}
        assert top == set(blocks)


def concrete_paths(card_type, rule):
    """Paths from limits() with this rule that exist in the full card, with [] made [0]."""
    for pattern, rules in cards.limits()[card_type].items():
        path = pattern.replace("[]", "[0]")
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        if rule in rules and has_path(FULL[card_type], parent):
            yield path, rules[rule]


def has_path(card, path):
    try:
        edit(copy.deepcopy(card), path + ".probe", 0) if path else None
    except (KeyError, IndexError, TypeError):
        return False
    return True


@pytest.mark.parametrize("card_type", cards.CARD_TYPES)
def test_limits_agree_with_the_validator(card_type):
    checked = 0
    for path, limit in concrete_paths(card_type, "max_chars"):
        assert cards.check(full(card_type, {path: ZH * limit})) == []
        assert path in [e.path for e in cards.check(full(card_type, {path: ZH * (limit + 1)}))]
        checked += 1
    for path, limit in concrete_paths(card_type, "max_bytes"):
        assert path in [e.path for e in validate(full(card_type, {path: ZH * (limit // 3 + 1)}))]
        checked += 1
    assert checked >= 4


def test_errcode_fields_cover_protocol_3_6():
    documented = {42027, 42028, 42029, 42030, 42031, 42033, *range(42035, 42048), 42049, 42050,
                  42051}
    assert documented <= set(cards.ERRCODE_FIELDS)
    assert cards.ERRCODE_FIELDS[42031] == "card_type"
    assert cards.ERRCODE_FIELDS[42051] == "action_menu.action_list[].key"
    assert cards.ERRCODE_FIELDS[42035] == "horizontal_content_list"
    assert "card_action.url" in cards.ERRCODE_FIELDS[42028].split(", ")


def test_a_rule_is_a_row_source_documents_it_and_severity_warning_does_not_block(monkeypatch):
    """The fidelity work adds rows to card_rules, not branches: a row's source changes no output,
    and a limit marked as a warning no longer makes validate() refuse the card."""
    from dashboard.wecom import card_rules

    card = {**BASE["text_notice"], "sub_title_text": ZH * 161}
    before = cards.limits()
    spec = card_rules.BLOCKS["sub_title_text"]
    monkeypatch.setitem(card_rules.BLOCKS, "sub_title_text", {**spec, "severity": "error"})
    assert [e.path for e in validate(card)] == ["sub_title_text"]
    monkeypatch.setitem(card_rules.BLOCKS, "sub_title_text", {**spec, "source": "PROTOCOL §3.2",
                                                              "severity": "error"})
    assert cards.limits() == before and [e.path for e in validate(card)] == ["sub_title_text"]
    monkeypatch.setitem(card_rules.BLOCKS, "sub_title_text", {**spec, "severity": "warning"})
    assert validate(card) == []
    assert [e.path for e in validate({**card, "sub_title_text": 7})] == ["sub_title_text"]


# --- messages: English, with a marked template the web layer translates ------------------------


def marked_ids():
    """The message ids `pybabel extract` (make i18n) finds in the card engine: N_ is one of its
    default keywords."""
    return {message for module in (cards, card_rules)
            for _line, message, _comments, _context in extract_from_file("python", module.__file__)}


MARKED = marked_ids()


def every_error():
    """What validate() says about every card of CASES, as sent, as an update and as a draft, and
    about cards that are no card at all."""
    for card in [c.values[0] for c in CASES] + [[], {}, {"card_type": ""}, {"card_type": "x"}]:
        for options in ({}, {"for_update": True}, {"require_task_id": False}):
            yield from validate(card, **options)


def test_every_message_is_its_marked_template_filled_in():
    errors = list(every_error())
    assert len({e.template for e in errors}) >= 25  # most of the engine's sentences are met here
    for error in errors:
        assert error.template in MARKED, error
        assert error.template.format(**error.params) == error.message, error
        if "label" in error.params:  # the words a translation translates too are marked
            assert cards.FIELD_LABELS[error.params["label"]] in MARKED, error
        assert error.params.get("chars", "letters, digits, _, - and @") in MARKED, error
    # message is the English text; template and params take no part in equality
    assert CardError("p", "m", 1, "t", {"label": "x"}) == CardError("p", "m", 1)


def table_paths():
    """Every field path pattern of the rule table, in every card type and variant."""
    for card_type in cards.CARD_TYPES:
        for task_id_required in (True, False):
            yield from cards._walk(card_rules.card_fields(card_type,
                                                          task_id_required=task_id_required))
    yield from cards._walk(card_rules.BLOCKS)


def test_every_label_the_engine_can_produce_is_marked():
    """_label() names a field after its key, and messages name lists in lower case too ("Each
    button list item ..."). Each such label has a marked message id, its label with the field's
    key ("Main title (main_title)"), and each pattern's words are marked; no id is left unused."""
    used, words = set(), set()
    for path, spec in table_paths():
        name = path.rsplit(".", 1)[-1]
        labels = {cards._label(path), cards._label(path).lower() if spec["type"] == "list" else ""}
        for label in labels - {""}:
            assert cards.FIELD_LABELS.get(label) == f"{cards._label(path)} ({name})", label
            used.add(cards.FIELD_LABELS[label])
        if "pattern_words" in spec:
            words.add(spec["pattern_words"])
    assert used == set(cards.FIELD_LABELS.values())
    assert used | words <= MARKED, sorted((used | words) - MARKED)
    assert words == {"letters, digits, _, - and @"}


def test_each_conditional_message_is_a_whole_sentence():
    """No message is glued from fragments: the "when type is" and "on a ... card" variants are
    whole templates, so a translation can order the sentence its own way."""
    [url] = validate(make(B, {"button_list": [{"type": 1, "text": "x"}]}))
    assert url.template == "{label} is required when type is {types}. Add it."
    assert url.params == {"label": "Url", "types": "1"}
    [block] = validate(make(B, {"button_list": DEL}))
    assert block.template == "{label} is required on a {card_type} card. Add it."
    assert block.message == "Button list is required on a button_interaction card. Add it."
    [item] = validate(make(B, {"button_list": ["参加"]}))
    assert item.params == {"label": "button list"}
    assert item.message == "Each button list item must be an object ({...}). Change it."
    assert all(template in MARKED for template in cards._REQUIRED.values())


# --- warnings: where WeCom truncates or falls back, the card stays usable (issue 22) ------------

def warn(desc, card, path, code=None, purpose="send"):
    """One row: a card WeCom accepts (validate() gives []) with a single warning at path."""
    return pytest.param(card, path, code, purpose, id=desc)


WARNINGS = [
    warn("button style 0", make(B, {"button_list[0].style": 0}), "button_list[0].style"),
    warn("button style 5", make(B, {"button_list[0].style": 5}), "button_list[0].style"),
    warn("title 37 Chinese chars", make(N, {"main_title.title": ZH * 37}), "main_title.title"),
    warn("news desc 45 chars", make(N, {"main_title.desc": ZH * 45}), "main_title.desc"),
    warn("button desc 45 chars", make(B, {"main_title.desc": ZH * 45}), "main_title.desc"),
    warn("vote desc 161 chars", make(V, {"main_title.desc": ZH * 161}), "main_title.desc"),
    warn("multiple desc 161 chars", make(M, {"main_title.desc": ZH * 161}), "main_title.desc"),
    warn("sub_title_text 161 chars", make(T, {"sub_title_text": ZH * 161}), "sub_title_text"),
    warn("keyname 6 chars", full(N, {"horizontal_content_list[1].keyname": ZH * 6}),
         "horizontal_content_list[1].keyname", 42027),
    warn("keyname 6 chars on an update", full(B, {"horizontal_content_list[0].keyname": ZH * 6,
                                                  "task_id": DEL}),
         "horizontal_content_list[0].keyname", 42027, "update"),
    warn("button_selection selected_id unknown", full(B, {"button_selection.selected_id": "o9"}),
         "button_selection.selected_id"),
    warn("select selected_id unknown", full(M, {"select_list[0].selected_id": "nope"}),
         "select_list[0].selected_id"),
]


@pytest.mark.parametrize("card, path, code, purpose", WARNINGS)
def test_warning_keeps_the_card_usable(card, path, code, purpose):
    assert validate(card, purpose=purpose) == []
    [warning] = cards.warnings(card, purpose=purpose)
    assert (warning.path, warning.code, warning.severity) == (path, code, "warning")
    assert warning.message.endswith(".") and any(word in warning.message for word in ACTIONS)
    assert not list((SEND_SCHEMA if purpose == "send" else UPDATE_SCHEMA).iter_errors(card))


def test_desc_limit_depends_on_the_card_type():
    """WeCom recommends main_title.desc ≤ 160 characters on vote and multiple-choice cards, ≤ 44
    elsewhere: a row's variant in the table, not a branch in the engine."""
    for card_type in (V, M):
        assert cards.warnings(make(card_type, {"main_title.desc": ZH * 160})) == []
        assert cards.limits()[card_type]["main_title.desc"]["max_chars"] == 160
    for card_type in (T, N, B):
        assert cards.warnings(make(card_type, {"main_title": {"title": "t", "desc": ZH * 44}})) == []
        assert cards.limits()[card_type]["main_title.desc"]["max_chars"] == 44
    [warning] = cards.warnings(make(B, {"main_title.desc": ZH * 100}))
    assert "100 characters" in warning.message and "44" in warning.message


def test_warning_messages_say_what_wecom_does():
    [chars] = cards.warnings(full(N, {"horizontal_content_list[1].keyname": "企业微信官网"}))
    assert chars.message == ("Keyname is 6 characters; WeCom recommends at most 5 and may cut the "
                             "rest. Shorten it if it must be read in full.")
    [style] = cards.warnings(make(B, {"button_list[0].style": 7}))
    assert style.message == ("Style is 7, not one of 1, 2, 3, 4; WeCom shows 1 instead. Choose one "
                             "of those to be sure.")
    [selected] = cards.warnings(full(B, {"button_selection.selected_id": "o9"}))
    assert "first option" in selected.message
    for warning in (chars, style, selected):
        assert warning.template in MARKED and warning.template.format(**warning.params) == warning.message
        assert cards.FIELD_LABELS[warning.params.get("label", "Key")] in MARKED


def test_hard_limits_stay_errors():
    """A wrong type, a missing required field and list counts WeCom rejects are still errors."""
    assert [e.path for e in validate(make(B, {"button_list[0].style": "2"}))] == [
        "button_list[0].style"]
    assert [(e.path, e.code) for e in validate(full(T, {"horizontal_content_list[0].keyname": ""}))
            ] == [("horizontal_content_list[0].keyname", 42027)]
    assert [e.path for e in validate(make(B, {"button_list": items(7, text="b", key="k")}))] == [
        "button_list"]
    assert cards.warnings(make(B, {"button_list[0].style": "2"})) == []


def test_check_gives_errors_and_warnings_in_card_order():
    card = make(B, {"task_id": "bad id", "main_title.title": ZH * 40, "button_list[0].style": 9})
    assert [(p.path, p.severity) for p in cards.check(card)] == [
        ("task_id", "error"), ("main_title.title", "warning"), ("button_list[0].style", "warning")]
    assert [p.path for p in validate(card)] == ["task_id"]


@pytest.mark.parametrize("card_type", [V, M])
def test_an_update_needs_no_submit_button_on_choice_cards(card_type):
    card = make(card_type, {"submit_button": DEL, "task_id": DEL})
    assert validate(card, purpose="update") == []
    assert validate(card, for_update=True) == []  # the older spelling, as callers use it
    assert validate(card, purpose="reply") == []
    assert not list(UPDATE_SCHEMA.iter_errors(card))  # the update schema agrees
    assert [e.path for e in validate(card, require_task_id=False)] == ["submit_button"]
    # an update's submit_button, when given, still follows the rules
    broken = make(card_type, {"submit_button": {"text": "交"}, "task_id": DEL})
    assert [(e.path, e.code) for e in validate(broken, purpose="update")] == [
        ("submit_button.key", 42046)]


def test_a_passive_reply_takes_1_to_10_actions():
    menu = lambda n: {"action_menu.action_list": items(n, text="t", key="k")}  # noqa: E731
    for n in (4, 10):
        assert validate(full(N, menu(n)), purpose="reply") == []
        assert [e.path for e in validate(full(N, menu(n)), purpose="update")] == [
            "action_menu.action_list"]
    assert [e.path for e in validate(full(N, menu(11)), purpose="reply")] == [
        "action_menu.action_list"]
    assert [e.path for e in validate(full(N, menu(0)), purpose="reply")] == [
        "action_menu.action_list"]


def test_unknown_purpose_is_a_programming_error():
    with pytest.raises(ValueError, match="purpose"):
        validate(make(T), purpose="broadcast")


def test_rows_touched_for_fidelity_name_their_source():
    """Every warning row, the per-type and per-purpose rows cite WeCom's doc page."""
    send, update, reply = card_rules.SEND_DOC, card_rules.UPDATE_DOC, card_rules.REPLY_DOC
    assert send.endswith("/90236") and update.endswith("/94888") and reply.endswith("/90241")
    for card_type in cards.CARD_TYPES:
        for purpose in card_rules.PURPOSES:
            for path, spec in cards._walk(card_rules.card_fields(card_type, purpose=purpose)):
                if card_rules.severity(spec) == "warning":
                    assert spec.get("source") == send, path
    assert card_rules.PURPOSE_BLOCKS["reply"]["action_menu"]["fields"]["action_list"][
        "source"] == reply
    assert card_rules.BLOCKS["button_selection"]["fields"]["selected_id"]["source"] == send
    assert card_rules.PURPOSE_NEEDS["update"]["vote_interaction"] == {"submit_button": "optional"}
