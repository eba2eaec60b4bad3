"""Dates: the contract's ``parse_time`` vs raw ``datetime.fromisoformat`` on the same values.

The values are the shapes the built-in plugins read: Graph's ``…+0000`` and X's
``….000Z``, half each. The raw side only parses; ``parse_time`` also checks the type and
the offset and converts to UTC: the ratio is what those cost. The line also gives the
``strptime`` the Facebook plugin used before, for scale.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

N = 200_000


def _values() -> list[str]:
    base = datetime(2026, 1, 1)
    graph = [f"{base + timedelta(seconds=37 * i):%Y-%m-%dT%H:%M:%S}+0000" for i in range(N // 2)]
    x = [f"{base + timedelta(seconds=41 * i):%Y-%m-%dT%H:%M:%S}.000Z" for i in range(N // 2)]
    return [v for pair in zip(graph, x) for v in pair]


def _rate(parse, values: list[str]) -> float:
    start = time.perf_counter()
    for value in values:
        parse(value)
    return len(values) / (time.perf_counter() - start)


def _best(sides: dict, rounds: int = 5) -> dict[str, float]:
    # Interleaved rounds, best of each: the machine is shared, and a neighbour's burst
    # would otherwise land on one side only and skew the ratio.
    best = dict.fromkeys(sides, 0.0)
    for _ in range(rounds):
        for name, (parse, values) in sides.items():
            best[name] = max(best[name], _rate(parse, values))
    return best


def run(tmp: Path) -> str:
    from streamdesk_contract.times import parse_time

    values = _values()
    rates = _best({
        "ours": (parse_time, values),
        "raw": (datetime.fromisoformat, values),
        "strptime": (lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z"), values[::2][:N // 10]),
    })
    ours, raw, strptime = rates["ours"], rates["raw"], rates["strptime"]
    return (f"dates: {ours:,.0f}/s — ratio {ours / raw:.2f} of raw fromisoformat {raw:,.0f}/s "
            f"(Graph's former strptime: {strptime:,.0f}/s)")
