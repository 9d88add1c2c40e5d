"""Text holding the NUL character is refused before any view runs: PostgreSQL can store it neither
in text nor in JSONB, WeCom's XML cannot carry it, and nobody types it, so it is a 400 rather
than a database error deep inside a write. The API checks its JSON bodies at each path itself."""
import re

from flask import abort, request

# The character itself, or JSON's escape for it (after an even number of backslashes, if any).
NUL = re.compile(r"\x00|(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


def init_app(app) -> None:
    app.before_request(refuse_nul)


def refuse_nul():
    if NUL.search(request.path):
        abort(400, "The address contains the NUL character, which no name or id here can hold.")
    for where, fields in (("query parameter", request.args), ("form field", request.form)):
        for name, value in fields.items(multi=True):
            if NUL.search(name) or NUL.search(value):
                abort(400, f"The {where} “{name[:40]}” contains the NUL character (\\u0000), "
                           "which text here cannot hold. Remove it and try again.")
