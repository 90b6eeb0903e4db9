"""The typewriter tasks: the paper, the two key sets, and the shared words."""

from __future__ import annotations

import time
from string import ascii_lowercase

import tasks
from tasks.dataset import read_jsonl
from tests.tasks.hang_guard import HANG_GUARD_S

SINGLE = tasks.get_task("typewriter_single")
ALPHABET = tasks.get_task("typewriter_26")


def test_type_letter_appends_one_character():
    env = SINGLE.environment()
    assert env.call("type_letter", {"letter": "h"}).content == "OK"
    assert env.call("type_letter", {"letter": "i"}).content == "OK"
    assert env.state == "hi"


def test_type_letter_rejects_anything_but_one_character_and_leaves_the_paper_alone():
    env = SINGLE.environment()
    env.call("type_letter", {"letter": "o"})
    for bad in ["", "ok", "a" * 1_000_000]:
        started = time.process_time()
        result = env.call("type_letter", {"letter": bad})
        assert time.process_time() - started < HANG_GUARD_S
        assert result.error and "exactly one character" in result.error
        assert len(result.content) < 200
    assert env.state == "o"


def test_letter_keys_take_no_arguments():
    env = ALPHABET.environment()
    assert [t.name for t in env.tools] == list(ascii_lowercase)
    assert all(t.parameters["properties"] == {} for t in env.tools)
    for key in "zebra":
        assert env.call(key, {}).content == "OK"
    assert env.call("q", {"letter": "q"}).error == "q: unexpected argument 'letter' (it takes: no arguments)"
    assert "valid tools: a, b, c" in env.call("type_letter", {"letter": "x"}).error
    assert env.state == "zebra"


def test_both_variants_share_one_word_list():
    words = [row["text"] for row in read_jsonl("tasks.typewriter", "typewriter.jsonl")]
    assert [e.reference for e in SINGLE.examples] == words
    assert [e.reference for e in ALPHABET.examples] == words
    assert [e.id for e in SINGLE.examples] == [e.id for e in ALPHABET.examples]


def test_dataset_invariants():
    words = [e.reference for e in SINGLE.examples]
    lengths = {len(w) for w in words}
    assert len(words) >= 20
    assert len(set(words)) == len(words)
    assert {"a", "aaa", "aaaa"} <= set(words)
    assert set(range(1, 14)) <= lengths
    assert all(set(w) <= set(ascii_lowercase) for w in words)


def test_examples_derive_from_the_word():
    for single, alphabet in zip(SINGLE.examples, ALPHABET.examples, strict=True):
        word = single.reference
        assert single.question == word
        assert single.expected_state == alphabet.expected_state == word
        assert single.difficulty == alphabet.difficulty == len(word)
        assert [(s.name, s.arguments) for s in single.expected_steps] == [("type_letter", {"letter": c}) for c in word]
        assert [(s.name, s.arguments) for s in alphabet.expected_steps] == [(c, {}) for c in word]
