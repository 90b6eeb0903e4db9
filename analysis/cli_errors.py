"""The one way the analysis commands turn a failure into a one-line message and exit code 2."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

import polars as pl

from analysis.load import AnalysisError

T = TypeVar("T")
BAD_INPUT = 2


def reported(command: str, writing: str, action: Callable[[], T]) -> T | int:
    """``action()``, or ``BAD_INPUT`` after printing ``<command>: error: …`` for what users cause:
    a run directory that cannot be analysed, an output that cannot be written (``writing`` names
    it), run data Polars cannot read."""
    try:
        return action()
    except AnalysisError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"cannot write {writing}: {exc}"
    except pl.exceptions.PolarsError as exc:
        text = str(exc).strip()
        problem = f"cannot read the run data: {text.splitlines()[0] if text else type(exc).__name__}"
    print(f"{command}: error: {problem}", file=sys.stderr)
    return BAD_INPUT
