"""The innermost layer: the policy's turn as a reply, native or in text mode, and its HTTP response.

With tools offered, calls are native (``tool_calls`` / ``tool_use``); with none offered (text
mode) they are written into the text as ``<tool_call>{"name": …, "arguments": …}</tool_call>``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from aiohttp import web

from providers.simulator.conversation import format_text_call
from providers.simulator.exchange import AUTO, Exchange, Stop, Thought
from providers.simulator.policies import POLICIES, obey_tool_choice, seeded_situation
from providers.simulator.streaming import json_array_response, stream_response
from providers.types import Reasoning, ToolCall

REFUSAL_TEXT = "I can't help with that request."
# What a call cut by the output cap is marked with (its arguments are not whole JSON).
CUT_OFF = "truncated"


@dataclass(frozen=True)
class Reply:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: bool = False
    stop: Stop = "natural"
    stop_sequence: str | None = None


def policy_reply(exchange: Exchange) -> Reply:
    """What the model's policy says next, seeded by the conversation (not by arrival order), as
    the request's tool choice allows, cut by a stop sequence or the output cap."""
    parsed, profile = exchange.parsed, exchange.profile
    situation = seeded_situation(parsed.messages, parsed.tools, parsed.script, profile.noise,
                                 server_seed=exchange.sim.seed, profile_seed=profile.seed, request_seed=parsed.seed)
    turn = POLICIES[profile.policy](situation)
    if exchange.tool_choice != AUTO:
        turn = obey_tool_choice(turn, situation, exchange.tool_choice)
    if not parsed.tools:
        reply = Reply(turn.text + "".join(format_text_call(call.name, call.arguments) for call in turn.calls))
    else:
        calls = tuple(ToolCall(id=exchange.fmt.call_id(situation.rng), name=call.name, arguments=call.arguments,
                               raw_arguments=json.dumps(call.arguments)) for call in turn.calls)
        reply = Reply(turn.text, calls)
    reply = _stopped(reply, exchange.fmt.stop_sequences(parsed.body))
    cap = exchange.fmt.max_output(parsed.body)
    length = _output_characters(reply)
    if cap is not None and _estimate_tokens(length) > cap:
        return _cut(reply, cap * CHARACTERS_PER_TOKEN)
    if profile.truncate.rate and length > 1 and situation.rng.random() < profile.truncate.rate:
        return _cut(reply, situation.rng.randrange(1, length))
    return reply


def _stopped(reply: Reply, stops: tuple[str, ...]) -> Reply:
    """The reply ended where its text first shows a stop sequence (the sequence not included);
    calls come after the text, so they are never made."""
    found = [(reply.text.find(stop), stop) for stop in stops if stop and stop in reply.text]
    if not found:
        return reply
    position, stop = min(found)
    return Reply(reply.text[:position], stop="stop_sequence", stop_sequence=stop)


def _output_characters(reply: Reply) -> int:
    return len(reply.text) + sum(len(call.raw_arguments) for call in reply.tool_calls)


def _cut(reply: Reply, keep: int) -> Reply:
    """The reply cut after ``keep`` characters of output, as a model hitting its token cap: the
    text first, then the calls' arguments in order (a call cut part way keeps its partial
    arguments, marked ``CUT_OFF``; those after it are never made)."""
    if keep <= len(reply.text):
        return Reply(reply.text[:keep], stop="max_tokens")
    keep -= len(reply.text)
    calls: list[ToolCall] = []
    for call in reply.tool_calls:
        if keep >= len(call.raw_arguments):
            calls.append(call)
            keep -= len(call.raw_arguments)
            continue
        calls.append(ToolCall(id=call.id, name=call.name, raw_arguments=call.raw_arguments[:keep], error=CUT_OFF))
        break
    return Reply(reply.text, tuple(calls), stop="max_tokens")


def garbled(reply: Reply, exchange: Exchange) -> Reply | None:
    """The reply with its first call's arguments no longer JSON (closing brace cut off). A reply
    without a call gets a garbled call the model was not meant to make (to the first tool offered,
    or in text mode the script's first tool); None when there is nothing it could call."""
    parsed = exchange.parsed
    if parsed.tools:
        first = reply.tool_calls[0] if reply.tool_calls else None
        name = first.name if first else parsed.tools[0].name
        call_id = first.id if first else exchange.fmt.call_id(random.Random(len(parsed.messages)))
        raw = first.raw_arguments if first else "{}"
        broken = ToolCall(id=call_id, name=name, raw_arguments=raw[:-1], error="malformed")
        return Reply("" if first is None else reply.text, (broken, *reply.tool_calls[1:]))
    if "}</tool_call>" in reply.text:
        return Reply(reply.text.replace("}</tool_call>", "</tool_call>", 1))
    if parsed.script and parsed.script.steps:
        return Reply(format_text_call(parsed.script.steps[0].name, {}).replace("}</tool_call>", "</tool_call>"))
    return None


CHARACTERS_PER_TOKEN = 4


def _estimate_tokens(characters: int) -> int:
    return max(1, characters // CHARACTERS_PER_TOKEN)


# A reasoning model thinks several times what it says: its thought's tokens are a multiple of the
# estimate of its text that grows with the effort asked for, so reasoning tokens dominate the
# output as on real models and a sweep over reasoning levels sees them differ. A token budget
# without an effort thinks as the effort its size suggests, and never past the budget.
THOUGHT_TOKEN_FACTORS = {"minimal": 2, "low": 4, "medium": 8, "high": 16, "xhigh": 24, "max": 32}
BUDGET_TOKENS_PER_FACTOR = 256


def thought_tokens(text: str, reasoning: Reasoning) -> int:
    """The tokens a thought of ``text`` costs at ``reasoning``'s effort or budget."""
    if reasoning.effort is not None:
        factor = THOUGHT_TOKEN_FACTORS.get(reasoning.effort, THOUGHT_TOKEN_FACTORS["medium"])
    else:
        budget = reasoning.budget_tokens or THOUGHT_TOKEN_FACTORS["medium"] * BUDGET_TOKENS_PER_FACTOR
        factor = min(max(budget // BUDGET_TOKENS_PER_FACTOR, 1), THOUGHT_TOKEN_FACTORS["max"])
    tokens = _estimate_tokens(len(text)) * factor
    return min(tokens, reasoning.budget_tokens) if reasoning.budget_tokens else tokens


def thought_for(exchange: Exchange, reply: Reply) -> Thought | None:
    """What a reasoning model thought before ``reply`` (None when it does not think here): a plain
    account of its next step, derived from the reply so the same turn gives the same thought."""
    if exchange.reasoning is None:
        return None
    if reply.tool_calls:
        plan = "; ".join(f"call {c.name} with {c.arguments_json}" for c in reply.tool_calls)
        text = f"The tools are the source of truth here, not what I remember. Next: {plan}."
    else:
        text = f"The tool results so far settle it. Answer: {reply.text[:200]}"
    return Thought(text=text, tokens=thought_tokens(text, exchange.reasoning))


async def reply_response(exchange: Exchange, reply: Reply, *, fail_midstream: bool = False) -> web.StreamResponse:
    """The reply in the exchange's wire format, with usage estimated at ~4 characters a token:
    one JSON body, or the API's stream of events (failing half way with ``fail_midstream``)."""
    parsed = exchange.parsed
    prompt = sum(len(m.content) + sum(len(c.arguments_json) for c in m.tool_calls) for m in parsed.messages)
    prompt += sum(len(t.name) + len(t.description) for t in parsed.tools)
    output = len(reply.text) + sum(len(c.arguments_json) for c in reply.tool_calls)
    body = exchange.fmt.reply(
        reply_id=exchange.sim.next_reply_id(), model=parsed.model, text=reply.text, tool_calls=reply.tool_calls,
        refusal=reply.refusal, input_tokens=_estimate_tokens(prompt), output_tokens=_estimate_tokens(output),
        thought=None if reply.refusal else thought_for(exchange, reply), signer=exchange.sim.signer,
        body=parsed.body, stop=reply.stop, stop_sequence=reply.stop_sequence,
    )
    if not parsed.stream:
        return web.json_response(body)
    events = exchange.fmt.stream_events(body, parsed.body)
    if exchange.fmt.streams_as_array(exchange.request):
        return json_array_response(events)
    fail_after = max(1, len(events) // 2) if fail_midstream else None
    return await stream_response(exchange.request, events, api=exchange.fmt.api, fail_after=fail_after,
                                 failure=exchange.fmt.stream_failure(), spread_s=exchange.spread_s)
