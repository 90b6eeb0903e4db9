"""The Relational Data task: answer questions by querying three tables through 17 tools."""

from __future__ import annotations

from tasks.answers import short_answer_matches
from tasks.relational_data.dataset import load_examples
from tasks.relational_data.environment import RelationalData
from tasks.scoring import StepRules
from tasks.task import Task

INSTRUCTIONS = (
    "Answer the user's question by using the provided tools. Do not guess: look every fact up. "
    "Users, foods and locations each have a name and an id, and the two are not the same: pass ids "
    "to the tools that ask for ids. Give a short answer."
)

# The two weather tools return the same thing, so either one satisfies a step that names the
# other; a search query is the agent's own choice (it only has to find the right row).
STEP_RULES = StepRules(
    aliases={"get_current_weather_for_location": "get_weather_at_location"},
    free_arguments={
        "find_users_by_name": frozenset({"name"}),
        "find_locations_by_name": frozenset({"city"}),
        "find_foods_by_name": frozenset({"food"}),
    },
)


def build() -> Task:
    """``relational_data``."""
    return Task(
        name="relational_data",
        instructions=INSTRUCTIONS,
        examples=load_examples(),
        make_environment=RelationalData,
        answer_matcher=short_answer_matches,
        step_rules=STEP_RULES,
    )
