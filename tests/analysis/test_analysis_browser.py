"""The report page in a real browser: Chromium (Debian's ``chromium`` package), headless.

A copy of ``index.html`` with a probe script appended is opened with ``--dump-dom``; after the
page's load event the probe writes what it measured (page width against the window, leaderboard
cells, the episode browser's examples and episodes, every in-page link's target, load time) into
the DOM as JSON. File links are checked on disk. Skipped where Chromium is not installed.
"""

import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from run_builders import T0, call, episode, write_run

from analysis.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

PROBE = """<script>
window.addEventListener("load", function () {
  var root = document.documentElement;
  var anchors = Array.prototype.map.call(document.querySelectorAll("a[href^='#']"), function (a) {
    return a.getAttribute("href").slice(1);
  });
  var report = {
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    leaderboardCells: document.querySelectorAll("table.leaderboard td a[data-model]").length,
    best: document.querySelectorAll("table.leaderboard td.best").length,
    examples: document.querySelectorAll("#eb-examples button.example").length,
    episodes: document.querySelectorAll("#eb-episodes article.episode").length,
    toolCallRows: document.querySelectorAll("#eb-episodes table.calls tr").length,
    missingAnchors: anchors.filter(function (id) { return !document.getElementById(id); }),
    loadMs: performance.now()
  };
  // a leaderboard cell opens its episodes
  var cell = document.querySelector("table.leaderboard td a[data-model]");
  if (cell) {
    cell.click();
    report.afterClick = {
      model: document.getElementById("eb-model").selectedOptions[0].textContent,
      task: document.getElementById("eb-task").selectedOptions[0].textContent,
      wantedModel: cell.dataset.model, wantedTask: cell.dataset.task,
      episodes: document.querySelectorAll("#eb-episodes article.episode").length
    };
  }
  var out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify(report);
  document.body.appendChild(out);
});
</script>"""


def _run_with_tool_calls(root: Path, name: str, *, models: int, examples: int, seeds: int) -> Path:
    episodes, calls = [], []
    for m in range(models):
        model_id = f"model-{m}" if m % 3 else f"model-{m // 3}@high"
        for task in ("typewriter_single", "multiverse_math"):
            for example in range(examples):
                length = 1 + example % 4
                for seed in range(seeds):
                    correct = (example + seed + m) % (m + 2) != 0
                    tool_calls = [
                        {
                            "name": "type_letter" if task == "typewriter_single" else "add",
                            "arguments": json.dumps({"letter": "c", "note": "x" * 40}),
                            "result": "OK" if step else None,
                            "error": None if step else "unknown argument 'note' </script><b>",
                        }
                        for step in range(length)
                    ]
                    row = episode(
                        model_id=model_id,
                        task=task,
                        example_id=f"{task[:2]}-{example:03d}",
                        seed=seed,
                        expected_steps=length,
                        n_steps=length,
                        correct=correct,
                        steps_match=correct,
                        state_correct=correct if task == "typewriter_single" else None,
                        tool_calls=tool_calls,
                        answer="a long answer " * 30,
                        started_at=T0 + len(episodes),
                    )
                    episodes.append(row)
                    calls.append(call(episode_id=row["episode_id"], model_id=model_id, started_at=T0 + len(calls)))
    return write_run(root, name, episodes=episodes, calls=calls, parts=4)


def _probe(index: Path, width: int = 1280) -> dict:
    probe_page = index.with_name("probe.html")
    probe_page.write_text(index.read_text().replace("</body>", PROBE + "</body>"))
    profile = index.parent / ".chromium-profile"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--window-size={width},900",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe_page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert match, result.stderr[-2000:]
    return json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _file_links_resolve(index: Path) -> None:
    html = index.read_text()
    links = re.findall(r"href='([^'#][^']*)'", html)
    assert links and all((index.parent / link).is_file() for link in links), links


@pytest.fixture(scope="module")
def small_report(tmp_path_factory) -> Path:
    run_dir = _run_with_tool_calls(tmp_path_factory.mktemp("runs"), "small", models=3, examples=6, seeds=2)
    return write_report([run_dir])


@pytest.mark.parametrize("width", [1280, 800])
def test_page_fits_the_window_and_every_part_works(small_report, width):
    figures = _probe(small_report, width)
    assert figures["scrollWidth"] <= figures["clientWidth"], figures  # no horizontal overflow
    assert figures["leaderboardCells"] == 3 * 2  # 3 models × 2 tasks, one strategy
    assert figures["best"] >= 2  # a best model on each task
    assert figures["examples"] == 6 and figures["episodes"] == 2  # first cell: 6 examples, 2 seeds each
    assert figures["toolCallRows"] > 2
    assert figures["missingAnchors"] == []
    click = figures["afterClick"]
    assert (click["model"], click["task"]) == (click["wantedModel"], click["wantedTask"])
    assert click["episodes"] == 2
    _file_links_resolve(small_report)


def test_embedded_text_cannot_break_out_of_the_page(small_report):
    html = small_report.read_text()
    data = html.split('<script type="application/json" id="episode-data">', 1)[1].split("</script>", 1)[0]
    assert "</script><b>" not in data and "<\\/script><b>" in data  # a tool error holding markup


@pytest.mark.slow
def test_a_10000_episode_report_is_small_and_opens_fast(tmp_path):
    run_dir = _run_with_tool_calls(tmp_path, "large", models=10, examples=100, seeds=5)  # 10,000 episodes
    started = time.perf_counter()
    index = write_report([run_dir])
    built = time.perf_counter() - started
    size = index.stat().st_size
    figures = _probe(index)
    print(f"10,000 episodes: report built in {built:.1f} s, index.html {size / 1e6:.2f} MB, "
          f"loaded in {figures['loadMs']:.0f} ms")
    assert size < 20e6
    assert figures["loadMs"] < 2000
    assert figures["scrollWidth"] <= figures["clientWidth"]
    assert "of 10,000 episodes" in index.read_text()  # the sample's note
    _file_links_resolve(index)
