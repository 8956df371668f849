"""Fast checks of the desk's pure parts: sessions, passwords, CSRF, language, the live feed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from agent_ui.i18n import normalize_lang, pair, state_label, translator
from agent_ui.live import AgentStatusChanged, CallAnswered, DeskFeed, KbAnswer, TranscriptLine
from agent_ui.ports import CallMonitor, FakeCallMonitor, FakeKbSearch, KbSearch
from agent_ui.routes.supervisor import for_hotline
from agent_ui.security import (
    SessionCodec,
    SessionData,
    csrf_matches,
    hash_password,
    use_fast_hashing_for_tests,
    verify_password,
)
from kernel.bus import EventBus
from kernel.clock import FakeClock


def test_session_round_trip_and_tampering() -> None:
    codec = SessionCodec("secret")
    value = codec.dumps(SessionData(7, "tok", "fp"))
    assert codec.loads(value) == SessionData(7, "tok", "fp")
    assert codec.loads(value + "x") is None
    assert SessionCodec("other-secret").loads(value) is None


def test_passwords_are_argon2id() -> None:
    use_fast_hashing_for_tests()
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse") and not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "x")


def test_csrf_comparison() -> None:
    assert csrf_matches("abc", "abc")
    assert not csrf_matches("abc", "abd") and not csrf_matches("abc", None) and not csrf_matches("abc", "")


def test_language_defaults_and_labels() -> None:
    assert (
        normalize_lang("en-US") == "en" and normalize_lang("zh") == "zh-CN" and normalize_lang("fr") is None
    )
    assert translator("zh-CN")("nav.desk") == "座席工作台" and translator("en")("nav.desk") == "Agent desk"
    assert pair("en")("中", "en") == "en"
    assert state_label("dispatched", "zh-CN") == "已派单" and state_label("dispatched", "en") == "dispatched"


def test_feed_keeps_the_call_and_announces_it() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, FakeClock())
    feed.call_answered("agent1", "c1", "13812345678", "q", ("1",))
    assert isinstance(bus.published[-1], CallAnswered)
    assert feed.status("agent1").status == "on_call"
    feed.transcript(TranscriptLine("c1", "caller", "我要", False))
    feed.transcript(TranscriptLine("c1", "caller", "我要投诉", True))  # the partial grows into the final
    call = feed.current_call("agent1")
    assert call is not None and [line.text for line in call.transcript] == ["我要投诉"]
    feed.call_ended("agent1", "c1")
    assert feed.status("agent1").status == "wrap_up" and feed.agent_for_call("c1") == "agent1"


def test_fakes_satisfy_the_ports() -> None:
    kb = FakeKbSearch([KbAnswer("公积金提取", "带身份证")])
    assert isinstance(kb, KbSearch) and kb.search("公积金")[0].title == "公积金提取"
    assert isinstance(FakeCallMonitor(), CallMonitor)


def test_wallboard_shows_one_alarm_per_response_breach() -> None:
    assert for_hotline("response_breach", "hotline") and not for_hotline("response_breach", "city.housing")
    assert for_hotline("resolution_breach", "city.housing")


class ManualTimer:
    """The feed's timer, fired by the test."""

    def __init__(self) -> None:
        self.pending: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, seconds: float, action: Callable[[], None]) -> object:
        self.pending.append((seconds, action))
        return None

    def fire(self) -> None:
        pending, self.pending = self.pending, []
        for _, action in pending:
            action()


def test_wrap_up_counts_down_the_queues_wrapuptime_then_ready() -> None:
    bus, clock, timer = EventBus(keep_history=True), FakeClock(), ManualTimer()
    feed = DeskFeed(bus, clock, timer=timer)
    feed.call_answered("agent1", "c1", "13812345678", "consultation")
    feed.call_ended("agent1", "c1", wrapup_seconds=5)
    state = feed.status("agent1")
    assert (state.status, state.until) == ("wrap_up", clock.now() + timedelta(seconds=5))
    assert [s for s, _ in timer.pending] == [5]
    clock.advance(seconds=5)
    timer.fire()
    assert feed.status("agent1").status == "ready"
    changes = [e for e in bus.published if isinstance(e, AgentStatusChanged)]
    assert [e.status for e in changes] == ["wrap_up", "ready"]  # each one refreshes the agent's desk


def test_a_late_timer_does_not_undo_a_newer_state() -> None:
    clock, timer = FakeClock(), ManualTimer()
    feed = DeskFeed(EventBus(), clock, timer=timer)
    feed.call_ended("agent1", "c1", wrapup_seconds=5)
    feed.call_answered("agent1", "c2", "13812345678", "consultation")  # the next call, before the timer
    timer.fire()
    assert feed.status("agent1").status == "on_call"
    feed.call_ended("agent1", "c2", wrapup_seconds=5)
    clock.advance(seconds=6)  # the clock says ready even before the timer runs
    assert feed.status("agent1").status == "ready"


def test_no_wrapuptime_means_ready_at_once_and_an_unknown_one_waits_for_the_agent() -> None:
    feed = DeskFeed(EventBus(), FakeClock(), timer=ManualTimer())
    feed.call_ended("agent1", "c1", wrapup_seconds=0)  # the urgent queue has no wrap-up
    assert feed.status("agent1").status == "ready"
    feed.call_ended("agent2", "c2")
    assert (feed.status("agent2").status, feed.status("agent2").until) == ("wrap_up", None)
