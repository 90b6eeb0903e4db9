"""Deterministic answer matching: numbers in prose, and normalized short answers."""

from __future__ import annotations

import pytest

from tasks.answers import (
    Vocabulary,
    final_number,
    find_numbers,
    numeric_answer_matches,
    paper_number_matches,
    short_answer_matches,
)


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
        # read as a person would, not blindly the last number
        ("The answer is 6.2, obtained by adding 2 and 3", 6.2),
        ("6.2, obtained by adding 2 and 3", 6.2),
        ("Adding 2 and 3 gives 6.2.", 6.2),
        ("The result of 2 + 3 is 6.2", 6.2),
        ("There is 1 user named Bob (ID 21).", 1.0),
        ("There are twelve users.", 12.0),
        ("-0.9117, from sin(pi())", -0.9117),
        ("\\boxed{32.34} (from 7 and 4.2)", 32.34),
        ("Using normal math, 154090 is the result.", 154090.0),
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
        ("About 74.6 cells", "74.6704760933", True),  # truncated to the places written
        ("65889", "32944.5", False),  # answering from ordinary arithmetic
        ("75.5", "74.6704760933", False),
        ("no idea", "13.2", False),
        # 2 significant digits are not enough: the answer must fit the reference to at least 3
        # (this accepted under the former 1e-2 relative tolerance)
        ("-0.91", "-0.911733914787", False),
        ("-0.912", "-0.911733914787", True),
        ("0.91", "-0.911733914787", False),
        # the precision the answer is written in decides: the everyday sum fails
        ("154091.2", "154091.2", True),
        ("154091", "154091.2", True),
        ("154,090", "154091.2", False),
        ("154092", "154091.2", False),
        ("6.22", "6.222318693323366", True),
        ("6.23", "6.222318693323366", False),
        ("6.2", "6.222318693323366", False),
        ("1.5409e5", "154091.2", True),  # written to the nearest 10: rounding gives it
        ("10.4", "10.399999999999999", True),
        ("32", "32.0", True),
        ("1e308", "1e308", True),
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


@pytest.mark.parametrize(
    ("answer", "reference", "matches"),
    [
        ("6.2", "6.2", True),
        ("6.2223", "6.222318693323366", True),
        ("6.22", "6.222318693323366", False),  # the published judge compared 4 decimal places
        ("123.6751456", "123.6751345", True),  # the example of the published judge's prompt
        ("10.4", "10.399999999999999", True),
        ("154090", "154091.2", False),
        ("no number", "1", False),
    ],
)
def test_paper_number_rule(answer, reference, matches):
    assert paper_number_matches(answer, reference) is matches


FOODS = Vocabulary.of({"allergen": ["Milk", "Soy", "Gluten", "Dairy", "Fish"], "user": ["Charlie", "Alice"],
                       "color": ["yellow", "red"], "food": ["Chocolate", "Salad"]})


@pytest.mark.parametrize(
    ("answer", "reference", "matches"),
    [
        # units
        ("A serving of pizza has 285 calories.", "285 calories", True),
        ("285", "285 calories", True),
        ("300 calories", "285 calories", False),
        # records and times
        ("It's sunny in Los Angeles, 75 degrees Fahrenheit.", "Sunny, Temperature: 75°F", True),
        ("Sunny, 80°F", "Sunny, Temperature: 75°F", False),
        ("Partly cloudy and 75°F", "Sunny, Temperature: 75°F", False),
        ("It is 11:15 AM in Chicago.", "2023-11-14 11:15 AM", True),
        ("2023-11-15 11:15 AM", "2023-11-14 11:15 AM", False),
        ("11:15 PM", "2023-11-14 11:15 AM", False),
        ("It is 18:40.", "6:40 PM", True),
        # "X and Y" and lists, with the entity vocabulary
        ("Your name is Charlie and your favorite color is yellow.", "yellow and Charlie", True),
        ("The current user is Charlie (ID 35); favorite color: yellow.", "yellow and Charlie", True),
        ("yellow", "yellow and Charlie", False),
        ("Chocolate contains milk and soy.", "milk, soy", True),
        ("milk, soy and gluten", "milk, soy", False),
        # yes/no with a reason, names with ids
        ("No. Alice uses gmail.com and Charlie uses yahoo.com.", "no", True),
        ("Frank The Cat (user 43)", "Frank The Cat", True),
    ],
)
def test_short_answers_in_the_published_style(answer, reference, matches):
    assert short_answer_matches(answer, reference, FOODS) is matches
