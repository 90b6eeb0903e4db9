"""Relational data: the tables, the 17 tools, fuzzy search, and the questions."""

from __future__ import annotations

import json
import time

import pytest

import tasks
from tasks.answers import NO, NUMBER, YES, find_numbers, normalize, parse_number
from tasks.relational_data.environment import rank_by_similarity
from tasks.relational_data.tables import CURRENT_USER_ID, load_tables
from tests.tasks.hang_guard import HANG_GUARD_S

TASK = tasks.get_task("relational_data")
TABLES = load_tables()
TOOL_NAMES = {
    "get_user_name", "list_user_ids", "find_users_by_name", "find_locations_by_name", "find_foods_by_name",
    "get_user_email", "get_user_location", "get_user_favorite_color", "get_user_favorite_foods",
    "get_weather_at_location", "get_city_for_location", "get_current_time_for_location",
    "get_current_weather_for_location", "get_food_name", "get_food_calories",
    "get_food_allergic_ingredients", "get_current_user_id",
}


def test_the_seventeen_tools():
    assert {t.name for t in TASK.environment().tools} == TOOL_NAMES


def test_tables_are_big_enough_and_ids_are_not_one_to_n():
    assert len(TABLES.users) >= 10
    assert len(TABLES.locations) >= 8
    assert len(TABLES.foods) >= 12
    for table in (TABLES.users, TABLES.locations, TABLES.foods):
        assert sorted(table) != list(range(1, len(table) + 1))
    first_words = [u.name.split()[0] for u in TABLES.users.values()]
    assert len(first_words) > len(set(first_words)), "two users should share a name word"


def test_search_ranks_every_row_by_jaccard_of_character_sets():
    env = TASK.environment()
    hits = json.loads(env.call("find_users_by_name", {"name": "Frank"}).content)
    assert [set(h) for h in hits] == [{"id", "name"}] * len(TABLES.users)
    assert sorted(h["id"] for h in hits) == sorted(TABLES.users)

    def jaccard(name):
        a, b = set("frank"), set(name.casefold())
        return len(a & b) / len(a | b)

    scores = [jaccard(h["name"]) for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert hits[0]["name"] == "Frank Moss"


def test_search_is_fuzzy_so_the_agent_must_choose():
    # "cat" shares more of its letters with other names than with "Frank The Cat".
    hits = json.loads(TASK.environment().call("find_users_by_name", {"name": "cat"}).content)
    assert hits[0]["name"] != "Frank The Cat"
    assert "Frank The Cat" in [h["name"] for h in hits[:3]]


def test_location_and_food_search_return_id_and_name_only():
    env = TASK.environment()
    cities = json.loads(env.call("find_locations_by_name", {"city": "osaka"}).content)
    assert cities[0] == {"id": 15, "city": "Osaka"}
    assert len(cities) == len(TABLES.locations)
    foods = json.loads(env.call("find_foods_by_name", {"food": "Fruit Salad"}).content)
    assert foods[0] == {"id": 21, "name": "Fruit Salad"}
    assert len(foods) == len(TABLES.foods)


def test_rank_by_similarity_keeps_table_order_on_ties():
    assert rank_by_similarity("xyz", {3: "abc", 1: "def"}, "name") == [{"id": 3, "name": "abc"}, {"id": 1, "name": "def"}]


def test_lookups_and_the_current_user():
    env = TASK.environment()
    assert env.call("get_current_user_id", {}).content == str(CURRENT_USER_ID)
    assert env.call("get_user_favorite_foods", {"user_id": 9}).content == "[10, 13]"
    assert env.call("get_food_allergic_ingredients", {"food_id": 18}).content == "[]"
    assert env.call("get_current_weather_for_location", {"location_id": 12}).content == \
        env.call("get_weather_at_location", {"location_id": 12}).content


@pytest.mark.parametrize(
    ("tool", "arguments", "message"),
    [
        ("get_user_name", {"user_id": 1}, "no user with id 1"),
        ("get_city_for_location", {"location_id": 4}, "no location with id 4"),
        ("get_food_calories", {"food_id": 4}, "no food with id 4"),
        ("get_user_email", {"user_id": "Alice"}, "argument 'user_id' must be an integer, got string 'Alice'"),
        ("get_user_email", {"name": "Alice"}, "unexpected argument 'name'"),
        ("find_users_by_name", {"name": None}, "argument 'name' must be a string"),
    ],
)
def test_bad_ids_and_arguments_are_readable_errors(tool, arguments, message):
    assert message in TASK.environment().call(tool, arguments).error


def test_huge_search_query_is_fast():
    started = time.process_time()
    result = TASK.environment().call("find_foods_by_name", {"food": "x" * 1_000_000})
    assert time.process_time() - started < HANG_GUARD_S
    assert result.error is None


def test_question_set_covers_every_tool_and_every_difficulty():
    examples = TASK.examples
    assert len(examples) >= 25
    assert {s.name for e in examples for s in e.expected_steps} == TOOL_NAMES
    counts = {len(e.expected_steps) for e in examples}
    assert {1, 2, 3, 4} <= counts
    assert max(counts) >= 5
    assert all(e.difficulty == len(e.expected_steps) for e in examples)


def test_references_are_short_and_list_items_are_names_without_commas():
    names = {u.name for u in TABLES.users.values()} | {f.name for f in TABLES.foods.values()}
    assert not any("," in name for name in names)  # ", " in a reference marks a list
    assert all(len(e.reference) <= 40 for e in TASK.examples)


@pytest.mark.parametrize("example", TASK.examples, ids=lambda e: e.id)
def test_reference_is_derivable_from_the_tool_outputs(example, replay):
    outputs = [call.content for call in replay(TASK, example).calls]
    reference = example.reference
    if normalize(reference) in (["yes"], ["no"]):
        assert set(normalize(reference)) <= YES | NO
    elif NUMBER.fullmatch(reference):
        # a number read from an output, a count of listed items, or a sum of values read
        numbers = [n for text in outputs for n in find_numbers(text)]
        counts = [len(json.loads(text)) for text in outputs if text.startswith("[")]
        values = [parse_number(text) for text in outputs if NUMBER.fullmatch(text)]
        assert parse_number(reference) in [*numbers, *counts, sum(values)]
    else:
        text = " ".join(outputs)
        for item in reference.split(", "):
            assert item in text
