"""The sweep's own tasks: from ``tasks:`` entries to registered task sources, on every process.

The driver turns each plugin entry of ``sweep.yaml`` (``module``, ``path``, ``mcp``, or a name an
installed package registers) into a :class:`tasks.TaskSource` carrying the hash of its source,
registers it, and hands the same sources to every runner (:func:`register_sources`). A runner on
another machine gets the plugin's folder through Ray's ``runtime_env`` (:func:`runtime_env`,
``py_modules``) and finds its copy there when the driver's path does not exist locally; a copy
whose hash differs from the driver's is refused, so one sweep never mixes two versions of a task.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import tasks
from orchestrator.mcp_tools.spec import DEFAULT_INSTRUCTIONS, McpServer
from orchestrator.mcp_tools.task import load_mcp_plugin
from tasks.plugins import TaskSource, entry_point_names, load_plugin, source_digest


def source_of(selection: Any, base_dir: Path) -> TaskSource | None:
    """The source of one ``tasks:`` entry (a ``TaskSelection``), paths resolved against the sweep
    file's folder; None for a built-in task."""
    name = selection.name
    if selection.module is not None:
        return TaskSource(name, module=selection.module)
    if selection.path is not None:
        return TaskSource(name, path=str((base_dir / selection.path).resolve()))
    if selection.mcp is not None:
        m = selection.mcp
        cwd = (base_dir / m.cwd).resolve() if m.cwd is not None else base_dir.resolve()
        spec = McpServer(
            dataset=str((base_dir / m.dataset).resolve()),
            command=tuple(m.command) if m.command is not None else None, url=m.url,
            cwd=str(cwd) if m.command is not None else None, env_from=tuple(m.env_from),
            reset=m.reset, state=m.state, answers=m.answers, instructions=m.instructions or DEFAULT_INSTRUCTIONS,
            start_timeout_s=m.start_timeout_s, call_timeout_s=m.call_timeout_s, max_sessions=m.max_sessions)
        return TaskSource(name, mcp=spec, loader=load_mcp_plugin)
    if name in tasks.TASK_NAMES:
        return None
    if name in entry_point_names():
        return TaskSource(name, entry_point=name)
    return None


def with_digest(source: TaskSource) -> TaskSource:
    """``source`` with the hash of what it loads now (``PluginError`` when it cannot be loaded)."""
    plugin = load_plugin(source)
    search = str(plugin.search_path) if plugin.search_path and (source.module or source.entry_point) else None
    return replace(source, digest=source_digest(plugin), search_path=search)


def register_sources(sources: list[TaskSource]) -> None:
    """Make the sweep's own tasks known in this process (a runner calls it first), using this
    machine's copy of each plugin."""
    for source in sources:
        tasks.register(localize(source))


def localize(source: TaskSource) -> TaskSource:
    """``source`` as this machine reaches it: the driver's path when it exists here, else the
    copy Ray shipped with the runner (a folder of the same name on ``sys.path``)."""
    if source.path is not None and not Path(source.path).exists():
        shipped = _shipped(Path(source.path))
        if shipped is not None:
            return replace(source, path=str(shipped))
    if source.mcp is not None:
        spec = source.mcp
        moved: dict[str, Any] = {}
        if not Path(spec.dataset).exists() and (found := _shipped(Path(spec.dataset))) is not None:
            moved["dataset"] = str(found)
        if spec.cwd is not None and not Path(spec.cwd).exists() and (found := _shipped(Path(spec.cwd))) is not None:
            moved["cwd"] = str(found)
        if moved:
            return replace(source, mcp=replace(spec, **moved))
    return source


def _shipped(path: Path) -> Path | None:
    """``<folder>/<file>`` (or ``<folder>``) under a ``sys.path`` entry: where Ray unpacks a
    ``py_modules`` folder on a node."""
    folder = path.parent if path.suffix else path
    tail = Path(folder.name) / path.name if path.suffix else Path(folder.name)
    for entry in sys.path:
        candidate = Path(entry) / tail
        if entry and candidate.exists():
            return candidate
    return None


def shipped_folders(sources: list[TaskSource]) -> list[str]:
    """The folders a runner on another machine needs: each plugin's package or folder, each MCP
    server's working folder and dataset folder."""
    folders: list[str] = []
    for source in sources:
        if source.mcp is not None:
            candidates = [source.mcp.cwd, str(Path(source.mcp.dataset).parent)]
        else:
            root = load_plugin(source).root
            candidates = [str(root)] if root is not None else []
        for folder in candidates:
            if folder and folder not in folders and not _installed(Path(folder)):
                folders.append(folder)
    return folders


def runtime_env(sources: list[TaskSource]) -> dict[str, Any] | None:
    """Ray's ``runtime_env`` for the runners: the plugin folders as ``py_modules`` (None when the
    sweep has none)."""
    folders = shipped_folders(sources)
    return {"py_modules": folders} if folders else None


def _installed(folder: Path) -> bool:
    """Installed packages (site-packages) are the cluster image's business, not shipped."""
    return "site-packages" in folder.parts or "dist-packages" in folder.parts
