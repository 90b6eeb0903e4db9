"""The relational data tools: 17 read-only queries over the users, locations and foods tables.

The search tools rank every row by the Jaccard similarity of the character sets of the query and
the name (case-insensitive; case-sensitive under the ``paper`` scoring profile, as the original
ranked), best first, and return ids and names only: the model has to decide which hit it means.
An unknown id is a tool error the model can read.
"""

from __future__ import annotations

from typing import Any

from tasks.environment import Environment
from tasks.relational_data.tables import Food, Location, RelationalTables, User, load_tables
from tasks.tooling import ToolError, clip, tool


def rank_by_similarity(query: str, names: dict[int, str], key: str,
                       case_sensitive: bool = False) -> list[dict[str, Any]]:
    """Every ``(id, name)`` as ``{"id", key}``, most similar character set to ``query`` first."""

    def fold(text: str) -> str:
        return text if case_sensitive else text.casefold()

    wanted = set(fold(query))

    def jaccard(name: str) -> float:
        chars = set(fold(name))
        return len(wanted & chars) / len(wanted | chars)

    ranked = sorted(names.items(), key=lambda item: jaccard(item[1]), reverse=True)
    return [{"id": row_id, key: name} for row_id, name in ranked]


class RelationalData(Environment):
    """Stateless: the tables never change during an episode."""

    def __init__(self, tables: RelationalTables | None = None, *, case_sensitive_search: bool = False,
                 precise_numbers: bool = False) -> None:
        super().__init__(precise_numbers=precise_numbers)
        self.tables = tables if tables is not None else load_tables()
        self.case_sensitive_search = case_sensitive_search

    def _rank(self, query: str, names: dict[int, str], key: str) -> list[dict[str, Any]]:
        return rank_by_similarity(query, names, key, self.case_sensitive_search)

    def _user(self, user_id: int) -> User:
        if user_id not in self.tables.users:
            raise ToolError(f"no user with id {clip(str(user_id))}")
        return self.tables.users[user_id]

    def _location(self, location_id: int) -> Location:
        if location_id not in self.tables.locations:
            raise ToolError(f"no location with id {clip(str(location_id))}")
        return self.tables.locations[location_id]

    def _food(self, food_id: int) -> Food:
        if food_id not in self.tables.foods:
            raise ToolError(f"no food with id {clip(str(food_id))}")
        return self.tables.foods[food_id]

    @tool
    def get_user_name(self, user_id: int) -> str:
        """Get the name of the user with the given user id.

        Args:
            user_id: The user's id.
        """
        return self._user(user_id).name

    @tool
    def list_user_ids(self) -> list[int]:
        """List the ids of all users."""
        return list(self.tables.users)

    @tool
    def find_users_by_name(self, name: str) -> list[dict[str, Any]]:
        """Find users by name: every user's id and name, the closest match first.

        Args:
            name: The name to search for.
        """
        return self._rank(name, {u.id: u.name for u in self.tables.users.values()}, "name")

    @tool
    def find_locations_by_name(self, city: str) -> list[dict[str, Any]]:
        """Find locations by city name: every location's id and city, the closest match first.

        Args:
            city: The city name to search for.
        """
        return self._rank(city, {loc.id: loc.city for loc in self.tables.locations.values()}, "city")

    @tool
    def find_foods_by_name(self, food: str) -> list[dict[str, Any]]:
        """Find foods by name: every food's id and name, the closest match first.

        Args:
            food: The food name to search for.
        """
        return self._rank(food, {f.id: f.name for f in self.tables.foods.values()}, "name")

    @tool
    def get_user_email(self, user_id: int) -> str:
        """Get the email address of the user with the given user id.

        Args:
            user_id: The user's id.
        """
        return self._user(user_id).email

    @tool
    def get_user_location(self, user_id: int) -> int:
        """Get the id of the location where the user with the given user id lives.

        Args:
            user_id: The user's id.
        """
        return self._user(user_id).location

    @tool
    def get_user_favorite_color(self, user_id: int) -> str:
        """Get the favorite color of the user with the given user id.

        Args:
            user_id: The user's id.
        """
        return self._user(user_id).favorite_color

    @tool
    def get_user_favorite_foods(self, user_id: int) -> list[int]:
        """Get the ids of the favorite foods of the user with the given user id.

        Args:
            user_id: The user's id.
        """
        return list(self._user(user_id).favorite_foods)

    @tool
    def get_weather_at_location(self, location_id: int) -> str:
        """Get the current weather at the location with the given location id.

        Args:
            location_id: The location's id.
        """
        return self._location(location_id).current_weather

    @tool
    def get_city_for_location(self, location_id: int) -> str:
        """Get the city of the location with the given location id.

        Args:
            location_id: The location's id.
        """
        return self._location(location_id).city

    @tool
    def get_current_time_for_location(self, location_id: int) -> str:
        """Get the current local time at the location with the given location id.

        Args:
            location_id: The location's id.
        """
        return self._location(location_id).current_time

    @tool
    def get_current_weather_for_location(self, location_id: int) -> str:
        """Get the current weather for the location with the given location id.

        Args:
            location_id: The location's id.
        """
        return self._location(location_id).current_weather

    @tool
    def get_food_name(self, food_id: int) -> str:
        """Get the name of the food with the given food id.

        Args:
            food_id: The food's id.
        """
        return self._food(food_id).name

    @tool
    def get_food_calories(self, food_id: int) -> int:
        """Get the calories per serving of the food with the given food id.

        Args:
            food_id: The food's id.
        """
        return self._food(food_id).calories

    @tool
    def get_food_allergic_ingredients(self, food_id: int) -> list[str]:
        """Get the allergenic ingredients of the food with the given food id.

        Args:
            food_id: The food's id.
        """
        return list(self._food(food_id).allergic_ingredients)

    @tool
    def get_current_user_id(self) -> int:
        """Get the id of the current user (the person asking)."""
        return self.tables.current_user_id
