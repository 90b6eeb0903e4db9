"""Deterministic answer matchers: the number an answer gives, and normalized short answers.

- :func:`answer_number` reads the final answer's number as a person would: after the last
  "the answer is" / "result:" / "=" (a strong cue), else right after the last "is", "gives",
  "equals" (a weak cue), else the number the answer opens with, else its last number. So "The
  answer is 6.2, obtained by adding 2 and 3" and "6.2, obtained by adding 2 and 3" both give 6.2.
  "1,234.5", "-3.2e4", a Unicode minus and, after a cue, "one" … "twenty" are read.
- :func:`numeric_answer_matches` (Multiverse Math, ``toolsweep`` profile): the answer equals the
  reference *to the precision it is written in*, and at least to 3 significant digits: rounded or
  truncated there, the reference gives the answer. "154091.2" and "154091" match 154091.2;
  "154090" (ordinary arithmetic) does not.
- :func:`paper_number_matches` (``paper`` profile): the published judge's rule, the two numbers
  agree to 4 decimal places.
- :func:`short_answer_matches` (Relational Data): the reference's shape is read from its text —
  yes/no, a number (with or without a unit word, "285 calories"), a clock time, a record
  ("Sunny, Temperature: 75°F"), a list ("milk, soy", "yellow and Charlie"), or a phrase — and the
  answer is compared after normalization (case, punctuation, number formats, a plural ``s``,
  temperature units). With a :class:`Vocabulary`, a list answer that names another entity of the
  same kind ("milk, soy and gluten") is wrong.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from tasks.scoring import has_perfect_matching

NUMBER = re.compile(
    r"(?<![\w.])[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?!\d)"
    r"|(?<![\w.])[-−]?\.\d+(?:[eE][-+]?\d+)?"
)
WORD_NUMBERS = {
    word: value for value, word in enumerate([
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    ])
}
_WORD_NUMBER = r"\b(?:" + "|".join(WORD_NUMBERS) + r")\b"
_HEDGE = r"(?:\s*(?:approximately|approx\.?|about|around|roughly|exactly|only|just|≈|~|\*\*|\$|`))*\s*"
# "the answer is 6.2", "final answer: 6.2", "the result comes out to approximately 6.2"
STRONG_CUE = re.compile(
    r"\b(?:answer|result|total|value)\b\s*(?:\*\*)?\s*"
    r"(?:is|was|would be|will be|comes? (?:out )?to|equals|=|:|≈)?" + _HEDGE,
    re.IGNORECASE,
)
# "it is 6.2", "add(2, 3) = 6.2", "multiply gave 40.48", "there are twelve users"
WEAK_CUE = re.compile(
    r"(?:\b(?:is|are|was|were|equals?|gives?|gave|get|got|yields?|makes?|becomes?)\b|=|≈|→|:)" + _HEDGE,
    re.IGNORECASE,
)
_NUMBER_OR_WORD = re.compile(NUMBER.pattern + "|" + _WORD_NUMBER, re.IGNORECASE)
_MARKUP = re.compile(r"\*\*|__|`|\\\(|\\\)|\\\[|\\\]|\$")
_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")
TOKEN = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|[^\W\d_]+|\d+")
YES = frozenset({"yes", "yeah", "yep", "true", "correct"})
NO = frozenset({"no", "nope", "false", "incorrect"})
LIST_SEPARATORS = re.compile(r",|;|\n|&|\band\b", re.IGNORECASE)
# a temperature or calorie unit after a number says nothing the number does not
UNIT_WORDS = frozenset({"f", "°f", "fahrenheit", "degree", "°", "c", "celsiu", "calorie", "kcal", "cal"})
CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\s*([AaPp]\.?[Mm]\.?)?")
DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
MIN_SIGNIFICANT_DIGITS = 3
PAPER_DECIMALS = 4


@dataclass(frozen=True)
class WrittenNumber:
    """A number as an answer writes it: its value and how many decimal places it shows."""

    value: Decimal
    decimals: int  # places after the point; negative for 1.5e5 (written to the nearest 10^-decimals)

    def __float__(self) -> float:
        return float(self.value)


def parse_number(text: str) -> float:
    """A number as written in text: thousands commas and a Unicode minus allowed."""
    return float(text.replace(",", "").replace("−", "-"))


def read_number(text: str) -> WrittenNumber:
    """A number's value and written precision ("1,234.50" → 1234.50, two decimals; "two" → 2)."""
    if text.casefold() in WORD_NUMBERS:
        return WrittenNumber(Decimal(WORD_NUMBERS[text.casefold()]), 0)
    clean = text.replace(",", "").replace("−", "-")
    mantissa, _, exponent = clean.lower().partition("e")
    places = len(mantissa.partition(".")[2]) - (int(exponent) if exponent else 0)
    return WrittenNumber(Decimal(clean), places)


def find_numbers(text: str) -> list[float]:
    """Every number in ``text``, in order."""
    return [parse_number(m.group()) for m in NUMBER.finditer(text)]


def answer_number(text: str) -> WrittenNumber | None:
    """The number an answer gives, read as a person would (see the module docstring)."""
    boxed = _BOXED.findall(text)
    text = _MARKUP.sub(" ", boxed[-1] if boxed else text)
    for cue in (STRONG_CUE, WEAK_CUE):
        found = None
        for match in cue.finditer(text):
            after = _NUMBER_OR_WORD.match(text, match.end())
            if after:
                found = after.group()
        if found is not None:
            return read_number(found)
    digits = list(NUMBER.finditer(text))
    if digits:
        opening = re.match(r"[^\w\-−.]*" + _HEDGE + r"(?=[-−.\d])", text)
        first_at = digits[0].start()
        return read_number(digits[0].group() if opening and opening.end() == first_at else digits[-1].group())
    words = re.findall(_WORD_NUMBER, text, re.IGNORECASE)
    return read_number(words[-1]) if words else None


def final_number(text: str) -> float | None:
    """The value of :func:`answer_number`, or None when the answer gives no number."""
    number = answer_number(text)
    return None if number is None else float(number)


def numeric_answer_matches(answer: str, reference: str) -> bool:
    """Whether the answer's number is the reference, to the precision the answer is written in
    (and at least to :data:`MIN_SIGNIFICANT_DIGITS` significant digits), rounded or truncated."""
    given = answer_number(answer)
    if given is None:
        return False
    with localcontext() as context:
        context.prec = 400  # exact for any float: a reference near 1e300 still quantizes
        wanted = Decimal(repr(parse_number(reference)))
        magnitude = wanted.adjusted() if wanted else 0  # the exponent of its leading digit
        places = max(given.decimals, MIN_SIGNIFICANT_DIGITS - 1 - magnitude)
        unit = Decimal(1).scaleb(-places)
        if abs(given.value - wanted) <= unit / 2:
            return True
        return places == given.decimals and wanted.quantize(unit, ROUND_DOWN) == given.value


def paper_number_matches(answer: str, reference: str) -> bool:
    """The published judge's rule: the answer's number and the reference agree to four decimal
    places ("only compare the first 4 decimal digits"). Both are rounded there, so a stored float
    such as 10.399999999999999 agrees with "10.4"; an answer written to fewer places agrees only
    when it is that value."""
    given = answer_number(answer)
    if given is None:
        return False
    with localcontext() as context:
        context.prec = 400
        places = Decimal(1).scaleb(-PAPER_DECIMALS)
        wanted = Decimal(repr(parse_number(reference)))
        return given.value.quantize(places, ROUND_HALF_UP) == wanted.quantize(places, ROUND_HALF_UP)


# ---------------------------------------------------------------- short answers


@dataclass(frozen=True)
class Vocabulary:
    """The entity names a task's answers can mention, by kind (user, city, food, allergen, ...)."""

    kinds: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, names: Mapping[str, Iterable[str]]) -> Vocabulary:
        return cls({kind: frozenset(n.casefold() for n in found) for kind, found in names.items()})

    def kinds_of(self, phrase: list[str]) -> set[str]:
        """The kinds whose names include ``phrase`` (normalized tokens)."""
        return {kind for kind, names in self.kinds.items() if any(normalize(n) == phrase for n in names)}

    def mentioned(self, tokens: list[str], kinds: set[str]) -> set[tuple[str, ...]]:
        """The names of those kinds that occur in ``tokens``."""
        found = set()
        for kind in kinds:
            for name in self.kinds[kind]:
                phrase = normalize(name)
                if _contains(tokens, phrase):
                    found.add(tuple(phrase))
        return found


def normalize(text: str) -> list[str]:
    """Lower-case word tokens, numbers in one canonical form, a trailing plural ``s`` dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = NUMBER.sub(lambda m: f" {_canonical_number(m.group())} ", text)
    tokens = TOKEN.findall(text)
    return [t[:-1] if len(t) > 3 and t.endswith("s") and not t.endswith("ss") else t for t in tokens]


def short_answer_matches(answer: str, reference: str, vocabulary: Vocabulary | None = None) -> bool:
    """Normalized comparison of a short answer with the reference, by the reference's shape."""
    ref_tokens = normalize(reference)
    if len(ref_tokens) == 1 and ref_tokens[0] in YES | NO:
        return _polarity(answer) == (ref_tokens[0] in YES)
    stripped = reference.strip()
    if NUMBER.fullmatch(stripped) or re.fullmatch(f"(?:{NUMBER.pattern})" + r"\s+[^\W\d_]+", stripped):
        given = final_number(answer)
        wanted = parse_number(NUMBER.match(stripped).group())  # type: ignore[union-attr]
        return given is not None and math.isclose(given, wanted, rel_tol=1e-9)
    if CLOCK.search(reference):
        return _same_time(answer, reference)
    if ":" in reference:
        return _record_matches(answer, reference)
    items = [item for item in LIST_SEPARATORS.split(reference) if item.strip()]
    if len(items) > 1:
        return _list_matches(answer, [normalize(item) for item in items], vocabulary)
    return _contains(normalize(answer), ref_tokens)


def _list_matches(answer: str, wanted: list[list[str]], vocabulary: Vocabulary | None) -> bool:
    """Every item is named; and nothing else of their kinds (with a vocabulary), or else the
    answer lists exactly as many items (without one)."""
    tokens = normalize(answer)
    if not all(_contains(tokens, item) for item in wanted):
        return False
    if vocabulary is not None:
        kinds = set().union(*(vocabulary.kinds_of(item) for item in wanted))
        return vocabulary.mentioned(tokens, kinds) <= {tuple(item) for item in wanted}
    items = [item for item in LIST_SEPARATORS.split(answer) if item.strip(" \t.")]
    return len(items) == len(wanted) and has_perfect_matching(
        wanted, [normalize(i) for i in items], lambda w, item: _contains(item, w))


def _record_matches(answer: str, reference: str) -> bool:
    """A record such as "Sunny, Temperature: 75°F": each value (not its label, not its unit) occurs."""
    tokens = [t for t in normalize(answer) if t not in UNIT_WORDS]
    for part in reference.split(","):
        value = part.split(":", 1)[-1]
        facts = [t for t in normalize(value) if t not in UNIT_WORDS]
        if facts and not _contains(tokens, facts):
            return False
    return True


def _same_time(answer: str, reference: str) -> bool:
    """The answer states the reference's clock time (12- or 24-hour), and its date if it gives one."""
    wanted = _minutes(CLOCK.search(reference))  # type: ignore[arg-type]
    ref_date, given_date = DATE.search(reference), DATE.search(answer)
    if ref_date and given_date and ref_date.group() != given_date.group():
        return False
    for match in CLOCK.finditer(answer):
        if match.group(3):
            if _minutes(match) == wanted:
                return True
        elif int(match.group(1)) * 60 + int(match.group(2)) in (wanted, wanted % 720):
            return True
    return False


def _minutes(match: re.Match[str]) -> int:
    hour, minute, half = int(match.group(1)), int(match.group(2)), (match.group(3) or "").casefold()
    if half.startswith("p"):
        hour = hour % 12 + 12
    elif half.startswith("a"):
        hour = hour % 12
    return hour * 60 + minute


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
