"""`dataset:` per task and top-level `scoring:` in sweep.yaml: validation with file:line, the plan's
episode ids, the config hash, the manifest and the episodes' `dataset`/`scoring` columns."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import tasks
from orchestrator.config import ConfigError, config_hash, load_config
from orchestrator.plan import EpisodeSpec, build_plan, episode_id
from orchestrator.records import EPISODES_SCHEMA, EpisodeRow

BASE = """\
name: paper-wiring
tasks:
  - typewriter_single
  - {name: multiverse_math, limit: 3}
models:
  - {id: oracle, provider: simulated, model: oracle}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_dataset_and_scoring_default_to_toolsweep(tmp_path):
    config = load_config(write(tmp_path, BASE))
    assert config.scoring == "toolsweep"
    assert [t.dataset for t in config.tasks] == ["toolsweep", "toolsweep"]


def test_a_paper_sweep_loads(tmp_path):
    text = BASE.replace("  - typewriter_single\n", "  - {name: typewriter_single, dataset: paper}\n").replace(
        "limit: 3}", "dataset: paper-tiny}") + "scoring: paper\n"
    config = load_config(write(tmp_path, text))
    assert config.scoring == "paper"
    assert [(t.name, t.dataset) for t in config.tasks] == [("typewriter_single", "paper"),
                                                           ("multiverse_math", "paper-tiny")]


def test_an_unknown_dataset_is_named_with_its_line(tmp_path):
    text = BASE.replace("  - typewriter_single\n", "  - name: typewriter_single\n    dataset: paper-tiny\n")
    assert error_of(write(tmp_path, text)) == (
        f"{tmp_path / 'sweep.yaml'}:4: tasks[0].dataset: task 'typewriter_single' has no dataset 'paper-tiny' "
        "(its datasets: toolsweep, paper)")


def test_an_unknown_scoring_profile_is_named_with_its_line(tmp_path):
    message = error_of(write(tmp_path, BASE + "scoring: strict\n"))
    assert message.startswith(f"{tmp_path / 'sweep.yaml'}:7: scoring: ")
    assert "'toolsweep'" in message and "'paper'" in message and "strict" in message


def test_example_ids_are_checked_against_the_chosen_dataset(tmp_path):
    text = BASE.replace("limit: 3}", "dataset: paper, examples: [paper-01, mm-01]}")
    assert error_of(write(tmp_path, text)) == (
        f"{tmp_path / 'sweep.yaml'}:4: tasks[1].examples[1]: task 'multiverse_math' (paper dataset) "
        "has no example 'mm-01'")


def test_default_dataset_ids_and_config_hash_are_unchanged(tmp_path):
    config = load_config(write(tmp_path, BASE))
    plan = build_plan(config)
    spec = plan[0]
    canonical = json.dumps({"example_id": spec.example_id, "model_id": spec.model_id, "seed": spec.seed,
                            "strategy": spec.strategy, "task": spec.task}, sort_keys=True, separators=(",", ":"))
    import hashlib
    assert spec.episode_id == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    # writing the defaults out changes nothing: same hash, same run directory on resume
    explicit = BASE.replace("  - typewriter_single\n", "  - {name: typewriter_single, dataset: toolsweep}\n")
    assert config_hash(load_config(write(tmp_path, explicit + "scoring: toolsweep\n"))) == config_hash(config)


def test_datasets_and_profiles_change_what_a_run_is(tmp_path):
    base = load_config(write(tmp_path, BASE))
    paper = load_config(write(tmp_path, BASE.replace("limit: 3}", "dataset: paper, limit: 3}")))
    scored = load_config(write(tmp_path, BASE + "scoring: paper\n"))
    assert len({config_hash(base), config_hash(paper), config_hash(scored)}) == 3
    # the same example id on two datasets is two episodes
    assert episode_id("m", "typewriter_single", "a", 0, "native") != episode_id(
        "m", "typewriter_single", "a", 0, "native", "paper")
    ids = {s.episode_id for s in build_plan(paper) if s.task == "multiverse_math"}
    assert all(s.dataset == "paper" for s in build_plan(paper) if s.task == "multiverse_math")
    assert not ids & {s.episode_id for s in build_plan(base)}
    assert EpisodeSpec("m", "t", "e", 0, "native").dataset == "toolsweep"


def test_episode_rows_carry_dataset_and_scoring_as_the_last_columns():
    # appended after every earlier column; columns added later (cached_calls) come after them
    names = EPISODES_SCHEMA.names
    start = names.index("dataset")
    assert names[start:start + 2] == ["dataset", "scoring"] and names.index("reasoning") < start
    assert list(EpisodeRow.__dataclass_fields__)[start:start + 2] == ["dataset", "scoring"]


def test_the_task_registry_offers_what_the_config_accepts():
    assert tasks.SCORING_PROFILES == ("toolsweep", "paper")
    assert tasks.dataset_names("multiverse_math") == ("toolsweep", "paper", "paper-tiny")
