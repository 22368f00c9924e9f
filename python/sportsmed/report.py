"""Self-contained HTML reports (the athlete screening report and the demo).

A :class:`Report` holds :class:`Section` objects; each section holds paragraphs, notes,
key figures, tables and matplotlib figures. The HTML is one file with inline CSS and
figures embedded as base64 PNG or inline SVG: it opens offline and references no
network resource. Pillars add their own sections; this module knows nothing of them.

Example
-------
>>> rep = Report("Screening: athlete 07")
>>> sec = rep.section("Drop vertical jump")
>>> sec.metrics({"Knee abduction at IC (deg)": 6.2})
>>> rep.save("report.html")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Union

from ._io import write_text_atomic

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1000px;
margin:2em auto;padding:0 1em;color:#1d232a;line-height:1.45}
h1{border-bottom:3px solid #2b6cb0;padding-bottom:.2em}h2{color:#2b6cb0;margin-top:1.8em}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
th,td{border:1px solid #cbd5e0;padding:.3em .6em;text-align:right}
th{background:#edf2f7}td.text,th.text{text-align:left}caption{caption-side:bottom;
color:#4a5568;font-size:.88em;padding-top:.3em}figure{margin:1em 0}
figcaption{color:#4a5568;font-size:.88em}img{max-width:100%}
dl.metrics{display:grid;grid-template-columns:max-content auto;gap:.2em 1.2em}
dl.metrics dt{font-weight:600}dl.metrics dd{margin:0}
.note{padding:.5em .8em;border-left:4px solid #3182ce;background:#ebf8ff;margin:.8em 0}
.note.warning{border-color:#dd6b20;background:#fffaf0}
footer{margin-top:3em;color:#718096;font-size:.8em;border-top:1px solid #e2e8f0}
"""


def _format_cell(value: Any, float_format: str) -> tuple[str, bool]:
    """Formats one table cell; returns (escaped text, is_text)."""
    if value is None:
        return "", True
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return ("yes" if value else "no"), True
    if isinstance(value, numbers.Integral):
        return str(int(value)), False
    if isinstance(value, numbers.Real):
        f = float(value)
        return ("–" if math.isnan(f) else html.escape(float_format.format(f))), False
    return html.escape(str(value)), True


@dataclass
class Section:
    """One titled part of a report. Build it with :meth:`Report.section`."""

    title: str
    _parts: list = field(default_factory=list)

    def text(self, text: str) -> "Section":
        """Adds a paragraph of plain text (HTML-escaped)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")
        return self

    def note(self, text: str, kind: str = "info") -> "Section":
        """Adds a highlighted note; ``kind`` is ``"info"`` or ``"warning"``."""
        if kind not in ("info", "warning"):
            raise ValueError(f"note: kind must be 'info' or 'warning', got {kind!r}")
        self._parts.append(f'<div class="note {kind}">{html.escape(text)}</div>')
        return self

    def metrics(self, values: Mapping[str, Any], float_format: str = "{:.3g}") -> "Section":
        """Adds key figures as a name → value list (units belong in the names)."""
        items = []
        for name, value in values.items():
            cell, _ = _format_cell(value, float_format)
            items.append(f"<dt>{html.escape(str(name))}</dt><dd>{cell}</dd>")
        self._parts.append('<dl class="metrics">' + "".join(items) + "</dl>")
        return self

    def table(self, data: Any, caption: Optional[str] = None, float_format: str = "{:.4g}",
              index: bool = False) -> "Section":
        """Adds a table.

        Parameters
        ----------
        data : pandas.DataFrame, sequence of mappings, or mapping of column -> sequence
            The rows. A DataFrame's index is shown when ``index`` is true.
        caption : str, optional
            Shown under the table.
        float_format : str
            ``str.format`` pattern for floating-point cells; NaN shows as an en dash.
        """
        columns, rows = _table_rows(data, index)
        head = "".join(f'<th class="text">{html.escape(str(c))}</th>' for c in columns)
        body = []
        for row in rows:
            cells = []
            for value in row:
                text, is_text = _format_cell(value, float_format)
                cells.append(f'<td class="text">{text}</td>' if is_text else f"<td>{text}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self._parts.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        return self

    def figure(self, fig: Any, caption: Optional[str] = None, fmt: str = "png", dpi: int = 110,
               close: bool = True) -> "Section":
        """Embeds a matplotlib figure as a base64 PNG (default) or inline SVG.

        The figure is closed afterwards unless ``close`` is false, so that report
        building does not accumulate open figures.
        """
        if fmt not in ("png", "svg"):
            raise ValueError(f"figure: fmt must be 'png' or 'svg', got {fmt!r}")
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
        alt = html.escape(caption or self.title, quote=True)
        if fmt == "png":
            data = base64.b64encode(buf.getvalue()).decode("ascii")
            content = f'<img alt="{alt}" src="data:image/png;base64,{data}">'
        else:
            svg = buf.getvalue().decode("utf-8")
            content = svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f"<figure>{content}{cap}</figure>")
        return self

    def html(self) -> str:
        """This section as an HTML fragment."""
        return f"<section><h2>{html.escape(self.title)}</h2>{''.join(self._parts)}</section>"


def _table_rows(data: Any, index: bool) -> tuple[list, list]:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        frame = data.reset_index() if index else data
        return [str(c) for c in frame.columns], [list(r) for r in frame.itertuples(index=False)]
    if isinstance(data, Mapping):
        columns = list(data.keys())
        lengths = {len(v) for v in data.values()}
        if len(lengths) > 1:
            raise ValueError(f"table: columns have different lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        return columns, [[data[c][i] for c in columns] for i in range(n)]
    rows = list(data) if isinstance(data, (list, tuple)) else None
    if rows is not None and all(isinstance(r, Mapping) for r in rows):
        columns: list = []
        for r in rows:
            columns += [k for k in r if k not in columns]
        return columns, [[r.get(c) for c in columns] for r in rows]
    raise TypeError("table: expected a DataFrame, a mapping of columns or a sequence of mappings, "
                    f"got {type(data).__name__}")


class Report:
    """An HTML report made of sections.

    Parameters
    ----------
    title : str
        Page title and top heading.
    subtitle : str, optional
        A line under the title (athlete, session, date ...).
    """

    def __init__(self, title: str, subtitle: Optional[str] = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self.sections: list[Section] = []

    def section(self, title: str) -> Section:
        """Appends and returns a new section."""
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def to_html(self) -> str:
        """The complete HTML document."""
        from . import _core

        info = _core.build_info()
        stamp = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        body = "".join(s.html() for s in self.sections)
        footer = (f"Generated {html.escape(stamp)} by sportsmed {html.escape(info['version'])} "
                  f"(LibTorch {html.escape(info['torch_version'])}, {info['num_threads']} threads).")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1>{sub}{body}<footer>{footer}</footer></body></html>\n")

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Writes the report to ``path`` atomically (temporary file, then rename)."""
        path = Path(path)
        text = self.to_html()
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(path, text)

