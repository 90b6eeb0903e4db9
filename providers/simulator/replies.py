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
from providers.simulator.exchange import Exchange, Thought
from providers.simulator.policies import POLICIES, seeded_situation
from providers.types import Reasoning, ToolCall

REFUSAL_TEXT = "I can't help with that request."


@dataclass(frozen=True)
class Reply:
    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    refusal: bool = False


def policy_reply(exchange: Exchange) -> Reply:
    """What the model's policy says next, seeded by the conversation (not by arrival order)."""
    parsed, profile = exchange.parsed, exchange.profile
    situation = seeded_situation(parsed.messages, parsed.tools, parsed.script, profile.noise,
                                 server_seed=exchange.sim.seed, profile_seed=profile.seed, request_seed=parsed.seed)
    turn = POLICIES[profile.policy](situation)
    if not parsed.tools:
        return Reply(turn.text + "".join(format_text_call(call.name, call.arguments) for call in turn.calls))
    calls = tuple(ToolCall(id=exchange.fmt.call_id(situation.rng), name=call.name, arguments=call.arguments,
                           raw_arguments=json.dumps(call.arguments)) for call in turn.calls)
    return Reply(turn.text, calls)


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


def _estimate_tokens(characters: int) -> int:
    return max(1, characters // 4)


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


def reply_response(exchange: Exchange, reply: Reply) -> web.Response:
    """The reply in the exchange's wire format, with usage estimated at ~4 characters a token."""
    parsed = exchange.parsed
    prompt = sum(len(m.content) + sum(len(c.arguments_json) for c in m.tool_calls) for m in parsed.messages)
    prompt += sum(len(t.name) + len(t.description) for t in parsed.tools)
    output = len(reply.text) + sum(len(c.arguments_json) for c in reply.tool_calls)
    body = exchange.fmt.reply(
        reply_id=exchange.sim.next_reply_id(), model=parsed.model, text=reply.text, tool_calls=reply.tool_calls,
        refusal=reply.refusal, input_tokens=_estimate_tokens(prompt), output_tokens=_estimate_tokens(output),
        thought=None if reply.refusal else thought_for(exchange, reply), signer=exchange.sim.signer,
        body=parsed.body,
    )
    return web.json_response(body)
