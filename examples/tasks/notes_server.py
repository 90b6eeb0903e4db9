"""A key-value notes store as an MCP server, written with the official ``mcp`` SDK.

The model's tools: ``add_note``, ``get_note``, ``append_to_note``, ``rename_note``,
``delete_note``, ``list_notes``, ``count_words``. Two more are for the harness, named in the
sweep's ``mcp:`` settings and never offered to the model: ``reset`` (empty the store, for a
shared HTTP server) and ``dump_notes`` (the whole store as canonical text: the final state).

    python notes_server.py                       # stdio (ToolSweep starts one per episode)
    python notes_server.py --http --port 8765    # streamable HTTP on 127.0.0.1:8765/mcp
"""

from __future__ import annotations

import argparse
import json

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("notes", log_level="WARNING")
notes: dict[str, str] = {}


class NoteError(ToolError):
    """A call the store cannot carry out: the SDK returns its message to the model as a tool error."""


def _find(title: str) -> str:
    key = title.strip()
    if key not in notes:
        known = ", ".join(sorted(notes)) or "none"
        raise NoteError(f"no note titled {title!r} (notes: {known})")
    return key


@server.tool()
def add_note(title: str, text: str) -> str:
    """Create a note. Fails if a note with this title exists."""
    key = title.strip()
    if not key:
        raise NoteError("a note needs a title")
    if key in notes:
        raise NoteError(f"a note titled {key!r} exists already")
    notes[key] = text
    return f"added {key!r}"


@server.tool()
def get_note(title: str) -> str:
    """Read the text of a note."""
    return notes[_find(title)]


@server.tool()
def append_to_note(title: str, text: str) -> str:
    """Add text at the end of a note, separated by a space."""
    key = _find(title)
    notes[key] = f"{notes[key]} {text}".strip()
    return f"appended to {key!r}"


@server.tool()
def rename_note(title: str, new_title: str) -> str:
    """Give a note a new title."""
    key, new = _find(title), new_title.strip()
    if not new or new in notes:
        raise NoteError(f"cannot rename to {new_title!r}: empty or taken")
    notes[new] = notes.pop(key)
    return f"renamed {key!r} to {new!r}"


@server.tool()
def delete_note(title: str) -> str:
    """Delete a note."""
    del notes[_find(title)]
    return f"deleted {title.strip()!r}"


@server.tool()
def list_notes() -> str:
    """The titles of all notes, one per line, in alphabetical order."""
    return "\n".join(sorted(notes)) or "(no notes)"


@server.tool()
def count_words(title: str) -> int:
    """How many words a note holds."""
    return len(notes[_find(title)].split())


@server.tool()
def reset() -> str:
    """Empty the store (harness only)."""
    notes.clear()
    return "ok"


@server.tool()
def dump_notes() -> str:
    """The whole store as canonical JSON (harness only: the final state)."""
    return json.dumps(notes, sort_keys=True, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http", action="store_true", help="serve streamable HTTP instead of stdio")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.http:
        server.run("streamable-http", host="127.0.0.1", port=args.port)
    else:
        server.run()


if __name__ == "__main__":
    main()
