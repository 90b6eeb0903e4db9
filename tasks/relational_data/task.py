"""The Relational Data task: answer questions by querying three tables through 17 tools."""

from __future__ import annotations

from functools import partial

from tasks.answers import Vocabulary, short_answer_matches
from tasks.relational_data.dataset import DATA_FILES, load_examples
from tasks.relational_data.environment import RelationalData
from tasks.relational_data.tables import RelationalTables, load_tables
from tasks.scoring import StepRules
from tasks.task import Task
from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, PAPER_DATASET, PAPER_SCORING

DATASETS: tuple[str, ...] = tuple(DATA_FILES)

INSTRUCTIONS = (
    "Answer the user's question by using the provided tools. Do not guess: look every fact up. "
    "Users, foods and locations each have a name and an id, and the two are not the same: pass ids "
    "to the tools that ask for ids. Give a short answer."
)

# The published task's instructions, word for word, so the paper dataset runs as published
# (langchain-ai/langchain-benchmarks, langchain_benchmarks/tool_usage/tasks/relational_data.py,
# MIT licence; see data/README.md).
PAPER_INSTRUCTIONS = (
    "Please answer the user's question by using the tools provided. Do not guess the "
    "answer. Keep in mind that entities like users,foods and locations have both a "
    "name and an ID, which are not the same."
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


def vocabulary(tables: RelationalTables) -> Vocabulary:
    """The entities an answer can name, by kind: what a wrong-entity answer is recognised by."""
    users, locations, foods = tables.users.values(), tables.locations.values(), tables.foods.values()
    return Vocabulary.of({
        "user": [u.name for u in users],
        "color": [u.favorite_color for u in users],
        "city": [loc.city for loc in locations],
        "weather": [loc.current_weather.split(",")[0] for loc in locations],
        "food": [f.name for f in foods],
        "allergen": [a for f in foods for a in f.allergic_ingredients],
    })


def build(dataset: str = DEFAULT_DATASET, scoring: str = DEFAULT_SCORING) -> Task:
    """``relational_data``."""
    tables = load_tables(dataset)
    paper_scoring = scoring == PAPER_SCORING
    return Task(
        name="relational_data",
        instructions=PAPER_INSTRUCTIONS if dataset == PAPER_DATASET else INSTRUCTIONS,
        examples=load_examples(dataset),
        make_environment=partial(RelationalData, tables, case_sensitive_search=paper_scoring,
                                 precise_numbers=paper_scoring),
        answer_matcher=partial(short_answer_matches, vocabulary=vocabulary(tables)),
        step_rules=STEP_RULES,
        dataset=dataset,
        scoring=scoring,
    )
