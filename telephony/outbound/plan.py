"""Where outbound calls go and what their end means: the dial plan, the call statuses, the settings.

An unanswered call's status comes from app_dial's DIALSTATUS (``Dial`` events) or, when no Dial status was
seen, from the Q.850 cause of ``ChannelDestroyed`` (17 busy, 19 no answer...).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kernel.settings import Settings
from telephony.outbound.ari import OutboundAri

SURVEY_CONTEXT = "hotline-outbound-survey"

# Q.850 causes of an unanswered call (ChannelDestroyed.cause) when no Dial status was seen.
CAUSE_BUSY = 17
# normal clearing while ringing, no user responding, no answer, call rejected
CAUSES_NO_ANSWER = frozenset({16, 18, 19, 21})


class CallStatus(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"  # the trunk, the number or the switch: not the citizen's doing


def status_of(dial_status: str, cause: int | None) -> CallStatus:
    """An unanswered call's status, from app_dial's DIALSTATUS or else the Q.850 hang-up cause."""
    if dial_status == "BUSY" or (not dial_status and cause == CAUSE_BUSY):
        return CallStatus.BUSY
    if dial_status in ("NOANSWER", "CANCEL") or (
        dial_status in ("", "RINGING") and cause in CAUSES_NO_ANSWER
    ):
        return CallStatus.NO_ANSWER
    if dial_status == "RINGING" and cause == CAUSE_BUSY:
        return CallStatus.BUSY
    return CallStatus.FAILED


@dataclass(frozen=True)
class DialPlan:
    """Where and how survey calls go.

    ``dial_template`` formats the citizen's number into an Asterisk dial string. The default goes out through
    the carrier trunk that also reaches the units' duty phones (pjsip.conf ``[units]``, its AOR the carrier's
    SBC, ``HOTLINE_UNIT_TRUNK``); ``PJSIP/citizens/sip:{number}@host:port`` would go straight to one SIP URI.
    """

    dial_template: str = "PJSIP/{number}@units"
    caller_id: str = "12345"  # what the citizen's phone shows
    ring_seconds: int = 30
    max_call_seconds: float = 300.0  # a survey never takes longer; the call is hung up after this
    context: str = SURVEY_CONTEXT
    quiet_check_seconds: float = 5.0  # no event for this long: ask whether the channel still exists

    def endpoint(self, number: str) -> str:
        return self.dial_template.format(number=number)


def outbound_from_settings(
    settings: Settings, *, app_suffix: str = "-outbound"
) -> tuple[OutboundAri, DialPlan]:
    """The outbound ARI application and dial plan of this installation.

    Settings (``HOTLINE_*``): ``outbound_dial_template`` (default ``PJSIP/{number}@units``),
    ``outbound_caller_id`` (12345), ``outbound_ring_seconds`` (30); the ARI URL, user and generated password
    are the switch's own (``ari_url``, ``ari_user``, ``telephony.secrets``). The dialplan's callback hooks
    enter ``{ari_app}-outbound``: exactly one process serves that application; a one-off survey run uses
    another ``app_suffix`` (survey calls work under any application name).
    """
    from telephony.secrets import load_or_create

    secrets = load_or_create(settings.data_dir, ari_password_override=settings.ari_password)
    ari = OutboundAri.connect(
        settings.ari_url, settings.ari_user, secrets.ari_password, f"{settings.ari_app}{app_suffix}"
    )
    defaults = DialPlan()
    plan = DialPlan(
        dial_template=str(getattr(settings, "outbound_dial_template", defaults.dial_template)),
        caller_id=str(getattr(settings, "outbound_caller_id", defaults.caller_id)),
        ring_seconds=int(getattr(settings, "outbound_ring_seconds", defaults.ring_seconds)),
    )
    return ari, plan
