"""The task plugin API: the built-ins load through it; a module, a file and an installed entry point
load the same way; broken plugins give one-line errors naming the file and line."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import tasks
from tasks.plugins import PluginError, TaskSource, load_plugin, source_digest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tasks" / "inventory.py"

PLUGIN = '''
from tasks import Environment, ToolError, tool

INSTRUCTIONS = "Count with the counter tool."
DATASET = [
    {"id": "c1", "question": "Add 2.", "reference": "2", "expected_steps": [{"name": "bump", "arguments": {"by": 2}}],
     "expected_state": "2"},
    {"id": "c2", "question": "Add 1 twice.", "reference": "2",
     "expected_steps": [{"name": "bump", "arguments": {"by": 1}}, {"name": "bump", "arguments": {"by": 1}}],
     "expected_state": "2"},
]


class Counter(Environment):
    def __init__(self):
        super().__init__()
        self.total = 0

    @property
    def state(self):
        return str(self.total)

    @tool
    def bump(self, by: int) -> int:
        """Add to the counter.

        Args:
            by: How much to add.
        """
        if by < 1:
            raise ToolError("by must be at least 1")
        self.total += by
        return self.total


environment = Counter
'''


def run_oracle(task: tasks.Task) -> list[tasks.Score]:
    """Each example's expected steps through a fresh environment, answered with the reference."""
    scores = []
    for example in task.examples:
        environment = task.environment()
        for step in example.expected_steps:
            assert environment.call(step.name, step.arguments).error is None
        scores.append(task.score(example, example.reference, environment))
    return scores


def perfect(scores: list[tasks.Score]) -> bool:
    return all(s.correct and s.steps_match and s.state_correct is not False for s in scores)


@pytest.fixture
def registered():
    names: list[str] = []

    def register(source: TaskSource) -> tasks.Task:
        tasks.register(source)
        names.append(source.name)
        return tasks.get_task(source.name)

    yield register
    for name in names:
        tasks.unregister(name)


@pytest.mark.parametrize("source", tasks.BUILTIN_SOURCES, ids=lambda s: s.name)
def test_the_builtin_tasks_load_through_the_plugin_api(source):
    assert source.module is not None and source.builtin
    plugin = load_plugin(source)
    assert plugin.datasets == tasks.dataset_names(source.name) and plugin.datasets[0] == "toolsweep"
    built = plugin.build("toolsweep", "toolsweep")
    assert built.name == source.name
    assert [e.id for e in built.examples] == [e.id for e in tasks.get_task(source.name).examples]
    assert tasks.task_source(source.name) is source and not hasattr(tasks, "_BUILDERS")


def test_a_path_plugin_loads_and_the_oracle_is_perfect(registered):
    task = registered(TaskSource("inventory_by_path", path=str(EXAMPLE)))
    assert task.name == "inventory_by_path" and len(task.examples) >= 20
    assert {t.name for t in task.environment().tools} >= {"find_sku", "add_stock", "list_low_stock"}
    scores = run_oracle(task)
    assert perfect(scores) and sum(s.state_correct is True for s in scores) >= 10
    # a wrong answer and a wrong final state are caught
    example = task.example("inv-08")
    untouched = task.score(example, "12", task.environment())
    assert not untouched.correct and untouched.state_correct is False and not untouched.steps_match


def test_a_module_plugin_loads_from_its_package(tmp_path, monkeypatch, registered):
    package = tmp_path / "my_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "counter.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    task = registered(TaskSource("counter", module="my_pkg.counter"))
    assert perfect(run_oracle(task))
    plugin = tasks.plugin("counter")
    assert plugin.root == package and plugin.search_path == tmp_path


def test_an_installed_entry_point_plugin_loads(tmp_path, monkeypatch, registered):
    # a package as pip would install it: the module and a dist-info naming it under toolsweep.tasks
    (tmp_path / "counter_task.py").write_text(PLUGIN)
    info = tmp_path / "counter_task-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: counter-task\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[toolsweep.tasks]\ncounter_ep = counter_task\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from tasks.plugins import entry_point_names

    assert "counter_ep" in entry_point_names()
    task = registered(TaskSource("counter_ep", entry_point="counter_ep"))
    assert [e.id for e in task.examples] == ["c1", "c2"] and perfect(run_oracle(task))


def test_the_source_hash_follows_the_code_and_the_data(tmp_path):
    plugin_file = tmp_path / "inventory.py"
    plugin_file.write_text(EXAMPLE.read_text())
    (tmp_path / "inventory.jsonl").write_text(EXAMPLE.with_suffix(".jsonl").read_text())
    first = source_digest(load_plugin(TaskSource("h1", path=str(plugin_file))))
    (tmp_path / "inventory.jsonl").write_text(EXAMPLE.with_suffix(".jsonl").read_text().replace('"40"', '"41"'))
    assert source_digest(load_plugin(TaskSource("h2", path=str(plugin_file)))) != first


def one_line_error(source: TaskSource) -> str:
    with pytest.raises(PluginError) as caught:
        plugin = load_plugin(source)
        plugin.build(plugin.datasets[0], "toolsweep")
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_plugin_that_fails_to_import_names_its_line(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import json\n\nVALUE = json.loads('{')\n")
    message = one_line_error(TaskSource("broken", path=str(bad)))
    assert message.startswith(f"{bad}:3: ") and "JSONDecodeError" in message
    missing = one_line_error(TaskSource("missing", module="no_such_package.task"))
    assert "'no_such_package.task': not found" in missing


def test_a_tool_without_type_hints_names_its_line(tmp_path):
    bad = tmp_path / "untyped.py"
    bad.write_text(PLUGIN.replace("def bump(self, by: int) -> int:", "def bump(self, by) -> int:"))
    line = PLUGIN.splitlines().index("    @tool") + 1  # the decorator's line: where the class body fails
    message = one_line_error(TaskSource("untyped", path=str(bad)))
    assert message.startswith(f"{bad}:") and "parameter 'by' has no type annotation" in message
    assert abs(int(message.split(":")[1]) - line) <= 2


def test_a_dataset_naming_a_missing_tool_names_the_row(tmp_path):
    plugin_file = tmp_path / "inventory.py"
    plugin_file.write_text(EXAMPLE.read_text())
    rows = EXAMPLE.with_suffix(".jsonl").read_text().splitlines()
    rows[6] = rows[6].replace('"find_sku"', '"lookup_sku"')
    (tmp_path / "inventory.jsonl").write_text("\n".join(rows) + "\n")
    message = one_line_error(TaskSource("inv", path=str(plugin_file)))
    assert message.startswith(f"{tmp_path / 'inventory.jsonl'}:7: ") and "no tool 'lookup_sku'" in message


@pytest.mark.parametrize(("change", "expected"), [
    (('"by": 2}', '"by": "two"}'), "argument 'by' must be an integer"),
    (('"id": "c2"', '"id": "c1"'), "example id 'c1' repeats"),
    (('INSTRUCTIONS = ', 'NOTES = '), "INSTRUCTIONS: missing"),
])
def test_dataset_and_module_checks(tmp_path, change, expected):
    bad = tmp_path / "counter.py"
    bad.write_text(PLUGIN.replace(*change))
    assert expected in one_line_error(TaskSource("counter", path=str(bad)))


def test_a_plugin_cannot_take_a_builtin_name():
    with pytest.raises(ValueError, match="built in"):
        tasks.register(TaskSource("multiverse_math", path=str(EXAMPLE)))
    assert tasks.task_source("multiverse_math").builtin


def test_a_runner_refuses_a_copy_that_differs_from_the_drivers(tmp_path):
    plugin_file = tmp_path / "counter.py"
    plugin_file.write_text(PLUGIN)
    tasks.register(TaskSource("counter_hash", path=str(plugin_file), digest="0000000000000000"))
    try:
        with pytest.raises(PluginError, match="differs from the one the sweep was planned with"):
            tasks.get_task("counter_hash")
    finally:
        tasks.unregister("counter_hash")


def test_tasks_stays_free_of_the_mcp_sdk():
    assert "mcp" not in {name.split(".")[0] for name in sys.modules if name.startswith("tasks")}
    source = textwrap.dedent(Path(tasks.plugins.__file__).read_text())
    assert "import mcp" not in source and "from mcp" not in source
