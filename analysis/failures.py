"""Why episodes failed: the failed episodes' error messages, grouped into causes.

A failed episode is one whose latest attempt ended ``provider_failed`` or ``agent_error``
(``accuracy.EXCLUDED_STATUSES``: the provider or the harness failed, not the model). Its cause is
its status and its error message with what varies between episodes of one cause — URLs, ids,
numbers — replaced by placeholders (``normalised``), so "503 after 6 attempts on episode 3f2a…"
and "503 after 4 attempts on episode 9c1b…" count as one cause. The sweep's closing summary and the
report's "Why episodes failed" section both print :func:`failure_causes`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from analysis.accuracy import EXCLUDED_STATUSES
from analysis.load import RunInfo, latest_episode_parts

TOP = 5  # causes shown; the rest are counted together
COLUMNS: dict[str, pl.DataType] = {"episode_id": pl.String(), "status": pl.String(), "error_class": pl.String(),
                                   "error_message": pl.String()}
# Order matters: a URL holds numbers, an id may be all digits.
_PLACEHOLDERS = (
    (r"https?://[^\s)\]'\"]+", "<url>"),
    (r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "<id>"),
    (r"\b(?:req|msg|call|chatcmpl|resp|run|toolu)[-_][A-Za-z0-9_-]+", "<id>"),
    (r"\b[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b",
     "<id>"),
    (r"\d+(?:\.\d+)?", "<n>"),
)


def normalised(message: pl.Expr) -> pl.Expr:
    """An error message with its URLs, ids and numbers replaced by ``<url>``, ``<id>`` and ``<n>``
    (the one normalisation of causes; null stays null)."""
    for pattern, placeholder in _PLACEHOLDERS:
        message = message.str.replace_all(pattern, placeholder)
    return message.str.strip_chars()


def failed_episodes(runs: Sequence[RunInfo]) -> pl.LazyFrame:
    """Every failed episode of the runs (latest attempts), with its ``cause``. Read a part file at a
    time and only the failed rows kept, so the sweep's closing summary stays small at any size."""
    frames = [part.filter(pl.col("status").is_in(EXCLUDED_STATUSES))
              for run in runs for part in latest_episode_parts(run, COLUMNS)]
    schema = {"run": pl.String(), **COLUMNS}
    failed = pl.concat(frames, how="vertical").lazy() if frames else pl.LazyFrame(schema=schema)
    text = pl.concat_str([pl.col("error_class").fill_null(""), pl.col("error_message").fill_null("")],
                         separator=": ").str.strip_chars(": ")
    return failed.with_columns(normalised(text).replace("", "(no message)").alias("cause"))


def failure_causes(runs: Sequence[RunInfo], top: int = TOP) -> pl.DataFrame:
    """The ``top`` causes by count: ``status``, ``cause``, ``episodes`` and an ``example`` episode id
    (the first by id, so the table is the same from one reading to the next); a last row ``(other
    causes)`` counts the rest. Empty when nothing failed."""
    causes = (
        failed_episodes(runs)
        .group_by("status", "cause")
        .agg(pl.len().cast(pl.Int64).alias("episodes"), pl.col("episode_id").min().alias("example"))
        .sort(["episodes", "status", "cause"], descending=[True, False, False])
        .collect()
    )
    if causes.height <= top:
        return causes
    rest = causes.slice(top)
    other = pl.DataFrame({"status": [None], "cause": [f"(other causes: {rest.height})"],
                          "episodes": [int(rest["episodes"].sum())], "example": [rest["example"][0]]},
                         schema=causes.schema)
    return pl.concat([causes.head(top), other])
