"""What the designer form shows: the rules come from wecom/cards.py, only labels and help live here."""
from functools import cache

from ..wecom import cards

TYPE_LABELS = {
    "text_notice": ("Text notice", "An announcement: title, key figures, links.", "megaphone"),
    "news_notice": ("News with image", "A story with a picture and short paragraphs.", "newspaper"),
    "button_interaction": ("Buttons", "Up to 6 buttons: RSVP, approve / reject.", "ui-radios"),
    "vote_interaction": ("Vote", "A poll: single or multiple choice, then submit.", "check2-square"),
    "multiple_interaction": ("Survey", "Up to 3 dropdown questions, then submit.", "list-check"),
}

# Shown under the preview: from WeCom's send-message doc (not in PROTOCOL.md; blog copies of 90236).
CLIENT_NOTES = {
    "vote_interaction": "Vote cards need WeCom 3.1.12 or later; older clients show an upgrade notice.",
    "multiple_interaction": "Survey cards need WeCom 3.1.12 or later; older clients show an upgrade notice.",
}
DEFAULT_CLIENT_NOTE = "Template cards need WeCom 3.1.6 or later."
ATTACHMENT_NOTE = "Attachment rows (type 2) need WeCom 3.1.12 or later to download."

_LINK_TYPES = [[0, "Not clickable"], [1, "Opens a web page"], [2, "Opens a mini-program"]]

# path pattern -> label, help (blank help is fine)
LABELS = {
    "source": ("Source", "The small line at the top: app icon and name."),
    "source.icon_url": ("Icon URL", "Square image, 72×72 px suggested."),
    "source.desc": ("Source name", ""),
    "source.desc_color": ("Source name colour", ""),
    "action_menu": ("Card menu (⋯)", "A menu at the top right; each choice is reported back."),
    "action_menu.desc": ("Menu caption", "Text shown above the menu items."),
    "action_menu.action_list": ("Menu items", ""),
    "action_menu.action_list[].text": ("Text", ""),
    "action_menu.action_list[].key": ("Key", "Reported back when chosen."),
    "main_title": ("Title", ""),
    "main_title.title": ("Title", ""),
    "main_title.desc": ("Description", "Grey line under the title."),
    "quote_area": ("Quote", "A grey quoted block. WeCom advises not to combine it with a big number."),
    "quote_area.type": ("When tapped", ""),
    "quote_area.url": ("Link URL", ""),
    "quote_area.appid": ("Mini-program appid", "Must be a mini-program linked to this app."),
    "quote_area.pagepath": ("Mini-program page", ""),
    "quote_area.title": ("Quote title", ""),
    "quote_area.quote_text": ("Quote text", ""),
    "emphasis_content": ("Big number", "A key figure shown large, in blue."),
    "emphasis_content.title": ("Number", ""),
    "emphasis_content.desc": ("Caption", ""),
    "sub_title_text": ("Body text", "Secondary text under the title."),
    "horizontal_content_list": ("Key-value rows", ""),
    "horizontal_content_list[].type": ("Row type", ""),
    "horizontal_content_list[].keyname": ("Key", ""),
    "horizontal_content_list[].value": ("Value", "The file name, with its extension."),
    "horizontal_content_list[].url": ("Link URL", ""),
    "horizontal_content_list[].media_id": ("Attachment media_id", "From WeCom's media upload API."),
    "horizontal_content_list[].userid": ("Member userid", ""),
    "jump_list": ("Links", "Up to 3 links at the bottom of the card."),
    "jump_list[].type": ("Link type", ""),
    "jump_list[].title": ("Text", ""),
    "jump_list[].url": ("URL", ""),
    "jump_list[].appid": ("Mini-program appid", ""),
    "jump_list[].pagepath": ("Mini-program page", ""),
    "card_action": ("Tap on the card", "What happens when someone taps the card itself."),
    "card_action.type": ("Action", ""),
    "card_action.url": ("URL", ""),
    "card_action.appid": ("Mini-program appid", ""),
    "card_action.pagepath": ("Mini-program page", ""),
    "card_image": ("Image", "A large picture. Either this or an image-and-text area is needed."),
    "card_image.url": ("Image URL", ""),
    "card_image.aspect_ratio": ("Aspect ratio", "Width ÷ height, from 1.3 up to (not including) 2.25."),
    "image_text_area": ("Image and text", "A thumbnail with a title and text beside it."),
    "image_text_area.type": ("When tapped", ""),
    "image_text_area.url": ("Link URL", ""),
    "image_text_area.appid": ("Mini-program appid", ""),
    "image_text_area.pagepath": ("Mini-program page", ""),
    "image_text_area.title": ("Title", ""),
    "image_text_area.desc": ("Text", ""),
    "image_text_area.image_url": ("Image URL", ""),
    "vertical_content_list": ("Paragraphs", "Up to 4 title + text pairs under the image."),
    "vertical_content_list[].title": ("Title", ""),
    "vertical_content_list[].desc": ("Text", ""),
    "button_selection": ("Dropdown", "One dropdown question shown above the buttons."),
    "button_selection.question_key": ("Question key", "Reported back with the answer."),
    "button_selection.title": ("Label", "Shown left of the dropdown."),
    "button_selection.option_list": ("Options", ""),
    "button_selection.option_list[].id": ("Option id", ""),
    "button_selection.option_list[].text": ("Text", ""),
    "button_selection.selected_id": ("Pre-selected", ""),
    "button_list": ("Buttons", ""),
    "button_list[].type": ("On click", ""),
    "button_list[].text": ("Text", ""),
    "button_list[].style": ("Style", ""),
    "button_list[].key": ("Key", "Reported back when clicked."),
    "button_list[].url": ("URL", ""),
    "checkbox": ("Vote", ""),
    "checkbox.question_key": ("Question key", "Reported back with the votes."),
    "checkbox.mode": ("Choice", ""),
    "checkbox.option_list": ("Options", ""),
    "checkbox.option_list[].id": ("Option id", ""),
    "checkbox.option_list[].text": ("Text", ""),
    "checkbox.option_list[].is_checked": ("Pre-selected", ""),
    "select_list": ("Questions", "Up to 3 dropdown questions."),
    "select_list[].question_key": ("Question key", "Reported back with the answer."),
    "select_list[].title": ("Question", "Shown above the dropdown."),
    "select_list[].selected_id": ("Pre-selected", ""),
    "select_list[].option_list": ("Options", ""),
    "select_list[].option_list[].id": ("Option id", ""),
    "select_list[].option_list[].text": ("Text", ""),
    "submit_button": ("Submit button", ""),
    "submit_button.text": ("Text", "WeCom shows 提交 when empty."),
    "submit_button.key": ("Key", "Reported back with the answers."),
}

CHOICES = {
    "source.desc_color": [[0, "Grey"], [1, "Black"], [2, "Red"], [3, "Green"]],
    "quote_area.type": _LINK_TYPES,
    "jump_list[].type": _LINK_TYPES,
    "card_action.type": [[0, "Nothing"], [1, "Open a web page"], [2, "Open a mini-program"]],
    "image_text_area.type": _LINK_TYPES,
    "horizontal_content_list[].type": [
        [0, "Plain text"], [1, "Link"], [2, "Attachment download"], [3, "Member profile"]],
    "button_list[].type": [[0, "Record the click"], [1, "Open a web page"]],
    "button_list[].style": [[1, "B1 · blue"], [2, "B2 · blue outline"], [3, "B3 · grey"],
                            [4, "B4 · red"]],
    "checkbox.mode": [[0, "Single choice"], [1, "Multiple choice"]],
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
ITEM_LABELS = {"action_list": "menu item", "horizontal_content_list": "row", "jump_list": "link",
               "vertical_content_list": "paragraph", "option_list": "option",
               "button_list": "button", "select_list": "question"}
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
        node["item_label"] = ITEM_LABELS.get(name.removesuffix("[]"), "item")
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
