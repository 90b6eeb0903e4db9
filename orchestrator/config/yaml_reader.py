"""Reading sweep.yaml: bounded before it is walked (size, node count with aliases expanded, tags,
integer length), with the line of every key recorded so messages can name it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from orchestrator.config.errors import ConfigError, Loc, format_loc

# Bounds on what a config file may make the loader do. A sweep config is a few kilobytes; these
# leave room for long explicit seed and example lists while keeping a hostile file (an alias
# bomb, a megabyte-long list) to well under a second of work before it is refused.
MAX_CONFIG_BYTES = 256 * 1024
MAX_CONFIG_NODES = 100_000  # with every alias expanded: what validation would walk
MAX_INT_DIGITS = 100
_CORE = "tag:yaml.org,2002:"
# Plain data only: the JSON-like core types, merge keys, and timestamps (YAML reads an unquoted
# date as one; the schema then names the field). Anything else (!!binary, !!set, !!python/…,
# local !tags) has no meaning in a sweep config.
_ALLOWED_TAGS = frozenset(_CORE + kind for kind in
                          ("str", "int", "float", "bool", "null", "map", "seq", "merge", "timestamp"))
# libyaml when PyYAML was built with it: the pure-Python parser takes seconds over a few hundred
# kilobytes. libyaml also bounds nesting (1,000 levels) without recursing.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, source: str) -> tuple[Any, dict[Loc, int]]:
    """The document at ``path`` as plain data, and the line of each key path; ConfigError (one line,
    naming ``source``) for anything else."""
    if path.is_dir():
        raise ConfigError(f"{source}: is a directory, not a sweep config file")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)  # bounded: /dev/zero or a huge file is not read whole
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: larger than {MAX_CONFIG_BYTES // 1024} KiB; a sweep config is a few kilobytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    loader = None
    try:
        loader = _Loader(text)  # checks the characters: inside the try
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(f"{source}: the file is empty")
        _check_shape(node, source)
        lines: dict[Loc, int] = {}
        _record_lines(node, (), lines, source)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = exc.problem or exc.context or "invalid YAML"
        column = f" (column {mark.column + 1})" if mark else ""
        # e.g. an unclosed bracket is found lines later: also say where it opened
        opened = exc.context_mark
        started = (f", {exc.context} started at line {opened.line + 1}"
                   if exc.problem and exc.context and opened and mark and opened.line != mark.line else "")
        raise ConfigError(f"{where}: YAML syntax error: {problem}{column}{started}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: YAML error: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{source}: YAML nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_shape(root: yaml.Node, source: str) -> None:
    """Refuse, before anything walks the document as a tree, what would make that walk hostile:
    an alias that contains itself (the tree is infinite), more than ``MAX_CONFIG_NODES`` nodes
    once aliases are expanded (an alias bomb: nine levels of nine aliases is 9**9 nodes from
    ninety lines), tags outside plain data, and integers too long to convert.

    The expanded size is counted once per node of the graph (depth-first, iteratively, with the
    size of each shared node remembered), so this takes time linear in the file, not in the tree.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()  # the nodes whose subtree is being counted: meeting one again is a cycle
    # (node, None) on the way down; (node, its children) once they are on the stack above it
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]
    while stack:
        node, children = stack.pop()
        key = id(node)
        if children is not None:
            on_path.discard(key)
            size = sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if size > MAX_CONFIG_NODES:
                raise _too_many(source, node)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: an alias refers to a node that contains it "
                              "(the value would be infinite)")
        if node.tag not in _ALLOWED_TAGS:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: YAML tag {node.tag.replace(_CORE, '!!')} "
                              "is not allowed in a sweep config (plain values, lists and mappings only)")
        if node.tag == _CORE + "int" and len(node.value) > MAX_INT_DIGITS:
            raise ConfigError(f"{source}:{node.start_mark.line + 1}: an integer of {len(node.value):,} "
                              "characters is too long")
        children = _children(node)
        if len(children) > MAX_CONFIG_NODES:  # a flat list that long is refused before it is walked
            raise _too_many(source, node)
        on_path.add(key)
        stack.append((node, children))
        stack.extend((child, None) for child in children if id(child) not in sizes)


def _too_many(source: str, node: yaml.Node) -> ConfigError:
    return ConfigError(f"{source}:{node.start_mark.line + 1}: more than {MAX_CONFIG_NODES:,} values once its "
                       "aliases are expanded; a sweep config is far smaller")


def _record_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int], source: str) -> None:
    """Map each key path to its line (1-based); YAML would silently keep the last of two equal keys,
    so a repeated key is an error here. Walks the expanded tree: call it after ``_check_shape``."""
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.tag == _CORE + "merge":
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: "
                                  f"{format_loc(loc) or 'top level'}: a key must be a plain name, not a list or mapping")
            key = key_node.value
            if (*loc, key) in lines:
                raise ConfigError(f"{source}:{key_node.start_mark.line + 1}: "
                                  f"{format_loc((*loc, key))}: key appears twice")
            lines[(*loc, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*loc, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, (*loc, index), lines, source)
