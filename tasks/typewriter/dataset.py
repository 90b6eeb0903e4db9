"""The typewriter words, shared by both key sets: rows ``{"id", "text"}`` of a JSONL file.

Everything else of an example follows from the text: the question is the text itself (the
instruction says to repeat it), the expected state is the text, and the expected steps are one key
press per character, spelled for the key set in use.

Datasets: ``toolsweep`` (``data/typewriter.jsonl``) and ``paper`` (``data/typewriter_paper.jsonl``,
the 20 strings of the published benchmark; provenance in ``data/README.md``).
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.dataset import read_jsonl
from tasks.task import Example, ExpectedCall
from tasks.variants import DEFAULT_DATASET, PAPER_DATASET

KeyPress = Callable[[str], ExpectedCall]

DATA_FILES: dict[str, str] = {DEFAULT_DATASET: "typewriter.jsonl", PAPER_DATASET: "typewriter_paper.jsonl"}


def type_letter_step(letter: str) -> ExpectedCall:
    return ExpectedCall("type_letter", {"letter": letter})


def letter_key_step(letter: str) -> ExpectedCall:
    return ExpectedCall(letter, {})


def load_examples(key_press: KeyPress, dataset: str = DEFAULT_DATASET) -> tuple[Example, ...]:
    """The typewriter examples of ``dataset`` with steps spelled by ``key_press``."""
    examples = []
    for row in read_jsonl(__package__, DATA_FILES[dataset]):
        text = row["text"]
        examples.append(Example(
            id=row["id"],
            question=text,
            reference=text,
            expected_steps=tuple(key_press(letter) for letter in text),
            expected_state=text,
        ))
    return tuple(examples)
