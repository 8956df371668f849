"""The keys that lead through a menu to a queue at a given moment (the demo call, tests, documentation).

Which keys reach an agent depends on the time: at night the hotline menu turns "1" (enquiries) into a callback
request, so a caller who wants a person presses "0". :func:`keys_to_queue` searches the menu as it runs in the
period of ``now`` for the shortest key sequence that ends in a queue, preferring the queue asked for.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from ivr.model import Action, Menu, Period, Route
from ivr.schedule import WorkCalendar, period_at

PASS_THROUGH = ("play", "announcements", "recording")  # nodes that need no key (announcements: keyed ahead)
KEYPAD = "123456789*0#"  # among equally short paths, the first keys on the keypad


@dataclass(frozen=True)
class KeyPath:
    keys: str
    route: Route
    period: Period


def keys_to_queue(
    menu: Menu, now: datetime, calendar: WorkCalendar, *, prefer: Route = Route.QUEUE_CONSULTATION
) -> KeyPath:
    """The fewest keys from the start of ``menu`` to ``prefer``'s queue at ``now`` (else to any queue)."""
    period = period_at(now, menu.hours, calendar)
    if menu.mode == "direct":
        return KeyPath("", menu.direct.route, period)
    found: dict[Route, str] = {}
    seen = {menu.start}
    todo: deque[tuple[str, str]] = deque([(menu.start, "")])
    while todo:
        node_id, keys = todo.popleft()
        node = menu.nodes[node_id].for_period(period)
        if node.kind == "route" and node.route is not None:
            found.setdefault(node.route, keys)
            continue
        steps: list[tuple[str, Action]] = []
        if node.kind in PASS_THROUGH and node.next is not None:
            steps.append(("", node.next))
        elif node.kind == "menu":
            steps += sorted(node.options.items(), key=lambda option: KEYPAD.index(option[0]))
        for key, action in steps:
            if action.route is not None:
                found.setdefault(action.route, keys + key)
            elif action.goto is not None and action.goto not in seen:
                seen.add(action.goto)
                todo.append((action.goto, keys + key))
    if prefer in found:
        return KeyPath(found[prefer], prefer, period)
    queues = sorted(
        ((keys, route) for route, keys in found.items() if route.value.startswith("queue-")),
        key=lambda item: (len(item[0]), item[0]),
    )
    if not queues:
        raise ValueError(f"menu {menu.name} leads to no queue in the {period} period")
    keys, route = queues[0]
    return KeyPath(keys, route, period)
