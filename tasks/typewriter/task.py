"""The two typewriter tasks: repeat a string one key press at a time; only the paper is judged."""

from __future__ import annotations

from tasks.task import Task
from tasks.typewriter.dataset import letter_key_step, load_examples, type_letter_step
from tasks.typewriter.environment import AlphabetTypewriter, SingleKeyTypewriter

INSTRUCTIONS = (
    "Repeat the given string by typing it with the provided tools, one letter at a time, in order. "
    "Type nothing else, and do not write any explanation. When the whole string is typed, stop."
)


def build_single() -> Task:
    """``typewriter_single``: one ``type_letter(letter)`` tool."""
    return Task(
        name="typewriter_single",
        instructions=INSTRUCTIONS,
        examples=load_examples(type_letter_step),
        make_environment=SingleKeyTypewriter,
    )


def build_alphabet() -> Task:
    """``typewriter_26``: one argument-less tool per letter."""
    return Task(
        name="typewriter_26",
        instructions=INSTRUCTIONS + " Each letter has its own function: call the functions without arguments.",
        examples=load_examples(letter_key_step),
        make_environment=AlphabetTypewriter,
    )
