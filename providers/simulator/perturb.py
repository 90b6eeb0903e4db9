"""Plausible mistakes and random values: what the noisy and random policies say instead of the truth.

Every perturbation is guaranteed to differ from its input, so a test can count on a mistake
being a mistake.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z]+")
_OPPOSITES = {"yes": "no", "no": "yes", "true": "false", "false": "true"}


def _other_letter(letter: str, rng: random.Random) -> str:
    pool = string.ascii_uppercase if letter.isupper() else string.ascii_lowercase
    return rng.choice([c for c in pool if c != letter.lower() and c != letter])


def _perturb_number_text(text: str, rng: random.Random) -> str:
    """Off by 10–50 % (at least one unit of the last digit), so a numeric tolerance cannot absorb it."""
    sign = rng.choice((-1, 1))
    share = rng.choice((0.1, 0.25, 0.5))
    if "." in text:
        decimals = len(text.split(".")[1])
        value = float(text)
        return f"{value + sign * max(10.0 ** -decimals, abs(value) * share):.{decimals}f}"
    value = int(text)
    return str(value + sign * max(1, round(abs(value) * share)))


def _perturb_word(word: str, rng: random.Random) -> str:
    position = rng.randrange(len(word))
    return word[:position] + _other_letter(word[position], rng) + word[position + 1:]


def perturb_answer(answer: str, rng: random.Random) -> str:
    """A wrong answer that looks like the right one: its first number changed, else yes/no
    swapped, else one letter of its longest word changed."""
    number = _NUMBER.search(answer)
    if number:
        return answer[:number.start()] + _perturb_number_text(number.group(), rng) + answer[number.end():]
    words = _WORD.findall(answer)
    if not words:
        return "I don't know."
    for word in words:
        if word.lower() in _OPPOSITES:
            opposite = _OPPOSITES[word.lower()]
            return answer.replace(word, opposite.capitalize() if word[0].isupper() else opposite, 1)
    longest = max(words, key=len)
    return answer.replace(longest, _perturb_word(longest, rng), 1)


def perturb_value(value: Any, rng: random.Random) -> Any:
    """A different value of the same kind: a wrong argument."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + rng.choice((-1, 1)) * max(1, round(abs(value) * rng.choice((0.1, 0.25, 0.5))))
    if isinstance(value, float):
        return value + rng.choice((-1.0, 1.0)) * max(0.5, abs(value) * rng.choice((0.1, 0.25, 0.5)))
    if isinstance(value, str):
        if _NUMBER.fullmatch(value):
            return _perturb_number_text(value, rng)
        if len(value) == 1 and value.isalpha():
            return _other_letter(value, rng)
        return _perturb_word(value, rng) if value else "x"
    if isinstance(value, list):
        if not value:
            return [0]
        index = rng.randrange(len(value))
        return [*value[:index], perturb_value(value[index], rng), *value[index + 1:]]
    if isinstance(value, dict):
        if not value:
            return {"value": 0}
        key = rng.choice(sorted(value))
        return {**value, key: perturb_value(value[key], rng)}
    return "unknown"


def random_arguments(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Arguments for a tool whose parameters are ``schema`` (an object schema; anything else gets none)."""
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        return {}
    arguments: dict[str, Any] = random_value({"type": "object", **schema}, rng)
    return arguments


def random_value(schema: dict[str, Any], rng: random.Random) -> Any:
    """A value shaped by a JSON schema (type, enum, bounds, required properties, items)."""
    if "enum" in schema:
        return rng.choice(schema["enum"])
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        return random_value(rng.choice(options), rng)
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = rng.choice(kind)
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", ()))
        return {name: random_value(sub, rng) for name, sub in properties.items()
                if name in required or rng.random() < 0.5}
    if kind == "array":
        count = rng.randint(schema.get("minItems", 0), max(schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)))
        return [random_value(schema.get("items", {}), rng) for _ in range(count)]
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", -10)), int(schema.get("maximum", 100)))
    if kind == "number":
        return round(rng.uniform(float(schema.get("minimum", -10.0)), float(schema.get("maximum", 100.0))), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    low = schema.get("minLength", 1)
    high = max(low, min(schema.get("maxLength", 8), 8))
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high)))
