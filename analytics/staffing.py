"""Agents needed per interval for a service level (80 % answered within 15 s), by Erlang C, against the roster.

Erlang C (M/M/N, callers wait and never hang up) is the textbook staffing formula; with the forecast's
calls per 30 minutes and the average handle time it gives the smallest number of agents on the phones that
meets the target. It ignores abandonment, so it errs on the safe side (Erlang A would need patience data
we do not have per interval). Thirty lines of arithmetic, checked against published tables in the tests,
so no library is pulled in for it.

The scheduled roster is a small YAML file (``<data_dir>/analytics/roster.yaml``, else the packaged
default): shifts per day kind (``work`` / ``rest``) with the agents on each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import yaml

from analytics.forecast import PER_DAY, day_type


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (Erlang C), for ``traffic`` erlangs offered to ``agents``."""
    if agents <= traffic:
        return 1.0
    b = 1.0  # Erlang B by its stable recursion
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents: int, traffic: float, handle_seconds: float, target_seconds: float) -> float:
    if agents <= traffic:
        return 0.0
    return 1 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_seconds / handle_seconds)


def agents_needed(
    calls: float,
    handle_seconds: float,
    interval_seconds: float = 1800,
    target: float = 0.8,
    target_seconds: float = 15,
) -> int:
    """The fewest agents that answer ``target`` of the calls within ``target_seconds``."""
    if calls <= 0:
        return 0
    traffic = calls * handle_seconds / interval_seconds
    n = max(1, math.floor(traffic) + 1)
    while service_level(n, traffic, handle_seconds, target_seconds) < target:
        n += 1
    return n


@dataclass(frozen=True)
class Shift:
    start: float  # hours from local midnight
    end: float
    agents: int


def load_roster(data_dir: Path | None = None) -> dict[str, list[Shift]]:
    path = data_dir / "analytics" / "roster.yaml" if data_dir else None
    if path is None or not path.exists():
        path = Path(str(resources.files("analytics") / "data" / "roster.yaml"))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {
        kind: [Shift(float(s["start"]), float(s["end"]), int(s["agents"])) for s in shifts]
        for kind, shifts in raw.get("shifts", {}).items()
    }


def scheduled(roster: dict[str, list[Shift]], day: date) -> list[int]:
    """Agents rostered in each 30-minute interval of ``day``."""
    kind = day_type(day)
    shifts = roster.get("work" if kind.startswith("weekday") or kind == "after_holiday" else "rest", [])
    out = []
    for i in range(PER_DAY):
        hour = i / 2 + 0.25  # the middle of the interval
        out.append(sum(s.agents for s in shifts if s.start <= hour < s.end))
    return out
