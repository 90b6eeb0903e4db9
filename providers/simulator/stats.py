"""What the simulator served: requests by arrival second (to audit client rate limits) and outcomes by model."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any


class ServerStats:
    """Counters. ``arrival`` when a request comes in, ``outcome`` once its fate is known."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self.started_at = clock()
        self.requests = 0
        self._by_model: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._per_second: Counter[int] = Counter()
        self._per_second_by_model: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self._params_by_model: defaultdict[str, defaultdict[str, Counter[str]]] = defaultdict(
            lambda: defaultdict(Counter))

    def arrival(self, model: str) -> None:
        second = int(self._clock())
        self.requests += 1
        self._per_second[second] += 1
        self._per_second_by_model[model][second] += 1

    def outcome(self, model: str, outcome: str) -> None:
        self._by_model[model][outcome] += 1

    def params(self, model: str, params: dict[str, Any]) -> None:
        """Count the sampling and reasoning parameters a request for ``model`` carried (values as
        canonical JSON), so a test can prove what reached the wire."""
        for name, value in params.items():
            self._params_by_model[model][name][json.dumps(value, sort_keys=True)] += 1

    def snapshot(self) -> dict[str, Any]:
        """The ``/stats`` document (JSON keys are strings, so seconds are too)."""
        return {
            "requests": self.requests,
            "by_model": {model: dict(counts) for model, counts in self._by_model.items()},
            "per_second": {str(second): n for second, n in sorted(self._per_second.items())},
            "per_second_by_model": {
                model: {str(second): n for second, n in sorted(counts.items())}
                for model, counts in self._per_second_by_model.items()
            },
            "params_by_model": {
                model: {name: dict(values) for name, values in params.items()}
                for model, params in self._params_by_model.items()
            },
            "started_at": self.started_at,
        }
