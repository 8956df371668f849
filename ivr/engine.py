"""The IVR engine: runs a menu (data) over a call port as an explicit state machine.

The state is the current node; each step runs one node and returns a transition: go to another node, or end
with a route. A call that keeps looping (a menu graph without an exit) is put through to an agent after
``MAX_STEPS``. At the end the engine sets the channel variables the dialplan reads (see ``variables``).

Every prompt can be interrupted and keys pressed ahead answer the next questions (``ivr.typeahead``): a caller
who knows the menu presses 1 1 as soon as 12345 answers and is in the queue in the time of one prompt. In the
no-menu mode (``mode: direct``) the caller goes straight to the queue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from ivr.announcements import AnnouncementSource, NoAnnouncements
from ivr.model import Action, Language, Menu, Node, Period, Route
from ivr.orders import OrderStatusLookup, order_number_from_keys
from ivr.port import CallPort
from ivr.schedule import WorkCalendar, period_at

log = logging.getLogger(__name__)

MAX_STEPS = 60
SOUNDS = "hotline"  # /usr/share/asterisk/sounds/hotline/<lang>/<name>
ANNOUNCEMENT_TIMEOUT_MS = 3000


@dataclass
class CallState:
    language: Language
    period: Period
    recording: bool = True
    choices: list[str] = field(default_factory=list)  # "node:key", e.g. "lang:zh", "main:3"
    answers: dict[str, str] = field(default_factory=dict)  # survey answers by name
    order_number: str | None = None


@dataclass(frozen=True)
class IvrResult:
    route: Route
    language: Language
    period: Period
    recording: bool
    choices: tuple[str, ...]
    answers: dict[str, str]


@dataclass(frozen=True)
class _Goto:
    node: str


@dataclass(frozen=True)
class _End:
    route: Route


_Step = _Goto | _End

QUEUE_OF_ROUTE = {
    Route.QUEUE_CONSULTATION: "consultation",
    Route.QUEUE_COMPLAINT: "complaint",
    Route.QUEUE_URGENT: "urgent",
}
URGENT_PRIORITY = 10
# Set during the call when "query my work order" found the order (the ARI recorder stores them).
ORDER_VARIABLE = "HOTLINE_ORDER_QUERIED"
ORDER_STATE_VARIABLE = "HOTLINE_ORDER_STATE"
ROUTE_VARIABLE = "HOTLINE_ROUTE"  # set last but one: the IVR is done with the call


def hotline_variables(result: IvrResult) -> dict[str, str]:
    """The channel variables of the dialplan contract (``Goto(hotline-route,${HOTLINE_ROUTE},1)``)."""
    queue = QUEUE_OF_ROUTE.get(result.route, "consultation")
    return {
        "HOTLINE_LANG": result.language,
        ROUTE_VARIABLE: str(result.route),
        "HOTLINE_QUEUE": queue,
        "HOTLINE_PRIORITY": str(URGENT_PRIORITY if result.route is Route.QUEUE_URGENT else 0),
        "HOTLINE_CHOICES": ",".join(result.choices),
        "HOTLINE_RECORDING": "yes" if result.recording else "no",
    }


def survey_variables(result: IvrResult) -> dict[str, str]:
    return {
        "HOTLINE_SURVEY_SOLVED": result.answers.get("solved", "none"),
        "HOTLINE_SURVEY_RATING": result.answers.get("rating", "none"),
    }


class IvrEngine:
    def __init__(
        self,
        menu: Menu,
        calendar: WorkCalendar,
        *,
        orders: OrderStatusLookup | None = None,
        announcements: AnnouncementSource | None = None,
    ) -> None:
        self.menu = menu
        self.calendar = calendar
        self.orders = orders
        self.announcements = announcements or NoAnnouncements()

    # ---- running a call ------------------------------------------------------------------------------
    def run(
        self,
        port: CallPort,
        now: datetime,
        *,
        language: Language | None = None,
        order_number: str | None = None,
        caller: str = "",
    ) -> IvrResult:
        """Run the menu to its end. ``CallerHungUp`` from the port propagates: nothing is left to set."""
        state = CallState(
            language=language or self.menu.language_of(caller),
            period=period_at(now, self.menu.hours, self.calendar),
            order_number=order_number,
        )
        step: _Step = self._direct(port, state) if self.menu.mode == "direct" else _Goto(self.menu.start)
        for _ in range(MAX_STEPS):
            if isinstance(step, _End):
                break
            node = self.menu.nodes[step.node].for_period(state.period)
            step = self._run_node(port, step.node, node, state, now)
        else:
            log.warning("menu %s looped for %d steps; putting the caller through", self.menu.name, MAX_STEPS)
            step = _End(Route.QUEUE_CONSULTATION)
        assert isinstance(step, _End)
        return IvrResult(
            route=step.route,
            language=state.language,
            period=state.period,
            recording=state.recording,
            choices=tuple(state.choices),
            answers=dict(state.answers),
        )

    def _direct(self, port: CallPort, state: CallState) -> _Step:
        """The no-menu mode: the welcome, any language key pressed meanwhile, then the queue."""
        direct = self.menu.direct
        for index, prompt in enumerate(direct.prompts):
            self._language_keys(port, state)
            port.play(self._sound(state, prompt))
            for language, offer in direct.offer.items() if index == 0 else ():
                if language != state.language:
                    port.play(f"{SOUNDS}/{language}/{offer}")
        self._language_keys(port, state)
        if direct.transfer_prompt is not None:
            port.play(self._sound(state, direct.transfer_prompt))
        return _End(direct.route)

    def _language_keys(self, port: CallPort, state: CallState) -> None:
        """Use the keys pressed so far; the last language key wins, other keys mean nothing here."""
        keys = self.menu.direct.language_keys
        for _ in range(min(len(port.pending()), MAX_STEPS)):
            key = port.read_digits(self._sound(state, "transfer"), 1, 500) or ""
            if key in keys:
                state.language = keys[key]
                state.choices.append(f"lang:{keys[key]}")

    def _run_node(self, port: CallPort, node_id: str, node: Node, state: CallState, now: datetime) -> _Step:
        if node.kind == "play":
            assert node.prompt is not None
            assert node.next is not None
            port.play(self._sound(state, node.prompt))
            if node.say_order_number and state.order_number:
                self._say_digits(port, state, state.order_number)
            return self._take(port, node.next, state)
        if node.kind == "menu":
            return self._menu(port, node_id, node, state)
        if node.kind == "announcements":
            return self._announcements(port, node, state, now)
        if node.kind == "recording":
            return self._recording(port, node, state)
        if node.kind == "order_query":
            return self._order_query(port, node, state)
        assert node.route is not None
        return _End(node.route)

    def _take(self, port: CallPort, action: Action, state: CallState, key: str | None = None) -> _Step:
        if action.set_language is not None:
            state.language = action.set_language
        if action.set_recording is not None:
            state.recording = action.set_recording
        if action.answer is not None and key is not None:
            state.answers[action.answer] = key
        if action.play is not None:
            port.play(self._sound(state, action.play))
        if action.route is not None:
            return _End(action.route)
        assert action.goto is not None
        return _Goto(action.goto)

    def _menu(self, port: CallPort, node_id: str, node: Node, state: CallState) -> _Step:
        """Ask for one key; a timeout or a wrong key replays the menu, up to ``retries`` tries in all."""
        assert node.prompt is not None
        for _ in range(self._retries(node)):
            key = port.read_digits(self._sound(state, node.prompt), node.max_digits, self._timeout(node))
            if key is None or key == "":
                if node.on_timeout is not None:
                    step = self._take(port, node.on_timeout, state)
                    state.choices.append(
                        f"{self._choice_name(node_id)}:{self._choice_value(node.on_timeout, 't')}"
                    )
                    return step
                port.play(self._sound(state, "timeout"))
                continue
            action = node.options.get(key[0])
            if action is None:
                port.play(self._sound(state, "invalid"))
                continue
            step = self._take(port, action, state, key[0])
            state.choices.append(f"{self._choice_name(node_id)}:{self._choice_value(action, key[0])}")
            return step
        failure = node.on_failure or Action(route=Route.QUEUE_CONSULTATION)
        step = self._take(port, failure, state)
        state.choices.append(f"{self._choice_name(node_id)}:{self._choice_value(failure, 'fail')}")
        return step

    def _announcements(self, port: CallPort, node: Node, state: CallState, now: datetime) -> _Step:
        assert node.next is not None
        if port.pending():  # keyed ahead: those keys are for the menu, not "press 1 about this notice"
            return self._take(port, node.next, state)
        for item in self.announcements.current(now):
            key = port.read_digits(self._sound(state, item.prompt), 1, ANNOUNCEMENT_TIMEOUT_MS)
            if key == "1":
                state.choices.append(f"ann:{item.id}")
                port.play(self._sound(state, item.detail_prompt))
                if item.on_press is not None:
                    return _End(item.on_press)
        return self._take(port, node.next, state)

    def _recording(self, port: CallPort, node: Node, state: CallState) -> _Step:
        """Announce the recording; where consent is required, 1 agrees and 2 declines."""
        assert node.next is not None
        policy = self.menu.recording
        if not policy.consent_required:
            port.play(self._sound(state, "recording_notice"))
            state.recording = True
            return self._take(port, node.next, state)
        answer: bool | None = None
        for _ in range(self._retries(node)):
            key = port.read_digits(self._sound(state, "recording_consent"), 1, self._timeout(node))
            if key in ("1", "2"):
                answer = key == "1"
                break
            if key:
                port.play(self._sound(state, "invalid"))
                continue
            answer = policy.consent_on_timeout
            break
        state.recording = answer if answer is not None else policy.consent_on_timeout
        state.choices.append(f"rec:{'yes' if state.recording else 'no'}")
        if not state.recording:
            port.play(self._sound(state, "recording_declined"))
        return self._take(port, node.next, state)

    def _order_query(self, port: CallPort, node: Node, state: CallState) -> _Step:
        assert node.prompt is not None
        assert node.next is not None
        for _ in range(self._retries(node)):
            keys = port.read_digits(self._sound(state, node.prompt), node.max_digits, self._timeout(node))
            if not keys:
                port.play(self._sound(state, "timeout"))
                continue
            status = self.orders.status(keys) if self.orders is not None else None
            if status is None:
                port.play(self._sound(state, "order_not_found"))
                continue
            state.choices.append(f"order:{keys}")
            # Told to the switch at once (not only at the end): a caller who hangs up after hearing the
            # state was still answered, and the call record shows which order they asked about.
            port.set_variable(ORDER_VARIABLE, order_number_from_keys(keys))
            port.set_variable(ORDER_STATE_VARIABLE, status)
            port.play(self._sound(state, "order_number_is"))
            self._say_digits(port, state, keys)
            port.play(self._sound(state, "order_state_is"))
            state_prompt = f"state_{status}"
            port.play(
                self._sound(state, state_prompt if state_prompt in self.menu.prompts else "state_unknown")
            )
            return self._take(port, node.next, state)
        return self._take(port, node.on_failure or node.next, state)

    # ---- helpers -------------------------------------------------------------------------------------
    def _sound(self, state: CallState, name: str) -> str:
        return f"{SOUNDS}/{state.language}/{name}"

    def _say_digits(self, port: CallPort, state: CallState, digits: str) -> None:
        """Digits as generated prompts (``digits/0`` ... ``digits/9``) in the caller's language: Asterisk's own
        SAY DIGITS needs the ``digits/`` sounds of that language, which Debian ships only in English."""
        for digit in digits:
            if digit.isdigit():
                port.play(f"{SOUNDS}/{state.language}/digits/{digit}")

    def _retries(self, node: Node) -> int:
        return node.retries or self.menu.defaults.retries

    def _timeout(self, node: Node) -> int:
        return node.timeout_ms or self.menu.defaults.timeout_ms

    @staticmethod
    def _choice_name(node_id: str) -> str:
        return "lang" if node_id == "language" else node_id

    @staticmethod
    def _choice_value(action: Action, key: str) -> str:
        return action.set_language or key
