"""The app's menu editor (自定义菜单, issue 26 point 3): 1-3 buttons, each a button or a list of
1-5 sub-buttons, checked against WeCom's limits at each field (wecom/menus.py), saved, published
with menu/create, read back with menu/get and removed with menu/delete (staff).

The form has fixed rows (3 buttons × 5 sub-buttons) so that it works without scripts; empty rows
are left out of the menu. conversations-menu.js shows the rows as they are used, counts bytes as
you type and draws the preview.
"""
from __future__ import annotations

import json
import re

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from .. import wecom_app
from ..auth import role_required
from ..extensions import db
from ..i18n import card_error_text
from ..models import AppMenu
from ..wecom.errors import WeComError
from ..wecom.menus import BUTTON_TYPES, KEY_TYPES, MENU_LIMITS, menu_body, menu_problems
from . import service
from .blueprint import STAFF, bp

TEXT_FIELDS = ("name", "key", "url", "appid", "pagepath")  # a row with none of them is empty
MAX_ROWS = 10  # rows read from a posted form, above WeCom's limits so that too many is an error
#: What each type needs besides a name (view_miniprogram's url is optional); a group needs none.
NEEDS = {**{type_: ("key",) for type_ in KEY_TYPES}, "view": ("url",),
         "view_miniprogram": ("appid", "pagepath", "url")}
#: Where WeCom's client cuts a name with "…", in half-width columns (a CJK character takes two):
#: about 4 CJK characters on the bar, 7 in a pop-up list (CONVERSATIONS §4).
PREVIEW_COLUMNS = {"top": 8, "sub": 14}
#: The button types in the words of doc 90231's table.
TYPE_LABELS = {
    "click": _l("Push the key to the app (click)"),
    "view": _l("Open a web page (view)"),
    "view_miniprogram": _l("Open a mini program (view_miniprogram)"),
    "scancode_push": _l("Scan a code and push it (scancode_push)"),
    "scancode_waitmsg": _l("Scan a code, push it and show “receiving” (scancode_waitmsg)"),
    "pic_sysphoto": _l("Take a photo (pic_sysphoto)"),
    "pic_photo_or_album": _l("Take a photo or pick one from the album (pic_photo_or_album)"),
    "pic_weixin": _l("Pick from the WeCom album (pic_weixin)"),
    "location_select": _l("Choose a location (location_select)"),
}
TYPE_CHOICES = [SelectChoice(type_, TYPE_LABELS[type_]) for type_ in BUTTON_TYPES]
GROUP = SelectChoice("", _l("Sub-buttons (opens a list)"))
_PATH = re.compile(r"button\[(\d+)\](?:\.sub_button\[(\d+)\])?(?:\.(\w+))?")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label) -> StringField:
    return StringField(label, filters=[_strip])


class SubButtonForm(Form):
    """One sub-button row (no CSRF token of its own: the menu form has it)."""

    name = _text(_l("Name"))
    type = SelectField(_l("Type"), choices=TYPE_CHOICES, default="click",
                       validate_choice=False)  # an unknown type is menu_problems' to report
    key = _text(_l("Key"))
    url = _text(_l("Web page (url)"))
    appid = _text(_l("Mini program (appid)"))
    pagepath = _text(_l("Mini program page (pagepath)"))


class ButtonForm(SubButtonForm):
    """A top-level button: a button of its own type, or (no type) a list of sub-buttons."""

    type = SelectField(_l("Type"), choices=[GROUP, *TYPE_CHOICES], default="click",
                       validate_choice=False)
    subs = FieldList(FormField(SubButtonForm), min_entries=MENU_LIMITS["max_sub_buttons"],
                     max_entries=MAX_ROWS)


class MenuForm(FlaskForm):
    buttons = FieldList(FormField(ButtonForm), min_entries=MENU_LIMITS["max_buttons"],
                        max_entries=MAX_ROWS)


class ActionForm(FlaskForm):
    """Load and delete: the CSRF token (CSRFProtect checks it on every POST) and nothing else."""


# --- the form and the menu ------------------------------------------------------------------------


def form_data(menu: dict) -> dict:
    """The editor's rows for a saved menu (a group's type is empty)."""
    buttons = [b for b in menu.get("button") or [] if isinstance(b, dict)]
    return {"buttons": [{**_row(b), "type": b.get("type") or "",
                         "subs": [_row(s) for s in b.get("sub_button") or [] if isinstance(s, dict)]}
                        for b in buttons]}


def _row(button: dict) -> dict:
    return {name: str(button[name]) for name in ("type", *TEXT_FIELDS) if button.get(name) is not None}


def menu_of(form: MenuForm) -> tuple[dict, list]:
    """The menu the form describes, empty rows left out, and the form rows of its buttons in menu
    order, ``[(button entry, [sub-button entries])]``, to put problems back at their fields."""
    buttons, rows = [], []
    for entry in form.buttons:
        subs = [sub for sub in entry.form.subs if _filled(sub.form)]
        if subs or _filled(entry.form):
            buttons.append(_button(entry.form, [_button(sub.form) for sub in subs]))
            rows.append((entry, subs))
    return {"button": buttons}, rows


def _filled(form: Form) -> bool:
    return any(form[name].data for name in TEXT_FIELDS)


def _button(form: Form, subs: list | None = None) -> dict:
    """A row as WeCom's JSON; a top-level row without a type is a group, even of no sub-buttons
    (menu_problems then says how many it needs), and one with a type keeps the sub-buttons it
    was given (menu_problems says to remove one or the other)."""
    button = {name: form[name].data for name in TEXT_FIELDS if form[name].data}
    if form.type.data:
        button["type"] = form.type.data
    if subs or (subs is not None and not form.type.data):
        button["sub_button"] = subs
    return button


def problems_at_fields(menu: dict, rows: list) -> dict[str, list[str]]:
    """menu_problems' messages in the page's language, by the id of the form field they are
    about ("buttons-0-subs-2-key"; "buttons" for the menu itself)."""
    found: dict[str, list[str]] = {}
    for problem in menu_problems(menu):
        found.setdefault(_field_id(problem.path, rows), []).append(card_error_text(problem))
    return found


def _field_id(path: str, rows: list) -> str:
    match = _PATH.fullmatch(path)
    if match is None:
        return "buttons"
    button, sub, name = match.groups()
    entry, subs = rows[int(button)]
    if sub is not None:
        entry = subs[int(sub)]
    elif name == "sub_button":
        return entry.form.subs.id
    return entry.form[name].id if name and name in entry.form else entry.id


# --- the pages --------------------------------------------------------------------------------------


@bp.route("/menu", methods=["GET", "POST"])
@role_required(*STAFF)
def menu():
    """The editor; POST saves the menu here without publishing it."""
    if request.method == "GET":  # a saved menu is checked too: one read from WeCom may break a rule
        stored = saved_menu().menu
        form = MenuForm(data=form_data(stored))
        return _editor(form, problems_at_fields(*menu_of(form)) if stored.get("button") else {})
    form = MenuForm()
    built, rows = menu_of(form)
    if problems := problems_at_fields(built, rows):
        return _editor(form, problems)
    _save(menu_body(built))
    flash(_("Menu saved. Members see it once you publish it."), "success")
    return redirect(url_for(".menu"))


@bp.route("/menu/publish", methods=["POST"])
@role_required(*STAFF)
def publish_menu():
    form = MenuForm()
    built, rows = menu_of(form)
    if problems := problems_at_fields(built, rows):
        return _editor(form, problems)
    _save(menu_body(built))
    if _publish():
        flash(_("Menu published. Members see it once their WeCom app fetches the menu again."),
              "success")
    return redirect(url_for(".menu"))


@bp.route("/menu/load", methods=["POST"])
@role_required(*STAFF)
def load_menu():
    """Replace the editor's menu with the one WeCom has (menu/get)."""
    try:
        got = wecom_app.client().get_menu()
    except WeComError as exc:
        flash(_refused(exc), "danger")
        return redirect(url_for(".menu"))
    _save(menu_body(got))
    count = len(got["button"])
    flash(ngettext("WeCom's menu is in the editor: %(num)s button.",
                   "WeCom's menu is in the editor: %(num)s buttons.", count) if count
          else _("WeCom has no menu for this app; the editor is empty."), "info")
    return redirect(url_for(".menu"))


@bp.route("/menu/delete", methods=["POST"])
@role_required(*STAFF)
def delete_menu():
    """Remove the menu from WeCom (menu/delete) and clear the editor; WeCom refusing, the editor
    gets its menu back, with the refusal."""
    before = saved_menu().menu
    _save({"button": []})
    if _publish():
        flash(_("The menu was removed from WeCom and the editor is empty."), "success")
    else:
        _save(before)
    return redirect(url_for(".menu"))


def saved_menu() -> AppMenu:
    """The saved menu, or an empty one not added to the session (reading it writes nothing)."""
    return db.session.get(AppMenu, 1) or AppMenu(id=1, menu={"button": []})


def _save(menu: dict) -> None:
    """Save and commit before WeCom is called: no write stays open (SQLite) during the call."""
    service.save_menu(menu, actor=_actor())
    db.session.commit()


def _publish() -> bool:
    """Publish the saved menu; False, with WeCom's refusal flashed and kept, if WeCom refused."""
    try:
        service.publish_menu(actor=_actor())
    except WeComError as exc:
        flash(_refused(exc), "danger")
        db.session.commit()  # publish_error
        return False
    db.session.commit()
    return True


def _actor():
    return current_user._get_current_object()


def _refused(exc: WeComError) -> str:
    return _("WeCom refused or did not answer: %(error)s", error=exc)


def _editor(form: MenuForm, problems: dict[str, list[str]]):
    saved = saved_menu()
    return render_template(
        "conversations/menu.html", form=form, problems=problems, saved=saved,
        limits=MENU_LIMITS, nbytes=lambda text: len((text or "").encode("utf-8")),
        body=json.dumps(menu_body(saved.menu), ensure_ascii=False, indent=2),
        data=_script_data(), action_form=ActionForm())


def _script_data() -> Markup:
    """What conversations-menu.js needs, as one JSON block (no inline script)."""
    return htmlsafe_json_dumps({"limits": MENU_LIMITS, "needs": NEEDS, "columns": PREVIEW_COLUMNS})
