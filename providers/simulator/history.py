"""Tool histories checked as the real APIs check them: every call answered by a result right
after it, every result answering a call just made — else the API's 400, quoted as it sends it.

One pass over the request's messages (or input items), whatever the model; applied after the
model's own rules (so a reasoning item or thinking block missing with its call is reported as that). Sources of each body are cited
at its constant (public issue threads quoting the API's reply).
"""

from __future__ import annotations

from typing import Any

from providers.simulator.exchange import RuleViolation
from providers.wire.google_genai import field

# Chat Completions, both quoted with their ``param`` in sdcb/chats#132 (also aliasrobotics/cai#111,
# smarter-sh/smarter#264); "preceeding" is the API's spelling.
CHAT_UNANSWERED = ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                   "'tool_call_id'. The following tool_call_ids did not have response messages: {ids}")
CHAT_ORPHAN = "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
# dapr/dapr-agents#145 (no ``param`` quoted; the message's own ``tool_call_id`` is named, modelled on the others)
CHAT_UNKNOWN_ID = "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message."
# Responses: continuedev/continue#10092 (param "input") and tjardoo/openai-client#124.
RESPONSES_ORPHAN = "No tool call found for function call output with call_id {id}."
RESPONSES_UNANSWERED = "No tool output found for function call {id}."
# Messages: Kilo-Org/kilocode#5163, anthropics/claude-code#5989 (several ids joined by ", ");
# decocms/studio#1803, router-for-me/CLIProxyAPI#497 (the unexpected result).
ANTHROPIC_UNANSWERED = ("messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                        "{ids}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.")
# Gemini (400 INVALID_ARGUMENT, no ``param``): a call turn after anything but the user's turn or a
# response turn, e.g. a history that opens with one (google-gemini/gemini-cli#11814,
# continuedev/continue#11164); a response turn after anything but a call turn
# (langchain-ai/langchain#27799); a response turn whose parts do not answer each call of the call
# turn before it (google-gemini/gemini-cli#4217, #16415). A call turn followed by the user's text
# instead of its responses is not checked: no reply of the real API to it was found quoted.
GEMINI_CALL_TURN = ("Please ensure that function call turn comes immediately after a user turn or after a function "
                    "response turn.")
GEMINI_RESPONSE_TURN = "Please ensure that function response turn comes immediately after a function call turn."
GEMINI_RESPONSE_COUNT = ("Please ensure that the number of function response parts is equal to the number of function "
                         "call parts of the function call turn.")
ANTHROPIC_ORPHAN = ("messages.{index}.content.{block}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. "
                    "Each `tool_result` block must have a corresponding `tool_use` block in the previous message.")


def chat(messages: Any) -> None:
    """Tool messages answer, in a run right after it, every call of the assistant message before them."""
    if not isinstance(messages, list):
        return
    asked: set[str] | None = None  # the calls the current run of tool messages may answer
    open_ids: list[str] = []  # of those, the ones not answered yet
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            if asked is None:
                raise RuleViolation(400, CHAT_ORPHAN, param=f"messages.[{index}].role")
            call_id = message.get("tool_call_id")
            if call_id not in asked:
                raise RuleViolation(400, CHAT_UNKNOWN_ID.format(id=call_id), param=f"messages.[{index}].tool_call_id")
            if call_id in open_ids:
                open_ids.remove(call_id)
            continue
        if open_ids:
            raise RuleViolation(400, CHAT_UNANSWERED.format(ids=", ".join(open_ids)), param=f"messages.[{index}].role")
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        open_ids = [str(c.get("id")) for c in calls if isinstance(c, dict)] if isinstance(calls, list) else []
        asked = set(open_ids) if open_ids else None
    if open_ids:
        raise RuleViolation(400, CHAT_UNANSWERED.format(ids=", ".join(open_ids)), param=f"messages.[{len(messages)}].role")


def responses(items: Any) -> None:
    """Every ``function_call_output`` answers a ``function_call`` sent before it; every call is answered."""
    if not isinstance(items, list):
        return
    unanswered: dict[str, None] = {}  # ordered
    made: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            call_id = str(item.get("call_id"))
            made.add(call_id)
            unanswered[call_id] = None
        elif kind == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in made:
                raise RuleViolation(400, RESPONSES_ORPHAN.format(id=call_id), param="input")
            unanswered.pop(call_id, None)
    if unanswered:
        raise RuleViolation(400, RESPONSES_UNANSWERED.format(id=next(iter(unanswered))), param="input")


def _blocks(message: dict[str, Any], kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message.get("content")
    if not isinstance(content, list):
        return []
    return [(k, b) for k, b in enumerate(content) if isinstance(b, dict) and b.get("type") == kind]


def anthropic(messages: Any) -> None:
    """The message after one with ``tool_use`` blocks holds a ``tool_result`` for each; a
    ``tool_result`` answers a ``tool_use`` of the message just before."""
    if not isinstance(messages, list):
        return
    asked: set[str] = set()
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        results = _blocks(message, "tool_result") if message.get("role") == "user" else []
        answered = set()
        for block_index, block in results:
            call_id = str(block.get("tool_use_id"))
            if call_id not in asked:
                raise RuleViolation(400, ANTHROPIC_ORPHAN.format(index=index, block=block_index, id=call_id))
            answered.add(call_id)
        if asked - answered:
            ids = [i for i in _previous_ids(messages[index - 1]) if i not in answered]
            raise RuleViolation(400, ANTHROPIC_UNANSWERED.format(index=index - 1, ids=", ".join(ids)))
        asked = set(_previous_ids(message)) if message.get("role") == "assistant" else set()
    if asked:
        ids = _previous_ids(messages[-1])
        raise RuleViolation(400, ANTHROPIC_UNANSWERED.format(index=len(messages) - 1, ids=", ".join(ids)))


def _previous_ids(message: Any) -> list[str]:
    return [str(b.get("id")) for _, b in _blocks(message, "tool_use")] if isinstance(message, dict) else []


def gemini(contents: Any) -> None:
    """A model turn with function calls follows the user's turn or a response turn; a turn of
    function responses follows a call turn and answers each of its calls."""
    if not isinstance(contents, list):
        return
    previous: str | None = None  # "user", "calls", "responses" or "model" (a model turn without calls)
    calls = 0  # the function calls of the previous turn
    for content in contents:
        if not isinstance(content, dict):
            continue
        parts = [part for part in content.get("parts") or () if isinstance(part, dict)]
        made = sum(field(part, "functionCall") is not None for part in parts)
        answered = sum(field(part, "functionResponse") is not None for part in parts)
        if content.get("role") == "model":
            if made and previous not in ("user", "responses"):
                raise RuleViolation(400, GEMINI_CALL_TURN)
            kind = "calls" if made else "model"
        elif answered:
            if previous != "calls":
                raise RuleViolation(400, GEMINI_RESPONSE_TURN)
            if answered != calls:
                raise RuleViolation(400, GEMINI_RESPONSE_COUNT)
            kind = "responses"
        else:
            kind = "user"
        previous, calls = kind, made
