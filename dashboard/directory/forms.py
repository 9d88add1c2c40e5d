from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, FileSize
from wtforms import HiddenField, SubmitField

MAX_EXPORT = 20 * 1024 * 1024  # bytes; a 100,000-member export is a few megabytes


class ReadForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField(_l("Read the directory now"))


class ImportForm(FlaskForm):
    export = FileField(_l("Member export (XLSX or CSV)"),
                       validators=[FileRequired(_l("Choose the exported file.")),
                                   FileSize(MAX_EXPORT, message=_l("The file is larger than 20 MB."))])
    submit = SubmitField(_l("Import names"))
