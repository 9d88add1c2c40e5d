"""The card library, the designer and its JSON helpers (preview, import, autosave)."""
import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from ..auth.decorators import role_required
from ..extensions import db
from ..models import Card, CardVersion
from . import gallery, queries, service
from ..callback.after_click import default_settings as default_after_click
from ..callback.forms import after_click_form
from .forms import CardForm, ImportForm, NewCardForm, PreviewForm, SearchForm
from .spec import TYPE_LABELS, designer_spec, type_choices

bp = Blueprint("cards", __name__, url_prefix="/cards")


@bp.route("/")
@role_required("staff")
def index():
    form = SearchForm(request.args)
    query = queries.library(form.q.data, form.type.data, archived=bool(form.archived.data))
    page = db.paginate(query, per_page=20)
    problems = {card.id: len(service.card_problems(card)) for card in page.items}
    return render_template("cards/index.html", form=form, page=page, problems=problems,
                           types=TYPE_LABELS)


@bp.route("/new")
@role_required("staff")
def new():
    return render_template("cards/new.html", types=type_choices(), starters=gallery.shown(),
                           form=NewCardForm())


@bp.route("/new", methods=["POST"])
@role_required("staff")
def create():
    form = NewCardForm()
    if not form.validate_on_submit():
        abort(400)
    card = service.create_card(*gallery.blank_card(form.card_type.data))
    db.session.commit()
    return redirect(url_for(".edit", card_id=card.id))


@bp.route("/new/<slug>", methods=["GET", "POST"])
@role_required("staff")
def starter(slug):
    """A starter opens as an unsaved copy: no card exists until its Save creates one."""
    if slug not in gallery.starters():
        abort(404)
    name, template_card = gallery.starter_card(slug)
    form = CardForm(name=_("%(name)s (copy)", name=name)[:120], template_card=json.dumps(template_card))
    card_valid = form.validate_on_submit()
    template_card = getattr(form, "card", None) or template_card
    after = after_click_form(template_card, default_after_click(template_card))
    if card_valid and (after is None or after.validate()):
        card = service.create_card(form.name.data, form.card,
                                   after_click=after.settings if after else None)
        db.session.commit()
        flash(_saved_message(card, card.latest, False), "success")
        return _after_save(card)
    return _designer(None, form, template_card, after)


@bp.route("/<int:card_id>", methods=["GET", "POST"])
@role_required("staff")
def edit(card_id):
    """The designer's one Save: the card, its name and its after-click settings together; a
    mistake in any of them saves nothing and shows it at its field."""
    card = db.get_or_404(Card, card_id)
    latest = card.latest
    form = CardForm(name=card.name, template_card=json.dumps(latest.template_card))
    card_valid = form.validate_on_submit()
    template_card = getattr(form, "card", None) or latest.template_card
    after = after_click_form(template_card, latest.after_click)
    posted = after is not None and after.mode.name in request.form  # absent: keep the version's
    if card_valid and (not posted or after.validate()):
        version, is_new = service.save_card(card, form.name.data, form.card,
                                            after_click=after.settings if posted else None)
        db.session.commit()
        flash(_saved_message(card, version, is_new), "success")
        return _after_save(card)
    return _designer(card, form, template_card, after)


def _after_save(card: Card) -> Response:
    """Back to the designer, or on to a new campaign with this card ("Send this card")."""
    if request.form.get("next") != "send":
        return redirect(url_for(".edit", card_id=card.id))
    if problems := service.card_problems(card):
        flash(ngettext("Not sent: %(num)s problem — can't be used in a campaign until fixed.",
                       "Not sent: %(num)s problems — can't be used in a campaign until fixed.",
                       len(problems)), "warning")
        return redirect(url_for(".edit", card_id=card.id))
    return redirect(url_for("campaigns.new", card=card.id))


def _designer(card: Card | None, form: CardForm, template_card: dict, after) -> str:
    """The designer page, for a saved card or (card None) an unsaved copy of a starter."""
    problems = service.card_problems(card) if card else service.card_problems(template_card)
    return render_template("cards/edit.html", card=card, form=form,
                           title=card.name if card else form.name.data,
                           card_type=card.card_type if card else template_card.get("card_type"),
                           data=_designer_data(card, template_card), problems=problems,
                           types=TYPE_LABELS, after_click_form=after)


@bp.route("/preview", methods=["POST"])
@role_required("staff")
def preview():
    form = PreviewForm()
    if not form.validate_on_submit():
        return {"errors": _messages(form)}, 400
    return _json(service.preview(form.card))


@bp.route("/import", methods=["POST"])
@role_required("staff")
def import_card():
    form = ImportForm()
    if not form.validate_on_submit():
        return {"errors": _messages(form)}, 400
    return _json({"template_card": form.card, "notes": form.notes, **service.preview(form.card)})


@bp.route("/<int:card_id>/autosave", methods=["POST"])
@role_required("staff")
def autosave(card_id):
    card = db.get_or_404(Card, card_id)
    form = PreviewForm()
    if not form.validate_on_submit():
        return {"errors": _messages(form)}, 400
    service.autosave(card, form.card, form.name.data)
    db.session.commit()
    return {"saved_at": card.draft["saved_at"]}


@bp.route("/<int:card_id>/draft/discard", methods=["POST"])
@role_required("staff")
def discard_draft(card_id):
    service.discard_draft(db.get_or_404(Card, card_id))
    db.session.commit()
    return {"discarded": True}


@bp.route("/<int:card_id>/clone", methods=["POST"])
@role_required("staff")
def clone(card_id):
    card = db.get_or_404(Card, card_id)
    copy = service.clone_card(card)
    db.session.commit()
    flash(_("Cloned “%(name)s”: you are editing the copy.", name=card.name), "success")
    return redirect(url_for(".edit", card_id=copy.id))


@bp.route("/<int:card_id>/archive", methods=["POST"])
@role_required("staff")
def archive(card_id):
    card = db.get_or_404(Card, card_id)
    service.set_archived(card, not card.archived)
    db.session.commit()
    flash(_("“%(name)s” archived.", name=card.name) if card.archived
          else _("“%(name)s” restored.", name=card.name), "success")
    return redirect(url_for(".index", archived="1" if not card.archived else None))


@bp.route("/<int:card_id>/delete", methods=["POST"])
@role_required("staff")
def delete(card_id):
    card = db.get_or_404(Card, card_id)
    try:
        service.delete_card(card)
    except service.CardInUse as exc:
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("“%(name)s” deleted.", name=card.name), "success")
    return redirect(url_for(".index"))


@bp.route("/<int:card_id>/history")
@role_required("staff")
def history(card_id):
    card = db.get_or_404(Card, card_id)
    numbers = [v.number for v in card.versions]
    new = request.args.get("b", numbers[-1], type=int)
    old = request.args.get("a", numbers[-2] if len(numbers) > 1 else new, type=int)
    versions = {v.number: v for v in card.versions}
    if old not in versions or new not in versions:
        abort(404)
    rows = queries.diff(versions[old].template_card, versions[new].template_card)
    return render_template("cards/history.html", card=card, old=versions[old], new=versions[new],
                           rows=rows, pinned=service.pinned_version_ids(card))


@bp.route("/<int:card_id>/versions/<int:number>.json")
@role_required("staff")
def download(card_id, number):
    version = db.first_or_404(db.select(CardVersion).filter_by(card_id=card_id, number=number))
    body = json.dumps(version.template_card, ensure_ascii=False, indent=2)
    filename = f"card-{card_id}-v{number}.json"
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _designer_data(card: Card | None, template_card: dict) -> Markup:
    """Everything designer.js needs, as one JSON block (no inline script), keys in card order.
    An unsaved card has no autosave: drafts belong to a card row."""
    urls = {"preview": url_for(".preview"), "import": url_for(".import_card")}
    if card is not None:
        urls |= {"autosave": url_for(".autosave", card_id=card.id),
                 "discard": url_for(".discard_draft", card_id=card.id)}
    return htmlsafe_json_dumps({
        "spec": designer_spec(),
        "card": template_card,
        "draft": queries.pending_draft(card) if card else None,
        "unsaved": request.method == "POST",  # a Save that was refused: what is shown is not kept
        "urls": urls,
    }, dumps=json.dumps, default=_text)


def _text(value) -> str:
    """The spec's labels and help are lazy strings: JSON gets them in the page's language."""
    if isinstance(value, LazyString):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _saved_message(card: Card, version: CardVersion, is_new: bool) -> str:
    problems = len(service.card_problems(version))
    values = {"name": card.name, "number": version.number, "previous": version.number - 1}
    if is_new and version.number > 1:
        if problems:
            return ngettext("Saved “%(name)s” as version %(number)s (version %(previous)s is used "
                            "by a campaign). %(num)s problem — can't be used in a campaign until "
                            "fixed.",
                            "Saved “%(name)s” as version %(number)s (version %(previous)s is used "
                            "by a campaign). %(num)s problems — can't be used in a campaign until "
                            "fixed.", problems, **values)
        return _("Saved “%(name)s” as version %(number)s (version %(previous)s is used by a "
                 "campaign).", **values)
    if problems:
        return ngettext("Saved “%(name)s”. %(num)s problem — can't be used in a campaign until "
                        "fixed.",
                        "Saved “%(name)s”. %(num)s problems — can't be used in a campaign until "
                        "fixed.", problems, name=card.name)
    return _("Saved “%(name)s”.", name=card.name)


def _json(value) -> Response:
    """JSON in the payload builder's key order (Flask's jsonify would sort the keys)."""
    return Response(json.dumps(value, ensure_ascii=False), mimetype="application/json")


def _messages(form) -> list[dict]:
    return [{"path": "" if name in ("template_card", "text") else name, "message": message}
            for name, messages in form.errors.items() for message in messages]
