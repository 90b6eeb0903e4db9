"""Deterministic answer matching: numbers in prose, and normalized short answers."""

from __future__ import annotations

import pytest

from tasks.answers import final_number, find_numbers, numeric_answer_matches, short_answer_matches


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("The answer is 1,234.5", 1234.5),
        ("-3.2e4", -32000.0),
        ("Result: −7", -7.0),
        ("add gave 6.2, then multiply gave 40.48.", 40.48),
        ("The answer is 74.67 (after 3 steps).", 74.67),
        ("**32944.5**", 32944.5),
        ("It is .5", 0.5),
        ("I cannot compute this.", None),
    ],
)
def test_final_number(text, number):
    assert final_number(text) == number


def test_find_numbers_reads_every_format():
    assert find_numbers("1,000 and 1000.0, 2e3; v2 is not a number") == [1000.0, 1000.0, 2000.0]


@pytest.mark.parametrize(
    ("answer", "reference", "matches"),
    [
        ("32944.5", "32944.5", True),
        ("The answer is 32,944.5.", "32944.5", True),
        ("About 74.6 cells", "74.6704760933", True),  # within 1e-2
        ("65889", "32944.5", False),  # answering from ordinary arithmetic
        ("75.5", "74.6704760933", False),
        ("no idea", "13.2", False),
        ("-0.91", "-0.911733914787", True),
        ("0.91", "-0.911733914787", False),
    ],
)
def test_numeric_answers(answer, reference, matches):
    assert numeric_answer_matches(answer, reference) is matches


@pytest.mark.parametrize(
    ("answer", "reference", "matches"),
    [
        ("Yes, Alice needs an umbrella.", "yes", True),
        ("True", "yes", True),
        ("No.", "yes", False),
        ("Nope, none of them contain dairy", "no", True),
        ("It is raining there.", "yes", False),  # no explicit yes/no: left to a judge
        ("1,000", "1000", True),
        ("There are 12 users.", "12", True),
        ("There are 13 users.", "12", False),
        ("760 calories in total", "760", True),
        ("black", "black", True),
        ("The cat's favorite color is Black.", "black", True),
        ("blackish", "black", False),
        ("Frank the cat", "Frank The Cat", True),
        ("Frank", "Frank The Cat", False),
        ("Her email is dalia@example.com.", "dalia@example.com", True),
        ("dalia@example.org", "dalia@example.com", False),
        ("It is 6:40 PM there", "6:40 PM", True),
        ("Ramen and sushi", "Sushi, Ramen", True),
        ("sushi, ramen, pizza", "Sushi, Ramen", False),
        ("sushi", "Sushi, Ramen", False),
        ("Peanuts, eggs and fish.", "Peanut, Egg, Fish", True),
        ("1. Fish\n2. Egg\n3. Peanut", "Peanut, Egg, Fish", True),
    ],
)
def test_short_answers(answer, reference, matches):
    assert short_answer_matches(answer, reference) is matches
