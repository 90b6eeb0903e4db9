"""Transcripts: every episode's whole conversation, one ``transcripts`` row per episode.

One row per episode (its turns a list column), not one per message: the table then joins
``episodes`` one to one by ``episode_id``, its part files hold the same episodes as the episodes
part of the same flush (which is what makes them whole-or-absent together, see
``orchestrator.writer``), and reading one episode's conversation, as ``rescore`` does, is one row.
A row per message would multiply the rows the driver buffers and counts by ten or more.

The rows carry what the agent sent and received, faithfully: text, tool calls (arguments as the
model sent them), tool results, reasoning summaries and the provider's verbatim ``replay`` items
(JSON text), so a conversation read back is the conversation that ran (``messages_of``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from orchestrator.records import MessageRow, TranscriptRow, TranscriptToolCall
from providers.types import Message, ToolCall


def transcript_row(run: str, episode_id: str, model_id: str, messages: Sequence[Message]) -> TranscriptRow:
    """The ``transcripts`` row of one episode's conversation."""
    return TranscriptRow(run=run, episode_id=episode_id, model_id=model_id,
                         messages=[_message_row(m) for m in messages])


def _message_row(message: Message) -> MessageRow:
    return MessageRow(
        role=message.role, content=message.content,
        tool_calls=[TranscriptToolCall(c.id, c.name, c.arguments_json, c.error) for c in message.tool_calls],
        tool_call_id=message.tool_call_id, name=message.name, reasoning=message.reasoning or None,
        replay=json.dumps(list(message.replay), sort_keys=True) if message.replay else None,
        tool_error=message.tool_error,
    )


def messages_of(rows: Iterable[Mapping[str, Any]]) -> list[Message]:
    """The conversation a transcript's ``messages`` (as read from Arrow: dicts) hold."""
    return [
        Message(role=row["role"], content=row["content"],
                tool_calls=tuple(_tool_call(c) for c in row["tool_calls"] or ()),
                tool_call_id=row["tool_call_id"], name=row["name"],
                replay=tuple(json.loads(row["replay"])) if row["replay"] else (),
                reasoning=row["reasoning"] or "", tool_error=bool(row.get("tool_error")))
        for row in rows
    ]


def _tool_call(row: Mapping[str, Any]) -> ToolCall:
    if row["error"]:
        return ToolCall(row["id"], row["name"], {}, raw_arguments=row["arguments"], error=row["error"])
    return ToolCall(row["id"], row["name"], json.loads(row["arguments"]), raw_arguments=row["arguments"])
