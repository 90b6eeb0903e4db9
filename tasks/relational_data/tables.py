"""The three tables (users, locations, foods), read from ``data/tables.jsonl``.

Each line is one row tagged with its table: ``{"table": "users", "id": 4, "name": ...}``. Ids are
deliberately not 1..n and overlap across tables, so a model cannot guess an id or mix one up with
another table's without it showing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tasks.dataset import read_jsonl

CURRENT_USER_ID = 36  # the user get_current_user_id reports; questions about "me" depend on it


@dataclass(frozen=True)
class User:
    id: int
    name: str
    email: str
    location: int  # a location id
    favorite_color: str
    favorite_foods: tuple[int, ...]  # food ids


@dataclass(frozen=True)
class Location:
    id: int
    city: str
    current_time: str
    current_weather: str


@dataclass(frozen=True)
class Food:
    id: int
    name: str
    calories: int
    allergic_ingredients: tuple[str, ...]


@dataclass(frozen=True)
class RelationalTables:
    users: dict[int, User]
    locations: dict[int, Location]
    foods: dict[int, Food]


@cache
def load_tables() -> RelationalTables:
    """The tables, read once; ``ValueError`` on a dangling reference between them."""
    rows: dict[str, list[dict[str, Any]]] = {"users": [], "locations": [], "foods": []}
    for row in read_jsonl(__package__, "tables.jsonl"):
        table = row.pop("table")
        if table not in rows:
            raise ValueError(f"tables.jsonl: unknown table {table!r}")
        rows[table].append(row)
    tables = RelationalTables(
        users={r["id"]: User(**{**r, "favorite_foods": tuple(r["favorite_foods"])}) for r in rows["users"]},
        locations={r["id"]: Location(**r) for r in rows["locations"]},
        foods={r["id"]: Food(**{**r, "allergic_ingredients": tuple(r["allergic_ingredients"])}) for r in rows["foods"]},
    )
    for user in tables.users.values():
        if user.location not in tables.locations or not set(user.favorite_foods) <= set(tables.foods):
            raise ValueError(f"tables.jsonl: user {user.id} refers to a missing location or food")
    if CURRENT_USER_ID not in tables.users:
        raise ValueError(f"tables.jsonl: the current user {CURRENT_USER_ID} is not in the users table")
    return tables
