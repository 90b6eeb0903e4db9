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
