"""The OpenAI Responses side of the simulator: ``POST /v1/responses``.

A model with ``reasoning`` set behaves like OpenAI's reasoning models on this API: unless
``reasoning.effort`` is ``"none"`` it thinks, and its reply starts with a ``reasoning`` item
(``rs_…``) whose ``encrypted_content`` (asked for with ``include: ["reasoning.encrypted_content"]``)
is the thought sealed by the server's signer, with a summary when ``reasoning.summary`` is set. The
calls it makes after thinking need that item back, as OpenAI's do.

What ``check`` enforces, with the real API's error bodies (quoted in public issue trackers, cited
at each; where a detail is not quoted it is modelled on its siblings and says so):

- parameters of Chat Completions that moved (``max_tokens`` → ``max_output_tokens``, …), and
  nested Chat-style tools — for every model;
- replayed items, whenever a client sends them (they exist only if a model thought): a reasoning
  item must carry ``encrypted_content`` under ``store: false`` (404), unaltered (400), and be
  followed by the item it preceded (400); a ``function_call`` made after thinking needs its
  reasoning item before it (400);
- ``temperature`` other than 1 on a reasoning model, unless reasoning is ``"none"``.

Stateless: ids carry what the checks need. Reply ``n`` has ``resp_sim<n>``, ``rs_sim<n>``,
``msg_sim<n>`` and ``fc_sim<n>_<k>`` items; a call made after thinking is ``fc_sim<n>_<k>_rs`` and
needs ``rs_sim<n>``. Under ``store: true`` a reasoning item may come back by id alone if it is one
this server issued (standing in for OpenAI's storage).
"""

from __future__ import annotations

import random
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from providers.simulator import history
from providers.simulator.config import ModelProfile
from providers.simulator.exchange import Event, RuleViolation, Stop, Thought, ToolChoice
from providers.simulator.routes_openai import OpenAIFormat, openai_tool_choice
from providers.simulator.signatures import Signer
from providers.simulator.streaming import responses_events
from providers.types import Message, Reasoning, ToolCall, ToolSpec
from providers.wire import openai_responses

# OpenAI's reasoning models think at medium effort when the request names none
DEFAULT_EFFORT = "medium"

# the body fields /stats reports per model
SAMPLING_AND_REASONING = ("temperature", "top_p", "max_output_tokens", "max_tokens", "max_completion_tokens",
                          "reasoning", "reasoning_effort", "store", "include", "parallel_tool_calls", "tool_choice")
ENCRYPTED_CONTENT = "reasoning.encrypted_content"
# Chat Completions fields the Responses API names differently: "Unsupported parameter: '<old>'. In the
# Responses API, this parameter has moved to '<new>'." (messages, response_format and
# max_completion_tokens quoted in public code; max_tokens and reasoning_effort modelled on them)
MOVED = {"messages": "input", "max_tokens": "max_output_tokens", "max_completion_tokens": "max_output_tokens",
         "reasoning_effort": "reasoning.effort", "response_format": "text.format"}
# Chat Completions fields the Responses API has no counterpart for
UNKNOWN = ("stop", "n")
_ISSUED_REASONING = re.compile(r"rs_sim(\d{10})")
_CALL_AFTER_THINKING = re.compile(r"fc_sim(\d{10})_\d+_rs")


@dataclass(frozen=True)
class _Asked:
    """What a request asked of its reply's shape (the reply echoes tools, reasoning and store)."""

    tools: list[dict[str, Any]] = field(default_factory=list)
    encrypted: bool = False
    summary: bool = False
    reasoning: dict[str, Any] | None = None
    store: bool = True

    @classmethod
    def of(cls, body: dict[str, Any]) -> _Asked:
        reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
        include = body.get("include")
        return cls(tools=_flat_tools(body.get("tools")),
                   encrypted=isinstance(include, list) and ENCRYPTED_CONTENT in include,
                   summary=bool((reasoning or {}).get("summary")), reasoning=reasoning,
                   store=body.get("store", True) is not False)


# Responses stored (``store`` true, the API's default) for ``previous_response_id``: the most recent
# this many, each as its whole conversation (input items, then output items).
STORED_RESPONSES = 512
# Quoted with its code in maximhq/bifrost#2441 (an id the API does not hold, e.g. one made with store: false).
PREVIOUS_NOT_FOUND = "Previous response with id '{id}' not found."


class OpenAIResponsesFormat(OpenAIFormat):
    """Reads Responses requests and writes their replies; authentication, the model field and the
    error bodies are Chat Completions' (``OpenAIFormat``). Stored responses (see
    ``STORED_RESPONSES``) continue with ``previous_response_id``, whose items are put before the
    request's ``input`` (so every rule checks the whole conversation)."""

    api = "openai_responses"
    params_reported = SAMPLING_AND_REASONING

    def __init__(self) -> None:
        self._stored: OrderedDict[str, list[Any]] = OrderedDict()

    def history(self, body: dict[str, Any]) -> None:
        history.responses(body.get("input"))

    def tool_choice(self, body: dict[str, Any], tools: tuple[ToolSpec, ...]) -> ToolChoice:
        return openai_tool_choice(body.get("tool_choice"), tools, nested=False)

    def max_output(self, body: dict[str, Any]) -> int | None:
        cap = body.get("max_output_tokens")
        return cap if isinstance(cap, int) else None

    def stop_sequences(self, body: dict[str, Any]) -> tuple[str, ...]:
        return ()  # the Responses API has none (``check`` refuses ``stop``)

    def stream_events(self, reply: dict[str, Any], body: dict[str, Any]) -> list[Event]:
        return responses_events(reply)

    def parse(self, body: dict[str, Any]) -> tuple[tuple[Message, ...], tuple[ToolSpec, ...]]:
        # Lenient where ``check`` answers with the real API's error (moved fields, nested tools).
        previous = body.get("previous_response_id")
        if previous is not None:
            stored = self._stored.get(str(previous))
            if stored is None:
                raise RuleViolation(400, PREVIOUS_NOT_FOUND.format(id=previous), code="previous_response_not_found",
                                    param="previous_response_id")
            given = body.get("input") or []
            body["input"] = stored + ([{"role": "user", "content": given}] if isinstance(given, str) else list(given))
        messages = openai_responses.input_from_wire(body.get("input") or [], body.get("instructions"))
        tools = tuple(openai_responses.tool_from_wire(item) for item in body.get("tools") or ()
                      if isinstance(item, dict) and "name" in item)
        return messages, tools

    def check(self, body: dict[str, Any], profile: ModelProfile, signer: Signer,
              request: web.Request) -> Reasoning | None:
        _moved_fields(body)
        for name in UNKNOWN:
            if name in body:  # the API's "Unknown parameter" body (as for any field it does not take)
                raise RuleViolation(400, f"Unknown parameter: '{name}'.", code="unknown_parameter", param=name)
        _flat_tools(body.get("tools"))
        store = body.get("store", True) is not False
        items = body.get("input")
        _replayed_items(items if isinstance(items, list) else [], store=store, signer=signer)
        reasoning = body.get("reasoning") if isinstance(body.get("reasoning"), dict) else None
        effort = (reasoning or {}).get("effort")
        if not profile.reasoning:
            return None
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1 and effort != "none":
            # the body quoted in ai-christianson/RA.Aid#70, reported for gpt-5 through the AI SDK's
            # Responses calls (sourcebot-dev/sourcebot#454); accepted with effort "none", as gpt-5.1+ do
            raise RuleViolation(400, "Unsupported parameter: 'temperature' is not supported with this model.",
                                code="unsupported_parameter", param="temperature")
        return None if effort == "none" else Reasoning(effort=effort if isinstance(effort, str) else DEFAULT_EFFORT)

    def call_id(self, rng: random.Random) -> str:
        return f"call_{rng.getrandbits(96):024x}"

    def reply(self, *, reply_id: int, model: str, text: str, tool_calls: tuple[ToolCall, ...],
              refusal: bool, input_tokens: int, output_tokens: int, thought: Thought | None,
              signer: Signer, body: dict[str, Any], stop: Stop = "natural",
              stop_sequence: str | None = None) -> dict[str, Any]:
        asked = _Asked.of(body)
        cut = stop == "max_tokens"
        tail = f"sim{reply_id:010d}"
        output: list[dict[str, Any]] = []
        if thought is not None:
            item_id = f"rs_{tail}"
            output.append(openai_responses.reasoning_item(
                item_id, summary=thought.text if asked.summary else None,
                encrypted_content=signer.seal(f"{item_id}\n{thought.text}") if asked.encrypted else None))
        if text or refusal or not tool_calls:
            output.append(openai_responses.message_item(f"msg_{tail}", text=text, refusal=refusal))
            if cut and not tool_calls:
                output[-1]["status"] = "incomplete"
        after_thinking = "_rs" if thought is not None else ""
        output += [openai_responses.function_call_item(call, item_id=f"fc_{tail}_{k}{after_thinking}")
                   | {"status": "incomplete" if call.error and cut else "completed"}
                   for k, call in enumerate(tool_calls)]
        thought_tokens = thought.tokens if thought is not None else 0
        reply = openai_responses.response_to_wire(
            response_id=f"resp_{tail}", model=model, created=int(time.time()), output=output, tools=asked.tools,
            input_tokens=input_tokens, output_tokens=output_tokens + thought_tokens, reasoning_tokens=thought_tokens,
            reasoning=asked.reasoning, store=asked.store, incomplete_reason="max_output_tokens" if cut else None,
        )
        reply["tool_choice"] = body.get("tool_choice", "auto")
        if asked.store:
            given = body.get("input") or []
            items = [{"role": "user", "content": given}] if isinstance(given, str) else list(given)
            self._stored[reply["id"]] = items + output
            if len(self._stored) > STORED_RESPONSES:
                self._stored.popitem(last=False)
        if body.get("previous_response_id") is not None:
            reply["previous_response_id"] = body["previous_response_id"]
        return reply



def _moved_fields(body: dict[str, Any]) -> None:
    for old, new in MOVED.items():
        if old in body:
            raise RuleViolation(400, f"Unsupported parameter: '{old}'. In the Responses API, this parameter has "
                                     f"moved to '{new}'. Try again with the new parameter.", code="unsupported_parameter")


def _flat_tools(tools: Any) -> list[dict[str, Any]]:
    """The tools as the reply echoes them; a Chat-style ``{"function": {…}}`` tool has no ``name``
    at the top, which the API reports as a missing parameter (modelled on its usual wording)."""
    flat = []
    for index, tool in enumerate(tools or ()):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise RuleViolation(400, f"Missing required parameter: 'tools[{index}].name'.",
                                code="missing_required_parameter", param=f"tools[{index}].name")
        flat.append({"type": "function", "name": tool["name"], "description": tool.get("description"),
                     "parameters": tool.get("parameters"), "strict": tool.get("strict", True)})
    return flat


def _abbreviated(blob: object) -> str:
    text = str(blob)
    return f"{text[:4]}...{text[-4:]}" if len(text) > 8 else text


def _follows_reasoning(item: object) -> bool:
    """Whether ``item`` can be what a reasoning item preceded: a call or an assistant message."""
    return isinstance(item, dict) and (item.get("type") == "function_call" or (
        item.get("type", "message") == "message" and item.get("role") == "assistant"))


def _replayed_items(items: list[Any], *, store: bool, signer: Signer) -> None:
    """The rules for items a client sends back (see the module docstring)."""
    replayed: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        if item.get("type") == "reasoning":
            item_id = str(item.get("id", ""))
            blob = item.get("encrypted_content")
            if blob is None and not store:  # can1357/oh-my-pi#41
                raise RuleViolation(404, f"Item with id '{item_id}' not found. Items are not persisted when `store` "
                                         "is set to false. Try again with `store` set to true, or remove this item "
                                         "from your input.", param="input")
            if blob is None and not _ISSUED_REASONING.fullmatch(item_id):
                raise RuleViolation(404, f"Item with id '{item_id}' not found.", param="input")
            if blob is not None:
                sealed = signer.unseal(blob)
                if sealed is None or not sealed.startswith(item_id + "\n"):  # openai/codex#8145, Wei-Shaw/sub2api#2863
                    raise RuleViolation(400, f"The encrypted content {_abbreviated(blob)} could not be verified. "
                                             "Reason: Encrypted content could not be decrypted or parsed.",
                                        code="invalid_encrypted_content")
            if not _follows_reasoning(items[index + 1] if index + 1 < len(items) else None):
                # continuedev/continue#8933
                raise RuleViolation(400, f"Item '{item_id}' of type 'reasoning' was provided without its required "
                                         "following item.", param="input")
            replayed.add(item_id)
        elif item.get("type") == "function_call":
            made_after = _CALL_AFTER_THINKING.fullmatch(str(item.get("id", "")))
            needed = f"rs_sim{made_after[1]}" if made_after else None
            if needed is not None and needed not in replayed:
                # PROVIDERS.md's wording; its param and code modelled on the reasoning-item error above
                raise RuleViolation(400, f"Item '{item['id']}' of type 'function_call' was provided without its "
                                         f"required 'reasoning' item: '{needed}'.", param="input")
