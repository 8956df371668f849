"""The outbound dialer's reading of ARI events, without a switch: the statuses of unanswered calls, the
answers of the survey's user event, a call whose events were lost; and the queue-callback hours."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from telephony.ari import AriClient, AriError
from telephony.outbound import (
    AriDialer,
    CallStatus,
    Citizen,
    DialPlan,
    FakeDialer,
    OutboundAri,
    channel_of,
    status_of,
)
from telephony.queue_callback import QueueCallbackPolicy


@pytest.mark.parametrize(
    ("dial_status", "cause", "status"),
    [
        ("BUSY", 17, CallStatus.BUSY),
        ("", 17, CallStatus.BUSY),
        ("RINGING", 17, CallStatus.BUSY),
        ("NOANSWER", 19, CallStatus.NO_ANSWER),
        ("RINGING", 19, CallStatus.NO_ANSWER),
        ("", 18, CallStatus.NO_ANSWER),
        ("CANCEL", 16, CallStatus.NO_ANSWER),
        ("CHANUNAVAIL", 20, CallStatus.FAILED),
        ("CONGESTION", 34, CallStatus.FAILED),
        ("", 1, CallStatus.FAILED),  # unallocated number
        ("", None, CallStatus.FAILED),
    ],
)
def test_status_of_an_unanswered_call(dial_status: str, cause: int | None, status: CallStatus) -> None:
    assert status_of(dial_status, cause) is status


def test_channel_of_events() -> None:
    assert channel_of({"type": "Dial", "peer": {"id": "a"}}) == "a"
    assert channel_of({"type": "ChannelDestroyed", "channel": {"id": "b"}}) == "b"
    assert channel_of({"type": "PlaybackFinished", "playback": {"target_uri": "channel:c"}}) == "c"
    assert channel_of({"type": "PlaybackFinished", "playback": {"target_uri": "bridge:d"}}) is None
    assert channel_of({"type": "ApplicationReplaced"}) is None


class ScriptedAri:
    """Just enough of AriClient: originate answers with a scripted list of events for the new channel."""

    app = "hotline-outbound"

    def __init__(self, events: list[dict[str, Any]], *, exists: bool = True, refuse: bool = False) -> None:
        self.events = events
        self.exists = exists
        self.refuse = refuse
        self.connected = asyncio.Event()
        self.connected.set()
        self.continued: list[tuple[str, str]] = []
        self.calls: list[tuple[str, str]] = []
        self.ari: OutboundAri | None = None

    async def originate(self, endpoint: str, **kw: Any) -> dict[str, Any]:
        if self.refuse:
            raise AriError(500, "Allocation failed")
        channel = kw["channel_id"]
        assert self.ari is not None
        for event in self.events:
            event = {**event}
            key = "peer" if event["type"] == "Dial" else "channel"
            event[key] = {"id": channel, **event.get(key, {})}
            await self.ari._dispatch(event)
        return {"id": channel, "state": "Down"}

    async def channel(self, channel_id: str) -> dict[str, Any] | None:
        return {"id": channel_id} if self.exists else None

    async def hangup(self, channel_id: str, reason: str = "normal") -> None:
        self.calls.append(("hangup", channel_id))

    async def continue_in_dialplan(
        self, channel_id: str, context: str, extension: str, priority: int = 1
    ) -> None:
        self.continued.append((channel_id, context))

    async def _call(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, **_: Any
    ) -> None:
        self.calls.append((method, path))


def dialer(client: ScriptedAri, **plan: Any) -> AriDialer:
    ari = OutboundAri(cast(AriClient, client))
    client.ari = ari
    return AriDialer(ari, DialPlan(**plan))


async def test_answered_survey_reads_the_user_event() -> None:
    client = ScriptedAri(
        [
            {"type": "Dial", "dialstatus": "RINGING"},
            {"type": "Dial", "dialstatus": "ANSWER"},
            {"type": "StasisStart", "args": ["survey", "HK1"]},
            {"type": "StasisEnd"},
            {
                "type": "ChannelUserevent",
                "eventname": "HotlineSurveyResult",
                "userevent": {"solved": "1", "rating": "none", "recording": "/m/x.wav"},
            },
            {"type": "ChannelDestroyed", "cause": 16},
        ]
    )
    outcome = await dialer(client).survey("HK1", "13800000001")
    assert (outcome.status, outcome.solved, outcome.rating, outcome.recording) == (
        CallStatus.ANSWERED,
        1,
        None,
        "/m/x.wav",
    )
    assert client.continued == [(outcome.channel_id, "hotline-outbound-survey")]
    assert ("POST", "/applications/hotline-outbound/subscription") in client.calls


async def test_busy_from_the_dial_status() -> None:
    client = ScriptedAri([{"type": "Dial", "dialstatus": "BUSY"}, {"type": "ChannelDestroyed", "cause": 17}])
    outcome = await dialer(client).survey("HK1", "13800000001")
    assert (outcome.status, outcome.dial_status, outcome.hangup_cause) == (CallStatus.BUSY, "BUSY", 17)


async def test_refused_originate_is_a_failed_call() -> None:
    outcome = await dialer(ScriptedAri([], refuse=True)).survey("HK1", "13800000001")
    assert outcome.status is CallStatus.FAILED and "Allocation failed" in outcome.detail


async def test_a_call_whose_events_were_lost_ends_when_the_channel_is_gone() -> None:
    client = ScriptedAri([{"type": "Dial", "dialstatus": "RINGING"}], exists=False)
    outcome = await dialer(client, quiet_check_seconds=0.05).survey("HK1", "13800000001")
    assert outcome.status is CallStatus.FAILED and "gone" in outcome.detail


async def test_fake_dialer_follows_each_citizens_script() -> None:
    fake = FakeDialer({"1": [Citizen("busy"), Citizen("answer", ("1", "4"))]})
    first = await fake.survey("HK1", "1")
    second = await fake.survey("HK1", "1")
    third = await fake.survey("HK1", "1")
    assert (first.status, second.status, third.status) == (
        CallStatus.BUSY,
        CallStatus.ANSWERED,
        CallStatus.ANSWERED,
    )
    assert (second.solved, second.rating) == (1, 4)
    assert (await fake.survey("HK2", "2")).status is CallStatus.NO_ANSWER  # nobody scripted


def test_queue_callback_hours_are_local_time() -> None:
    policy = QueueCallbackPolicy()
    assert policy.open_at(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # 10:00
    assert not policy.open_at(datetime(2026, 11, 23, 13, 30, tzinfo=UTC))  # 21:30
    assert not policy.open_at(datetime(2026, 11, 23, 23, 0, tzinfo=UTC))  # 07:00
