"""Transcripts: every episode's conversation, written with its episode, read back as it ran."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

import tasks
from orchestrator.config import load_config
from orchestrator.records import to_table
from orchestrator.rundir import part_files, read_table
from orchestrator.sweep import run_sweep
from orchestrator.transcripts import messages_of, transcript_row
from orchestrator.writer import PartWriter
from providers.types import Message, ToolCall
from tests.orchestrator.sweep_helpers import episode_row, planned_ids, write_config


def conversation() -> list[Message]:
    return [
        Message("system", "be brief"), Message("user", "type cat"),
        Message("assistant", "", tool_calls=(ToolCall("c1", "type_letter", {"letter": "c"}, '{"letter": "c"}'),
                                             ToolCall("c2", "type_letter", {}, '{"letter": ', error="cut"))),
        Message("tool", "OK", tool_call_id="c1", name="type_letter"),
        Message("tool", "Error: not JSON", tool_call_id="c2", name="type_letter"),
        Message("assistant", "done", replay=({"type": "reasoning", "id": "rs_1", "encrypted_content": "x=="},
                                             {"type": "message", "content": [{"type": "output_text", "text": "done"}]}),
                reasoning="I typed it"),
    ]


def test_a_transcript_reads_back_as_the_conversation_that_ran():
    messages = conversation()
    table = to_table("transcripts", [transcript_row("r", "e1", "m", messages).to_dict()])
    back = messages_of(table.to_pylist()[0]["messages"])
    assert back[:2] == messages[:2] and back[3:] == messages[3:]  # replay and reasoning included
    broken = back[2].tool_calls[1]
    assert (broken.error, broken.raw_arguments, broken.arguments) == ("cut", '{"letter": ', {})
    assert back[2].tool_calls[0].arguments == {"letter": "c"}
    assert json.loads(table.to_pylist()[0]["messages"][5]["replay"])[0]["id"] == "rs_1"


def test_transcripts_are_compressed_and_pair_with_the_episodes_part_of_their_flush(tmp_path):
    from orchestrator.plan import EpisodeSpec

    spec = EpisodeSpec("m", "typewriter_single", "0", 0, "native")
    writer = PartWriter(tmp_path)
    long = [*conversation(), *[Message("tool", "the same long tool result " * 40)] * 50]
    rows = to_table("transcripts", [transcript_row("rd", spec.episode_id, "m", long).to_dict()])
    writer.add("transcripts", rows)
    writer.add("episodes", to_table("episodes", [episode_row(spec)]))
    writer.flush()
    (transcript,) = part_files(tmp_path, "transcripts")
    assert (tmp_path / "episodes" / transcript.name).exists()
    with pa.OSFile(str(transcript)) as source:
        reader = pa.ipc.open_file(source)
        assert reader.get_batch(0).num_rows == 1
    assert transcript.stat().st_size < rows.nbytes / 5  # zstd: the repeated text is stored once or so

    # a crash after the transcripts rename but before the episodes one: the orphan is never read
    writer.add("transcripts", to_table("transcripts", [transcript_row("rd", "lost", "m", ()).to_dict()]))
    writer.flush()
    assert len(list((tmp_path / "transcripts").glob("*.arrow"))) == 2
    assert read_table(tmp_path, "transcripts", ["episode_id"])["episode_id"].to_pylist() == [spec.episode_id]


@pytest.mark.ray
@pytest.mark.usefixtures("ray_session")
def test_every_episode_of_a_sweep_has_exactly_one_transcript(tmp_path):
    path = write_config(tmp_path, tasks=["typewriter_single", "multiverse_math"], strategies=["native", "text"],
                        models=[{"id": "oracle", "provider": "simulated", "model": "oracle"},
                                {"id": "weak", "provider": "simulated", "model": "single-call"}])
    assert run_sweep(load_config(path), config_path=path) == 0
    run = tmp_path / "runs" / "e2e"
    episodes = read_table(run, "episodes").to_pylist()
    transcripts = {row["episode_id"]: row for row in read_table(run, "transcripts").to_pylist()}
    assert len(transcripts) == len(read_table(run, "transcripts")) == len(episodes)
    assert set(transcripts) == planned_ids(path)
    for episode in episodes:
        messages = messages_of(transcripts[episode["episode_id"]]["messages"])
        task = tasks.get_task(episode["task"])
        assert [m.role for m in messages[:2]] == ["system", "user"]
        assert messages[1].content == task.example(episode["example_id"]).question
        made = [(c.name, c.arguments_json) for m in messages for c in m.tool_calls]
        assert made == [(t["name"], t["arguments"]) for t in episode["tool_calls"]]
        assert sum(m.role == "tool" for m in messages) == len(episode["tool_calls"])
        if episode["status"] == "completed":
            assert messages[-1].role == "assistant" and messages[-1].content == episode["answer"]
