"""Charts for the PDF reports: pygal SVG, embedded in the page as a data URI image.

Labels are Chinese, so the style names the CJK fonts fontconfig finds (WeasyPrint draws the
SVG's text with them). Charts are static: no tooltips, no scripts.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

import pygal
from pygal.style import Style

FONTS = '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Source Han Sans SC", sans-serif'
STYLE = Style(
    font_family=FONTS, background="white", plot_background="white",
    foreground="#333", foreground_strong="#111", foreground_subtle="#ccc",
    colors=("#2f6fb0", "#d9822b", "#3a9d5d", "#b8433c", "#7a5aa6", "#8c8c8c"),
    title_font_size=16, label_font_size=12, major_label_font_size=12, legend_font_size=12,
    value_font_size=11,
)
OPTIONS = {"style": STYLE, "width": 760, "height": 340, "js": [], "disable_xml_declaration":
           True, "print_values": False, "legend_at_bottom": True, "truncate_label": -1,
           "truncate_legend": -1, "explicit_size": True}


def data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def bars(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> str:
    chart = pygal.Bar(title=title, x_label_rotation=30 if len(labels) > 6 else 0, **OPTIONS)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return data_uri(chart.render(is_unicode=True))


def lines(title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]]) -> str:
    chart = pygal.Line(title=title, x_label_rotation=30 if len(labels) > 6 else 0,
                       show_dots=True, **OPTIONS)
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return data_uri(chart.render(is_unicode=True))


def pie(title: str, parts: dict[str, float]) -> str:
    chart = pygal.Pie(title=title, inner_radius=0.4, **OPTIONS)
    for name, value in parts.items():
        chart.add(name, value)
    return data_uri(chart.render(is_unicode=True))
