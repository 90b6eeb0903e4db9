"""Replies as the APIs stream them: each format's finished reply body cut into its server-sent
events, in the order and shapes the real APIs send (and each official SDK's stream helpers
accumulate back into the same reply).

- Chat Completions: ``chat.completion.chunk`` deltas (role, text pieces, each tool call's id and
  name then its argument pieces), a chunk with the finish reason, a usage chunk with no choices
  when ``stream_options.include_usage``, then ``[DONE]``.
- Responses: ``response.created``/``in_progress``, per output item ``output_item.added`` … its
  deltas (text, refusal, call arguments, reasoning summary) … ``output_item.done``, then
  ``response.completed`` (``response.incomplete`` when cut), each with its ``sequence_number``.
- Messages: ``message_start``, ``ping``, per block ``content_block_start`` / ``content_block_delta``
  (``text_delta``, ``input_json_delta``, ``thinking_delta`` and ``signature_delta``; a
  ``redacted_thinking`` block arrives whole) / ``content_block_stop``, ``message_delta`` with the
  stop reason and usage, ``message_stop``.
- Gemini (``streamGenerateContent?alt=sse``): ``GenerateContentResponse`` chunks — the thought,
  text pieces, the calls — the last with the finish reason; usage on every chunk.

A stream failing part way (the ``midstream`` fault) stops after some events: the connection
drops, or — Anthropic — an ``error`` event with ``overloaded_error`` ends it, as the API does.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import web

from providers.simulator.exchange import Event
from providers.wire.streamed import first_content_index

# Text goes out a few words at a time, as token deltas do.
_PIECE = re.compile(r"\S*\s*")
_PIECE_WORDS = 3
# A call's arguments go out in pieces of this many characters.
_ARGUMENT_PIECE = 24


def text_pieces(text: str) -> list[str]:
    words = [w for w in _PIECE.findall(text) if w]
    return ["".join(words[i:i + _PIECE_WORDS]) for i in range(0, len(words), _PIECE_WORDS)]


def argument_pieces(arguments: str) -> list[str]:
    return [arguments[i:i + _ARGUMENT_PIECE] for i in range(0, len(arguments), _ARGUMENT_PIECE)] or [""]


# -- OpenAI Chat Completions ------------------------------------------------------------------

def chat_events(reply: dict[str, Any], *, include_usage: bool) -> list[Event]:
    base: dict[str, Any] = {"id": reply["id"], "object": "chat.completion.chunk", "created": reply["created"],
                            "model": reply["model"], "system_fingerprint": None}
    if include_usage:  # every chunk then says "usage": null but the last
        base["usage"] = None
    events: list[Event] = []

    def chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> None:
        events.append((None, {**base, "choices": [
            {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}))

    for choice in reply["choices"]:
        index, message = choice["index"], choice["message"]
        chunk(index, {"role": "assistant", "content": "", "refusal": None})
        for piece in text_pieces(message.get("refusal") or ""):
            chunk(index, {"refusal": piece})
        for piece in text_pieces(message.get("content") or ""):
            chunk(index, {"content": piece})
        for k, call in enumerate(message.get("tool_calls") or ()):
            chunk(index, {"tool_calls": [{"index": k, "id": call["id"], "type": "function",
                                          "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for piece in argument_pieces(call["function"]["arguments"]):
                chunk(index, {"tool_calls": [{"index": k, "function": {"arguments": piece}}]})
        chunk(index, {}, choice["finish_reason"])
    if include_usage:
        events.append((None, {**base, "choices": [], "usage": reply["usage"]}))
    events.append((None, "[DONE]"))
    return events


# -- OpenAI Responses -------------------------------------------------------------------------

def responses_events(reply: dict[str, Any]) -> list[Event]:
    events: list[Event] = []

    def emit(kind: str, **data: Any) -> None:
        events.append((kind, {"type": kind, "sequence_number": len(events), **data}))

    started = {**reply, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    emit("response.created", response=started)
    emit("response.in_progress", response=started)
    for position, item in enumerate(reply["output"]):
        at = {"item_id": item["id"], "output_index": position}
        if item["type"] == "message":
            emit("response.output_item.added", output_index=position,
                 item={**item, "status": "in_progress", "content": []})
            for index, part in enumerate(item["content"]):
                refusal = part["type"] == "refusal"
                key = "refusal" if refusal else "text"
                empty = {**part, key: ""}
                emit("response.content_part.added", **at, content_index=index, part=empty)
                for piece in text_pieces(part[key]):
                    if refusal:
                        emit("response.refusal.delta", **at, content_index=index, delta=piece)
                    else:
                        emit("response.output_text.delta", **at, content_index=index, delta=piece, logprobs=[])
                if refusal:
                    emit("response.refusal.done", **at, content_index=index, refusal=part[key])
                else:
                    emit("response.output_text.done", **at, content_index=index, text=part[key], logprobs=[])
                emit("response.content_part.done", **at, content_index=index, part=part)
        elif item["type"] == "function_call":
            emit("response.output_item.added", output_index=position,
                 item={**item, "status": "in_progress", "arguments": ""})
            for piece in argument_pieces(item["arguments"]):
                emit("response.function_call_arguments.delta", **at, delta=piece)
            emit("response.function_call_arguments.done", **at, name=item["name"], arguments=item["arguments"])
        else:  # reasoning: its summary parts stream, its encrypted content comes whole
            emit("response.output_item.added", output_index=position, item={**item, "summary": []})
            for index, part in enumerate(item.get("summary") or ()):
                emit("response.reasoning_summary_part.added", **at, summary_index=index,
                     part={"type": "summary_text", "text": ""})
                for piece in text_pieces(part["text"]):
                    emit("response.reasoning_summary_text.delta", **at, summary_index=index, delta=piece)
                emit("response.reasoning_summary_text.done", **at, summary_index=index, text=part["text"])
                emit("response.reasoning_summary_part.done", **at, summary_index=index, part=part)
        emit("response.output_item.done", output_index=position, item=item)
    emit("response.incomplete" if reply["status"] == "incomplete" else "response.completed", response=reply)
    return events


# -- Anthropic Messages -----------------------------------------------------------------------

ANTHROPIC_OVERLOADED: Event = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


def anthropic_events(reply: dict[str, Any]) -> list[Event]:
    usage = reply["usage"]
    start_usage = {"input_tokens": usage["input_tokens"], "output_tokens": 1,
                   "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    events: list[Event] = [
        ("message_start", {"type": "message_start", "message": {
            **{k: v for k, v in reply.items() if k != "stop_details"}, "content": [], "stop_reason": None,
            "stop_sequence": None, "usage": start_usage}}),
        ("ping", {"type": "ping"}),
    ]

    def delta(index: int, body: dict[str, Any]) -> None:
        events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": body}))

    for index, block in enumerate(reply["content"]):
        kind = block["type"]
        opening = {"text": {"type": "text", "text": ""},
                   "thinking": {"type": "thinking", "thinking": "", "signature": ""},
                   "tool_use": {"type": "tool_use", "id": block.get("id"), "name": block.get("name"), "input": {}},
                   }.get(kind, block)
        events.append(("content_block_start", {"type": "content_block_start", "index": index,
                                                "content_block": opening}))
        if kind == "text":
            for piece in text_pieces(block["text"]):
                delta(index, {"type": "text_delta", "text": piece})
        elif kind == "thinking":
            for piece in text_pieces(block["thinking"]):
                delta(index, {"type": "thinking_delta", "thinking": piece})
            delta(index, {"type": "signature_delta", "signature": block["signature"]})
        elif kind == "tool_use":
            raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
            for piece in argument_pieces(raw):
                delta(index, {"type": "input_json_delta", "partial_json": piece})
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    ending: dict[str, Any] = {"stop_reason": reply["stop_reason"], "stop_sequence": reply["stop_sequence"]}
    if "stop_details" in reply:
        ending["stop_details"] = reply["stop_details"]
    events.append(("message_delta", {"type": "message_delta", "delta": ending, "usage": usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# -- Gemini -----------------------------------------------------------------------------------

def gemini_events(reply: dict[str, Any]) -> list[Event]:
    candidates = reply.get("candidates") or []
    head = {k: v for k, v in reply.items() if k != "candidates"}
    if not candidates:  # a blocked prompt: one chunk says so
        return [(None, reply)]
    candidate = candidates[0]
    parts = (candidate.get("content") or {}).get("parts") or []
    pieces: list[dict[str, Any]] = []
    for part in parts:
        if "text" in part and not part.get("thought"):
            texts = text_pieces(part["text"]) or [""]
            pieces += [{"text": t} for t in texts[:-1]]
            pieces.append({**part, "text": texts[-1]})  # a signature rides on the last piece
        else:
            pieces.append(part)
    ending = {k: v for k, v in candidate.items() if k not in ("content", "index")}
    events: list[Event] = []
    for number, part in enumerate(pieces):
        chunk: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        if number == len(pieces) - 1:
            chunk |= ending
        events.append((None, {"candidates": [chunk], **head}))
    if not pieces:
        events.append((None, {"candidates": [{**ending, "index": 0}], **head}))
    return events


# -- the response -----------------------------------------------------------------------------

def _sse(event: Event) -> bytes:
    name, data = event
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {name}\n" if name else "").encode() + b"data: " + payload.encode() + b"\n\n"


# A paced stream goes out in at most this many writes (each a few events), so a long reply costs
# the server a bounded number of timer wake-ups.
MAX_PACED_WRITES = 16


def paced(events: list[Event], spread_s: float, *, opening: int = 1) -> tuple[list[tuple[float, list[Event]]], float]:
    """``events`` in writes, each with the wait before it, and the wait before the stream ends: the
    first ``opening`` events at once (a stream's head — the role chunk, ``message_start`` — goes out
    with its first content, as the APIs send them, so the first token comes at the ``ttft_share``
    mark), then the rest in writes one every ``spread_s / writes``, the end ``spread_s`` after the
    first — so a stream of one event still takes its whole latency to finish."""
    if spread_s <= 0 or not events:
        return [(0.0, events)], 0.0
    head, rest = events[:max(1, opening)], events[max(1, opening):]
    writes = min(len(rest), MAX_PACED_WRITES - 1)
    size = -(-len(rest) // writes) if writes else 1  # ceiling
    groups = [head, *[rest[i:i + size] for i in range(0, len(rest), size)]]
    step = spread_s / len(groups)
    return [(0.0 if n == 0 else step, group) for n, group in enumerate(groups)], step


async def stream_response(request: web.Request, events: list[Event], *, api: str, fail_after: int | None = None,
                          failure: Event | None = None, spread_s: float = 0.0) -> web.StreamResponse:
    """Send ``events`` as server-sent events of ``api``'s stream, its head with the first content at
    once and the rest evenly over ``spread_s`` (``paced``). With ``fail_after``, stop after that
    many: send ``failure`` and end, or (``failure`` None) drop the connection."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    sent = events if fail_after is None else events[:fail_after]
    # the first event with content as the client counts it (its own accumulator says which)
    first = first_content_index(api, [data for _, data in sent if isinstance(data, dict)])
    writes, last_wait = paced(sent, spread_s, opening=1 if first is None else first + 1)
    for wait, group in writes:
        if wait > 0:
            await asyncio.sleep(wait)
        await response.write(b"".join(_sse(event) for event in group))
    if last_wait > 0 and fail_after is None:
        await asyncio.sleep(last_wait)
    if fail_after is not None:
        if failure is None:
            if request.transport is not None:
                request.transport.abort()
            return response
        await response.write(_sse(failure))
    await response.write_eof()
    return response


def json_array_response(events: list[Event]) -> web.Response:
    """Gemini's ``streamGenerateContent`` without ``alt=sse``: the chunks as one JSON array."""
    return web.json_response([data for _, data in events])
