"""The names of datasets and scoring profiles, defined once.

A task is built for one *dataset* (which examples, and for Relational Data which tables) and one
*scoring profile* (how an episode is judged, and the few tool behaviours the published benchmark
made observable):

- ``toolsweep`` (the default dataset): ToolSweep's own, larger datasets.
- ``paper``: the datasets of the published benchmark ("Benchmarking Agent Tool Use", LangChain,
  December 2023), copied with their provenance beside each data file.
- ``paper-tiny`` (Multiverse Math only): the first 10 rows of ``paper``.

Scoring profiles:

- ``toolsweep`` (the default): steps compared with their arguments (numbers within 1e-2, the task's
  aliases and free arguments applied); answers by ToolSweep's matchers (a Multiverse Math number
  must equal the reference to the precision it is written in).
- ``paper``: the original evaluator's rules: steps compared by tool name only (the exact list when
  order matters, sorted lists otherwise), Multiverse Math numbers agreeing to 4 decimal places,
  typewriters by their final state; tool outputs carry full float precision and the Relational
  Data search is case-sensitive, as in the original.
"""

from __future__ import annotations

from typing import Final

# Final: type checkers read each as its literal value, so a ``Literal`` field may default to one
DEFAULT_DATASET: Final = "toolsweep"
PAPER_DATASET: Final = "paper"
PAPER_TINY_DATASET: Final = "paper-tiny"

DEFAULT_SCORING: Final = "toolsweep"
PAPER_SCORING: Final = "paper"
SCORING_PROFILES: tuple[str, ...] = (DEFAULT_SCORING, PAPER_SCORING)


class UnknownVariantError(KeyError, ValueError):
    """A dataset or scoring profile a task does not have (catchable as KeyError or ValueError)."""

    def __str__(self) -> str:
        return str(self.args[0])
