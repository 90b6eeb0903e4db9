import polars as pl

from analysis.render import format_value, html_table, markdown_table


def test_format_value():
    assert format_value(None) == "–"
    assert format_value(True) == "yes"
    assert format_value(0.0) == "0"
    assert format_value(2 / 3) == "0.6667"
    assert format_value(12345.678) == "12345.7"
    assert format_value(float("nan")) == "NaN"
    assert format_value(7) == "7"


def test_markdown_escapes_pipes_and_shows_nulls():
    frame = pl.DataFrame(
        {"model_id": ["a|b"], "correct": [None]}, schema={"model_id": pl.String, "correct": pl.Float64}
    )
    assert markdown_table(frame).splitlines() == ["| model_id | correct |", "|---|---|", "| a\\|b | – |"]
    assert markdown_table(frame.clear()) == "_(no rows)_\n"


def test_html_table_escapes_text_and_says_when_it_truncates():
    frame = pl.DataFrame({"model_id": ["<script>x</script>"] * 5, "n": list(range(5))})
    rendered = html_table(frame, max_rows=3)
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert rendered.count("<tr>") == 4  # header + 3 rows
    assert "First 3 of 5 rows" in rendered


def test_format_cell_reads_by_column():
    from analysis.render import format_cell

    assert format_cell("http_5xx_rate", 0.0582) == "5.8 %"
    assert format_cell("share", 0.0035) == "0.35 %"
    assert format_cell("p_adjusted", 0.0004) == "< 0.001" and format_cell("task_p", 0.0312) == "0.031"
    assert format_cell("correct", 0.93333) == "0.93" and format_cell("diff", 0.125) == "+0.12"
    assert format_cell("latency_p95_s", 0.1234) == "0.12 s" and format_cell("cost_usd", 0.01234) == "$0.0123"
    assert format_cell("attempts", 9166) == "9,166" and format_cell("n", None) == "–"


def test_html_table_puts_secondary_columns_behind_a_toggle_and_joins_errors():
    frame = pl.DataFrame({"model_id": ["a"], "correct": [0.9333], "correct_se": [0.031], "extra": [5]})
    rendered = html_table(frame, primary=("model_id", "correct"))
    assert "0.93 ± 0.03" in rendered
    assert "class='all-columns'" in rendered and "<th class='more'>extra</th>" in rendered
