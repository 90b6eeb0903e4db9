"""Tables as Markdown and HTML, and the self-contained HTML page that holds them.

The page embeds its images as base64 data URIs, its style and its one script inline, so
``index.html`` opens in a browser with no server and nothing to fetch; the only links are to the
page's own sections and to the CSV/Markdown files written beside it.

Layout, for a reader in a hurry: the leaderboard and the accuracy chart first, then which
differences are real, the headline findings, the episode browser, and the detailed sections.
In HTML tables numbers are formatted by what their column holds (``0.93 ± 0.03``, ``5.8 %``,
``< 0.001``, ``2,052``); the columns a reader needs first are shown and the rest sit behind a
click; tables longer than a screen are collapsed; every table links its CSV.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from analysis.report_table import ReportTable

HTML_MAX_ROWS = 200
COLLAPSE_ROWS = 12

_STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0969da;
        --good: #1a7f37; --good-bg: #dafbe1; --tie-bg: #eef9f0; --bad: #cf222e; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--ink); }
main { max-width: 1200px; margin: 0 auto; padding: 0 20px 40px; }
header.top { padding: 14px 0 4px; }
h1 { font-size: 1.45em; margin: 0; } h2 { font-size: 1.2em; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; margin: 1.6em 0 0.5em; } h3 { font-size: 1em; margin: 1.2em 0 0.3em; }
nav { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 0.88em; margin: 6px 0 0; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
.subtitle, .about { color: var(--muted); font-size: 0.9em; margin: 0.2em 0; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; margin: 0.4em 0 0.6em; }
table { border-collapse: collapse; font-size: 0.86em; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 9px; text-align: right; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tbody tr:hover td { background: #f0f6ff; }
.more { display: none; }
.table:has(.all-columns:checked) .more { display: table-cell; }
label.toggle { font-size: 0.82em; color: var(--muted); cursor: pointer; user-select: none; }
details > summary { cursor: pointer; color: var(--accent); font-size: 0.9em; margin: 0.3em 0; }
.files { font-size: 0.82em; color: var(--muted); margin: 0 0 0.4em; }
.board-grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
table.leaderboard { font-size: 0.92em; }
table.leaderboard td, table.leaderboard th { padding: 4px 12px; }
table.leaderboard tr.group th { text-align: left; background: #fff; color: var(--muted); font-weight: 600;
  border-bottom: 2px solid var(--line); padding-top: 8px; }
table.leaderboard td.model { text-align: left; font-weight: 600; }
table.leaderboard td.variant { padding-left: 26px; font-weight: 400; }
table.leaderboard a { color: inherit; }
.best { background: var(--good-bg); font-weight: 700; color: var(--good); }
.tie { background: var(--tie-bg); }
.legend { font-size: 0.82em; color: var(--muted); }
.legend span { display: inline-block; padding: 0 6px; margin-right: 6px; }
img.chart { max-width: 100%; height: auto; display: block; }
ul.findings, ul.verdicts { padding-left: 1.2em; margin: 0.3em 0; }
ul.findings li, ul.verdicts li { margin: 0.2em 0; }
td.yes { color: var(--good); font-weight: 600; } td.no { color: var(--muted); }
.eb-controls { display: flex; flex-wrap: wrap; gap: 8px 18px; margin: 8px 0; font-size: 0.9em; }
.eb-controls select { font: inherit; max-width: 260px; }
.eb-examples { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 10px; }
button.example { font: inherit; font-size: 0.82em; border: 1px solid var(--line); border-radius: 6px;
  background: #fff; padding: 2px 7px; cursor: pointer; }
button.example.selected { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent); }
.example-id { margin-right: 4px; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin: 0 1px;
  vertical-align: middle; }
.dot.right { background: var(--good); } .dot.wrong { background: var(--bad); }
.dot.excluded { background: #afb8c1; }
article.episode { border: 1px solid var(--line); border-left: 4px solid #afb8c1; border-radius: 6px;
  padding: 6px 12px; margin: 8px 0; min-width: 0; }
article.episode.right { border-left-color: var(--good); } article.episode.wrong { border-left-color: var(--bad); }
article.episode h4 { margin: 2px 0 4px; font-size: 0.95em; }
dl.facts { display: flex; flex-wrap: wrap; gap: 2px 16px; margin: 0 0 4px; font-size: 0.85em; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0 0 0 -12px; }
p.answer { margin: 4px 0; font-size: 0.9em; overflow-wrap: anywhere; }
p.error { color: var(--bad); font-size: 0.88em; overflow-wrap: anywhere; margin: 4px 0; }
table.calls td.code { font-family: ui-monospace, monospace; font-size: 0.95em; white-space: pre-wrap;
  overflow-wrap: anywhere; max-width: 420px; min-width: 120px; }
tr.tool-error td { color: var(--bad); }
"""

# How a column's values read (first match wins); see format_cell.
_PERCENT = re.compile(r"(_rate|share)$|^(excluded_rate|flip_share|refusal_rate)$")
_P_VALUE = re.compile(r"(^|_)p(_value|_adjusted)?$")
_SECONDS = re.compile(r"_s$")
_PROPORTION = re.compile(
    r"^(correct|state_correct|steps_match|judge_correct|accuracy|acc_a|acc_b|rate_a|rate_b|pass_at_k|pass_hat_k"
    r"|ci_low|ci_high|diff|mde|seed_std|mean|step_ratio_mean|step_ratio_std)$|_se$"
)
_SIGNED = {"diff", "ci_low", "ci_high"}


def format_value(value: object) -> str:
    """Short form for Markdown and CSV readers: null as an en dash, floats to four significant digits."""
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


def format_cell(column: str, value: object, *, signed: bool = False) -> str:
    """A value formatted for reading, by what its column holds (rate, p-value, seconds, proportion)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if not isinstance(value, float):
        return str(value)
    if value != value:
        return "NaN"
    if _P_VALUE.search(column):
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if column.endswith("rate_a") or column.endswith("rate_b") or _PERCENT.search(column):
        percent = 100 * value
        return "0 %" if percent == 0 else f"{percent:.2f} %" if abs(percent) < 1 else f"{percent:.1f} %"
    if column == "cost_usd":
        return f"${value:,.4f}"
    if _SECONDS.search(column):
        return f"{value:,.2f} s" if abs(value) < 100 else f"{value:,.0f} s"
    if _PROPORTION.search(column):
        return f"{value:+.2f}" if signed or column in _SIGNED else f"{value:.2f}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


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


def _css(*classes: str) -> str:
    names = " ".join(c for c in classes if c)
    return f" class='{names}'" if names else ""


def html_table(frame: pl.DataFrame, max_rows: int = HTML_MAX_ROWS, primary: Sequence[str] = ()) -> str:
    """An HTML table: ``primary`` columns shown (all when empty), the others behind a toggle.

    A metric ``m`` with an ``m_se`` column beside it reads ``m ± se`` in one cell, and ``diff`` or
    ``accuracy`` with ``ci_low`` / ``ci_high`` beside it reads ``value [low, high]``; a boolean
    column's cells carry the class ``yes`` / ``no``.
    """
    if frame.is_empty():
        return "<p class='about'><em>No rows.</em></p>"
    text_columns = {name for name, dtype in frame.schema.items() if dtype == pl.String}
    shown = [c for c in primary if c in frame.columns] or list(frame.columns)
    columns = shown + [c for c in frame.columns if c not in shown]
    hidden = set(columns) - set(shown)
    combined = {c for c in shown if f"{c}_se" in frame.columns}
    bounded = {c for c in shown if c in ("diff", "accuracy") and {"ci_low", "ci_high"} <= set(frame.columns)}
    kind = {name: ["text"] if name in text_columns else [] for name in columns}
    for name in hidden:
        kind[name].append("more")

    head = "".join(f"<th{_css(*kind[name])}>{html.escape(name)}</th>" for name in columns)
    body = []
    for row in frame.head(max_rows).iter_rows(named=True):
        cells = []
        for name in columns:
            value = row[name]
            text = format_cell(name, value)
            if name in combined and value is not None and row[f"{name}_se"] is not None:
                text = f"{text} ± {format_cell(name, row[f'{name}_se'])}"
            if name in bounded and value is not None and row["ci_low"] is not None:
                low, high = (format_cell(name, row[bound]) for bound in ("ci_low", "ci_high"))
                text = f"{text} [{low}, {high}]"
            flag = ("yes" if value else "no") if isinstance(value, bool) else ""
            cells.append(f"<td{_css(*kind[name], flag)}>{html.escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    table = f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    if hidden:
        # checking the box reveals the .more columns (CSS `.table:has(.all-columns:checked)`), no script
        table = (
            "<div class='table'><label class='toggle'><input type='checkbox' class='all-columns'> "
            f"show all {len(columns)} columns</label>{table}</div>"
        )
    if frame.height > max_rows:
        table += f"<p class='about'>First {max_rows} of {frame.height} rows; the CSV holds them all.</p>"
    return table


def png_data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass
class Section:
    """One part of the page: ``images`` are (alt text, PNG file); ``tables`` are report tables;
    ``body`` is ready HTML placed after the about line."""

    title: str
    anchor: str
    about: str = ""
    body: str = ""
    images: list[tuple[str, Path]] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)


def table_block(item: ReportTable, *, title: bool = True, collapse: bool = True) -> str:
    """Title, about, CSV link and the table (collapsed when longer than a screen)."""
    parts = []
    if title:
        parts.append(f"<h3 id='t-{item.name}'>{html.escape(item.title)}</h3>")
    parts.append(f"<p class='about'>{html.escape(item.about)}</p>")
    parts.append(
        f"<p class='files'><a href='{item.name}.csv'>{item.name}.csv</a> · "
        f"<a href='{item.name}.md'>{item.name}.md</a></p>"
    )
    table = html_table(item.frame, primary=item.primary)
    if collapse and item.frame.height > COLLAPSE_ROWS:
        table = f"<details><summary>Show the table ({item.frame.height:,} rows)</summary>{table}</details>"
    parts.append(table)
    return "\n".join(parts)


def _section_html(section: Section) -> str:
    parts = [f"<section id='{section.anchor}'><h2>{html.escape(section.title)}</h2>"]
    if section.about:
        parts.append(f"<p class='about'>{html.escape(section.about)}</p>")
    parts.append(section.body)
    for alt, image in section.images:
        parts.append(f"<img class='chart' alt='{html.escape(alt)}' src='{png_data_uri(image)}'>")
    parts.extend(table_block(item) for item in section.tables)
    parts.append("</section>")
    return "\n".join(parts)


def page(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    """The whole page: a header with links to every section, then the sections in order."""
    links = " ".join(f"<a href='#{s.anchor}'>{html.escape(s.title)}</a>" for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_STYLE}</style></head>
<body><main>
<header class="top"><h1>{html.escape(title)}</h1>
<p class="subtitle">{html.escape(subtitle)}</p>
<nav>{links}</nav></header>
{"".join(_section_html(section) for section in sections)}
</main></body></html>
"""
