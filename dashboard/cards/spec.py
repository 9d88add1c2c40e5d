"""What the designer form shows: the rules come from wecom/cards.py, only labels and help live here.

Labels and help are lazy strings (the page's language when shown): their Chinese is WeCom's own name
of the field (its 发送应用消息 docs), and the designer shows the JSON key beside each label.
"""
import re
from functools import cache

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..wecom import cards

# card_type -> label, one-line description, icon
TYPE_LABELS = {
    "text_notice": (_l("Text notice"), _l("An announcement: title, key figures, links."),
                    "megaphone"),
    "news_notice": (_l("News with image"), _l("A story with a picture and short paragraphs."),
                    "newspaper"),
    "button_interaction": (_l("Buttons"), _l("Up to 6 buttons: RSVP, approve / reject."),
                           "ui-radios"),
    "vote_interaction": (_l("Vote"), _l("A poll: single or multiple choice, then submit."),
                         "check2-square"),
    "multiple_interaction": (_l("Survey"), _l("Up to 3 dropdown questions, then submit."),
                             "list-check"),
}

# Shown under the preview: from WeCom's send-message doc (not in PROTOCOL.md; blog copies of 90236).
CLIENT_NOTES = {
    "vote_interaction": _l("Vote cards need WeCom 3.1.12 or later; older clients show an upgrade "
                           "notice."),
    "multiple_interaction": _l("Survey cards need WeCom 3.1.12 or later; older clients show an "
                               "upgrade notice."),
}
DEFAULT_CLIENT_NOTE = _l("Template cards need WeCom 3.1.6 or later.")
ATTACHMENT_NOTE = _l("Attachment rows (type 2) need WeCom 3.1.12 or later to download.")
# Under every link URL: the sender replaces the placeholder per campaign (campaigns/links.py).
REPORT_LINK = _l("{report_url} opens this campaign's report, signed in through WeCom.")

_LINK_TYPES = [[0, _l("Not clickable")], [1, _l("Opens a web page")],
               [2, _l("Opens a mini-program")]]

# path pattern -> label, help (blank help is fine)
LABELS = {
    "source": (_l("Source"), _l("The small line at the top: app icon and name.")),
    "source.icon_url": (_l("Icon URL"), _l("Square image, 72×72 px suggested.")),
    "source.desc": (_l("Source name"), ""),
    "source.desc_color": (_l("Source name colour"), ""),
    "action_menu": (_l("Card menu (⋯)"), _l("A menu at the top right; each choice is reported back.")),
    "action_menu.desc": (_l("Menu caption"), _l("Text shown above the menu items.")),
    "action_menu.action_list": (_l("Menu items"), ""),
    "action_menu.action_list[].text": (_l("Text"), ""),
    "action_menu.action_list[].key": (_l("Key"), _l("Reported back when chosen.")),
    "main_title": (_l("Main title"), ""),
    "main_title.title": (_l("Title"), ""),
    "main_title.desc": (_l("Description"), _l("Grey line under the title.")),
    "quote_area": (_l("Quote"), _l("A grey quoted block. WeCom advises not to combine it with a "
                                   "big number.")),
    "quote_area.type": (_l("When tapped"), ""),
    "quote_area.url": (_l("Link URL"), REPORT_LINK),
    "quote_area.appid": (_l("Mini-program appid"), _l("Must be a mini-program linked to this app.")),
    "quote_area.pagepath": (_l("Mini-program page"), ""),
    "quote_area.title": (_l("Quote title"), ""),
    "quote_area.quote_text": (_l("Quote text"), ""),
    "emphasis_content": (_l("Big number"), _l("A key figure shown large, in blue.")),
    "emphasis_content.title": (_l("Number"), ""),
    "emphasis_content.desc": (lazy_pgettext("card field", "Caption"), ""),
    "sub_title_text": (_l("Body text"), _l("Secondary text under the title.")),
    "horizontal_content_list": (_l("Key-value rows"), ""),
    "horizontal_content_list[].type": (_l("Row type"), ""),
    "horizontal_content_list[].keyname": (_l("Key"), ""),
    "horizontal_content_list[].value": (_l("Value"), _l("The file name, with its extension.")),
    "horizontal_content_list[].url": (_l("Link URL"), REPORT_LINK),
    "horizontal_content_list[].media_id": (_l("Attachment media_id"),
                                           _l("From WeCom's media upload API.")),
    "horizontal_content_list[].userid": (_l("Member userid"), ""),
    "jump_list": (_l("Links"), _l("Up to 3 links at the bottom of the card.")),
    "jump_list[].type": (_l("Link type"), ""),
    "jump_list[].title": (_l("Text"), ""),
    "jump_list[].url": (_l("URL"), REPORT_LINK),
    "jump_list[].appid": (_l("Mini-program appid"), ""),
    "jump_list[].pagepath": (_l("Mini-program page"), ""),
    "card_action": (_l("Tap on the card"), _l("What happens when someone taps the card itself.")),
    "card_action.type": (_l("Action"), ""),
    "card_action.url": (_l("URL"), REPORT_LINK),
    "card_action.appid": (_l("Mini-program appid"), ""),
    "card_action.pagepath": (_l("Mini-program page"), ""),
    "card_image": (_l("Image"), _l("A large picture. Either this or an image-and-text area is "
                                   "needed.")),
    "card_image.url": (_l("Image URL"), ""),
    "card_image.aspect_ratio": (_l("Aspect ratio"), _l("Width ÷ height, from 1.3 up to (not including) 2.25.")),
    "image_text_area": (_l("Image and text"), _l("A thumbnail with a title and text beside it.")),
    "image_text_area.type": (_l("When tapped"), ""),
    "image_text_area.url": (_l("Link URL"), REPORT_LINK),
    "image_text_area.appid": (_l("Mini-program appid"), ""),
    "image_text_area.pagepath": (_l("Mini-program page"), ""),
    "image_text_area.title": (_l("Title"), ""),
    "image_text_area.desc": (_l("Text"), ""),
    "image_text_area.image_url": (_l("Image URL"), ""),
    "vertical_content_list": (_l("Paragraphs"), _l("Up to 4 title + text pairs under the image.")),
    "vertical_content_list[].title": (_l("Title"), ""),
    "vertical_content_list[].desc": (_l("Text"), ""),
    "button_selection": (_l("Dropdown"), _l("One dropdown question shown above the buttons.")),
    "button_selection.question_key": (_l("Question key"), _l("Reported back with the answer.")),
    "button_selection.title": (_l("Label"), _l("Shown left of the dropdown.")),
    "button_selection.option_list": (_l("Options"), ""),
    "button_selection.option_list[].id": (_l("Option id"), ""),
    "button_selection.option_list[].text": (_l("Text"), ""),
    "button_selection.selected_id": (_l("Pre-selected"), ""),
    "button_list": (lazy_pgettext("card field", "Buttons"), ""),
    "button_list[].type": (_l("On click"), ""),
    "button_list[].text": (_l("Text"), ""),
    "button_list[].style": (_l("Style"), ""),
    "button_list[].key": (_l("Key"), _l("Reported back when clicked.")),
    "button_list[].url": (_l("URL"), REPORT_LINK),
    "checkbox": (lazy_pgettext("card field", "Vote"), ""),
    "checkbox.question_key": (_l("Question key"), _l("Reported back with the votes.")),
    "checkbox.mode": (_l("Choice"), ""),
    "checkbox.option_list": (_l("Options"), ""),
    "checkbox.option_list[].id": (_l("Option id"), ""),
    "checkbox.option_list[].text": (_l("Text"), ""),
    "checkbox.option_list[].is_checked": (_l("Pre-selected"), ""),
    "select_list": (_l("Questions"), _l("Up to 3 dropdown questions.")),
    "select_list[].question_key": (_l("Question key"), _l("Reported back with the answer.")),
    "select_list[].title": (_l("Question"), _l("Shown above the dropdown.")),
    "select_list[].selected_id": (_l("Pre-selected"), ""),
    "select_list[].option_list": (_l("Options"), ""),
    "select_list[].option_list[].id": (_l("Option id"), ""),
    "select_list[].option_list[].text": (_l("Text"), ""),
    "submit_button": (_l("Submit button"), ""),
    "submit_button.text": (_l("Text"), _l("WeCom shows 提交 when empty.")),
    "submit_button.key": (_l("Key"), _l("Reported back with the answers.")),
}

CHOICES = {
    "source.desc_color": [[0, _l("Grey")], [1, _l("Black")], [2, _l("Red")], [3, _l("Green")]],
    "quote_area.type": _LINK_TYPES,
    "jump_list[].type": _LINK_TYPES,
    "card_action.type": [[0, _l("Nothing")], [1, _l("Open a web page")],
                         [2, _l("Open a mini-program")]],
    "image_text_area.type": _LINK_TYPES,
    "horizontal_content_list[].type": [
        [0, _l("Plain text")], [1, _l("Link")], [2, _l("Attachment download")],
        [3, _l("Member profile")]],
    "button_list[].type": [[0, _l("Record the click")], [1, _l("Open a web page")]],
    "button_list[].style": [[1, _l("B1 · blue")], [2, _l("B2 · blue outline")], [3, _l("B3 · grey")],
                            [4, _l("B4 · red")]],
    "checkbox.mode": [[0, _l("Single choice")], [1, _l("Multiple choice")]],
}

# Readable generated defaults, made unique within the card by the designer (prefix_1, prefix_2 ...).
GENERATED = {
    "action_menu.action_list[].key": "menu",
    "button_list[].key": "btn",
    "button_selection.question_key": "q",
    "button_selection.option_list[].id": "opt",
    "checkbox.question_key": "q",
    "checkbox.option_list[].id": "opt",
    "select_list[].question_key": "q",
    "select_list[].option_list[].id": "opt",
    "submit_button.key": "submit",
}
# list name -> what one item is called, and many ("+ Add option", "options 2/20")
ITEM_LABELS = {"action_list": (_l("menu item"), _l("menu items")),
               "horizontal_content_list": (_l("row"), _l("rows")),
               "jump_list": (_l("link"), _l("links")),
               "vertical_content_list": (_l("paragraph"), _l("paragraphs")),
               "option_list": (_l("option"), _l("options")),
               "button_list": (_l("button"), _l("buttons")),
               "select_list": (_l("question"), _l("questions"))}
ITEM_LABEL = (_l("item"), _l("items"))
START_ITEMS = {"checkbox.option_list": 2, "select_list[].option_list": 2,
               "button_selection.option_list": 2}
WIDGETS = {"sub_title_text": "textarea", "quote_area.quote_text": "textarea",
           "vertical_content_list[].desc": "textarea", "image_text_area.desc": "textarea",
           "button_selection.selected_id": "option-ref", "select_list[].selected_id": "option-ref"}
HELP_IF = {"horizontal_content_list[].value": {"type": [2]}}  # help shown only for attachments
HIDDEN = {"card_type", "task_id"}  # the type is chosen once; the sender assigns task_id
_RULE_KEYS = ("type", "required", "required_if", "max_chars", "max_bytes", "min_items",
              "max_items", "enum", "default", "min", "max_exclusive", "unique")


def _node(path: str, rules: dict) -> dict:
    name = path.rsplit(".", 1)[-1]
    label, help_ = LABELS.get(path, (name.replace("_", " ").capitalize(), ""))
    node = {"name": name, "label": label, "help": help_,
            **{key: rules[key] for key in _RULE_KEYS if key in rules}}
    node["kind"] = node.pop("type")
    if name == "pagepath":
        node["show_if"] = {"type": [2]}
    if "required_if" in rules:
        node["show_if"] = rules["required_if"]
    extras = {"choices": CHOICES, "generate": GENERATED, "widget": WIDGETS,
              "start_items": START_ITEMS, "help_if": HELP_IF}
    node.update({key: table[path] for key, table in extras.items() if path in table})
    if node["kind"] == "list":
        node["item_label"], node["items_label"] = ITEM_LABELS.get(name.removesuffix("[]"), ITEM_LABEL)
    if node["kind"] in ("object", "list"):
        node["fields"] = []
    return node


def _tree(rules_by_path: dict[str, dict]) -> list[dict]:
    """Nest the flat limits() paths ("a", "a.b", "a[].c") into a tree of form nodes."""
    roots: list[dict] = []
    nodes: dict[str, dict] = {}
    for path, rules in rules_by_path.items():
        top = path.split(".")[0].removesuffix("[]")
        if top in HIDDEN or rules.get("update_only"):
            continue
        node = nodes[path] = _node(path, rules)
        parent = path.rsplit(".", 1)[0] if "." in path else None
        if parent is None:
            roots.append(node)
        elif parent.removesuffix("[]") in nodes:
            nodes[parent.removesuffix("[]")]["fields"].append(node)
    return roots


@cache
def designer_spec() -> dict:
    """Per card type, the blocks and fields the form shows, with labels and the rules' limits."""
    limits = cards.limits()
    return {
        "types": {
            card_type: {
                "label": TYPE_LABELS[card_type][0],
                "client_note": CLIENT_NOTES.get(card_type, DEFAULT_CLIENT_NOTE),
                "blocks": _tree(limits[card_type]),
            }
            for card_type in cards.CARD_TYPES
        },
        "attachment_note": ATTACHMENT_NOTE,
    }


def type_choices() -> list[tuple[str, str, str, str]]:
    """(card_type, label, description, icon) for the new-card page and the search filter."""
    return [(t, *TYPE_LABELS[t]) for t in cards.CARD_TYPES]


_STEP = re.compile(r"(\w+)(?:\[(\d+)\])?", re.ASCII)
_PATH = re.compile(r"\w+(?:\[\d+\])?(?:\.\w+(?:\[\d+\])?)*", re.ASCII)


@cache
def _form_nodes() -> dict[str, dict]:
    """Every form node of every card type by its path pattern ("checkbox.option_list[].text"):
    a pattern's label is the same whatever the card type, as LABELS is keyed by pattern."""
    found: dict[str, dict] = {}

    def walk(nodes: list[dict], prefix: str) -> None:
        for node in nodes:
            pattern = f"{prefix}{node['name']}"
            found[pattern] = node
            inner = "[]." if node["kind"] == "list" else "."
            walk(node.get("fields", []), pattern + inner)

    for card_type in designer_spec()["types"].values():
        walk(card_type["blocks"], "")
    return found


def field_label(path: str) -> str:
    """A card path as the designer's form names it, section · field, in the page's language:
    "checkbox.option_list[2].text" -> "Vote · Option 3 · Text"; an item of a list is named as
    the form titles it, and a nested list by its item alone. Unknown paths come back as given.
    static/js/designer-problems.js mirrors this for the designer's problem list."""
    if not _PATH.fullmatch(path):
        return path
    nodes, words, parts = _form_nodes(), [], []
    for key, index in _STEP.findall(path):
        parts.append(key)
        node = nodes.get(".".join(parts))
        if node is None or (index and node["kind"] != "list"):
            return path
        if not index or len(parts) == 1:  # a list inside a block: named by its item alone
            words.append(str(node["label"]))
        if index:
            noun = str(node.get("item_label", ITEM_LABEL[0]))
            words.append(f"{noun[:1].upper()}{noun[1:]} {int(index) + 1}")
            parts[-1] = f"{key}[]"
    return " · ".join(words)
