"""The two typewriter tasks: repeat a string one key press at a time; only the paper is judged."""

from __future__ import annotations

from tasks.task import Task
from tasks.typewriter.dataset import DATA_FILES, letter_key_step, load_examples, type_letter_step
from tasks.typewriter.environment import AlphabetTypewriter, SingleKeyTypewriter
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, PAPER_DATASET

DATASETS: tuple[str, ...] = tuple(DATA_FILES)

INSTRUCTIONS = (
    "Repeat the given string by typing it with the provided tools, one letter at a time, in order. "
    "Type nothing else, and do not write any explanation. When the whole string is typed, stop."
)

# The published tasks' instructions, word for word, so the paper datasets run as published
# (langchain-ai/langchain-benchmarks, langchain_benchmarks/tool_usage/tasks/type_writer.py and
# type_writer_26_funcs.py, MIT licence; see data/README.md).
PAPER_INSTRUCTIONS_SINGLE = (
    "Repeat the given string using the provided tools. "
    "Do not write anything else or provide any explanations. "
    "For example, if the string is 'abc', you must print the letters "
    "'a', 'b', and 'c' one at a time and in that order. "
)
PAPER_INSTRUCTIONS_26 = (
    "Repeat the given string by using the provided tools. "
    "Do not write anything else or provide any explanations. "
    "For example, if the string is 'abc', you must invoke the tools "
    "'a', 'b', and 'c' in that order. "
    "Please invoke the functions without any arguments."
)


def build_single(dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """``typewriter_single``: one ``type_letter(letter)`` tool."""
    return Task(
        name="typewriter_single",
        instructions=PAPER_INSTRUCTIONS_SINGLE if dataset == PAPER_DATASET else INSTRUCTIONS,
        examples=load_examples(type_letter_step, dataset),
        make_environment=SingleKeyTypewriter,
        dataset=dataset,
        scoring=scoring,
    )


def build_alphabet(dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """``typewriter_26``: one argument-less tool per letter."""
    return Task(
        name="typewriter_26",
        instructions=(PAPER_INSTRUCTIONS_26 if dataset == PAPER_DATASET else
                      INSTRUCTIONS + " Each letter has its own function: call the functions without arguments."),
        examples=load_examples(letter_key_step, dataset),
        make_environment=AlphabetTypewriter,
        dataset=dataset,
        scoring=scoring,
    )
