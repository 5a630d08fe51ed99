"""Server-rendered SVG charts of quality figures. No JavaScript, no inline styles (the CSP forbids them): shapes
carry classes styled in trede.css and presentation attributes. Each chart has a <title> and <desc> and is only
a picture of the table that always stands beside it, which holds the numbers."""

from __future__ import annotations

from markupsafe import Markup, escape

from apps.quality.benchmark import Spread
from apps.quality.indicators import Norm, fmt
from core.formatting import aantal

WIDTH = 640
LEFT = 190  # room for provider names
RIGHT = 24
ROW = 28
TOP = 28
BOTTOM = 36


def _scale(values: list[float], norm: Norm | None) -> tuple[float, float]:
    candidates = [v for v in values if v is not None]
    if norm:
        candidates += [b for b in (norm.min, norm.max) if b is not None]
    low = min([0.0, *candidates])
    high = max([1.0, *candidates])
    return low, high + (high - low) * 0.08


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = (high - low) / count
    magnitude = 10 ** max(0, len(str(int(step))) - 1)
    step = max(1, round(step / magnitude)) * magnitude if step >= 1 else round(step, 2) or 0.1
    ticks, tick = [], low
    while tick <= high + 1e-9:
        ticks.append(round(tick, 2))
        tick += step
    return ticks


def _svg(chart_id: str, title: str, description: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="trede-grafiek" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'role="img" aria-labelledby="{escape(chart_id)}-titel {escape(chart_id)}-uitleg" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(chart_id)}-titel">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-uitleg">{escape(description)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")


def _norm_lines(x, norm: Norm | None, top: float, bottom: float, unit: str) -> list[str]:
    out = []
    if not norm:
        return out
    for bound, label in ((norm.min, "norm min."), (norm.max, "norm max.")):
        if bound is None:
            continue
        out.append(f'<line class="trede-grafiek__norm" x1="{x(bound):.1f}" x2="{x(bound):.1f}" y1="{top}" '
                   f'y2="{bottom}" stroke-dasharray="6 4"/>'
                   f'<text class="trede-grafiek__label" x="{x(bound):.1f}" y="{top - 6}" text-anchor="middle">'
                   f'{escape(label)} {escape(fmt(bound, unit))}</text>')  # fmt: skip
    return out


def benchmark_chart(chart_id: str, title: str, rows: list[dict], region_spread: Spread | None, norm: Norm | None,
                    unit: str, highlight=None) -> Markup:  # fmt: skip
    """One row per provider: its figure as a dot, the region's P25–P75 as a band, the median and norm as lines."""
    shown = [r for r in rows if r["value"] is not None]
    height = TOP + max(1, len(shown)) * ROW + BOTTOM
    low, high = _scale([r["value"] for r in shown], norm)
    span = high - low or 1

    def x(value: float) -> float:
        return LEFT + (value - low) / span * (WIDTH - LEFT - RIGHT)

    plot_bottom = TOP + len(shown) * ROW
    body = []
    for tick in _ticks(low, high):
        body.append(f'<line class="trede-grafiek__raster" x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{TOP}" '
                    f'y2="{plot_bottom}"/><text class="trede-grafiek__as" x="{x(tick):.1f}" y="{plot_bottom + 16}" '
                    f'text-anchor="middle">{escape(fmt(tick))}</text>')  # fmt: skip
    if region_spread:
        body.append(f'<rect class="trede-grafiek__band" x="{x(region_spread.p25):.1f}" y="{TOP}" '
                    f'width="{max(2.0, x(region_spread.p75) - x(region_spread.p25)):.1f}" '
                    f'height="{plot_bottom - TOP}"/>'
                    f'<line class="trede-grafiek__mediaan" x1="{x(region_spread.median):.1f}" '
                    f'x2="{x(region_spread.median):.1f}" y1="{TOP - 4}" y2="{plot_bottom}"/>'
                    f'<text class="trede-grafiek__label" x="{x(region_spread.median):.1f}" y="{plot_bottom + 30}" '
                    f'text-anchor="middle">mediaan {escape(fmt(region_spread.median, unit))}</text>')  # fmt: skip
    body += _norm_lines(x, norm, TOP, plot_bottom, unit)
    for index, row in enumerate(shown):
        y = TOP + index * ROW + ROW / 2
        mine = highlight is not None and row["provider_id"] == highlight
        marker = "trede-grafiek__punt trede-grafiek__punt--gekozen" if mine else "trede-grafiek__punt"
        name = row["name"] if len(row["name"]) <= 26 else row["name"][:25] + "…"
        body.append(
            f'<text class="trede-grafiek__naam{" trede-grafiek__naam--gekozen" if mine else ""}" x="{LEFT - 8}" '
            f'y="{y + 4:.1f}" text-anchor="end">{escape(name)}</text>'
            f'<circle class="{marker}" cx="{x(row["value"]):.1f}" cy="{y:.1f}" r="{8 if mine else 5}"/>'
        )
    description = (
        f"{aantal(len(shown), 'aanbieder', 'aanbieders')}. "
        + (f"Mediaan {fmt(region_spread.median, unit)}, middelste helft van {fmt(region_spread.p25, unit)} tot "
           f"{fmt(region_spread.p75, unit)}. " if region_spread else "Nog geen cijfers. ")
        + (f"Norm: {norm.text(unit)}. " if norm else "")
        + "De cijfers staan in de tabel naast de grafiek."
    )  # fmt: skip
    return _svg(chart_id, title, description, height, body)


def history_chart(chart_id: str, title: str, points: list[dict], norm: Norm | None, unit: str,
                  own_label: str = "aanbieder") -> Markup:  # fmt: skip
    """Periods from left to right: the provider's figures as a line with dots, the region's median as a dashed
    line and its P25–P75 as a band (when the points carry a spread), the norm as dotted lines."""
    height = 240
    left, top, bottom = 56, 24, height - 44
    values = [p["value"] for p in points if p["value"] is not None]
    for p in points:
        s = p.get("spread")
        if s:
            values += [s.p25, s.p75]
        elif p.get("median") is not None:
            values.append(p["median"])
    low, high = _scale(values, norm)
    span = high - low or 1
    step = (WIDTH - left - RIGHT) / max(1, len(points) - 1)

    def px(index: int) -> float:
        return left + index * step if len(points) > 1 else (left + WIDTH - RIGHT) / 2

    def py(value: float) -> float:
        return bottom - (value - low) / span * (bottom - top)

    body = []
    for tick in _ticks(low, high, 4):
        body.append(f'<line class="trede-grafiek__raster" x1="{left}" x2="{WIDTH - RIGHT}" y1="{py(tick):.1f}" '
                    f'y2="{py(tick):.1f}"/><text class="trede-grafiek__as" x="{left - 6}" y="{py(tick) + 4:.1f}" '
                    f'text-anchor="end">{escape(fmt(tick))}</text>')  # fmt: skip
    for index, p in enumerate(points):
        body.append(f'<text class="trede-grafiek__as" x="{px(index):.1f}" y="{bottom + 18}" text-anchor="middle">'
                    f'{escape(p["period"])}</text>')  # fmt: skip
    band = [(i, p["spread"]) for i, p in enumerate(points) if p.get("spread")]
    if len(band) > 1:
        upper = " ".join(f"{px(i):.1f},{py(s.p75):.1f}" for i, s in band)
        lower = " ".join(f"{px(i):.1f},{py(s.p25):.1f}" for i, s in reversed(band))
        body.append(f'<polygon class="trede-grafiek__band" points="{upper} {lower}"/>')
    medians = [(i, p["spread"].median if p.get("spread") else p.get("median")) for i, p in enumerate(points)]
    medians = [(i, m) for i, m in medians if m is not None]
    if medians:
        body.append('<polyline class="trede-grafiek__mediaanlijn" fill="none" stroke-dasharray="6 4" points="'
                    + " ".join(f"{px(i):.1f},{py(m):.1f}" for i, m in medians) + '"/>')  # fmt: skip
        for i, m in medians:
            body.append(f'<rect class="trede-grafiek__mediaanpunt" x="{px(i) - 4:.1f}" y="{py(m) - 4:.1f}" '
                        f'width="8" height="8"/>')  # fmt: skip
    if norm:
        for bound in (norm.min, norm.max):
            if bound is not None:
                body.append(f'<line class="trede-grafiek__norm" x1="{left}" x2="{WIDTH - RIGHT}" y1="{py(bound):.1f}" '
                            f'y2="{py(bound):.1f}" stroke-dasharray="2 4"/>')  # fmt: skip
    own = [(i, p["value"]) for i, p in enumerate(points) if p["value"] is not None]
    if len(own) > 1:
        body.append('<polyline class="trede-grafiek__lijn" fill="none" points="'
                    + " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in own) + '"/>')  # fmt: skip
    for i, v in own:
        body.append(f'<circle class="trede-grafiek__punt trede-grafiek__punt--gekozen" cx="{px(i):.1f}" '
                    f'cy="{py(v):.1f}" r="5"/>')  # fmt: skip
    legend_y = height - 10
    body.append(
        f'<circle class="trede-grafiek__punt trede-grafiek__punt--gekozen" cx="{left + 6}" cy="{legend_y - 4}" r="5"/>'
        f'<text class="trede-grafiek__label" x="{left + 16}" y="{legend_y}">{escape(own_label)}</text>'
        f'<rect class="trede-grafiek__mediaanpunt" x="{left + 200}" y="{legend_y - 8}" width="8" height="8"/>'
        f'<text class="trede-grafiek__label" x="{left + 214}" y="{legend_y}">mediaan van de regio</text>'
        + (f'<rect class="trede-grafiek__band" x="{left + 380}" y="{legend_y - 10}" width="16" height="12"/>'
           f'<text class="trede-grafiek__label" x="{left + 402}" y="{legend_y}">middelste helft (P25–P75)</text>'
           if band else "")
    )  # fmt: skip
    given = len(own)
    description = (
        f"{given} van {len(points)} perioden met een cijfer van {own_label}"
        + (f"; norm: {norm.text(unit)}" if norm else "")
        + ". De cijfers staan in de tabel bij de grafiek."
    )
    return _svg(chart_id, title, description, height, body)
