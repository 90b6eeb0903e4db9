"""Each vocabulary is defined once where it is produced; ``analysis`` (which may not import the
producers) keeps its own lists of what it reads, checked here against the definitions."""

from __future__ import annotations

import polars as pl

import providers.errors as errors
from analysis import accuracy, load, plots, published, reliability, tool_validity
from orchestrator.config import DEFAULT_GATES, ModelConfig
from orchestrator.records import CALL_OUTCOMES, EPISODE_STATUSES, RETRYABLE_STATUSES, SCHEMAS, SCORED_STATUSES
from providers.registry import FACTORIES, PROVIDER_NAMES
from tasks import TOOL_CALL_KINDS


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def polars_schema(table: str) -> dict[str, pl.DataType]:
    return dict(pl.from_arrow(SCHEMAS[table].empty_table()).schema)


def test_analysis_knows_every_outcome_and_no_other():
    assert sorted(reliability.OUTCOMES) == sorted(CALL_OUTCOMES)
    assert list(plots.OUTCOME_COLORS) == list(reliability.OUTCOMES)


def test_analysis_knows_every_status_and_scores_the_same_ones():
    assert sorted(accuracy.STATUSES) == sorted(EPISODE_STATUSES)
    assert accuracy.SCORED_STATUSES == SCORED_STATUSES
    assert set(accuracy.EXCLUDED_STATUSES) == set(EPISODE_STATUSES) - set(SCORED_STATUSES) - {"refused"}
    # the published benchmark counts every unscored episode as wrong, refused ones included
    assert set(published.FAILED_STATUSES) == set(EPISODE_STATUSES) - set(SCORED_STATUSES)
    # what the analysis counts as failed (the causes of failure) is what sweep --retry-errors runs again
    assert set(accuracy.EXCLUDED_STATUSES) == set(RETRYABLE_STATUSES)


def test_analysis_knows_every_tool_call_kind_and_the_column_lists_them():
    assert tool_validity.KINDS == TOOL_CALL_KINDS
    doc = dict(SCHEMAS["episodes"].field("tool_calls").type.value_type.field("kind").metadata)[b"doc"].decode()
    assert all(kind in doc for kind in TOOL_CALL_KINDS)


def test_the_error_rates_compared_between_runs_are_transient_failures():
    retried = {cls.outcome for cls in _subclasses(errors.RetryableError)}
    assert set(reliability.ERROR_OUTCOMES) <= retried
    assert len(set(reliability.ERROR_OUTCOMES)) == len(reliability.ERROR_OUTCOMES)


def test_every_column_analysis_reads_is_written_with_that_type():
    for table in load.TABLES:
        written = polars_schema(table)
        for name, dtype in {**load.REQUIRED_COLUMNS[table], **load.OPTIONAL_COLUMNS[table]}.items():
            assert name in written, f"analysis reads {table}.{name}, which no row writes"
            assert written[name] == dtype, f"{table}.{name}: written {written[name]}, read as {dtype}"
    episodes = polars_schema("episodes")
    assert set(accuracy.SCORED_COLUMNS) <= set(episodes) and set(accuracy.BINARY_METRICS) <= set(episodes)
    assert set(reliability.KEYS) <= set(polars_schema("calls"))


def test_every_column_is_documented_in_the_files():
    for schema in SCHEMAS.values():
        for field in schema:
            assert field.metadata and field.metadata[b"doc"], field.name


def test_every_error_outcome_is_in_the_vocabulary():
    # "ok" and "cached" (answered by the response cache) are the outcomes no error carries
    assert {cls.outcome for cls in _subclasses(errors.ProviderError)} | {"ok", "cached"} == set(CALL_OUTCOMES)


def test_one_list_of_provider_names():
    assert set(FACTORIES) == set(PROVIDER_NAMES) == set(DEFAULT_GATES)
    assert ModelConfig.model_fields["provider"].annotation.__args__ == PROVIDER_NAMES


def test_the_scores_columns_analysis_reads_are_written_with_that_type():
    from orchestrator.records import SCORES_SCHEMA

    written = dict(pl.from_arrow(SCORES_SCHEMA.empty_table()).schema)
    assert {name: written[name] for name in load.SCORE_COLUMNS} == load.SCORE_COLUMNS


def test_the_config_schema_copies_are_the_sources():
    from typing import get_args

    from orchestrator.config import Effort, Scoring, TaskSelection
    from providers.catalog.apis import EFFORTS
    from tasks.variants import DEFAULT_DATASET, DEFAULT_SCORING, SCORING_PROFILES

    assert get_args(Scoring) == SCORING_PROFILES and SCORING_PROFILES[0] == DEFAULT_SCORING
    # every effort some API takes, in the order the widest API lists them
    assert set(get_args(Effort)) == {effort for efforts in EFFORTS.values() for effort in efforts}
    assert get_args(Effort) == max(EFFORTS.values(), key=len)
    assert TaskSelection.model_fields["dataset"].default == DEFAULT_DATASET


def test_mcp_settings_and_the_server_spec_agree():
    import dataclasses

    from orchestrator.config import McpSettings
    from orchestrator.mcp_tools.spec import DEFAULT_INSTRUCTIONS, McpServer

    server = {f.name: f for f in dataclasses.fields(McpServer) if f.init}
    settings = McpSettings.model_fields
    assert set(server) == set(settings), "every server setting is a config key and the other way round"
    for name, field in server.items():
        default = field.default if field.default is not dataclasses.MISSING else None
        if name == "instructions":  # the config's unset means the server's default text
            assert settings[name].default is None and default == DEFAULT_INSTRUCTIONS
        elif name in ("command", "env_from"):  # lists in the config, tuples in the picklable spec
            assert settings[name].get_default(call_default_factory=True) in (None, []) and default in (None, ())
        elif name != "dataset":
            assert settings[name].default == default, name
        assert settings[name].is_required() == (field.default is dataclasses.MISSING), name


def test_the_entry_point_group_is_named_once():
    from pathlib import Path

    root = Path(__file__).parent.parent
    quoted = [path for package in ("tasks", "providers", "orchestrator", "analysis")
              for path in (root / package).rglob("*.py") if '"toolsweep.tasks"' in path.read_text(encoding="utf-8")]
    assert quoted == [root / "tasks" / "plugins.py"]
