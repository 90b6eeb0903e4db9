"""Writes ``answers_labelled.jsonl``: model-style answers with a human label, for the scorer tests.

Run from the repository root: ``PYTHONPATH=. python tests/data/build_answers_labelled.py``. The Multiverse Math
rows are written from templates, one kind of answer each, and the label follows from what the kind
*means* (an exact or a rounded reference is right; the answer of ordinary arithmetic is wrong
unless it happens to be the multiverse value; a coarser rounding than 3 significant digits is
wrong) — never from a scorer. The Relational Data rows are written by hand below.
Each row: task, dataset, example_id, answer, label ("correct" | "wrong"), why.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import tasks

OUT = Path(__file__).with_name("answers_labelled.jsonl")

# Ordinary arithmetic: what a model answering from its own knowledge computes.
EVERYDAY = {
    "add": lambda a, b: a + b, "subtract": lambda a, b: a - b, "multiply": lambda a, b: a * b,
    "divide": lambda a, b: a / b, "power": lambda a, b: a**b, "log": lambda a, base: math.log(a, base),
    "negate": lambda a: -a, "sin": math.sin, "cos": math.cos, "pi": lambda: math.pi,
}


DATA = Path(tasks.__file__).parent / "multiverse_math" / "data"
FILES = {"toolsweep": "multiverse_math.jsonl", "paper": "multiverse_math_paper.jsonl"}


def raw_steps(dataset: str) -> dict[str, list[dict]]:
    """Example id -> its steps as stored, with ``{"result_of": k}`` links to earlier steps."""
    lines = (DATA / FILES[dataset]).read_text(encoding="utf-8").splitlines()
    return {row["id"]: row["expected_steps"] for row in map(json.loads, lines)}


def everyday_value(steps: list[dict]) -> float:
    """The steps evaluated with ordinary arithmetic, each fed the earlier ordinary results."""
    results: list[float] = []
    for step in steps:
        args = [results[v["result_of"]] if isinstance(v, dict) else v for v in step.get("arguments", {}).values()]
        results.append(EVERYDAY[step["name"]](*args))
    return results[-1]


def plain(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if text in ("-0", "-0.0") else text


def natural(value: float) -> str:
    """How a person writes a number they computed: integers bare, else up to 4 decimals."""
    if math.isclose(value, round(value), abs_tol=1e-9):
        return str(int(round(value)))
    return f"{value:.4f}".rstrip("0").rstrip(".")


def decimals_for_sig(value: float, sig: int) -> int:
    if value == 0:
        return sig - 1
    return max(0, sig - 1 - math.floor(math.log10(abs(value))))


def mm_rows(dataset: str) -> list[dict]:
    task = tasks.get_task("multiverse_math", dataset=dataset)
    rows = []
    examples = task.examples
    stored = raw_steps(dataset)
    for n, example in enumerate(examples):
        ref_text = example.reference
        ref = float(ref_text)

        def row(answer: str, label: str, why: str, example_id: str = example.id) -> None:
            rows.append({"task": "multiverse_math", "dataset": dataset, "example_id": example_id,
                         "answer": answer, "label": label, "why": why})

        row(ref_text, "correct", "exact reference")
        four = plain(ref, decimals_for_sig(ref, 5) if abs(ref) < 1000 else 0)
        row(four, "correct", "reference rounded to the precision written")
        three = plain(ref, decimals_for_sig(ref, 3))
        if abs(ref) < 1000 and not math.isclose(float(three), ref, rel_tol=1e-12):
            row(f"≈ {three}", "correct", "reference rounded to 3 significant digits")
        first = example.expected_steps[0]
        call = f"{first.name}({', '.join(natural(v) for v in first.arguments.values())})"
        row(f"The answer is {four}, obtained by starting with {call} and using the tools' outputs.",
            "correct", "verbose: the answer first, operands after it")
        row(f"{four}, obtained with {call}" + (" and the following steps" if len(example.expected_steps) > 1 else ""),
            "correct", "answer first without a cue, operand numbers after it")
        unit = ["", " fruits", " cells", " units"][n % 4]
        row(f"In this universe the result comes out to approximately {four}{unit}.", "correct",
            "paraphrased, with a unit word")
        row(f"**Final answer:** {ref_text}", "correct", "markdown-formatted exact answer")
        everyday = everyday_value(stored[example.id])
        same = math.isclose(everyday, ref, rel_tol=1e-9, abs_tol=1e-12)
        label = "correct" if same else "wrong"
        why = ("everyday arithmetic, which equals the multiverse value here" if same
               else "everyday arithmetic: ignores the altered tools")
        row(natural(everyday), label, why)
        row(f"Using normal math, {natural(everyday)} is the result.", label, why + " (verbose)")
        d = decimals_for_sig(ref, 5) if abs(ref) < 1000 else 1
        near = round(ref, d) + 10.0**-d
        row(plain(near, d), "wrong", "one unit off in the last written place")
        two = float(f"{ref:.2g}")
        # "1.6" for 1.5997 is 1.60, the 3-digit rounding: only a 2-digit answer that is not is too coarse
        if not math.isclose(two, float(f"{ref:.3g}"), rel_tol=1e-9, abs_tol=1e-12) and abs(ref) < 1000:
            row(natural(two), "wrong", "rounded to 2 significant digits: too coarse to tell")
        other = examples[(n + 7) % len(examples)]
        if not math.isclose(float(other.reference), ref, rel_tol=1e-3):
            row(plain(float(other.reference), decimals_for_sig(float(other.reference), 5)), "wrong",
                f"the answer to another question ({other.id})")
        if n % 5 == 0:
            row("I can't determine that without more information.", "wrong", "no number given")
    return rows


def rd(dataset: str, example_id: str, answer: str, label: str, why: str) -> dict:
    return {"task": "relational_data", "dataset": dataset, "example_id": example_id, "answer": answer,
            "label": label, "why": why}


P, T = "paper", "toolsweep"


def mm(dataset: str, example_id: str, answer: str, label: str, why: str) -> dict:
    return {"task": "multiverse_math", "dataset": dataset, "example_id": example_id, "answer": answer,
            "label": label, "why": why}


# Hand-written answers in the styles models use, beside the templated ones above.
MULTIVERSE_BY_HAND = [
    mm(P, "paper-05", "First, add(1, 2) = 4.2. Then multiply(7, 4.2) = 32.34. So you ate 32.34 fruits.",
       "correct", "worked steps, then the answer"),
    mm(P, "paper-05", "You ate 21 fruits.", "wrong", "everyday arithmetic in a sentence"),
    mm(P, "paper-15", "131,778 + 22,312 = 154,091.2 in this universe.", "correct", "equation with thousands commas"),
    mm(P, "paper-15", "Normally it would be 154,090, but with the altered add it is 154,091.2.", "correct",
       "the everyday value mentioned first, the answer last"),
    mm(P, "paper-15", "The sum is 154,090.", "wrong", "everyday arithmetic in a sentence"),
    mm(P, "paper-08", "There will be 176 cells after 2 hours.", "correct", "answer first, a later number"),
    mm(P, "paper-08", "5 * 2^6 = 320 cells", "wrong", "everyday arithmetic as an equation"),
    mm(P, "paper-07", "102518.78", "correct", "rounded to 2 decimals"),
    mm(P, "paper-07", "≈1.025e5", "correct", "scientific notation, 4 significant digits"),
    mm(P, "paper-07", "10.05", "wrong", "everyday square root"),
    mm(P, "paper-12", "In this universe pi is e, about 2.718.", "correct", "the value after a word"),
    mm(P, "paper-12", "3.14159", "wrong", "everyday pi"),
    mm(P, "paper-13", "cos(pi) here is sin(e) = 0.4108", "correct", "an equation, rounded"),
    mm(P, "paper-13", "-1", "wrong", "everyday cos(pi)"),
    mm(P, "paper-02", "Subtracting 3 from 2 gives -4.", "correct", "operands first, the answer after 'gives'"),
    mm(P, "paper-02", "2 - 3 = -1", "wrong", "everyday arithmetic as an equation"),
    mm(P, "paper-03", "-5", "correct", "exact, as an integer"),
    mm(P, "paper-03", "5", "wrong", "everyday negation"),
    mm(P, "paper-20", "5 divided by 5 is 0.5 here.", "correct", "operands first, the answer after 'is'"),
    mm(P, "paper-20", "1", "wrong", "everyday division"),
    mm(P, "paper-19", "The sum of 1 through 10 is 65.8.", "correct", "the answer after 'is'"),
    mm(P, "paper-19", "55", "wrong", "everyday sum"),
    mm(P, "paper-16", "10.4", "correct", "the stored float 10.399999999999999, as a person writes it"),
    mm(P, "paper-16", "(1+2)+5 = 10.4", "correct", "equation"),
    mm(P, "paper-16", "8", "wrong", "everyday sum"),
    mm(T, "mm-19", "About 74.67 cells.", "correct", "hedged, with a unit"),
    mm(T, "mm-19", "96 cells", "wrong", "everyday doubling"),
    mm(T, "mm-24", "1540.80", "correct", "rounded to cents"),
    mm(T, "mm-24", "1157.625", "wrong", "everyday compounding"),
    mm(P, "paper-09", "0.035", "wrong", "2 significant digits of 0.03546: too coarse"),
    mm(P, "paper-06", "The log of 100 base 10 is 1.8856 in this universe, times 3 gives 6.2223.", "correct",
       "two results, the final one last"),
    mm(P, "paper-06", "6", "wrong", "everyday arithmetic"),
]

RELATIONAL = [
    rd(P, "paper-01", "New York", "correct", "exact"),
    rd(P, "paper-01", "Location ID 1 is the city of New York.", "correct", "sentence"),
    rd(P, "paper-01", "Los Angeles", "wrong", "wrong entity"),
    rd(P, "paper-02", "The food with id 6 is Pasta.", "correct", "sentence"),
    rd(P, "paper-02", "Pizza", "wrong", "wrong entity"),
    rd(P, "paper-03", "Eve's user ID is 42.", "correct", "sentence with the number"),
    rd(P, "paper-03", "42", "correct", "bare number"),
    rd(P, "paper-03", "Eve's user ID is 5.", "wrong", "wrong number"),
    rd(P, "paper-04", "The current user ID is 35.", "correct", "sentence"),
    rd(P, "paper-04", "36", "wrong", "wrong number"),
    rd(P, "paper-05", "There is 1 user named Bob (ID 21).", "correct", "count first, then an id"),
    rd(P, "paper-05", "There is one user named Bob.", "correct", "count in words"),
    rd(P, "paper-05", "There are 2 users named Bob.", "wrong", "wrong count"),
    rd(P, "paper-06", "Alice's email address is alice@gmail.com.", "correct", "sentence"),
    rd(P, "paper-06", "alice@hotmail.com", "wrong", "wrong domain"),
    rd(P, "paper-07", "Donna's favorite color is green.", "correct", "sentence"),
    rd(P, "paper-07", "Donna's favorite color is yellow.", "wrong", "wrong colour"),
    rd(P, "paper-08", "Sunny, Temperature: 75°F", "correct", "exact"),
    rd(P, "paper-08", "It's sunny in Los Angeles right now, with a temperature of 75°F.", "correct", "paraphrase"),
    rd(P, "paper-08", "The weather in LA is sunny and 75 degrees Fahrenheit.", "correct", "unit spelled out"),
    rd(P, "paper-08", "Partly cloudy, 68°F.", "wrong", "New York's weather"),
    rd(P, "paper-08", "It is sunny, 80°F.", "wrong", "wrong temperature"),
    rd(P, "paper-09", "2023-11-14 11:15 AM", "correct", "exact"),
    rd(P, "paper-09", "The current time in Chicago is 11:15 AM.", "correct", "time without the date"),
    rd(P, "paper-09", "It's 10:30 AM in Chicago.", "wrong", "New York's time"),
    rd(P, "paper-10", "Chocolate contains milk and soy.", "correct", "sentence, 'and' list"),
    rd(P, "paper-10", "Soy, Milk", "correct", "list order differs"),
    rd(P, "paper-10", "The allergens in chocolate are milk, soy and gluten.", "wrong", "an extra allergen"),
    rd(P, "paper-10", "Milk", "wrong", "a missing allergen"),
    rd(P, "paper-11", "285 calories", "correct", "exact"),
    rd(P, "paper-11", "A serving of pizza has 285 calories.", "correct", "sentence"),
    rd(P, "paper-11", "285", "correct", "number without the unit"),
    rd(P, "paper-11", "You will consume 300 calories.", "wrong", "sushi's calories"),
    rd(P, "paper-12", "Your favorite color is yellow.", "correct", "sentence"),
    rd(P, "paper-12", "red", "wrong", "Alice's colour"),
    rd(P, "paper-13", "Eve was exposed to fish and soy.", "correct", "sentence"),
    rd(P, "paper-13", "Fish, Soy", "correct", "capitalised list"),
    rd(P, "paper-13", "Dairy", "wrong", "wrong allergen"),
    rd(P, "paper-14", "Yes, the salad has no allergens, so Frank can eat it.", "correct", "yes with a reason"),
    rd(P, "paper-14", "No, he should avoid it.", "wrong", "wrong polarity"),
    rd(P, "paper-15", "yellow and Charlie", "correct", "exact"),
    rd(P, "paper-15", "Your name is Charlie and your favorite color is yellow.", "correct", "order swapped, sentence"),
    rd(P, "paper-15", "The current user is Charlie (ID 35), whose favorite color is yellow.", "correct",
       "name with its id, then the colour"),
    rd(P, "paper-15", "Your favorite color is yellow.", "wrong", "the name is missing"),
    rd(P, "paper-15", "Alice, red", "wrong", "wrong user"),
    rd(P, "paper-16", "Bob lives in Los Angeles.", "correct", "sentence"),
    rd(P, "paper-16", "Bob lives in New York.", "wrong", "wrong city"),
    rd(P, "paper-17", "Yes, it's rainy in Houston, so Donna should bring an umbrella.", "correct", "yes with a reason"),
    rd(P, "paper-17", "No, it is sunny.", "wrong", "wrong polarity"),
    rd(P, "paper-18", "Yes — it's 12:00 PM where Donna lives, so she is likely awake.", "correct", "yes with a reason"),
    rd(P, "paper-18", "No, it's the middle of the night.", "wrong", "wrong polarity"),
    rd(P, "paper-19", "No. Alice uses gmail.com and Charlie uses yahoo.com.", "correct", "no with a reason"),
    rd(P, "paper-19", "Yes, they both use the same provider.", "wrong", "wrong polarity"),
    rd(P, "paper-20", "Yes, it is midday and raining in Houston.", "correct", "yes with a reason"),
    rd(P, "paper-21", "No, Bob lives in Los Angeles and Alice lives in New York.", "correct", "no with a reason"),
    rd(P, "paper-21", "Yes.", "wrong", "wrong polarity"),
    rd(T, "rd-01", "The current user's id is 36.", "correct", "sentence"),
    rd(T, "rd-02", "The user with id 44 is Hugo.", "correct", "sentence"),
    rd(T, "rd-02", "Lena", "wrong", "wrong user"),
    rd(T, "rd-03", "There are 12 users.", "correct", "count"),
    rd(T, "rd-03", "There are twelve users in total.", "correct", "count in words"),
    rd(T, "rd-06", "The food with id 34 has 380 calories per serving.", "correct", "number with unit"),
    rd(T, "rd-06", "380 kcal", "correct", "another unit word"),
    rd(T, "rd-08", "Perth has location id 40.", "correct", "sentence"),
    rd(T, "rd-11", "It is 6:40 PM in Osaka.", "correct", "time"),
    rd(T, "rd-11", "It is 18:40 in Osaka.", "correct", "24-hour time"),
    rd(T, "rd-11", "It's 3:10 PM.", "wrong", "another city's time"),
    rd(T, "rd-12", "It is 71°F in Nairobi.", "correct", "number with unit"),
    rd(T, "rd-15", "Pad Thai contains peanuts, eggs and fish.", "correct", "plural forms"),
    rd(T, "rd-15", "Peanut and egg.", "wrong", "a missing allergen"),
    rd(T, "rd-16", "Your favorite color is yellow.", "correct", "sentence"),
    rd(T, "rd-17", "Your name is Gita.", "correct", "sentence"),
    rd(T, "rd-18", "Frank The Cat (user 17) likes black.", "correct", "the colour, with the user's name and id"),
    rd(T, "rd-18", "Frank The Cat's favorite color is orange.", "wrong", "wrong colour"),
    rd(T, "rd-20", "Yes, it is foggy in Lima right now.", "correct", "yes with a reason"),
    rd(T, "rd-22", "Frank The Cat lives in Oslo.", "correct", "sentence"),
    rd(T, "rd-24", "Kemal's favorite food is hummus.", "correct", "sentence"),
    rd(T, "rd-25", "Yes, pasta is one of Frank Moss's favorite foods.", "correct", "yes with a reason"),
    rd(T, "rd-28", "Bruno's favorite foods are ramen and sushi.", "correct", "'and' list, order swapped"),
    rd(T, "rd-28", "Sushi, ramen and pizza.", "wrong", "an extra food"),
    rd(T, "rd-29", "Together they have 760 calories.", "correct", "number with unit"),
    rd(T, "rd-29", "780 calories", "wrong", "wrong total"),
    rd(T, "rd-30", "No, none of your favorite foods contain dairy.", "correct", "no with a reason"),
    rd(T, "rd-33", "Ramen has the most calories per serving (480).", "correct", "name with a number"),
    rd(T, "rd-34", "Chen Wei lives somewhere warmer.", "correct", "sentence"),
    rd(T, "rd-34", "Jonas", "wrong", "wrong user"),
    rd(T, "rd-35", "The user in Perth is Hugo, whose email is hugo@example.org.", "correct", "email in a sentence"),
]


def main() -> None:
    rows = mm_rows("toolsweep") + mm_rows("paper") + MULTIVERSE_BY_HAND + RELATIONAL
    with OUT.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} rows -> {OUT}")


if __name__ == "__main__":
    main()
