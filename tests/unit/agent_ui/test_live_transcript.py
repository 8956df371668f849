"""The desk's live transcript: one line per utterance, updated in place from partial to final."""

from __future__ import annotations

from agent_ui.live import DeskFeed, TranscriptLine
from agent_ui.transcript import LiveTranscript, is_speaking_placeholder
from kernel.bus import EventBus
from kernel.clock import FakeClock


def line(leg: str, text: str, final: bool, start: int, end: int = 0) -> TranscriptLine:
    return TranscriptLine("c1", leg, text, final, start_ms=start, end_ms=end)


def test_partials_and_their_final_make_one_line_keyed_the_same() -> None:
    t = LiveTranscript()
    # Vosk's partials start where the leg's previous utterance ended, its final at the first word.
    keys = {t.add(line("caller", text, False, 0)).key for text in ("我", "我要", "我要投诉")}
    final = t.add(line("caller", "我要投诉噪音", True, 340, 2100))
    assert keys == {final.key} == {"caller-1"}
    assert [(x.text, x.final, x.start_ms) for x in t] == [("我要投诉噪音", True, 340)]
    nxt = t.add(line("caller", "在", False, 2100))
    assert nxt.key == "caller-2" and len(t) == 2


def test_legs_interleave_without_piling_up_partials() -> None:
    t = LiveTranscript()
    t.add(line("agent", "您好", False, 0))
    t.add(line("caller", "喂", False, 100))
    t.add(line("agent", "您好 请讲", False, 0))
    t.add(line("caller", "喂 你好", False, 100))
    assert [x.key for x in t] == ["agent-1", "caller-1"]
    t.add(line("agent", "您好，请讲。", True, 50, 900))
    t.add(line("caller", "喂，你好。", True, 120, 1300))
    assert [(x.key, x.final) for x in t] == [("agent-1", True), ("caller-1", True)]


def test_a_late_final_goes_before_the_next_utterances_partial() -> None:
    # A second pass still decoding utterance 1 while utterance 2's partials arrive.
    t = LiveTranscript()
    t.add(line("caller", "路灯", False, 0))
    t.add(line("caller", "已经", False, 2500))  # utterance 2, after utterance 1's endpoint
    late = t.add(line("caller", "路灯坏了。", True, 200, 2000))
    assert late.before == "caller-1" and late.key == "caller-2"
    closing = t.add(line("caller", "已经一个星期了。", True, 2600, 4000))
    assert closing.key == "caller-1" and closing.before == ""
    assert [x.text for x in t] == ["路灯坏了。", "已经一个星期了。"]


def test_a_final_without_partials_is_a_line_of_its_own() -> None:
    t = LiveTranscript()
    a = t.add(line("caller", "第一句", True, 0, 800))
    b = t.add(line("caller", "第二句", True, 900, 1500))
    assert (a.key, b.key) == ("caller-1", "caller-2") and len(t) == 2


def test_a_placeholder_partial_is_flagged_and_its_final_is_not() -> None:
    assert is_speaking_placeholder("正在说话…") and is_speaking_placeholder("speaking...")
    assert is_speaking_placeholder("（正在说话）") and is_speaking_placeholder("  ")
    assert not is_speaking_placeholder("正在说话的那个人") and not is_speaking_placeholder("我要投诉")
    t = LiveTranscript()
    first = t.add(TranscriptLine("c1", "caller", "正在说话…", False, start_ms=0, placeholder=True))
    assert first.placeholder and first.to_dict()["text"] == ""
    final = t.add(TranscriptLine("c1", "caller", "我要投诉", True, start_ms=0, end_ms=900, placeholder=True))
    assert final.key == first.key and not final.placeholder


def test_six_hundred_utterances_keep_one_line_each() -> None:
    t = LiveTranscript()
    for i in range(600):
        leg = ("caller", "agent")[i % 2]
        for words in range(1, 6):
            t.add(line(leg, "字" * words, False, i * 2000))
        t.add(line(leg, "字" * 6, True, i * 2000 + 100, i * 2000 + 1800))
    assert len(t) == 600 and all(x.final for x in t)
    assert len({x.key for x in t}) == 600


def test_the_feed_publishes_each_line_with_its_key_for_the_desk() -> None:
    bus = EventBus(keep_history=True)
    feed = DeskFeed(bus, FakeClock())
    feed.call_answered("agent1", "c1", "13812345678")
    feed.transcript(line("caller", "我要", False, 0))
    feed.transcript(line("caller", "我要投诉", True, 80, 900))
    published = [e for e in bus.published if isinstance(e, TranscriptLine)]
    assert [(e.key, e.final) for e in published] == [("caller-1", False), ("caller-1", True)]
    assert published[-1].to_dict() == {
        "call_id": "c1",
        "key": "caller-1",
        "speaker": "caller",
        "text": "我要投诉",
        "final": True,
        "start_ms": 80,
        "placeholder": False,
        "before": "",
    }
