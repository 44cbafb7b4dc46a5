from __future__ import annotations

from flask_wtf.file import FileField, FileRequired

from portal.forms import FlaskForm


class UploadForm(FlaskForm):
    file = FileField(
        "名簿ファイル（CSV または Excel）",
        validators=[FileRequired("ファイルを選んでください。")],
        render_kw={"accept": ".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    )
