"""The three tables (users, locations, foods), read from one JSONL file per dataset.

Each line is one row tagged with its table: ``{"table": "users", "id": 4, "name": ...}``. In the
``toolsweep`` tables (``data/tables.jsonl``) ids are deliberately not 1..n and overlap across
tables, so a model cannot guess an id or mix one up with another table's without it showing. The
``paper`` tables (``data/tables_paper.jsonl``) are the published ``USER_DATA``, ``LOCATION_DATA`` and
``FOOD_DATA``, with their current user 35.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from tasks.dataset import read_jsonl
from tasks.variants import DEFAULT_DATASET, PAPER_DATASET

CURRENT_USER_ID = 36  # the user get_current_user_id reports in the toolsweep tables
PAPER_CURRENT_USER_ID = 35  # the published get_current_user_id's answer

# dataset -> (tables file, current user id); questions about "me" depend on the latter
TABLE_FILES: dict[str, tuple[str, int]] = {
    DEFAULT_DATASET: ("tables.jsonl", CURRENT_USER_ID),
    PAPER_DATASET: ("tables_paper.jsonl", PAPER_CURRENT_USER_ID),
}


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
    current_user_id: int = CURRENT_USER_ID


@cache
def load_tables(dataset: str = DEFAULT_DATASET) -> RelationalTables:
    """The tables of ``dataset``, read once; ``ValueError`` on a dangling reference between them."""
    filename, current_user_id = TABLE_FILES[dataset]
    rows: dict[str, list[dict[str, Any]]] = {"users": [], "locations": [], "foods": []}
    for row in read_jsonl(__package__, filename):
        table = row.pop("table")
        if table not in rows:
            raise ValueError(f"{filename}: unknown table {table!r}")
        rows[table].append(row)
    tables = RelationalTables(
        users={r["id"]: User(**{**r, "favorite_foods": tuple(r["favorite_foods"])}) for r in rows["users"]},
        locations={r["id"]: Location(**r) for r in rows["locations"]},
        foods={r["id"]: Food(**{**r, "allergic_ingredients": tuple(r["allergic_ingredients"])}) for r in rows["foods"]},
        current_user_id=current_user_id,
    )
    for user in tables.users.values():
        if user.location not in tables.locations or not set(user.favorite_foods) <= set(tables.foods):
            raise ValueError(f"{filename}: user {user.id} refers to a missing location or food")
    if current_user_id not in tables.users:
        raise ValueError(f"{filename}: the current user {current_user_id} is not in the users table")
    return tables
