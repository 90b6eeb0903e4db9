"""One table of the report as the page and the files show it: a leaf, so that what draws tables
(:mod:`analysis.render`) needs nothing of what computes them (:mod:`analysis.tables`)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class ReportTable:
    name: str  # file stem of its CSV / Markdown files
    title: str
    about: str  # one sentence shown under the title
    frame: pl.DataFrame
    primary: tuple[str, ...] = ()  # the columns a reader needs first (the page hides the rest behind a click)
