"""Tools declared once: schemas from signatures and docstrings, validation, errors caught in one place."""

from __future__ import annotations

import time

import pytest

from tasks import Environment, ToolError, tool
from tests.tasks.hang_guard import HANG_GUARD_S


class Counter(Environment):
    """A small environment exercising every supported parameter type."""

    def __init__(self) -> None:
        super().__init__()
        self.total = 0.0

    @property
    def state(self) -> float:
        return self.total

    @tool
    def bump(self, amount: float, times: int = 1, label: str = "", loud: bool = False) -> float:
        """Add an amount to the counter.

        The counter starts at zero.

        Args:
            amount: How much to add
                each time.
            times: How many times.
            label: Ignored.
            loud: Also ignored.

        Returns:
            The new total.
        """
        if times < 0:
            raise ToolError("times must not be negative")
        self.total += amount * times
        return self.total

    @tool(name="sum_all", description="Sum a list of integers.")
    def sum_values(self, values: list[int]) -> int:
        return sum(values)


def test_schema_comes_from_signature_and_docstring():
    bump, sum_all = Counter().tools
    assert bump.name == "bump"
    assert bump.description == "Add an amount to the counter."
    assert bump.parameters == {
        "type": "object",
        "properties": {
            "amount": {"type": "number", "description": "How much to add each time."},
            "times": {"type": "integer", "description": "How many times."},
            "label": {"type": "string", "description": "Ignored."},
            "loud": {"type": "boolean", "description": "Also ignored."},
        },
        "required": ["amount"],
        "additionalProperties": False,
    }
    assert sum_all.name == "sum_all"
    assert sum_all.description == "Sum a list of integers."
    assert sum_all.parameters["properties"] == {"values": {"type": "array", "items": {"type": "integer"}}}


def test_tool_callable_is_bound_to_its_environment():
    env = Counter()
    bump = env.tools[0]
    assert bump.function(2.0, times=3) == 6.0
    assert env.state == 6.0


def test_successful_call_is_rendered_and_recorded():
    env = Counter()
    result = env.call("bump", {"amount": 1.5, "times": 2})
    assert (result.content, result.error) == ("3", None)
    assert env.call("sum_all", {"values": [1, 2, 3]}).content == "6"
    assert [(c.name, c.arguments, c.content, c.error) for c in env.calls] == [
        ("bump", {"amount": 1.5, "times": 2}, "3", None),
        ("sum_all", {"values": [1, 2, 3]}, "6", None),
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "missing required argument 'amount'"),
        ({"amount": 1, "extra": 2}, "unexpected argument 'extra'"),
        ({"amount": "1"}, "argument 'amount' must be a number, got string '1'"),
        ({"amount": True}, "argument 'amount' must be a number, got boolean True"),
        ({"amount": None}, "argument 'amount' must be a number, got null None"),
        ({"amount": 1, "times": 1.5}, "argument 'times' must be an integer, got 1.5"),
        ({"amount": 1, "loud": "yes"}, "argument 'loud' must be true or false"),
        ({"amount": float("inf")}, "argument 'amount' must be a finite number"),
        ({"amount": 10**400}, "argument 'amount' is too large"),
        ({"amount": 1, "times": -1}, "times must not be negative"),
        ([1, 2], "arguments must be a JSON object, got list"),
    ],
)
def test_bad_calls_become_readable_errors(arguments, message):
    env = Counter()
    result = env.call("bump", arguments)
    assert message in result.error
    assert result.content == f"Error: {result.error}"
    assert env.state == 0.0
    assert env.calls[-1].error == result.error


def test_integral_float_is_accepted_as_integer():
    env = Counter()
    assert env.call("bump", {"amount": 1, "times": 3.0}).content == "3"


def test_list_items_are_validated():
    result = Counter().call("sum_all", {"values": [1, "2"]})
    assert "argument 'values' item 1 must be an integer" in result.error


def test_unknown_tool_lists_the_valid_tools():
    env = Counter()
    result = env.call("reset", {})
    assert result.error == "unknown tool 'reset'; valid tools: bump, sum_all"
    assert env.calls[-1].name == "reset"


def test_declaring_a_tool_without_annotation_or_description_fails_early():
    with pytest.raises(TypeError, match="no type annotation"):
        tool(lambda env, x: x, description="x")
    with pytest.raises(TypeError, match="needs a docstring"):

        @tool
        def undocumented(env: Environment, x: int) -> int:
            return x

    with pytest.raises(TypeError, match="unsupported tool parameter type"):

        @tool
        def takes_dict(env: Environment, x: dict) -> int:
            """Take a dict."""
            return 0


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("bump", {"amount": 1, "label": 10**5000}),  # repr would refuse this many digits
        ("x" * 1_000_000, {}),
        ("bump", {"k" * 1_000_000: 1}),
        ("bump", {"amount": 1, "label": [[[[]]]] * 100_000}),
        (["not", "a", "name"], {}),
    ],
)
def test_oversized_inputs_give_short_errors_fast(name, arguments):
    env = Counter()
    started = time.process_time()
    result = env.call(name, arguments)
    assert time.process_time() - started < HANG_GUARD_S
    assert result.error
    assert len(result.content) < 200


def test_an_unexpected_exception_in_a_tool_reaches_the_model_with_its_class():
    """A bare KeyError's text is only the key; the model (and the record) read the class too, and the
    episode goes on as after a ToolError."""

    class Ledger(Environment):
        @tool
        def balance(self, name: str) -> int:
            """A balance.

            Args:
                name: The account holder.
            """
            return {"alice": 100}[name]

    env = Ledger()
    result = env.call("balance", {"name": "ALICE"})
    assert result.content == "Error: KeyError: 'ALICE'"
    assert result.error == "KeyError: 'ALICE'"
    assert env.calls[-1].error == "KeyError: 'ALICE'"
    assert env.call("balance", {"name": "alice"}).content == "100"


def test_a_result_says_what_the_call_came_to():
    from tasks import TOOL_CALL_KINDS, ToolResult

    class Ledger(Environment):
        @tool
        def pay(self, amount: int) -> int:
            """Pay.

            Args:
                amount: How much.
            """
            if amount < 0:
                raise ToolError("amount must not be negative")
            return {"x": 1}["y"] if amount == 7 else amount

    env = Ledger()
    assert env.call("pay", {"amount": 3}).kind == "ok"
    assert env.call("send", {"amount": 3}).kind == "unknown_tool"
    assert env.call("pay", {"sum": 3}).kind == "schema_misfit"
    assert env.call("pay", {"amount": "three"}).kind == "schema_misfit"
    assert env.call("pay", "{not json").kind == "schema_misfit"  # raw text reaches no tool
    assert env.call("pay", {"amount": -1}).kind == "tool_error"
    assert env.call("pay", {"amount": 7}).kind == "tool_error"  # an unexpected exception is the tool's
    assert [c.kind for c in env.calls] == ["ok", "unknown_tool", "schema_misfit", "schema_misfit", "schema_misfit",
                                           "tool_error", "tool_error"]
    assert ToolResult("Error: x", "x").kind == "tool_error"  # an error built without a kind is the tool's
    assert set(TOOL_CALL_KINDS) == {"ok", "unparseable", "unknown_tool", "schema_misfit", "tool_error"}
