"""The fake survey dialer: answers as a scripted citizen would through the real switch (same statuses, same
digit handling); held to ``AriDialer`` by tests/e2e/test_outbound_dialer_contract.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from telephony.outbound.dialer import SurveyCall, SurveyOutcome
from telephony.outbound.plan import CallStatus


@dataclass(frozen=True)
class Citizen:
    """How a (fake) citizen reacts to a survey call: answer and press ``keys``, be busy, not answer..."""

    behaviour: str = "answer"  # answer | busy | no_answer | unreachable
    keys: tuple[str, ...] = ()


@dataclass
class FakeDialer:
    """Answers as a scripted citizen would through the real switch (same statuses, same digit handling).

    ``citizens`` maps a phone number to a list of behaviours, one per successive call (the last repeats).
    """

    citizens: dict[str, Sequence[Citizen]] = field(default_factory=dict)
    calls: list[SurveyCall] = field(default_factory=list)
    recording_dir: str = "/var/spool/asterisk/monitor/hotline"

    def ready(self) -> bool:
        return True

    async def survey(self, order_number: str, phone: str, *, language: str = "zh") -> SurveyOutcome:
        call = SurveyCall(order_number, phone, language)
        script = self.citizens.get(call.phone) or [Citizen("no_answer")]
        citizen = script[min(len([c for c in self.calls if c.phone == call.phone]), len(script) - 1)]
        self.calls.append(call)
        channel_id = f"survey-fake{len(self.calls)}"
        if citizen.behaviour == "busy":
            return SurveyOutcome(CallStatus.BUSY, dial_status="BUSY", hangup_cause=17, channel_id=channel_id)
        if citizen.behaviour == "no_answer":
            return SurveyOutcome(
                CallStatus.NO_ANSWER, dial_status="NOANSWER", hangup_cause=19, channel_id=channel_id
            )
        if citizen.behaviour == "unreachable":
            return SurveyOutcome(CallStatus.FAILED, dial_status="CHANUNAVAIL", channel_id=channel_id)
        # The survey menu: the first key answers "solved?" (1 or 2), the next one the rating (1-5); a key
        # outside a question's options is asked again (ivr/menus/survey.yaml, 2 tries per question).
        keys = list(citizen.keys)
        solved = _ask(keys, "12")
        rating = _ask(keys, "12345")
        return SurveyOutcome(
            CallStatus.ANSWERED,
            solved=solved,
            rating=rating,
            recording=f"{self.recording_dir}/{channel_id}.wav",
            dial_status="ANSWER",
            hangup_cause=16,
            channel_id=channel_id,
        )


def _ask(keys: list[str], allowed: str, tries: int = 2) -> int | None:
    for _ in range(tries):
        if not keys:
            return None
        key = keys.pop(0)
        if key in allowed:
            return int(key)
    return None
