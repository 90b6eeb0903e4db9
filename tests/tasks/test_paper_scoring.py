"""The ``paper`` scoring profile reproduces the published evaluator: steps by tool name only
(exact list when order matters, sorted lists otherwise), no aliases, the step ratio uncapped,
typewriters by strict final state, Multiverse Math to 4 decimal places."""

from __future__ import annotations

import tasks


def run(task, calls):
    env = task.environment()
    for name, arguments in calls:
        env.call(name, arguments)
    return env


def both(task_name, example_id):
    return (tasks.get_task(task_name, dataset="paper", scoring="paper"),
            tasks.get_task(task_name, dataset="paper", scoring="toolsweep"),
            example_id)


def test_a_wrong_argument_still_matches_by_name():
    paper, ours, example_id = both("multiverse_math", "paper-01")  # add(2, 3)
    for task, expected in ((paper, True), (ours, False)):
        example = task.example(example_id)
        score = task.score(example, "6.2", run(task, [("add", {"a": 2, "b": 4})]))
        assert score.steps_match is expected
        assert score.correct is True  # the answer is judged on its own


def test_a_swapped_order_fails_unless_order_does_not_matter():
    paper = tasks.get_task("relational_data", dataset="paper", scoring="paper")
    in_order = paper.example("paper-16")  # search, location, city: order matters
    swapped = [("get_user_location", {"user_id": 21}), ("find_users_by_name", {"name": "Bob"}),
               ("get_city_for_location", {"location_id": 2})]
    assert paper.score(in_order, "Los Angeles", run(paper, swapped)).steps_match is False
    free = paper.example("paper-21")  # bob and alice: order_matters false
    shuffled = [("get_user_location", {"user_id": 1}), ("get_city_for_location", {"location_id": 1}),
                ("find_users_by_name", {"name": "Alice"}), ("get_city_for_location", {"location_id": 2}),
                ("get_user_location", {"user_id": 21})]
    assert paper.score(free, "no", run(paper, shuffled)).steps_match is True


def test_aliases_are_not_applied():
    paper, ours, example_id = both("relational_data", "paper-08")  # ... get_current_weather_for_location
    calls = [("find_locations_by_name", {"city": "LA"}), ("get_weather_at_location", {"location_id": 2})]
    assert paper.score(paper.example(example_id), "Sunny, 75°F", run(paper, calls)).steps_match is False
    assert ours.score(ours.example(example_id), "Sunny, 75°F", run(ours, calls)).steps_match is True


def test_the_step_ratio_is_uncapped_and_the_state_strict():
    paper = tasks.get_task("typewriter_single", dataset="paper", scoring="paper")
    example = paper.example("dog")
    env = run(paper, [("type_letter", {"letter": c}) for c in "dogs"])
    score = paper.score(example, None, env)
    assert (score.steps_match, score.step_ratio, score.state_correct, score.correct) == (False, 4 / 3, False, False)
    env = run(paper, [("type_letter", {"letter": c}) for c in "Dog"])
    assert paper.score(example, None, env).state_correct is False  # no case folding


def test_multiverse_math_answers_agree_to_four_decimal_places():
    paper, ours, example_id = both("multiverse_math", "paper-06")  # 6.222318693323366
    example = paper.example(example_id)
    env = paper.environment()
    assert paper.score(example, "6.2223", env).correct is True
    assert paper.score(example, "6.22", env).correct is False
    assert ours.score(ours.example(example_id), "6.22", ours.environment()).correct is True
