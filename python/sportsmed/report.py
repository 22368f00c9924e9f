"""Self-contained HTML reports (the athlete screening report and the demo).

A :class:`Report` holds :class:`Section` objects; each section holds paragraphs, notes,
key figures, tables, traffic-light flags and matplotlib figures. The HTML is one file
with inline CSS and figures embedded as base64 PNG or inline SVG: it opens offline and
references no network resource. It has a table of contents (anchors ``#sec-<n>``) and a
print stylesheet (A4, one section per page, figures and tables never cut).
:meth:`Report.to_json` is its twin: every number shown in a table, key-figure list or
flag, with the captions. Pillars add their own sections; this module knows nothing of them.

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
nav.toc{background:#f7fafc;border:1px solid #e2e8f0;padding:.5em 1em;margin:1em 0}
nav.toc ol{margin:.3em 0;padding-left:1.4em}nav.toc h2{margin:.2em 0;font-size:1.05em;color:#1d232a}
.flags{display:grid;gap:.6em;margin:.8em 0}
.flag{border:1px solid #cbd5e0;border-left:10px solid #a0aec0;padding:.5em .8em;border-radius:4px}
.flag.green{border-left-color:#2f855a}.flag.amber{border-left-color:#d69e2e}.flag.red{border-left-color:#c53030}
.flag.grey{border-left-color:#a0aec0;background:#f7fafc}
.flag .head{display:flex;justify-content:space-between;gap:1em;font-weight:600}
.flag .status{font-size:.8em;text-transform:uppercase;letter-spacing:.05em;padding:.1em .5em;border-radius:3px;
color:#fff;background:#718096;white-space:nowrap}
.flag.green .status{background:#2f855a}.flag.amber .status{background:#b7791f}.flag.red .status{background:#c53030}
.flag p{margin:.25em 0}.flag .src{color:#4a5568;font-size:.85em}
tr.implausible td{background:#fff5f5;color:#9b2c2c}
tr.flag-green td:nth-child(3){background:#2f855a;color:#fff}tr.flag-amber td:nth-child(3){background:#b7791f;color:#fff}
tr.flag-red td:nth-child(3){background:#c53030;color:#fff}tr.flag-grey td:nth-child(3){background:#a0aec0;color:#fff}
tr.flag-grey td{color:#4a5568}
@media print{
@page{size:A4;margin:14mm 12mm}
body{max-width:none;margin:0;padding:0;font-size:10.5pt}
section{break-before:page}nav.toc+section{break-before:auto}
h2,h3{break-after:avoid}
figure,table,.flag,.note,dl.metrics{break-inside:avoid}
table{width:100%}
img,svg{max-width:100%;max-height:230mm;object-fit:contain}
a{color:inherit;text-decoration:none}
}
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


#: Traffic-light statuses of :meth:`Section.flags`, with the word shown for each.
FLAG_STATUSES = {"green": "green", "amber": "amber", "red": "red", "grey": "not assessed"}


def _json_value(value: Any) -> Any:
    """A table or metric value as JSON: numbers as numbers (NaN as null), the rest as text."""
    if value is None:
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else f
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_tree(value: Any) -> Any:
    """Mappings and sequences with every leaf through :func:`_json_value`."""
    if isinstance(value, Mapping):
        return {str(k): _json_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_tree(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _json_tree(value.tolist())
    return _json_value(value)


@dataclass
class Section:
    """One titled part of a report. Build it with :meth:`Report.section`."""

    title: str
    _parts: list = field(default_factory=list)
    anchor: str = ""
    #: what the section shows, for :meth:`Report.to_json` (one entry per part)
    _items: list = field(default_factory=list)

    def text(self, text: str) -> "Section":
        """Adds a paragraph of plain text (HTML-escaped)."""
        self._parts.append(f"<p>{html.escape(text)}</p>")
        self._items.append({"type": "text", "text": text})
        return self

    def note(self, text: str, kind: str = "info") -> "Section":
        """Adds a highlighted note; ``kind`` is ``"info"`` or ``"warning"``."""
        if kind not in ("info", "warning"):
            raise ValueError(f"note: kind must be 'info' or 'warning', got {kind!r}")
        self._parts.append(f'<div class="note {kind}">{html.escape(text)}</div>')
        self._items.append({"type": "note", "kind": kind, "text": text})
        return self

    def metrics(self, values: Mapping[str, Any], float_format: str = "{:.3g}") -> "Section":
        """Adds key figures as a name → value list (units belong in the names)."""
        items = []
        for name, value in values.items():
            cell, _ = _format_cell(value, float_format)
            items.append(f"<dt>{html.escape(str(name))}</dt><dd>{cell}</dd>")
        self._parts.append('<dl class="metrics">' + "".join(items) + "</dl>")
        self._items.append({"type": "metrics", "float_format": float_format, "values": _json_tree(dict(values))})
        return self

    def flags(self, flags: Any) -> "Section":
        """Adds traffic-light flags, one card each.

        Parameters
        ----------
        flags : sequence of mappings (or objects with ``as_dict()``)
            Keys: ``status`` (one of :data:`FLAG_STATUSES`: green, amber, red, grey =
            not assessed), ``label`` (what was measured, with its unit), ``value`` (float
            or None), ``value_text`` (the value as shown), ``threshold`` (the bands, as
            text), ``source`` (the publication), ``meaning`` and ``action`` (what it
            means and what to do) and, for a grey flag, ``reason``.
        """
        cards, rows = [], []
        for f in flags:
            d = dict(f.as_dict() if hasattr(f, "as_dict") else f)
            status = d.get("status", "grey")
            if status not in FLAG_STATUSES:
                raise ValueError(f"flags: status must be one of {sorted(FLAG_STATUSES)}, got {status!r}")
            esc = lambda k: html.escape(str(d.get(k) or ""))  # noqa: E731
            body = [f'<div class="head"><span>{esc("label")}: {esc("value_text") or "–"}</span>'
                    f'<span class="status">{html.escape(FLAG_STATUSES[status])}</span></div>']
            if d.get("reason"):
                body.append(f"<p><b>Why not assessed:</b> {esc('reason')}</p>")
            if d.get("meaning"):
                body.append(f"<p><b>What it means:</b> {esc('meaning')}</p>")
            if d.get("action"):
                body.append(f"<p><b>What to do:</b> {esc('action')}</p>")
            if d.get("threshold") or d.get("source"):
                body.append(f'<p class="src">Bands: {esc("threshold")}. Source: {esc("source")}</p>')
            cards.append(f'<div class="flag {status}">{"".join(body)}</div>')
            rows.append(_json_tree(d))
        self._parts.append('<div class="flags">' + "".join(cards) + "</div>")
        self._items.append({"type": "flags", "flags": rows})
        return self

    def table(self, data: Any, caption: Optional[str] = None, float_format: str = "{:.4g}",
              index: bool = False, row_classes: Optional[list] = None) -> "Section":
        """Adds a table.

        Parameters
        ----------
        data : pandas.DataFrame, sequence of mappings, or mapping of column -> sequence
            The rows. A DataFrame's index is shown when ``index`` is true.
        caption : str, optional
            Shown under the table.
        float_format : str
            ``str.format`` pattern for floating-point cells; NaN shows as an en dash.
        row_classes : list of str, optional
            A CSS class per row ("implausible" shades a row red), "" for none.
        """
        columns, rows = _table_rows(data, index)
        if row_classes is not None and len(row_classes) != len(rows):
            raise ValueError(f"table: {len(row_classes)} row classes for {len(rows)} rows")
        head = "".join(f'<th class="text">{html.escape(str(c))}</th>' for c in columns)
        body = []
        for r, row in enumerate(rows):
            cells = []
            for value in row:
                text, is_text = _format_cell(value, float_format)
                cells.append(f'<td class="text">{text}</td>' if is_text else f"<td>{text}</td>")
            cls = row_classes[r] if row_classes else ""
            body.append((f'<tr class="{html.escape(cls, quote=True)}">' if cls else "<tr>") + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
        self._parts.append(f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        self._items.append({"type": "table", "caption": caption, "float_format": float_format,
                            "columns": [str(c) for c in columns],
                            "rows": [[_json_value(v) for v in row] for row in rows]})
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
        self._items.append({"type": "figure", "caption": caption})
        return self

    def html(self) -> str:
        """This section as an HTML fragment."""
        anchor = f' id="{html.escape(self.anchor, quote=True)}"' if self.anchor else ""
        return f"<section{anchor}><h2>{html.escape(self.title)}</h2>{''.join(self._parts)}</section>"

    def to_json(self) -> dict:
        """What this section shows, as JSON-ready data (see :meth:`Report.to_json`)."""
        return {"id": self.anchor, "title": self.title, "items": list(self._items)}


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

    def __init__(self, title: str, subtitle: Optional[str] = None, toc: bool = False) -> None:
        self.title = title
        self.subtitle = subtitle
        self.toc = toc
        self.sections: list[Section] = []
        #: extra JSON-ready data for :meth:`to_json` (e.g. the inputs), not shown in the HTML
        self.data: dict = {}
        self._stamp = _dt.datetime.now().astimezone()

    def section(self, title: str) -> Section:
        """Appends and returns a new section (anchor ``sec-<n>``, n from 1)."""
        sec = Section(title, anchor=f"sec-{len(self.sections) + 1}")
        self.sections.append(sec)
        return sec

    def _toc_html(self) -> str:
        items = "".join(f'<li><a href="#{html.escape(s.anchor, quote=True)}">{html.escape(s.title)}</a></li>'
                        for s in self.sections)
        return f'<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'

    def to_html(self) -> str:
        """The complete HTML document."""
        from . import _core

        info = _core.build_info()
        stamp = self._stamp.strftime("%Y-%m-%d %H:%M %Z")
        sub = f"<p>{html.escape(self.subtitle)}</p>" if self.subtitle else ""
        toc = self._toc_html() if self.toc and self.sections else ""
        body = "".join(s.html() for s in self.sections)
        footer = (f"Generated {html.escape(stamp)} by sportsmed {html.escape(info['version'])} "
                  f"(LibTorch {html.escape(info['torch_version'])}, {info['num_threads']} threads).")
        return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body>"
                f"<h1>{html.escape(self.title)}</h1>{sub}{toc}{body}<footer>{footer}</footer></body></html>\n")

    def to_json(self) -> dict:
        """The report's twin: title, generation time, :attr:`data`, and per section its
        texts, notes, key figures, tables (columns, rows, the format they are shown in),
        flags and figure captions. Numbers stay numbers (NaN is null)."""
        from . import __version__

        return {"title": self.title, "subtitle": self.subtitle, "generated": self._stamp.isoformat(),
                "sportsmed_version": __version__, "data": _json_tree(self.data),
                "sections": [s.to_json() for s in self.sections]}

    def save(self, path: Union[str, os.PathLike]) -> Path:
        """Writes the report to ``path`` atomically (temporary file, then rename)."""
        path = Path(path)
        text = self.to_html()
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(path, text)

    def save_json(self, path: Union[str, os.PathLike]) -> Path:
        """Writes :meth:`to_json` to ``path`` atomically (indented, NaN as null)."""
        import json

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_text_atomic(path, json.dumps(self.to_json(), indent=1, ensure_ascii=False,
                                                  allow_nan=False) + "\n")

