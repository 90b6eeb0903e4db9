"""Hostile sweep configs: each ends, through the command line, in one ``error:`` line and exit 2
within two seconds — never a hang, a traceback or a blown stack."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from orchestrator.cli import main
from orchestrator.config import MAX_CONFIG_BYTES, MAX_CONFIG_NODES

ROOT = Path(__file__).resolve().parents[2]
HEAD = "name: hostile\ntasks: [typewriter_single]\nmodels: [{id: s, provider: simulated, model: oracle}]\n"


def alias_bomb(levels: int = 9, fan_out: int = 9) -> str:
    """``levels`` anchors, each a list of ``fan_out`` aliases of the one before: fan_out**levels
    values from a few hundred bytes (the "billion laughs" of YAML)."""
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{aliases}]")
    return HEAD + "\n".join(lines) + f"\nseeds: *a{levels}\n"


def merge_bomb(levels: int = 30) -> str:
    """Each mapping merges the one before twice: merging copies keys, so the flattened mapping
    doubles at every level."""
    lines = ["m0: &m0 {k: 1}"]
    for level in range(1, levels + 1):
        lines.append(f"m{level}: &m{level} {{<<: [*m{level - 1}, *m{level - 1}], k{level}: 1}}")
    return "\n".join(lines) + f"\nname: hostile\nagent: *m{levels}\n"


# (id, file text or bytes, a phrase the error line must contain)
HOSTILE: list[tuple[str, str | bytes, str]] = [
    ("alias_bomb", alias_bomb(), f"more than {MAX_CONFIG_NODES:,} values once its aliases are expanded"),
    ("alias_bomb_at_the_top", "x: &x [a, a, a, a, a, a, a, a, a, a]\n"
     + "".join(f"x{i}: &x{i} [{', '.join([f'*x{i - 1}' if i else '*x'] * 10)}]\n" for i in range(8)), "values once"),
    ("alias_cycle", HEAD + "seeds: &s [1, *s]\n", "an alias refers to a node that contains it"),
    ("merge_key_loop", HEAD + "agent: &a {<<: *a, max_steps: 3}\n", "an alias refers to a node that contains it"),
    ("merge_key_bomb", merge_bomb(), "values once its aliases are expanded"),
    ("deep_flow_nesting", HEAD + "seeds: " + "[" * 100_000 + "]" * 100_000 + "\n", "YAML"),
    ("deep_block_nesting", HEAD + "seeds:\n" + "- " * 100_000 + "1\n", "YAML"),
    ("huge_scalar", HEAD.replace("name: hostile", "name: " + "x" * (MAX_CONFIG_BYTES - 200)), "name:"),
    ("huge_file", HEAD + "# " + "pad " * (MAX_CONFIG_BYTES // 4) + "\n", f"larger than {MAX_CONFIG_BYTES // 1024} KiB"),
    ("many_keys", HEAD + "".join(f"k{i}: {i}\n" for i in range(15_000)), "unknown key"),
    ("long_list", HEAD + "seeds: [" + ",".join(["0"] * (MAX_CONFIG_BYTES // 2 - 200)) + "]\n",
     "values once its aliases are expanded"),
    ("huge_integer", HEAD + "seeds: " + "9" * 50_000 + "\n", "integer of 50,000 characters is too long"),
    ("python_tag", HEAD + "agent: !!python/object/apply:os.system ['echo owned']\n",
     "YAML tag !!python/object/apply:os.system is not allowed"),
    ("binary_tag", HEAD + "output: !!binary aGVsbG8=\n", "YAML tag !!binary is not allowed"),
    ("local_tag", HEAD + "judge: !env OPENAI_API_KEY\n", "YAML tag !env is not allowed"),
    ("set_tag", HEAD + "seeds: !!set {1, 2}\n", "YAML tag !!set is not allowed"),
    ("nul_bytes", HEAD.encode() + b"\x00" * 1000, "YAML"),
]


@pytest.fixture
def no_sweep(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Should a hostile file ever load, ``sweep`` records the call instead of starting Ray."""
    calls: list[object] = []
    module = types.ModuleType("orchestrator.sweep")
    module.run_sweep = lambda config, **kwargs: calls.append(config) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "orchestrator.sweep", module)
    return calls


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "sweep.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_the_bombs_are_what_they_claim():
    """The shapes are as hostile as named: expanded, the alias bomb is 9**9 values."""
    assert alias_bomb().count("*a") == 9 * 9 + 1 and 1000 * MAX_CONFIG_NODES < 9 ** 9
    assert len(alias_bomb()) < 1500
    assert len(HOSTILE) >= 11


@pytest.mark.parametrize("command", ["validate", "sweep"])
@pytest.mark.parametrize(("content", "phrase"), [case[1:] for case in HOSTILE], ids=[case[0] for case in HOSTILE])
def test_a_hostile_config_is_one_error_line_and_exit_2_within_2_s_of_cpu(tmp_path, capsys, no_sweep, command, content,
                                                                   phrase):
    path = write(tmp_path, content)
    cpu_started = time.process_time()
    code = main([command, str(path)])
    cpu = time.process_time() - cpu_started
    captured = capsys.readouterr()
    assert code == 2, captured.err[-500:]
    # the work is bounded: under 2 s of CPU (about 0.6 s for the slowest shape on an idle machine);
    # CPU, not wall time, which other processes on the machine stretch (pytest-timeout catches a hang)
    assert cpu < 2.0, f"took {cpu:.2f} s of CPU"
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}"), captured.err[:500]
    assert phrase in lines[0], lines[0][:500]
    assert len(lines[0]) < 500, "the error line echoes the hostile input"
    assert captured.out == "" and no_sweep == []


def test_the_alias_bomb_through_the_real_entry_point(tmp_path):
    """The installed command, in its own process: refused well inside the time a user would wait."""
    path = write(tmp_path, alias_bomb())
    before = os.times()
    done = subprocess.run([sys.executable, "-m", "orchestrator", "validate", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    after = os.times()
    cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-1000:]
    assert len(done.stderr.splitlines()) == 1 and "once its aliases are expanded" in done.stderr
    # bounded work, start-up included (about 1 s of CPU); the 60 s timeout above catches a hang
    assert cpu < 10, f"{cpu:.1f} s of CPU, start-up included"


def test_anchors_and_merge_keys_of_ordinary_size_still_work(tmp_path, capsys):
    """Refusing bombs must not refuse the DRY configs anchors exist for."""
    path = write(tmp_path, "name: anchors\ntasks: [typewriter_single]\nseeds: [0, 1]\nmodels:\n"
                           "  - &base {id: a, provider: simulated, model: oracle, max_tokens: 256}\n"
                           "  - {<<: *base, id: b}\n")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "2 models" in capsys.readouterr().out
