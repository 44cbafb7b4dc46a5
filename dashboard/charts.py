"""Plotly figures built on the server from the dashboard's plain data.

The page carries each figure as JSON in a ``<script type="application/json">``
block; ``portal/static/js/dashboard.js`` draws it with the plotly.js that the
app serves itself (no CDN; the CSP allows no inline script).

Readable without colour: every status has its own marker symbol and its own
word in the legend and hover text, the target is a dashed line, and each
chart has a data table next to it.

Figures are plain dicts in plotly's JSON schema, not ``plotly.graph_objects``:
the objects validate every property on construction and on ``to_json``, which
cost ~14 ms per dashboard request (bench/bench_dashboard.py) for the same
JSON. The layout carries plotly.py's default template, as ``go.Figure`` did,
so the charts look the same.
"""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from functools import lru_cache

from dashboard.services import Headline, MunicipalityRow, cumulative
from portal.timeutil import fiscal_year_label, wareki
from tenants.rollout.models import NetworkStatus

FONT = "Noto Sans JP, Hiragino Sans, Meiryo, sans-serif"

# Colour and marker symbol (the shapes of the page's own labels: ● ◆ ×).
STATUS_STYLE = {
    NetworkStatus.ESTABLISHED: ("#197a4b", "circle"),
    NetworkStatus.PREPARING: ("#b45f00", "diamond"),
    NetworkStatus.NOT_STARTED: ("#6e6e6e", "x-thin-open"),
}

CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "locale": "ja",
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toImage"],
}


@lru_cache(maxsize=1)
def _template() -> dict:
    """plotly.py's default template as JSON data (what go.Figure put into every layout)."""
    import plotly.graph_objects as go

    return json.loads(go.Figure().to_json())["layout"]["template"]


def _title(value) -> dict:
    return value if isinstance(value, dict) else {"text": value}


def _scatter(**props) -> dict:
    return {**props, "type": "scatter"}


def _layout(**extra) -> dict:
    for axis in ("xaxis", "yaxis"):
        if axis in extra and "title" in extra[axis]:
            extra[axis] = {**extra[axis], "title": _title(extra[axis]["title"])}
    base = dict(
        template=_template(),
        font=dict(family=FONT, size=14, color="#1a1a1a"),
        margin=dict(l=48, r=16, t=16, b=48),
        paper_bgcolor="#ffffff",
        plot_bgcolor="#ffffff",
        hoverlabel=dict(font=dict(family=FONT)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        # No height: the chart fills its element, whose height the stylesheet sets, so the
        # drawing never overflows onto what follows it (「グラフの数値（表）」 at 360 px).
        autosize=True,
    )
    return {**base, **extra}


def progress_figure(rows: list[MunicipalityRow], head: Headline, today: date) -> dict:
    """Cumulative 設置済 over time against the line to the target."""
    points = cumulative(rows)
    data: list[dict] = []
    if points:
        xs = [p[0] for p in points] + [today]
        ys = [p[1] for p in points] + [points[-1][1]]
        hover = [f"{wareki(d)}: {name}（累計 {n}）" for d, n, name in points] + [f"{wareki(today)} 現在: {head.established}"]
    else:
        xs, ys, hover = [today], [0], [f"{wareki(today)} 現在: 0"]
    data.append(_scatter(
        x=[d.isoformat() for d in xs], y=ys, name=f"設置済（累計）: {head.established}",
        mode="lines+markers", line=dict(shape="hv", width=3, color="#0017c1"),
        marker=dict(symbol="circle", size=7), hovertext=hover, hoverinfo="text",
    ))
    target_x = [today.isoformat(), head.target_date.isoformat()]
    data.append(_scatter(
        x=target_x, y=[head.established, head.target],
        name=f"目標: {fiscal_year_label(head.target_date)}末までに {head.target}",
        mode="lines+markers+text", line=dict(dash="dash", width=2, color="#b45f00"),
        marker=dict(symbol="star", size=10), text=["", f"目標 {head.target}"], textposition="top left",
        hovertext=[f"{wareki(today)}: {head.established}", f"{wareki(head.target_date)}: 目標 {head.target}"],
        hoverinfo="text",
    ))
    start = (points[0][0] if points else today) - timedelta(days=180)
    return {"data": data, "layout": _layout(
        xaxis=dict(title="", type="date", range=[start.isoformat(), (head.target_date + timedelta(days=120)).isoformat()],
                   gridcolor="#e6e6e6", tickformat="%Y"),
        yaxis=dict(title="市町村数", range=[0, head.total * 1.18 + 1], gridcolor="#e6e6e6", rangemode="tozero"),
    )}


def map_figure(rows: list[MunicipalityRow]) -> dict:
    """Every municipality at its coordinates, by status. A plain lon/lat scatter: no tiles, no topojson."""
    data: list[dict] = []
    for status in (NetworkStatus.ESTABLISHED, NetworkStatus.PREPARING, NetworkStatus.NOT_STARTED):
        mine = [r for r in rows if r.status == status]
        colour, symbol = STATUS_STYLE[status]
        data.append(_scatter(
            x=[r.longitude for r in mine], y=[r.latitude for r in mine],
            # The legend draws the marker itself: a glyph in the name would show the symbol twice.
            mode="markers", name=f"{status.label}（{len(mine)}）",
            marker=dict(symbol=symbol, size=13 if status != NetworkStatus.NOT_STARTED else 11, color=colour,
                        line=dict(width=1.5, color="#ffffff" if status != NetworkStatus.NOT_STARTED else colour)),
            hovertext=[f"{r.name}（{status.label}）" + ("　⚠要確認" if r.flagged else "") for r in mine],
            hoverinfo="text",
            customdata=[r.code for r in mine],
        ))
    flagged = [r for r in rows if r.flagged]
    if flagged:
        data.append(_scatter(
            x=[r.longitude for r in flagged], y=[r.latitude for r in flagged], mode="markers",
            name=f"要確認（{len(flagged)}）",
            marker=dict(symbol="circle-open", size=22, color="#ce0000", line=dict(width=2)),
            hovertext=[f"{r.name}: 要確認" for r in flagged], hoverinfo="text",
            customdata=[r.code for r in flagged],
        ))
    # Label the cities so the map can be read without hovering (towns stay as markers).
    labelled = [r for r in rows if r.is_city] if len(rows) <= 100 else [r for r in rows if r.kind_label == "政令指定都市"]
    data.append(_scatter(
        x=[r.longitude for r in labelled], y=[r.latitude for r in labelled], mode="text",
        text=[r.name for r in labelled], textposition="top center", textfont=dict(size=10, color="#4d4d4d"),
        hoverinfo="skip", showlegend=False,
    ))
    if rows:
        lats = [r.latitude for r in rows]
        lons = [r.longitude for r in rows]
        mid_lat = (min(lats) + max(lats)) / 2
        pad_lat = max((max(lats) - min(lats)) * 0.08, 0.05)
        pad_lon = max((max(lons) - min(lons)) * 0.05, 0.05)
        xrange = [min(lons) - pad_lon, max(lons) + pad_lon]
        yrange = [min(lats) - pad_lat, max(lats) + pad_lat]
        # One degree of longitude is cos(latitude) degrees of latitude on the ground.
        ratio = 1 / math.cos(math.radians(mid_lat))
    else:
        xrange, yrange, ratio = [138, 140], [35, 37], 1.2
    return {"data": data, "layout": _layout(
        xaxis=dict(range=xrange, visible=False, fixedrange=False),
        yaxis=dict(range=yrange, visible=False, scaleanchor="x", scaleratio=ratio),
        plot_bgcolor="#f2f6fb",
        dragmode="pan",
    )}


def to_json(fig: dict) -> str:
    """Figure and config as JSON, safe inside a <script type="application/json"> block."""
    payload = {**fig, "config": CONFIG}
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
