"""The directory's pages: what is cached and how current it is, the members, a read on request, a
page that waits for the first read, and the import of names from the admin console's export."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..auth import role_required
from ..auth.service import safe_next
from ..extensions import db
from ..models import utcnow
from ..i18n import format_time
from . import imports, search, service, snapshot
from .forms import ImportForm, ReadForm

bp = Blueprint("directory", __name__, url_prefix="/directory")

#: change_contact's ChangeType, in the admin console's words
CHANGE_TYPES = {
    "create_user": _l("Member added"), "update_user": _l("Member changed"),
    "delete_user": _l("Member deleted"), "create_party": _l("Department added"),
    "update_party": _l("Department changed"), "delete_party": _l("Department deleted"),
    "update_tag": _l("Tag members changed"),
}

READERS = ("staff", "manager")


@bp.app_template_filter("change_type")
def change_type(value: str) -> str:
    return str(CHANGE_TYPES.get(value, value))


@bp.app_template_filter("person")
def person(userid: str | None) -> Markup | str:
    """A member as people know them: the name from the directory, the userid on hover (and
    shown as is when the directory does not know it). Names are read once per request."""
    if not userid:
        return ""
    if "directory_names" not in g:
        g.directory_names = snapshot.names()
    name = g.directory_names.get(userid)
    if not name or name == userid:
        return userid
    return Markup('<span class="person" title="{}">{}</span>').format(userid, name)


def first_need(next_url: str | None = None):
    """For a page that needs the directory: None when it was read, else the waiting page (which
    starts the read) to come back to ``next_url`` (default: this request's page)."""
    if not snapshot.never_read():
        return None
    return redirect(url_for("directory.reading", next=next_url or request.full_path.rstrip("?")))


@bp.route("/")
@role_required(*READERS)
def index():
    department, tag = request.args.get("department", type=int), request.args.get("tag", type=int)
    q = request.args.get("q", "")[:64]
    page = snapshot.members(department=department, tag=tag, q=q,
                            page=max(1, request.args.get("page", 1, type=int)))
    return render_template("directory/index.html", status=service.status(), page=page, q=q,
                           department=department, tag=tag, tree=snapshot.department_tree(),
                           tags=snapshot.tags(), names=snapshot.department_names(),
                           read_form=ReadForm(), import_form=ImportForm())


@bp.route("/status")
@role_required(*READERS)
def status():
    """The state as JSON, polled by the waiting page and the index while a read runs."""
    state = service.status()
    return {**state, "read_at": state["read_at"] and state["read_at"].isoformat(),
            "read_at_text": format_time(state["read_at"]),
            "error_at": state["error_at"] and state["error_at"].isoformat(),
            "imported_at": state["imported_at"] and state["imported_at"].isoformat(),
            "next_read_at": state["next_read_at"] and state["next_read_at"].isoformat()}


@bp.route("/search")
@role_required(*READERS)
def search_json():
    """The people picker's options: people, departments and tags matching ``q`` (pinyin too)."""
    return {"items": search.search(request.args.get("q", "")[:64])}


@bp.route("/read", methods=["POST"])
@role_required(*READERS)
def read():
    form = ReadForm()
    target = safe_next(form.next.data) or url_for(".index")
    if form.validate_on_submit():
        if service.request_read(actor=current_user.username):
            flash(_("Reading the directory from WeCom; this page shows when it is done."), "info")
        else:
            flash(_("The directory is being read already."), "info")
        db.session.commit()
    return redirect(target)


@bp.route("/reading")
@role_required(*READERS)
def reading():
    """Waits for the first read (starting it) or the read under way, then goes on to ``next``;
    after a failed read (``failed``) shows why, with a button to try again."""
    target, since = safe_next(request.args.get("next")) or url_for(".index"), utcnow()
    if not snapshot.never_read() and not service.reading():
        return redirect(target)
    failed = bool(request.args.get("failed"))
    if not failed and not service.reading() and snapshot.never_read():
        service.request_read(actor=current_user.username)
        db.session.commit()
        if not snapshot.never_read():  # read at once (a queue run in place)
            return redirect(target)
    return render_template("directory/reading.html", status=service.status(), next_url=target,
                           failed=failed, since=since.isoformat(), read_form=ReadForm(next=target))


@bp.route("/import", methods=["POST"])
@role_required()  # admins only
def import_names():
    form = ImportForm()
    if not form.validate_on_submit():
        for error in form.export.errors:
            flash(str(error), "danger")
        return redirect(url_for(".index"))
    upload = form.export.data
    try:
        matched, problems = service.import_export(upload.filename or "", upload.read(), actor=current_user)
    except imports.ImportProblem as exc:
        db.session.rollback()
        flash(_("Nothing imported: %(reason)s", reason=str(exc)), "danger")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Names imported: %(users)s members and %(departments)s departments named.",
            users=len(matched.user_names), departments=len(matched.department_names)), "success")
    if matched.unknown_userids:
        flash(_("Not in the directory, so not imported: %(list)s", list=_shortlist(matched.unknown_userids)),
              "warning")
    if problems:
        flash(" ".join(str(p) for p in problems[:5]), "warning")
    return redirect(url_for(".index"))


def _shortlist(items: list[str], shown: int = 10) -> str:
    return ", ".join(items[:shown]) + (" …" if len(items) > shown else "")
