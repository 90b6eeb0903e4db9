"""Scoring: step sequences (extra, missing, reordered, other paths, wrong arguments) and the stderr."""

from __future__ import annotations

import math

import pytest

import tasks
from tasks import ExpectedCall, StepRules
from tasks.scoring import binomial_stderr, has_perfect_matching, score_steps


def _calls(env, steps):
    for name, arguments in steps:
        env.call(name, arguments)
    return env


def test_extra_steps_raise_the_ratio_and_break_the_match(replay):
    task = tasks.get_task("typewriter_single")
    example = task.example("sun")
    env = replay(task, example)
    env.call("type_letter", {"letter": "s"})
    score = task.score(example, "", env)
    assert score.step_ratio == pytest.approx(4 / 3)
    assert score.steps_match is False
    assert (score.state_correct, score.correct) == (False, False)


def test_a_repeated_failed_call_counts_as_a_step(replay):
    task = tasks.get_task("relational_data")
    example = task.example("rd-02")
    env = task.environment()
    env.call("get_user_name", {"user_id": "44"})  # wrong type: an error, still a call
    env.call("get_user_name", {"user_id": 44})
    score = task.score(example, "Hugo", env)
    assert (score.correct, score.steps_match, score.step_ratio) == (True, False, 2.0)


def test_early_stop():
    task = tasks.get_task("typewriter_26")
    example = task.example("kitchen")
    env = _calls(task.environment(), [("k", {}), ("i", {}), ("t", {})])
    score = task.score(example, "kitchen", env)
    assert score.step_ratio == pytest.approx(3 / 7)
    assert (score.steps_match, score.state_correct, score.correct) == (False, False, False)


def test_wrong_order_fails_when_order_matters():
    task = tasks.get_task("multiverse_math")
    example = task.example("mm-19")  # divide -> power -> multiply
    assert example.order_matters
    steps = [(s.name, dict(s.arguments)) for s in example.expected_steps]
    env = _calls(task.environment(), [steps[1], steps[0], steps[2]])
    score = task.score(example, example.reference, env)
    assert (score.steps_match, score.step_ratio, score.correct) == (False, 1.0, True)


def test_any_order_is_accepted_when_order_does_not_matter():
    task = tasks.get_task("relational_data")
    example = task.example("rd-28")  # Bruno's favorite food names
    assert not example.order_matters
    steps = [(s.name, dict(s.arguments)) for s in example.expected_steps]
    env = _calls(task.environment(), [steps[0], steps[1], steps[3], steps[2]])
    score = task.score(example, "Ramen and Sushi", env)
    assert (score.correct, score.steps_match, score.step_ratio) == (True, True, 1.0)


def test_right_answer_by_another_path():
    task = tasks.get_task("relational_data")
    example = task.example("rd-25")  # is pasta one of Frank Moss's favorites (3 calls)
    env = _calls(task.environment(), [
        ("find_users_by_name", {"name": "Frank Moss"}),
        ("get_user_favorite_foods", {"user_id": 31}),
        ("get_food_name", {"food_id": 5}),
        ("get_food_name", {"food_id": 7}),
    ])
    score = task.score(example, "Yes, pasta is one of them.", env)
    assert (score.correct, score.steps_match, score.step_ratio) == (True, False, pytest.approx(4 / 3))


def test_wrong_argument_breaks_the_match(replay):
    task = tasks.get_task("typewriter_single")
    example = task.example("sun")
    env = _calls(task.environment(), [("type_letter", {"letter": c}) for c in "son"])
    score = task.score(example, "", env)
    assert (score.steps_match, score.state_correct, score.correct, score.step_ratio) == (False, False, False, 1.0)

    relational = tasks.get_task("relational_data")
    wrong_user = _calls(relational.environment(), [
        ("find_users_by_name", {"name": "Alice"}), ("get_user_email", {"user_id": 23}),
    ])
    assert relational.score(relational.example("rd-10"), "dalia@example.com", wrong_user).steps_match is False


def test_typewriter_ignores_the_answer_text(replay):
    task = tasks.get_task("typewriter_single")
    example = task.example("owl")
    env = replay(task, example)
    assert task.score(example, "I typed something else entirely", env).correct is True
    assert task.score(example, None, env).correct is True


def test_missing_answer_is_incorrect_for_answer_tasks(replay):
    task = tasks.get_task("multiverse_math")
    example = task.examples[0]
    score = task.score(example, None, replay(task, example))
    assert (score.correct, score.steps_match) == (False, True)


def test_argument_comparison_rules():
    expected = [ExpectedCall("divide", {"a": 100.0, "b": 3})]
    assert score_steps(expected, [ExpectedCall("divide", {"a": 100.9, "b": 3})], True, StepRules())[0]
    assert not score_steps(expected, [ExpectedCall("divide", {"a": 102, "b": 3})], True, StepRules())[0]
    assert not score_steps(expected, [ExpectedCall("divide", {"a": 3, "b": 100.0})], True, StepRules())[0]
    search = [ExpectedCall("find", {"name": "Frank The Cat"})]
    assert score_steps(search, [ExpectedCall("find", {"name": "  frank the CAT "})], True, StepRules())[0]
    assert not score_steps(search, [ExpectedCall("find", {"name": "Frank"})], True, StepRules())[0]


def test_step_rules_commutative_alias_and_free_arguments():
    rules = StepRules(
        aliases={"weather_now": "weather"},
        commutative=frozenset({"add"}),
        free_arguments={"find": frozenset({"name"})},
    )
    assert score_steps([ExpectedCall("add", {"a": 2, "b": 3})], [ExpectedCall("add", {"a": 3, "b": 2})], True, rules)[0]
    assert not score_steps([ExpectedCall("sub", {"a": 2, "b": 3})], [ExpectedCall("sub", {"a": 3, "b": 2})], True, rules)[0]
    assert score_steps([ExpectedCall("weather", {"id": 1})], [ExpectedCall("weather_now", {"id": 1})], True, rules)[0]
    assert score_steps([ExpectedCall("find", {"name": "cat"})], [ExpectedCall("find", {"name": "Frank"})], True, rules)[0]
    assert not score_steps([ExpectedCall("find", {"name": "cat"})], [ExpectedCall("lookup", {"name": "cat"})], True, rules)[0]


def test_relational_search_query_is_free_and_weather_tools_are_interchangeable(replay):
    task = tasks.get_task("relational_data")
    example = task.example("rd-21")  # find Alice -> location -> get_weather_at_location
    env = _calls(task.environment(), [
        ("find_users_by_name", {"name": "alice"}),
        ("get_user_location", {"user_id": 4}),
        ("get_current_weather_for_location", {"location_id": 12}),
    ])
    assert task.score(example, "Yes", env).steps_match is True


def test_unordered_matching_needs_a_one_to_one_pairing():
    def same(a, b):
        return b in a

    assert has_perfect_matching(["ab", "a"], ["a", "b"], same)  # greedy "a"->"ab" would strand "b"
    assert not has_perfect_matching(["a", "a"], ["a", "b"], same)
    assert not has_perfect_matching(["a"], ["a", "a"], same)


def test_binomial_stderr():
    assert binomial_stderr(0.5, 100) == pytest.approx(0.05)
    assert binomial_stderr(0.2, 25) == pytest.approx(math.sqrt(0.2 * 0.8 / 25))
    assert binomial_stderr(1.0, 10) == 0.0
    assert math.isnan(binomial_stderr(0.5, 0))
    with pytest.raises(ValueError, match="proportion"):
        binomial_stderr(1.5, 10)
    with pytest.raises(ValueError, match="n must be"):
        binomial_stderr(0.5, -1)
