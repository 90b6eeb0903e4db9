"""The rules the Anthropic Messages API enforces on extended thinking, enforced the same way.

Checked only for a simulated reasoning model (``ModelProfile.reasoning``); each broken rule is
answered with the API's own 400 ``invalid_request_error`` message, quoted as the API sends it
(short factual quotations of error text) from public reports: OpenRouterTeam/ai-sdk-provider#162
and mastra-ai/mastra#7799 (missing thinking block; "preceeding" is the API's spelling),
ding113/claude-code-hub#518 (signature), mastra-ai/mastra#7507 (forced tool), MartialBE/one-hub#529
(temperature), danny-avila/LibreChat#8346 (budget minimum) and client test suites quoting the
budget/``max_tokens`` one. Checked in the order the API validates: the request's fields, then its
messages.

- ``thinking.enabled.budget_tokens`` at least 1024 and below ``max_tokens`` (above it allowed with
  the ``interleaved-thinking-2025-05-14`` beta header, as the API's docs on interleaved thinking say);
- with thinking on: ``temperature`` only 1, and a ``tool_choice`` that does not force a tool;
- every ``thinking`` block sent back carries the signature it was returned with (the simulator
  signs the text), every ``redacted_thinking`` block its sealed ``data`` unaltered;
- with thinking on, the last assistant turn, when it holds ``tool_use`` blocks, starts with a
  thinking block.
"""

from __future__ import annotations

from typing import Any

from providers.simulator.exchange import RuleViolation
from providers.simulator.signatures import Signer
from providers.types import Reasoning
from providers.wire.anthropic_messages import EFFORTS, MIN_BUDGET_TOKENS, THINKING_BLOCKS

DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
TEMPERATURE_WITH_THINKING = (
    "`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at "
    f"{DOCS}#important-considerations-when-using-extended-thinking")
FORCED_TOOL_WITH_THINKING = "Thinking may not be enabled when tool_choice forces tool use."
BUDGET_TOO_SMALL = f"thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_BUDGET_TOKENS}"
BUDGET_NOT_BELOW_MAX_TOKENS = (
    "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at "
    f"{DOCS}#max-tokens-and-context-window-size")
BUDGET_MISSING = "thinking.enabled.budget_tokens: Field required"
THINKING_TYPE = "thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'"
EFFORT_VALUE = "output_config.effort: Input should be " + ", ".join(f"'{e}'" for e in EFFORTS[:-1]) + f" or '{EFFORTS[-1]}'"
MISSING_THINKING_BLOCK = (
    "messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, but found `{found}`. When "
    "`thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the "
    "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from "
    "previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at "
    f"{DOCS}")
BAD_SIGNATURE = "messages.{index}.content.{block}: Invalid `signature` in `thinking` block"
# No public report quotes the API on an altered ``redacted_thinking`` block; this one is worded
# after its thinking-block counterpart.
BAD_REDACTED_DATA = "messages.{index}.content.{block}: Invalid `data` in `redacted_thinking` block"


def _invalid(message: str) -> RuleViolation:
    return RuleViolation(400, message, code="invalid_request_error")


def _thinking_on(body: dict[str, Any], *, interleaved: bool) -> bool:
    """Whether the request turns thinking on, after checking the ``thinking`` and ``output_config``
    fields themselves. ``interleaved``: the interleaved-thinking beta is on, under which the budget
    may exceed ``max_tokens`` (it spans the whole turn's thinking, between tool calls too)."""
    thinking = body.get("thinking")
    effort = (body.get("output_config") or {}).get("effort") if isinstance(body.get("output_config"), dict) else None
    if effort is not None and effort not in EFFORTS:
        raise _invalid(EFFORT_VALUE)
    if thinking is None:
        return False
    kind: object = thinking.get("type") if isinstance(thinking, dict) else None
    if kind not in ("enabled", "disabled", "adaptive"):
        raise _invalid(THINKING_TYPE)
    if kind == "enabled":
        budget = thinking.get("budget_tokens")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise _invalid(BUDGET_MISSING)
        if budget < MIN_BUDGET_TOKENS:
            raise _invalid(BUDGET_TOO_SMALL)
        if budget >= body["max_tokens"] and not interleaved:
            raise _invalid(BUDGET_NOT_BELOW_MAX_TOKENS)
    return kind != "disabled"


def _check_blocks(messages: list[Any], signer: Signer) -> None:
    """Every thinking block sent back is one the simulator returned, unaltered."""
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant" or not isinstance(message.get("content"), list):
            continue
        for position, block in enumerate(message["content"]):
            if not isinstance(block, dict):
                continue
            if block.get("type") == "thinking" and not (
                    isinstance(block.get("thinking"), str) and signer.verify(block["thinking"], block.get("signature"))):
                raise _invalid(BAD_SIGNATURE.format(index=index, block=position))
            if block.get("type") == "redacted_thinking" and signer.unseal(block.get("data")) is None:
                raise _invalid(BAD_REDACTED_DATA.format(index=index, block=position))


def _check_final_turn(messages: list[Any]) -> None:
    """The last assistant turn, when it holds the calls the tool loop is answering, starts with
    a thinking block."""
    index = next((i for i in range(len(messages) - 1, -1, -1)
                  if isinstance(messages[i], dict) and messages[i].get("role") == "assistant"), None)
    if index is None:
        return
    content = messages[index].get("content")
    blocks = content if isinstance(content, list) else [{"type": "text", "text": content}]
    if not any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks):
        return
    first = blocks[0] if blocks and isinstance(blocks[0], dict) else {}
    if first.get("type") not in THINKING_BLOCKS:
        raise _invalid(MISSING_THINKING_BLOCK.format(index=index, found=first.get("type", "text")))


def check(body: dict[str, Any], signer: Signer, *, interleaved: bool = False) -> Reasoning | None:
    """Raise ``RuleViolation`` for the first rule ``body`` breaks; return how hard the model thinks
    (None: thinking is off)."""
    if not _thinking_on(body, interleaved=interleaved):
        return None
    temperature = body.get("temperature")
    if temperature is not None and temperature != 1:
        raise _invalid(TEMPERATURE_WITH_THINKING)
    tool_choice = body.get("tool_choice")
    if isinstance(tool_choice, dict) and tool_choice.get("type") in ("any", "tool"):
        raise _invalid(FORCED_TOOL_WITH_THINKING)
    messages = body["messages"] if isinstance(body.get("messages"), list) else []
    _check_blocks(messages, signer)
    _check_final_turn(messages)
    return _asked_reasoning(body)


def _asked_reasoning(body: dict[str, Any]) -> Reasoning:
    """The budget of ``enabled`` thinking and the effort of ``output_config`` (adaptive thinking
    without one runs at the API's default, high)."""
    thinking = body["thinking"]
    output_config = body.get("output_config")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    if thinking["type"] == "enabled":
        return Reasoning(effort=effort, budget_tokens=thinking["budget_tokens"])
    return Reasoning(effort=effort or "high")
