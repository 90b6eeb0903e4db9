"""Deterministic answer matchers: numbers found in free text, and normalized short answers.

- :func:`numeric_answer_matches`: the answer's number (the one after the last "answer is", else the
  last number in the text; "1,234.5", "-3.2e4" and a Unicode minus are read) equals the reference
  within a relative tolerance.
- :func:`short_answer_matches`: the reference's kind is read from its text — ``yes``/``no``, a
  number, a list ("a, b, c"), or a phrase — and the answer is compared after normalization (case,
  punctuation, number formats, a plural ``s``), so "Yes, she does." matches "yes" and
  "Ramen and sushi" matches "Sushi, Ramen".
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tasks.scoring import has_perfect_matching

NUMBER = re.compile(
    r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\d)"
    r"|(?<![\w.])[-−]?\.\d+(?:[eE][-+]?\d+)?"
)
ANSWER_CUE = re.compile(r"\banswer\b\s*(?:is|:|=|would be|will be)?\s*", re.IGNORECASE)
TOKEN = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|[^\W\d_]+|\d+")
YES = frozenset({"yes", "yeah", "yep", "true", "correct"})
NO = frozenset({"no", "nope", "false", "incorrect"})
LIST_SEPARATORS = re.compile(r",|;|\n|&|\band\b", re.IGNORECASE)


def parse_number(text: str) -> float:
    """A number as written in text: thousands commas and a Unicode minus allowed."""
    return float(text.replace(",", "").replace("−", "-"))


def find_numbers(text: str) -> list[float]:
    """Every number in ``text``, in order."""
    return [parse_number(m.group()) for m in NUMBER.finditer(text)]


def final_number(text: str) -> float | None:
    """The number an answer gives: the first after the last "answer is" cue, else the last one."""
    cues = list(ANSWER_CUE.finditer(text))
    if cues:
        after = find_numbers(text[cues[-1].end():])
        if after:
            return after[0]
    numbers = find_numbers(text)
    return numbers[-1] if numbers else None


def numeric_answer_matches(answer: str, reference: str, rel_tol: float = 1e-2) -> bool:
    """Whether the answer's number equals the reference number within ``rel_tol``."""
    given = final_number(answer)
    return given is not None and math.isclose(given, parse_number(reference), rel_tol=rel_tol, abs_tol=1e-9)


def normalize(text: str) -> list[str]:
    """Lower-case word tokens, numbers in one canonical form, a trailing plural ``s`` dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = NUMBER.sub(lambda m: f" {_canonical_number(m.group())} ", text)
    tokens = TOKEN.findall(text)
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t for t in tokens]


def short_answer_matches(answer: str, reference: str, vocabulary: Vocabulary | None = None) -> bool:
    """Normalized comparison of a short answer (yes/no, number, list or phrase) with the reference."""
    ref_tokens = normalize(reference)
    if len(ref_tokens) == 1 and ref_tokens[0] in YES | NO:
        return _polarity(answer) == (ref_tokens[0] in YES)
    if NUMBER.fullmatch(reference.strip()):
        given = final_number(answer)
        return given is not None and math.isclose(given, parse_number(reference), rel_tol=1e-9)
    if ", " in reference:
        wanted = [normalize(item) for item in reference.split(", ")]
        items = [item for item in LIST_SEPARATORS.split(answer) if item.strip(" \t.")]
        if len(items) != len(wanted):
            return False
        return has_perfect_matching(wanted, [normalize(i) for i in items], lambda w, item: _contains(item, w))
    return _contains(normalize(answer), ref_tokens)


def _polarity(answer: str) -> bool | None:
    for token in normalize(answer):
        if token in YES:
            return True
        if token in NO:
            return False
    return None


def _contains(tokens: list[str], phrase: list[str]) -> bool:
    """Whether ``phrase`` occurs in ``tokens`` as a contiguous run of whole tokens."""
    n = len(phrase)
    return n > 0 and any(tokens[i:i + n] == phrase for i in range(len(tokens) - n + 1))


def _canonical_number(text: str) -> str:
    value = parse_number(text)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


PAPER_DECIMALS = 4


def paper_number_matches(answer: str, reference: str) -> bool:
    """The published judge's rule: the answer's number and the reference agree to four decimal
    places ("only compare the first 4 decimal digits"). Both are rounded there, so a stored float
    such as 10.399999999999999 agrees with "10.4"; an answer written to fewer places agrees only
    when it is that value."""
    given = final_number(answer)
    if given is None:
        return False
    places = Decimal(1).scaleb(-PAPER_DECIMALS)
    return (Decimal(repr(given)).quantize(places, ROUND_HALF_UP)
            == Decimal(repr(parse_number(reference))).quantize(places, ROUND_HALF_UP))


@dataclass(frozen=True)
class Vocabulary:
    """The entity names a task's answers can mention, by kind (user, city, food, allergen, ...)."""

    kinds: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, names: Mapping[str, Iterable[str]]) -> Vocabulary:
        return cls({kind: frozenset(n.casefold() for n in found) for kind, found in names.items()})
