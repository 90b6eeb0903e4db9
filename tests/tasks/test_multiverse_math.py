"""Multiverse Math: each operation's altered formula, hostile inputs, and the dataset."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tasks
from tasks.dataset import read_jsonl
from tasks.multiverse_math.dataset import resolve
from tests.tasks.hang_guard import HANG_GUARD_S

TASK = tasks.get_task("multiverse_math")
OPERATIONS = {"add", "subtract", "multiply", "divide", "power", "log", "negate", "sin", "cos", "pi"}

numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
FAST = settings(max_examples=40, deadline=None)


def run(name, **arguments):
    result = TASK.environment().call(name, arguments)
    assert result.error is None, result.error
    return float(result.content)


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-10, abs_tol=1e-9)


@FAST
@given(numbers, numbers)
def test_add(a, b):
    assert close(run("add", a=a, b=b), a + b + 1.2)


@FAST
@given(numbers, numbers)
def test_subtract(a, b):
    assert close(run("subtract", a=a, b=b), a - b - 3)


@FAST
@given(numbers, numbers)
def test_multiply(a, b):
    assert close(run("multiply", a=a, b=b), 1.1 * a * b)


@FAST
@given(numbers, numbers.filter(lambda b: abs(b) > 1e-3))
def test_divide(a, b):
    assert close(run("divide", a=a, b=b), 0.5 * a / b)


@FAST
@given(st.floats(min_value=0.01, max_value=50), st.floats(min_value=-6, max_value=6))
def test_power(a, b):
    assert close(run("power", a=a, b=b), a ** (b + 2))


@FAST
@given(st.floats(min_value=1e-6, max_value=1e6), numbers)
def test_log(a, base):
    shifted = abs(base + 1.5)
    assume(abs(shifted - 1) > 1e-3 and shifted > 1e-3)
    assert close(run("log", a=a, base=base), math.log(a) / math.log(shifted))


@FAST
@given(numbers)
def test_negate_does_nothing(a):
    assert close(run("negate", a=a), a)


@FAST
@given(numbers)
def test_sin_is_cosine_and_cos_is_sine(x):
    assert close(run("sin", radians=x), math.cos(x))
    assert close(run("cos", radians=x), math.sin(x))


def test_pi_is_e():
    assert close(run("pi"), math.e)


def test_addition_and_multiplication_commute_and_associate_but_do_not_distribute():
    env = TASK.environment()

    def op(name, a, b):
        return float(env.call(name, {"a": a, "b": b}).content)

    assert op("add", op("add", 1, 2), 3) == pytest.approx(op("add", 1, op("add", 2, 3)))
    assert op("multiply", 3, 7) == pytest.approx(op("multiply", 7, 3))
    distributed = op("add", op("multiply", 2, 3), op("multiply", 2, 4))
    assert op("multiply", 2, op("add", 3, 4)) != pytest.approx(distributed)


HOSTILE = [
    ("power", {"a": 10, "b": 1e9}),
    ("power", {"a": 10, "b": 10**9}),
    ("power", {"a": 2, "b": 10**400}),
    ("power", {"a": 1e308, "b": 1e308}),
    ("power", {"a": -8, "b": -1.5}),
    ("power", {"a": 0, "b": -5}),
    ("add", {"a": 1e308, "b": 1e308}),
    ("subtract", {"a": -1e308, "b": 1e308}),
    ("multiply", {"a": 1e300, "b": 1e300}),
    ("divide", {"a": 1, "b": 0}),
    ("divide", {"a": 0, "b": 0.0}),
    ("divide", {"a": 1e308, "b": 1e-308}),
    ("log", {"a": 0, "base": 10}),
    ("log", {"a": -5, "base": 10}),
    ("log", {"a": 5, "base": -0.5}),
    ("log", {"a": 5, "base": -1.5}),
    ("log", {"a": 5, "base": -2.5}),
    ("add", {"a": float("nan"), "b": 1}),
    ("sin", {"radians": float("inf")}),
    ("cos", {"radians": float("-inf")}),
    ("add", {"a": "12", "b": 1}),
    ("multiply", {"a": "ten", "b": 2}),
    ("negate", {"a": None}),
    ("negate", {"a": [1]}),
    ("negate", {"a": True}),
    ("negate", {}),
    ("pi", {"digits": 5}),
    ("sqrt", {"a": 4}),
]


@pytest.mark.parametrize(("name", "arguments"), HOSTILE, ids=[f"{n}-{i}" for i, (n, _) in enumerate(HOSTILE)])
def test_hostile_arguments_give_a_readable_error_fast(name, arguments):
    env = TASK.environment()
    started = time.process_time()
    result = env.call(name, arguments)
    assert time.process_time() - started < HANG_GUARD_S
    assert result.error
    assert result.content.startswith("Error: ") and len(result.content) < 300
    assert env.calls[-1].error == result.error


def test_huge_but_finite_results_are_numbers():
    env = TASK.environment()
    assert float(env.call("power", {"a": 10, "b": 300}).content) == pytest.approx(1e302)
    assert float(env.call("log", {"a": 5, "base": -0.5 + 1e-12}).content) != 0


def test_dataset_covers_every_operation_and_length():
    examples = TASK.examples
    assert len(examples) >= 25
    assert {s.name for e in examples for s in e.expected_steps} == OPERATIONS
    counts = {len(e.expected_steps) for e in examples}
    assert {1, 2, 3, 4} <= counts
    assert max(counts) >= 5


def test_expected_arguments_are_concrete_numbers():
    for example in TASK.examples:
        for step in example.expected_steps:
            assert all(isinstance(v, int | float) and not isinstance(v, bool) for v in step.arguments.values())


def test_stored_references_equal_what_the_tools_compute():
    rows = {row["id"]: row for row in read_jsonl("tasks.multiverse_math", "multiverse_math.jsonl")}
    for example in TASK.examples:
        assert float(rows[example.id]["reference"]) == pytest.approx(float(example.reference), rel=1e-9)


def test_a_stale_reference_fails_loading():
    row = {
        "id": "stale", "question": "What is 2 plus 2?", "reference": "4",
        "expected_steps": [{"name": "add", "arguments": {"a": 2, "b": 2}}],
    }
    with pytest.raises(ValueError, match="'stale': stored reference 4 but the steps give 5.2"):
        resolve(row)
    assert resolve({**row, "reference": "5.2"}).reference == "5.2"


def test_result_of_resolves_to_the_earlier_step_value():
    row = {
        "id": "chain", "question": "Add 1 and 2, then multiply by 10.", "reference": "46.2",
        "expected_steps": [
            {"name": "add", "arguments": {"a": 1, "b": 2}},
            {"name": "multiply", "arguments": {"a": {"result_of": 0}, "b": 10}},
        ],
    }
    example = resolve(row)
    assert example.expected_steps[1].arguments == {"a": pytest.approx(4.2), "b": 10}
    with pytest.raises(ValueError, match="does not name an earlier step"):
        resolve({**row, "expected_steps": [{"name": "negate", "arguments": {"a": {"result_of": 0}}}]})


def test_the_cell_division_example_composes_three_tools():
    example = next(e for e in TASK.examples if "cells" in e.question)
    assert [s.name for s in example.expected_steps] == ["divide", "power", "multiply"]
    assert float(example.reference) == pytest.approx(3 * 2 ** (0.5 * 150 / 30 + 2) * 1.1)
