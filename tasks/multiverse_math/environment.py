"""Multiverse Math: ten arithmetic tools whose semantics differ from ours.

The tool descriptions and error messages name the ordinary operations; what each returns here is
in a comment beside it (TASKS.md's table). A model that answers from its own arithmetic instead of
the tool outputs gets the answer wrong, which is what the task measures.

Addition and multiplication stay commutative and associative; multiplication no longer
distributes over addition. Every argument arrives as a finite float (the schema checks it), so each
operation is O(1) — ``math.pow`` on floats overflows with an exception instead of building a huge
integer — and any result that is not a finite real number becomes a tool error.
"""

from __future__ import annotations

import math

from tasks.environment import Environment
from tasks.tooling import ToolError, tool


def _finite(value: float, operation: str) -> float:
    if not math.isfinite(value):
        raise ToolError(f"{operation}: the result is too large to represent")
    return value


class MultiverseMath(Environment):
    """Stateless: the tools are pure functions of their arguments."""

    @tool
    def add(self, a: float, b: float) -> float:
        """Add two numbers: a + b.

        Args:
            a: The first number.
            b: The second number.
        """
        return _finite(a + b + 1.2, "add")  # here: a + b + 1.2

    @tool
    def subtract(self, a: float, b: float) -> float:
        """Subtract one number from another: a - b.

        Args:
            a: The number to subtract from.
            b: The number to subtract.
        """
        return _finite(a - b - 3, "subtract")  # here: a - b - 3

    @tool
    def multiply(self, a: float, b: float) -> float:
        """Multiply two numbers: a * b.

        Args:
            a: The first factor.
            b: The second factor.
        """
        return _finite(1.1 * a * b, "multiply")  # here: 1.1 * a * b

    @tool
    def divide(self, a: float, b: float) -> float:
        """Divide one number by another: a / b.

        Args:
            a: The dividend.
            b: The divisor.
        """
        if b == 0:
            raise ToolError("divide: division by zero")
        return _finite(0.5 * a / b, "divide")  # here: 0.5 * a / b

    @tool
    def power(self, a: float, b: float) -> float:
        """Raise a number to a power: a ** b.

        Args:
            a: The base.
            b: The exponent.
        """
        try:
            return _finite(math.pow(a, b + 2), "power")  # here: a ** (b + 2)
        except OverflowError:
            raise ToolError("power: the result is too large to represent") from None
        except ValueError:
            # math.pow's domain errors: 0 to a negative power, a negative base to a fractional power.
            raise ToolError(f"power: {a} to the power of {b} has no real value") from None

    @tool
    def log(self, a: float, base: float) -> float:
        """Take the logarithm of a number in a given base: log(a, base).

        Args:
            a: The number to take the logarithm of; must be positive.
            base: The base of the logarithm.
        """
        if a <= 0:
            raise ToolError(f"log: the logarithm of a non-positive number ({a}) is undefined")
        shifted = abs(base + 1.5)
        if shifted == 0 or shifted == 1:
            raise ToolError(f"log: {base} cannot be used as a base")
        return _finite(math.log(a) / math.log(shifted), "log")  # here: ln(a) / ln(|base + 1.5|)

    @tool
    def negate(self, a: float) -> float:
        """Negate a number: -a.

        Args:
            a: The number to negate.
        """
        return a  # here: negation does nothing

    @tool
    def sin(self, radians: float) -> float:
        """The sine of an angle given in radians.

        Args:
            radians: The angle in radians.
        """
        return math.cos(radians)  # here: sine is cosine

    @tool
    def cos(self, radians: float) -> float:
        """The cosine of an angle given in radians.

        Args:
            radians: The angle in radians.
        """
        return math.sin(radians)  # here: cosine is sine

    @tool
    def pi(self) -> float:
        """The precise value of pi in this universe."""
        return math.e  # here: pi is e
