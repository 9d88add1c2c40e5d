"""The app's menu (issue 26 point 3): WeCom's limits at the field, in UTF-8 bytes, and the body."""
import json
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file

from dashboard.wecom import menus
from dashboard.wecom.menus import BUTTON_TYPES, MenuProblem, menu_body, menu_problems

CLICK = {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"}
VIEW = {"type": "view", "name": "搜索", "url": "http://www.soso.com/"}
GOOD = {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"}
MINI = {"type": "view_miniprogram", "name": "小程序", "url": "https://example.com/old-client",
        "pagepath": "pages/lunar/index", "appid": "wx4389ji4kAAA"}
# Doc 90231's own example, byte for byte as compact JSON in WeCom's field order.
DOC_EXAMPLE = ('{"button":[{"type":"click","name":"今日歌曲","key":"V1001_TODAY_MUSIC"},'
               '{"name":"菜单","sub_button":['
               '{"type":"view","name":"搜索","url":"http://www.soso.com/"},'
               '{"type":"click","name":"赞一下我们","key":"V1001_GOOD"}]}]}')


def menu(*buttons) -> dict:
    return {"button": list(buttons)}


def group(*subs, name="菜单", **extra) -> dict:
    return {"name": name, "sub_button": list(subs), **extra}


def click(key="k1", name="按钮", **extra) -> dict:
    return {"type": "click", "name": name, "key": key, **extra}


def only(problems: list[MenuProblem]) -> tuple[str, int | None, str]:
    """The one problem's (path, code, template)."""
    assert len(problems) == 1, problems
    return problems[0].path, problems[0].code, problems[0].template


def test_the_doc_example_passes_and_its_body_is_the_doc_json():
    example = json.loads(DOC_EXAMPLE)
    assert menu_problems(example) == []
    body = json.dumps(menu_body(example), ensure_ascii=False, separators=(",", ":"))
    assert body == DOC_EXAMPLE


@pytest.mark.parametrize("type_", BUTTON_TYPES)
def test_every_button_type_passes_with_what_it_needs(type_):
    needs = {"view": VIEW, "view_miniprogram": MINI}.get(type_, {"key": f"rselfmenu_{type_}"})
    assert menu_problems(menu({**needs, "type": type_, "name": "按钮"})) == []


# --- counts ---


@pytest.mark.parametrize("n, ok", [(0, False), (1, True), (3, True), (4, False)])
def test_one_to_three_buttons(n, ok):
    problems = menu_problems(menu(*(click(f"k{i}") for i in range(n))))
    assert problems == [] if ok else only(problems) == ("button", 40016, menus.BUTTON_COUNT)
    if not ok:
        assert problems[0].message == f"The menu has {n} buttons; WeCom allows 1 to 3."


@pytest.mark.parametrize("n, ok", [(0, False), (1, True), (5, True), (6, False)])
def test_one_to_five_sub_buttons(n, ok):
    problems = menu_problems(menu(click("top"), group(*(click(f"k{i}") for i in range(n)))))
    expected = ("button[1].sub_button", 40023, menus.SUB_BUTTON_COUNT)
    assert problems == [] if ok else only(problems) == expected


# --- byte limits: a CJK character is 3 bytes, an emoji 4 ---


@pytest.mark.parametrize("name, n", [
    ("abcdefghijklmnop", 0), ("abcdefghijklmnopq", 17), ("五个汉字啊a", 0), ("六个汉字啊啊", 18),
    ("😀😀😀😀", 0), ("😀😀😀😀a", 17)])
def test_a_top_level_name_has_at_most_16_bytes(name, n):
    problems = menu_problems(menu(click(name=name)))
    if not n:
        assert problems == []
        return
    assert only(problems) == ("button[0].name", 40018, menus.NAME_TOO_LONG)
    assert problems[0].params == {"n": n, "max": 16}


@pytest.mark.parametrize("name, n", [("十三个汉字" * 2 + "十三个" + "a", 0), ("十四个汉字啊" * 2 + "十四", 42),
                                     ("a" * 40, 0), ("a" * 41, 41)])
def test_a_sub_button_name_has_at_most_40_bytes(name, n):
    problems = menu_problems(menu(group(click("k1"), click("k2", name=name))))
    if not n:
        assert problems == []
        return
    assert only(problems) == ("button[0].sub_button[1].name", 40025, menus.NAME_TOO_LONG)
    assert problems[0].params == {"n": n, "max": 40}


@pytest.mark.parametrize("key, sub, error", [
    ("k" * 128, False, None), ("k" * 129, False, 40019), ("键" * 42 + "kk", False, None),
    ("键" * 43, False, 40019), ("k" * 129, True, 40026), ("键" * 43, True, 40026)])
def test_a_key_has_at_most_128_bytes(key, sub, error):
    button = click(key)
    problems = menu_problems(menu(group(button) if sub else button))
    if error is None:
        assert problems == []
        return
    path = "button[0].sub_button[0].key" if sub else "button[0].key"
    assert only(problems) == (path, error, menus.KEY_TOO_LONG)


@pytest.mark.parametrize("url, sub, error", [
    ("https://a.cn/" + "p" * 243, False, None), ("https://a.cn/" + "p" * 244, False, 40020),
    ("https://a.cn/" + "页" * 81, False, None), ("https://a.cn/" + "页" * 82, False, 40020),
    ("https://a.cn/" + "p" * 244, True, 40027)])
def test_a_url_has_at_most_256_bytes_the_stricter_reading(url, sub, error):
    button = {**VIEW, "url": url}
    problems = menu_problems(menu(group(button) if sub else button))
    if error is None:
        assert problems == []
        return
    path = "button[0].sub_button[0].url" if sub else "button[0].url"
    assert only(problems) == (path, error, menus.URL_TOO_LONG)
    assert problems[0].params["max"] == 256


@pytest.mark.parametrize("url", ["www.soso.com", "ftp://soso.com/", "javascript:alert(1)",
                                 "https://", "https:// soso.com", "http://soso.com/a b"])
def test_a_url_is_http_or_https(url):
    assert only(menu_problems(menu({**VIEW, "url": url}))) == (
        "button[0].url", 40055, menus.URL_SCHEME)
    assert only(menu_problems(menu(group({**VIEW, "url": url})))) == (
        "button[0].sub_button[0].url", 40054, menus.URL_SCHEME)


# --- what each type needs ---


@pytest.mark.parametrize("button, expected", [
    ({"name": "按钮", "key": "k"}, ("button[0].type", 40017, menus.TYPE_REQUIRED)),
    ({**CLICK, "type": "media_id"}, ("button[0].type", 40017, menus.TYPE_UNKNOWN)),
    ({**CLICK, "type": "CLICK"}, ("button[0].type", 40017, menus.TYPE_UNKNOWN)),
    ({"type": "click", "key": "k"}, ("button[0].name", 40018, menus.NAME_REQUIRED)),
    ({**CLICK, "name": "  "}, ("button[0].name", 40018, menus.NAME_REQUIRED)),
    ({"type": "click", "name": "按钮"}, ("button[0].key", 40019, menus.KEY_REQUIRED)),
    ({"type": "location_select", "name": "位置", "key": ""},
     ("button[0].key", 40019, menus.KEY_REQUIRED)),
    ({"type": "view", "name": "搜索"}, ("button[0].url", 40020, menus.URL_REQUIRED)),
    ({**MINI, "appid": ""}, ("button[0].appid", None, menus.APPID_REQUIRED)),
    ({k: v for k, v in MINI.items() if k != "pagepath"},
     ("button[0].pagepath", None, menus.PAGEPATH_REQUIRED)),
    ({**CLICK, "name": 7}, ("button[0].name", 40018, menus.NOT_TEXT)),
    ({**CLICK, "key": ["k"]}, ("button[0].key", 40019, menus.NOT_TEXT)),
    ({**CLICK, "name": "a\ud800"}, ("button[0].name", 40018, menus.LONE_SURROGATE)),
    ("click", ("button[0]", None, menus.NOT_AN_OBJECT)),
])
def test_each_problem_at_its_field(button, expected):
    assert only(menu_problems(menu(button))) == expected


@pytest.mark.parametrize("url", [None, ""])
def test_a_view_miniprogram_needs_no_url_as_wecoms_doc_lists_only_appid_and_pagepath(url):
    button = {k: v for k, v in MINI.items() if k != "url"} | ({} if url is None else {"url": url})
    assert menu_problems(menu(button)) == []
    assert list(menu_body(menu(button))["button"][0]) == ["type", "name", "pagepath", "appid"]


@pytest.mark.parametrize("url, template", [
    ("pages/lunar/index", menus.URL_SCHEME), ("https://a.cn/" + "p" * 244, menus.URL_TOO_LONG),
    ("   ", menus.URL_SCHEME)])
def test_a_view_miniprogram_url_is_checked_when_given(url, template):
    assert only(menu_problems(menu({**MINI, "url": url}))) == ("button[0].url", None, template)
    assert only(menu_problems(menu(group({**MINI, "url": url})))) == (
        "button[0].sub_button[0].url", None, template)


def test_the_type_message_names_the_types():
    problem = menu_problems(menu({**CLICK, "type": "media_id"}))[0]
    assert problem.message.startswith(
        "media_id is not a WeCom button type. Choose one of click, view, view_miniprogram")


def test_a_sub_button_problem_has_the_sub_button_code():
    assert only(menu_problems(menu(group({"type": "scancode_push", "name": "扫码"})))) == (
        "button[0].sub_button[0].key", 40026, menus.KEY_REQUIRED)
    assert only(menu_problems(menu(group({**GOOD, "type": "media_id"})))) == (
        "button[0].sub_button[0].type", 40024, menus.TYPE_UNKNOWN)


# --- the menu's shape ---


def test_a_button_with_sub_buttons_has_no_type():
    assert only(menu_problems(menu(group(GOOD, type="click")))) == (
        "button[0].type", None, menus.GROUP_TYPE)


def test_a_sub_button_has_no_sub_buttons():
    assert only(menu_problems(menu(group(group(GOOD))))) == (
        "button[0].sub_button[0].sub_button", 40022, menus.TOO_DEEP)


def test_a_leaf_may_carry_an_empty_sub_button_list_as_menu_get_gives_it():
    assert menu_problems(menu({**CLICK, "sub_button": []})) == []
    assert only(menu_problems(menu(group()))) == ("button[0].sub_button", 40023,
                                                  menus.SUB_BUTTON_COUNT)


@pytest.mark.parametrize("value, expected", [
    ([], ("", None, menus.MENU_NOT_OBJECT)),
    ({}, ("button", 40016, menus.NOT_A_LIST)),
    ({"button": {"type": "click"}}, ("button", 40016, menus.NOT_A_LIST)),
    (menu({"name": "菜单", "sub_button": "x"}), ("button[0].sub_button", 40023, menus.NOT_A_LIST)),
])
def test_a_menu_of_the_wrong_shape(value, expected):
    assert only(menu_problems(value)) == expected


def test_keys_are_unique_across_the_menu():
    problems = menu_problems(menu(click("same"), group(click("other"), click("same"))))
    assert only(problems) == ("button[1].sub_button[1].key", None, menus.KEY_TAKEN)
    assert problems[0].message == ("The key same is already used by button[0]; each key must be "
                                   "different. Change it.")


def test_every_problem_is_reported_in_menu_order():
    problems = menu_problems(menu(
        click(name="六个汉字啊啊"), group(click("k" * 129), {"type": "view", "name": "搜索"}),
        {"name": "x", "type": "nope"}, click("k2")))
    assert [(p.path, p.code) for p in problems] == [
        ("button", 40016), ("button[0].name", 40018), ("button[1].sub_button[0].key", 40026),
        ("button[1].sub_button[1].url", 40027), ("button[2].type", 40017)]


def test_a_problem_is_its_template_filled_in():
    for problem in menu_problems(menu(click(name="六个汉字啊啊"), group(), {"name": "x"})):
        assert problem.message == problem.template.format(**problem.params)


def test_every_message_template_is_extracted_for_translation():
    path = Path(menus.__file__)
    extracted = {message for _, message, _, _ in extract_from_file("python", str(path))}
    templates = {v for k, v in vars(menus).items() if k.isupper() and isinstance(v, str)}
    assert len(templates) == 21 and templates <= extracted


# --- the body ---


def test_the_body_keeps_only_wecoms_fields_for_each_type_in_wecoms_order():
    edited = menu({"id": 3, "key": "stale", "url": "https://x.cn/", "name": "搜索", "type": "view"},
                  group({**MINI, "preview": True}, {**GOOD, "url": "", "sub_button": []},
                        name="更多", type=None))
    body = menu_body(edited)
    assert body == {"button": [
        {"type": "view", "name": "搜索", "url": "https://x.cn/"},
        {"name": "更多", "sub_button": [
            {"type": "view_miniprogram", "name": "小程序", "url": "https://example.com/old-client",
             "pagepath": "pages/lunar/index", "appid": "wx4389ji4kAAA"},
            {"type": "click", "name": "赞一下我们", "key": "V1001_GOOD"}]}]}
    assert [list(b) for b in body["button"][1]["sub_button"]] == [
        ["type", "name", "url", "pagepath", "appid"], ["type", "name", "key"]]
    assert menu_body(body) == body


def test_the_body_of_a_broken_menu_keeps_what_it_cannot_sort_out():
    assert menu_body({}) == {"button": []}
    assert menu_body(menu("x", {"type": ["?"], "name": "a", "extra": 1}, group(name="g") | {
        "sub_button": "y"})) == {"button": ["x", {"type": ["?"], "name": "a"},
                                            {"name": "g", "sub_button": "y"}]}
