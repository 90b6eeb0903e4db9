"""The typewriter: a sheet of paper (the state) and keys that append to it.

Two key sets over the same paper: one ``type_letter(letter)`` tool, or 26 argument-less tools
``a`` … ``z`` generated from the alphabet.
"""

from __future__ import annotations

from string import ascii_lowercase

from tasks.environment import Environment
from tasks.tooling import ToolDefinition, ToolError, tool


class Typewriter(Environment):
    """The paper shared by both key sets; its state is the text typed so far."""

    def __init__(self) -> None:
        super().__init__()
        self._paper: list[str] = []

    @property
    def state(self) -> str:
        return "".join(self._paper)

    def press(self, letter: str) -> str:
        self._paper.append(letter)
        return "OK"


class SingleKeyTypewriter(Typewriter):
    """One tool that types any single character."""

    @tool
    def type_letter(self, letter: str) -> str:
        """Type one letter on the paper.

        Args:
            letter: The letter to type: exactly one character.
        """
        if len(letter) != 1:
            raise ToolError(f"type_letter takes exactly one character, got {len(letter)}: {letter[:20]!r}")
        return self.press(letter)


def _letter_key(letter: str) -> ToolDefinition:
    def type_this_letter(env: Typewriter) -> str:
        return env.press(letter)

    declared: ToolDefinition = tool(type_this_letter, name=letter, description=f'Type the letter "{letter}".')
    return declared


class AlphabetTypewriter(Typewriter):
    """26 tools, one per letter, each without arguments."""

    tool_definitions = tuple(_letter_key(letter) for letter in ascii_lowercase)

