"""The prefecture's dashboard: every municipality's progress, in aggregates only."""

from __future__ import annotations

from flask import Flask, url_for


def register(app: Flask) -> None:
    from dashboard import cli, models, summary, vendor, views  # noqa: F401  (models: the tables it owns; summary: its listeners)

    app.register_blueprint(views.bp)
    cli.register_cli(app)

    @app.template_filter("town_value")
    def town_value(value) -> str:
        """A checklist change as people read it."""
        if value is True:
            return "はい"
        if value is False:
            return "いいえ"
        if value in (None, ""):
            return "（なし）"
        return str(value)

    @app.template_global()
    def plotly_js_url() -> str:
        return url_for("dashboard.plotly_js", version=vendor.VERSION)

    @app.template_global()
    def plotly_css_url() -> str:
        return url_for("dashboard.plotly_css", version=vendor.VERSION)

    @app.template_global()
    def plotly_style_ids() -> dict[str, str]:
        """The ids plotly.js looks for before it injects <style> elements (see vendor.py)."""
        return {"plotly": vendor.PLOTLY_STYLE_ID, "maplibre": vendor.maplibre_style_id()}
