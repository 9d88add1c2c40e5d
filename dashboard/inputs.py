"""Text holding the NUL character is refused before any view runs: PostgreSQL can store it neither
in text nor in JSONB, WeCom's XML cannot carry it, and nobody types it, so it is a 400 rather
than a database error deep inside a write. The API checks its JSON bodies at each path itself."""
import re

from flask import abort, request
from flask_babel import gettext as _

# The character itself, or JSON's escape for it (after an even number of backslashes, if any).
NUL = re.compile(r"\x00|(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def init_app(app) -> None:
    app.before_request(refuse_nul)


def refuse_nul():
    if NUL.search(request.path):
        abort(400, _("The address contains the NUL character, which no name or id here can hold."))
    for name, value in request.args.items(multi=True):
        if NUL.search(name) or NUL.search(value):
            abort(400, _("The query parameter “%(name)s” contains the NUL character (\\u0000), which "
                         "text here cannot hold. Remove it and try again.", name=name[:40]))
    for name, value in request.form.items(multi=True):
        if NUL.search(name) or NUL.search(value):
            abort(400, _("The form field “%(name)s” contains the NUL character (\\u0000), which text "
                         "here cannot hold. Remove it and try again.", name=name[:40]))
