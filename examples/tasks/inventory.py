"""A ToolSweep task plugin: a small warehouse inventory, in one file beside its dataset.

Load it from a sweep file with ``tasks: [{name: inventory, path: inventory.py}]``. The module
gives ToolSweep what every task gives it: the instructions, a fresh-environment factory whose
``@tool`` methods are the tools (schemas come from the type hints and the docstring), the dataset
(``inventory.jsonl``, beside this file) and an answer matcher. Examples that change the stock also
name the final state (``expected_state``), which ToolSweep compares with :attr:`Inventory.state`.
"""

from __future__ import annotations

import json

from tasks import Environment, ToolError, tool
from tasks.answers import short_answer_matches

INSTRUCTIONS = (
    "You run a warehouse's inventory through the provided tools. Items have a name and a SKU (like "
    "A100); the stock and price tools take the SKU, so look it up by name first when the user names the "
    "item. Do not guess quantities or prices: read them with the tools, and make every change the user "
    "asks for with them. Answer with the number or the SKUs asked for, nothing else."
)
DATASET = "inventory.jsonl"
answer_matcher = short_answer_matches  # numbers compared as numbers, lists as sets, case ignored

# SKU -> (name, quantity, unit price in dollars): the stock every episode starts from
STOCK = {
    "A100": ("widget", 40, 2.5),
    "B200": ("gadget", 12, 15.0),
    "C300": ("sprocket", 0, 0.75),
    "D400": ("gizmo", 7, 42.0),
    "E500": ("doohickey", 100, 1.2),
}


class Inventory(Environment):
    """The warehouse: stock and prices per SKU; its state is the whole table as canonical JSON."""

    def __init__(self) -> None:
        super().__init__()
        self.names = {sku: name for sku, (name, _, _) in STOCK.items()}
        self.quantity = {sku: quantity for sku, (_, quantity, _) in STOCK.items()}
        self.price = {sku: price for sku, (_, _, price) in STOCK.items()}

    @property
    def state(self) -> str:
        return json.dumps({sku: [self.quantity[sku], self.price[sku]] for sku in sorted(self.quantity)})

    def _sku(self, sku: str) -> str:
        key = sku.strip().upper()
        if key not in self.quantity:
            raise ToolError(f"no SKU {sku!r}; SKUs look like A100 (find_sku finds one by name)")
        return key

    @tool
    def find_sku(self, name: str) -> str:
        """Find the SKU of an item by its name.

        Args:
            name: The item's name, e.g. "widget".
        """
        wanted = name.strip().lower().removesuffix("s")
        for sku, item in self.names.items():
            if item == wanted:
                return sku
        raise ToolError(f"no item named {name!r}")

    @tool
    def get_stock(self, sku: str) -> int:
        """How many units of an item are in stock.

        Args:
            sku: The item's SKU.
        """
        return self.quantity[self._sku(sku)]

    @tool
    def get_price(self, sku: str) -> float:
        """The unit price of an item, in dollars.

        Args:
            sku: The item's SKU.
        """
        return self.price[self._sku(sku)]

    @tool
    def add_stock(self, sku: str, quantity: int) -> int:
        """Receive units of an item; returns the new quantity in stock.

        Args:
            sku: The item's SKU.
            quantity: How many units arrive (at least 1).
        """
        key = self._sku(sku)
        if quantity < 1:
            raise ToolError("quantity must be at least 1")
        self.quantity[key] += quantity
        return self.quantity[key]

    @tool
    def remove_stock(self, sku: str, quantity: int) -> int:
        """Ship units of an item; returns the quantity left. Fails when the stock is too small.

        Args:
            sku: The item's SKU.
            quantity: How many units leave (at least 1).
        """
        key = self._sku(sku)
        if quantity < 1:
            raise ToolError("quantity must be at least 1")
        if quantity > self.quantity[key]:
            raise ToolError(f"only {self.quantity[key]} units of {key} in stock")
        self.quantity[key] -= quantity
        return self.quantity[key]

    @tool
    def set_price(self, sku: str, price: float) -> float:
        """Change the unit price of an item; returns the new price.

        Args:
            sku: The item's SKU.
            price: The new unit price in dollars (above 0).
        """
        key = self._sku(sku)
        if price <= 0:
            raise ToolError("price must be above 0")
        self.price[key] = price
        return price

    @tool
    def list_low_stock(self, threshold: int) -> list[str]:
        """The SKUs with fewer units in stock than a threshold, in order.

        Args:
            threshold: The quantity an item must be below to be listed.
        """
        return sorted(sku for sku, quantity in self.quantity.items() if quantity < threshold)


environment = Inventory  # the fresh-environment factory: one new Inventory per episode
