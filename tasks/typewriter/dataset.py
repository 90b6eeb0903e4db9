"""The typewriter words, shared by both key sets: ``data/typewriter.jsonl`` rows ``{"id", "text"}``.

Everything else of an example follows from the text: the question is the text itself (the
instruction says to repeat it), the expected state is the text, and the expected steps are one key
press per character, spelled for the key set in use.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.dataset import read_jsonl
from tasks.task import Example, ExpectedCall

KeyPress = Callable[[str], ExpectedCall]


def type_letter_step(letter: str) -> ExpectedCall:
    return ExpectedCall("type_letter", {"letter": letter})


def letter_key_step(letter: str) -> ExpectedCall:
    return ExpectedCall(letter, {})


def load_examples(key_press: KeyPress) -> tuple[Example, ...]:
    """The typewriter examples with steps spelled by ``key_press``."""
    examples = []
    for row in read_jsonl(__package__, "typewriter.jsonl"):
        text = row["text"]
        examples.append(Example(
            id=row["id"],
            question=text,
            reference=text,
            expected_steps=tuple(key_press(letter) for letter in text),
            expected_state=text,
        ))
    return tuple(examples)
