"""Tables as Markdown and HTML, and the self-contained HTML page that holds them.

The page embeds its images as base64 data URIs and its style inline, so ``index.html`` opens in a
browser with no server and nothing to fetch; the only links are to the CSV/Markdown files written
beside it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

HTML_MAX_ROWS = 200

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
.about { color: #555; font-size: 0.92em; }
.scroll { overflow-x: auto; margin: 0.6em 0 1.4em; }
table { border-collapse: collapse; font-size: 0.82em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td.text { text-align: left; }
tr:nth-child(even) td { background: #fafafa; }
img { max-width: 100%; display: block; margin: 0.8em 0; }
.findings li { margin: 0.25em 0; }
.files { font-size: 0.8em; color: #555; }
"""


def format_value(value: object) -> str:
    """Short human form: null as an en dash, floats to four significant digits."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        if value == 0.0:
            return "0"
        return f"{value:.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def markdown_table(frame: pl.DataFrame) -> str:
    if frame.is_empty():
        return "_(no rows)_\n"

    def cell(value: object) -> str:
        return format_value(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
        *("| " + " | ".join(cell(v) for v in row) + " |" for row in frame.iter_rows()),
    ]
    return "\n".join(lines) + "\n"


def html_table(frame: pl.DataFrame, max_rows: int = HTML_MAX_ROWS) -> str:
    if frame.is_empty():
        return "<p class='about'><em>No rows.</em></p>"
    text_columns = {name for name, dtype in frame.schema.items() if dtype == pl.String}
    head = "".join(f"<th>{html.escape(name)}</th>" for name in frame.columns)
    body = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = "".join(
            f"<td class='text'>{html.escape(format_value(v))}</td>"
            if name in text_columns
            else f"<td>{html.escape(format_value(v))}</td>"
            for name, v in row.items()
        )
        body.append(f"<tr>{cells}</tr>")
    note = ""
    if frame.height > max_rows:
        note = f"<p class='about'>First {max_rows} of {frame.height} rows; the CSV holds them all.</p>"
    return f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{note}"


def png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass
class Section:
    """One part of the page: ``images`` are (alt text, PNG file); ``tables`` are (title, about,
    frame, file stem of its CSV / Markdown)."""

    title: str
    about: str = ""
    images: list[tuple[str, Path]] = field(default_factory=list)
    tables: list[tuple[str, str, pl.DataFrame, str]] = field(default_factory=list)


def _section_html(section: Section) -> str:
    parts = [f"<h2>{html.escape(section.title)}</h2>"]
    if section.about:
        parts.append(f"<p class='about'>{html.escape(section.about)}</p>")
    for alt, image in section.images:
        parts.append(f"<img alt='{html.escape(alt)}' src='{png_data_uri(image)}'>")
    for title, about, frame, stem in section.tables:
        parts.append(f"<h3>{html.escape(title)}</h3><p class='about'>{html.escape(about)}</p>")
        parts.append(html_table(frame))
        parts.append(
            f"<p class='files'>Files: <a href='{stem}.csv'>{stem}.csv</a>, <a href='{stem}.md'>{stem}.md</a></p>"
        )
    return "\n".join(parts)


def page(
    title: str,
    runs: pl.DataFrame,
    findings: Sequence[str],
    sections: Sequence[Section],
    definitions: Sequence[str],
) -> str:
    findings_html = "".join(f"<li>{html.escape(line)}</li>" for line in findings) or "<li>No data yet.</li>"
    definitions_html = "".join(f"<li>{html.escape(line)}</li>" for line in definitions)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>{html.escape(title)}</h1>
{html_table(runs)}
<h2>Headline findings</h2>
<ul class="findings">{findings_html}</ul>
{"".join(_section_html(section) for section in sections)}
<h2>Definitions</h2>
<ul class="about">{definitions_html}</ul>
</body></html>
"""
