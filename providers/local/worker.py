"""One llama.cpp model instance and the single thread that drives it.

A ``Llama`` object is not thread-safe, so each worker owns one model and one thread; the model is
loaded on the worker's first generation and kept. llama.cpp releases the GIL while it computes, so
generations on a worker thread leave the event loop free. llama.cpp's exceptions become
``providers.errors`` here, at this one boundary.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from providers.errors import BadRequest, ServerError, Timeout
from providers.local.runtime import import_llama_cpp


@dataclass(frozen=True)
class Generation:
    """What to generate: chat messages (``role``/``content`` dicts) and how."""

    messages: list[dict[str, str]]
    max_tokens: int
    timeout_s: float
    sampling: dict[str, Any] = field(default_factory=dict)  # temperature, seed, top_p, …
    stop: tuple[str, ...] = ()
    grammar: str | None = None  # GBNF text


@dataclass(frozen=True)
class Generated:
    text: str
    finish_reason: str  # "stop" | "length"
    prompt_tokens: int
    completion_tokens: int


class ModelWorker:
    """A model file, loaded once on first use, served by one thread."""

    def __init__(self, index: int, model_file: Path, *, n_ctx: int, n_threads: int) -> None:
        self.model_file = model_file
        self.loads = 0
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"local-model-{index}")
        self._llama: Any = None
        self._formatter: Any = None
        self._template_errors: tuple[type[Exception], ...] = (ValueError,)

    async def generate(self, generation: Generation) -> Generated:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._generate, generation)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._unload)
        self._executor.shutdown(wait=False)

    # Everything below runs on the worker's own thread.

    def _load(self) -> Any:
        if self._llama is None:
            llama_cpp = import_llama_cpp()
            import jinja2  # a dependency of llama-cpp-python, so present whenever llama_cpp is

            try:
                llama = llama_cpp.Llama(model_path=str(self.model_file), n_ctx=self._n_ctx,
                                        n_threads=self._n_threads, n_threads_batch=self._n_threads, verbose=False)
            except (ValueError, RuntimeError, OSError) as exc:
                raise BadRequest(f"could not load the local model {self.model_file}: {exc}") from exc
            self._formatter = _chat_formatter(llama)
            self._template_errors = (ValueError, jinja2.TemplateError)
            self._llama = llama
            self.loads += 1
        return self._llama

    def _unload(self) -> None:
        if self._llama is not None:
            self._llama.close()
            self._llama = None

    def _generate(self, generation: Generation) -> Generated:
        llama = self._load()
        llama_cpp = import_llama_cpp()
        try:
            formatted = self._formatter(messages=generation.messages)
        except self._template_errors as exc:
            raise BadRequest(f"the local model's chat template rejected the conversation: {exc}") from exc
        prompt = llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=not formatted.added_special, special=True)
        stop = [formatted.stop] if isinstance(formatted.stop, str) else list(formatted.stop or [])

        deadline = time.monotonic() + generation.timeout_s
        timed_out = False

        def past_deadline(_tokens: Any, _logits: Any) -> bool:
            nonlocal timed_out
            timed_out = timed_out or time.monotonic() > deadline
            return timed_out

        criteria = llama_cpp.StoppingCriteriaList([*(formatted.stopping_criteria or []), past_deadline])
        grammar = llama_cpp.LlamaGrammar.from_string(generation.grammar, verbose=False) if generation.grammar else None
        try:
            result = llama.create_completion(
                prompt=prompt, max_tokens=generation.max_tokens, stop=[*stop, *generation.stop],
                stopping_criteria=criteria, grammar=grammar, **generation.sampling,
            )
        except ValueError as exc:
            if "context window" in str(exc):
                raise BadRequest(f"the conversation does not fit the local model's context: {exc}",
                                 status=400) from exc
            raise ServerError(f"the local model failed: {exc}") from exc
        except RuntimeError as exc:
            raise ServerError(f"the local model failed: {exc}") from exc
        if timed_out:
            raise Timeout(f"the local model ran past its {generation.timeout_s:g} s timeout")
        choice, usage = result["choices"][0], result["usage"]
        return Generated(
            text=choice["text"],
            finish_reason=choice["finish_reason"] or "stop",
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
        )


def _chat_formatter(llama: Any) -> Any:
    """The chat template shipped in the GGUF file, else ChatML (the common default)."""
    from llama_cpp import llama_chat_format

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return llama_chat_format.format_chatml
    eos_id, bos_id = llama.token_eos(), llama.token_bos()

    def token_text(token: int) -> str:
        return llama.detokenize([token], special=True).decode("utf-8", "replace") if token != -1 else ""

    return llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=token_text(eos_id), bos_token=token_text(bos_id), stop_token_ids=[eos_id]
    )
