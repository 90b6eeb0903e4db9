"""The episode browser of the report page: markup, and the script that renders one cell at a time.

The episodes are embedded as JSON (:mod:`analysis.episodes`) in a ``<script type="application/json">``
element; the script below parses it once and renders only the selected model × strategy × task
(its examples, each with one dot per episode) and the selected example's episodes — so a page with
thousands of episodes opens as fast as one with ten. No server, nothing fetched.
"""

from __future__ import annotations

import html

SCRIPT = r"""
(function () {
  "use strict";
  var source = document.getElementById("episode-data");
  if (!source) { return; }
  var data = JSON.parse(source.textContent);
  var F = {};
  data.fields.forEach(function (name, i) { F[name] = i; });
  var pick = {
    model: document.getElementById("eb-model"),
    strategy: document.getElementById("eb-strategy"),
    task: document.getElementById("eb-task")
  };
  var list = document.getElementById("eb-examples");
  var view = document.getElementById("eb-episodes");
  var current = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function fill(select, values) {
    values.forEach(function (value, i) {
      var option = el("option", null, value);
      option.value = String(i);
      select.appendChild(option);
    });
  }
  function prefix() {
    return [pick.model.value, pick.strategy.value, pick.task.value].join("|") + "|";
  }
  function verdict(ep) {
    var status = ep[F.status];
    if (status !== "completed" && status !== "max_steps") { return "excluded"; }
    return ep[F.correct] ? "right" : "wrong";
  }
  function mark(value) {
    return value === null ? "–" : (value ? "✓" : "✗");
  }
  function showExamples() {
    var start = prefix();
    var keys = Object.keys(data.cells).filter(function (key) { return key.indexOf(start) === 0; }).sort();
    list.textContent = "";
    if (!keys.length) {
      list.appendChild(el("p", "about", "No episodes of this model on this task."));
      view.textContent = "";
      return;
    }
    keys.forEach(function (key) {
      var button = el("button", "example");
      button.type = "button";
      button.dataset.key = key;
      button.appendChild(el("span", "example-id", key.slice(start.length)));
      data.cells[key].forEach(function (ep) {
        var dot = el("span", "dot " + verdict(ep));
        dot.title = "seed " + ep[F.seed] + ": " + ep[F.status];
        button.appendChild(dot);
      });
      button.addEventListener("click", function () { showEpisodes(key); });
      list.appendChild(button);
    });
    showEpisodes(current && keys.indexOf(current) >= 0 ? current : keys[0]);
  }
  function showEpisodes(key) {
    current = key;
    Array.prototype.forEach.call(list.children, function (b) {
      b.classList.toggle("selected", b.dataset && b.dataset.key === key);
    });
    view.textContent = "";
    data.cells[key].forEach(function (ep) {
      var card = el("article", "episode " + verdict(ep));
      var head = el("h4", null, "seed " + ep[F.seed] + " · " + ep[F.status]);
      card.appendChild(head);
      var facts = [
        ["correct", mark(ep[F.correct])],
        ["state", mark(ep[F.state_correct])],
        ["steps match", mark(ep[F.steps_match])],
        ["judge", mark(ep[F.judge_correct])],
        ["tool calls", ep[F.n_steps] + " (expected " + ep[F.expected_steps] + ")"],
        ["step ratio", ep[F.step_ratio] === null ? "–" : ep[F.step_ratio]],
        ["HTTP attempts", ep[F.n_attempts] + (ep[F.n_retries] ? " (" + ep[F.n_retries] + " retried)" : "")],
        ["time", ep[F.duration_s] + " s"]
      ];
      var dl = el("dl", "facts");
      facts.forEach(function (pair) {
        dl.appendChild(el("dt", null, pair[0]));
        dl.appendChild(el("dd", null, pair[1]));
      });
      card.appendChild(dl);
      var answer = el("p", "answer");
      answer.appendChild(el("b", null, "Answer: "));
      answer.appendChild(el("code", null, ep[F.answer] === null ? "(none)" : ep[F.answer]));
      card.appendChild(answer);
      if (ep[F.error]) { card.appendChild(el("p", "error", ep[F.error])); }
      var calls = ep[F.calls];
      if (calls.length) {
        var wrap = el("div", "scroll");
        var table = el("table", "calls");
        var headRow = el("tr");
        ["#", "tool", "arguments", "result or error"].forEach(function (h) { headRow.appendChild(el("th", null, h)); });
        table.appendChild(headRow);
        calls.forEach(function (c, i) {
          var row = el("tr", c[3] ? "tool-error" : null);
          row.appendChild(el("td", null, i + 1));
          row.appendChild(el("td", "text", c[0]));
          row.appendChild(el("td", "text code", c[1]));
          row.appendChild(el("td", "text code", c[3] ? "error: " + c[3] : c[2]));
          table.appendChild(row);
        });
        wrap.appendChild(table);
        card.appendChild(wrap);
      } else {
        card.appendChild(el("p", "about", "No tool call."));
      }
      view.appendChild(card);
    });
  }
  fill(pick.model, data.models);
  fill(pick.strategy, data.strategies);
  fill(pick.task, data.tasks);
  [pick.model, pick.strategy, pick.task].forEach(function (s) { s.addEventListener("change", showExamples); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-model]") : null;
    if (!link) { return; }
    var wanted = { model: data.models, strategy: data.strategies, task: data.tasks };
    Object.keys(wanted).forEach(function (name) {
      var index = wanted[name].indexOf(link.dataset[name]);
      if (index >= 0) { pick[name].value = String(index); }
    });
    current = null;
    showExamples();
  });
  showExamples();
})();
"""


def browser_html(payload: str, note: str) -> str:
    """The browser's section body: selectors, example list, episode view, data and script."""
    return f"""<p class="about">Pick a model, strategy and task (or click a leaderboard cell), then an example: its
episodes, one dot per seed (<span class="dot right"></span> right, <span class="dot wrong"></span> wrong,
<span class="dot excluded"></span> excluded or refused), with every tool call, its arguments and result or
error, the answer and each score. {html.escape(note)}</p>
<div class="eb-controls">
<label>Model <select id="eb-model"></select></label>
<label>Strategy <select id="eb-strategy"></select></label>
<label>Task <select id="eb-task"></select></label>
</div>
<div id="eb-examples" class="eb-examples"></div>
<div id="eb-episodes" class="eb-episodes"></div>
<script type="application/json" id="episode-data">{payload}</script>
<script>{SCRIPT}</script>"""
