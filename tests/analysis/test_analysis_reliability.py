import pytest
from run_builders import T0, call, episode, event, write_run

from analysis import findings
from analysis.load import load_runs
from analysis.reliability import (
    UNFINISHED,
    breaker_table,
    errors_over_time,
    provider_outcomes,
    refusals_by_task,
    reliability_table,
    served_models,
    status_table,
    streaming_table,
)

OK_LATENCIES = (0.1, 0.2, 0.3, 0.4, 0.5, 1.0)


def _known_calls():
    """10 attempts of provider p / model m: 6 ok, 5xx 503 and 502, one 429, one timeout."""
    calls = [
        call(provider="p", model_id="m", step=i, latency_s=x, input_tokens=100, output_tokens=10)
        for i, x in enumerate(OK_LATENCIES)
    ]
    calls += [
        call(
            provider="p",
            model_id="m",
            step=6,
            attempt=1,
            outcome="http_5xx",
            http_status=503,
            latency_s=9.0,
            input_tokens=0,
            output_tokens=0,
        ),
        call(
            provider="p",
            model_id="m",
            step=6,
            attempt=2,
            outcome="http_5xx",
            http_status=502,
            latency_s=9.0,
            input_tokens=0,
            output_tokens=0,
        ),
        call(
            provider="p",
            model_id="m",
            step=6,
            attempt=3,
            outcome="http_429",
            http_status=429,
            latency_s=9.0,
            input_tokens=0,
            output_tokens=0,
        ),
        call(
            provider="p",
            model_id="m",
            step=7,
            attempt=2,
            outcome="timeout",
            http_status=None,
            latency_s=30.0,
            input_tokens=0,
            output_tokens=0,
        ),
    ]
    return calls


def _data(tmp_path, calls, episodes=(), events=()):
    return load_runs([write_run(tmp_path, "r", episodes=list(episodes), calls=calls, events=list(events))])


def _reliability(data):
    breakers = breaker_table(data.calls, data.episodes, data.events)
    return reliability_table(data.calls, data.episodes, breakers)


def test_outcome_rates_retries_and_tokens(tmp_path):
    episodes = [
        episode(provider="p", model_id="m", cost_usd=0.25),
        episode(provider="p", model_id="m", seed=1, cost_usd=0.5),
    ]
    row = _reliability(_data(tmp_path, _known_calls(), episodes)).row(0, named=True)
    assert row["attempts"] == 10
    assert row["ok_rate"] == pytest.approx(0.6)
    assert row["http_5xx_rate"] == pytest.approx(0.2)
    assert row["http_429_rate"] == pytest.approx(0.1)
    assert row["timeout_rate"] == pytest.approx(0.1)
    for outcome in ("connection", "refusal", "malformed", "bad_request", "auth"):
        assert row[f"{outcome}_rate"] == 0.0
    assert row["retries_per_ok"] == pytest.approx(3 / 6)  # attempts numbered 2, 3 and 2
    assert (row["input_tokens"], row["output_tokens"]) == (600, 60)
    assert row["cost_usd"] == pytest.approx(0.75)
    assert row["episodes"] == 2


def test_latency_percentiles_interpolate_linearly_over_ok_attempts(tmp_path):
    row = _reliability(_data(tmp_path, _known_calls())).row(0, named=True)
    # Sorted ok latencies 0.1 .. 0.5, 1.0 (n = 6); rank h = 5q.
    assert row["latency_p50_s"] == pytest.approx(0.3 + 0.5 * (0.4 - 0.3))  # h = 2.5
    assert row["latency_p95_s"] == pytest.approx(0.5 + 0.75 * (1.0 - 0.5))  # h = 4.75
    assert row["latency_p99_s"] == pytest.approx(0.5 + 0.95 * (1.0 - 0.5))  # h = 4.95


def test_a_provider_with_only_failures(tmp_path):
    calls = [
        call(provider="q", model_id="bad", attempt=a, outcome="http_5xx", http_status=500, latency_s=1.0)
        for a in (1, 2, 3)
    ]
    row = _reliability(_data(tmp_path, calls)).row(0, named=True)
    assert row["attempts"] == 3
    assert (row["ok_rate"], row["http_5xx_rate"]) == (0.0, 1.0)
    assert row["retries_per_ok"] is None
    assert row["latency_p50_s"] is None and row["latency_p99_s"] is None


def test_status_table_splits_by_http_code(tmp_path):
    table = status_table(_data(tmp_path, _known_calls()).calls)
    got = {(r["outcome"], r["http_status"]): (r["attempts"], r["share"]) for r in table.iter_rows(named=True)}
    assert got == {
        ("http_5xx", 502): (1, pytest.approx(0.1)),
        ("http_5xx", 503): (1, pytest.approx(0.1)),
        ("http_429", 429): (1, pytest.approx(0.1)),
        ("timeout", None): (1, pytest.approx(0.1)),
    }


def test_provider_outcome_shares_pool_models(tmp_path):
    calls = [*_known_calls(), call(provider="p", model_id="other", outcome="refusal", http_status=400)]
    table = provider_outcomes(_data(tmp_path, calls).calls)
    shares = {r["outcome"]: (r["attempts"], r["share"]) for r in table.iter_rows(named=True)}
    assert shares["ok"] == (6, pytest.approx(6 / 11))
    assert shares["refusal"] == (1, pytest.approx(1 / 11))
    assert sum(share for _, share in shares.values()) == pytest.approx(1.0)


def test_breaker_openings_and_time_open(tmp_path):
    events = [
        event(runner="r0", at=T0 + 10, from_state="closed", to_state="open"),
        event(runner="r0", at=T0 + 40, from_state="open", to_state="half_open"),
        event(runner="r0", at=T0 + 41, from_state="half_open", to_state="open"),
        event(runner="r0", at=T0 + 51, from_state="open", to_state="half_open"),
        event(runner="r0", at=T0 + 52, from_state="half_open", to_state="closed"),
        event(runner="r1", at=T0 + 100, from_state="closed", to_state="open"),  # still open at the end
        event(runner="r1", kind="concurrency", at=T0 + 150, value=4.0),
    ]
    calls = [call(provider="simulated", started_at=T0 + 200, latency_s=1.0)]  # the run ends at T0 + 201
    data = _data(tmp_path, calls, events=events)
    breakers = breaker_table(data.calls, data.episodes, data.events)
    got = {r["runner"]: (r["opens"], r["open_s"]) for r in breakers.iter_rows(named=True)}
    assert got == {"r0": (2, pytest.approx(30 + 10)), "r1": (1, pytest.approx(101))}
    row = reliability_table(data.calls, data.episodes, breakers).row(0, named=True)
    assert (row["provider_breaker_opens"], row["provider_breaker_open_s"]) == (3, pytest.approx(141))


def test_refusals_per_task_through_episodes(tmp_path):
    math_episode = episode(
        task="multiverse_math", example_id="pow", status="refused", n_attempts=2, correct=None
    )
    typing_episode = episode(task="typewriter_single", example_id="cat", n_attempts=3)
    calls = [
        call(episode_id=math_episode["episode_id"], outcome="refusal", http_status=400),
        call(episode_id=math_episode["episode_id"], step=1, outcome="ok"),
        *[call(episode_id=typing_episode["episode_id"], step=s) for s in range(3)],
        call(episode_id="still-running", outcome="refusal", http_status=400),
    ]
    data = _data(tmp_path, calls, [math_episode, typing_episode])
    table = refusals_by_task(data.calls, data.episodes)
    got = {r["task"]: r for r in table.iter_rows(named=True)}
    assert got["multiverse_math"]["refusals"] == 1
    assert got["multiverse_math"]["refusal_rate"] == pytest.approx(1 / 2)
    assert got["multiverse_math"]["refused_episodes"] == 1
    assert got["multiverse_math"]["refused_episode_rate"] == 1.0
    assert (got["typewriter_single"]["refusals"], got["typewriter_single"]["refusal_rate"]) == (0, 0.0)
    assert got[UNFINISHED]["refusals"] == 1 and got[UNFINISHED]["refusal_rate"] is None


def test_a_served_model_other_than_the_one_asked_for_is_flagged(tmp_path):
    episodes = [
        episode(episode_id="a", model_id="mini", provider="openai", model="gpt-5.4-mini"),
        episode(episode_id="b", model_id="opus", provider="anthropic", model="claude-opus-4-7"),
        episode(episode_id="c", model_id="sim", provider="simulated", model="noisy"),
    ]
    calls = [
        call(episode_id="a", model_id="mini", provider="openai", served_model="gpt-5.4-mini-2026-03-01"),
        call(episode_id="a", model_id="mini", provider="openai", step=1, served_model="gpt-5.4-nano"),
        call(episode_id="b", model_id="opus", provider="anthropic", served_model="claude-opus-4-7"),
        call(episode_id="b", model_id="opus", provider="anthropic", step=1, outcome="http_5xx", http_status=503),
        call(episode_id="c", model_id="sim", served_model="sim"),  # the simulator is asked by the model's id
    ]
    data = _data(tmp_path, calls, episodes)
    table = served_models(data.calls, data.episodes)
    got = {(r["model_id"], r["served_model"]): (r["attempts"], r["differs"]) for r in table.iter_rows(named=True)}
    assert got == {("mini", "gpt-5.4-mini-2026-03-01"): (1, False), ("mini", "gpt-5.4-nano"): (1, True),
                   ("opus", "claude-opus-4-7"): (1, False), ("sim", "sim"): (1, False)}
    (line,) = findings.served_models(table)  # the report's finding names the one that differs
    assert "gpt-5.4-mini" in line and "gpt-5.4-nano" in line


def test_errors_per_minute_since_the_first_attempt(tmp_path):
    calls = [
        call(started_at=T0 + 5),
        call(started_at=T0 + 64.9, outcome="http_5xx", http_status=503),
        call(started_at=T0 + 65, outcome="http_5xx", http_status=503),
        call(started_at=T0 + 130),
    ]
    table = errors_over_time(_data(tmp_path, calls).calls)
    assert table.select("minute", "outcome", "attempts").rows() == [
        (0, "http_5xx", 1),
        (0, "ok", 1),
        (1, "http_5xx", 1),
        (2, "ok", 1),
    ]


def test_no_calls_at_all(tmp_path):
    data = load_runs([write_run(tmp_path, "r", episodes=[episode(provider="p", model_id="m")])])
    table = _reliability(data)
    row = table.row(0, named=True)
    assert (row["attempts"], row["episodes"]) == (0, 1)
    assert status_table(data.calls).height == 0
    assert errors_over_time(data.calls).height == 0
    assert breaker_table(data.calls, data.episodes, data.events).height == 0


def test_cached_calls_are_counted_apart_and_left_out_of_every_rate(tmp_path):
    cached = [
        call(provider="p", model_id="m", step=10 + i, outcome="cached", http_status=None, latency_s=0.001,
             input_tokens=100, output_tokens=10)
        for i in range(5)
    ]
    data = _data(tmp_path, _known_calls() + cached)
    row = _reliability(data).row(0, named=True)
    assert row["attempts"] == 10 and row["cached_calls"] == 5
    assert row["ok_rate"] == pytest.approx(0.6) and row["cached_rate"] == 0.0
    assert row["latency_p50_s"] == pytest.approx(0.35)  # the 1 ms hits are no attempts
    assert (row["input_tokens"], row["output_tokens"]) == (600, 60)
    shares = provider_outcomes(data.calls)
    assert "cached" not in shares["outcome"].to_list() and shares["attempts"].sum() == 10
    assert status_table(data.calls)["share"].sum() == pytest.approx(0.4)
    assert errors_over_time(data.calls)["attempts"].sum() == 10
    assert _reliability(_data(tmp_path / "none", _known_calls())).row(0, named=True)["cached_calls"] == 0


def test_streaming_percentiles_over_ok_attempts_that_streamed(tmp_path):
    # provider p / model s streamed: ok TTFTs 0.1, 0.2, 0.4, 0.9 with rates 10, 20, 40, null (one event);
    # a failed streamed attempt and an unstreamed ok attempt of the same model are left out
    rows = [call(provider="p", model_id="s", step=i, ttft_s=t, output_tokens_per_s=r)
            for i, (t, r) in enumerate([(0.1, 10.0), (0.2, 20.0), (0.4, 40.0), (0.9, None)])]
    rows += [call(provider="p", model_id="s", step=4, outcome="connection", http_status=None, ttft_s=0.05,
                  output_tokens_per_s=None),
             call(provider="p", model_id="s", step=5), call(provider="p", model_id="plain", step=0)]
    table = streaming_table(_data(tmp_path, rows).calls)
    assert table["model_id"].to_list() == ["s"]  # the model that never streamed has no row
    row = table.row(0, named=True)
    assert row["streamed_ok"] == 4
    # TTFT: n = 4, rank h = 3q: p50 at h = 1.5, p95 at h = 2.85
    assert row["ttft_p50_s"] == pytest.approx(0.2 + 0.5 * (0.4 - 0.2))
    assert row["ttft_p95_s"] == pytest.approx(0.4 + 0.85 * (0.9 - 0.4))
    # rates: the null one is not a rate; n = 3, h = 2q: p50 at h = 1, p95 at h = 1.9
    assert row["tokens_per_s_p50"] == pytest.approx(20.0)
    assert row["tokens_per_s_p95"] == pytest.approx(20.0 + 0.9 * (40.0 - 20.0))


def test_no_streaming_rows_when_nothing_streamed(tmp_path):
    assert streaming_table(_data(tmp_path, _known_calls()).calls).is_empty()
