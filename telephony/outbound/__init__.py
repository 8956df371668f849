"""Outbound calls to citizens through ARI, one package along its seams:

- ``ari``: the outbound ARI application (``{ari_app}-outbound``) that the survey dialer, callback-in-queue
  (``telephony.queue_callback``) and the missed-call callbacks share;
- ``plan``: where calls go (the dial plan), what an unanswered call's end means, the settings;
- ``dialer``: the satisfaction survey call (回访) behind routing's ``SurveyDialer`` port;
- ``fake``: the scripted fake of the dialer.
"""

from telephony.outbound.ari import AppEndpoint, OutboundAri, StasisHandler, channel_of
from telephony.outbound.dialer import (
    SURVEY_RESULT_EVENT,
    AriDialer,
    Dialer,
    SurveyCall,
    SurveyOutcome,
    running_dialer,
)
from telephony.outbound.fake import Citizen, FakeDialer
from telephony.outbound.plan import (
    CAUSE_BUSY,
    CAUSES_NO_ANSWER,
    SURVEY_CONTEXT,
    CallStatus,
    DialPlan,
    outbound_from_settings,
    status_of,
)

__all__ = [
    "CAUSES_NO_ANSWER",
    "CAUSE_BUSY",
    "SURVEY_CONTEXT",
    "SURVEY_RESULT_EVENT",
    "AppEndpoint",
    "AriDialer",
    "CallStatus",
    "Citizen",
    "DialPlan",
    "Dialer",
    "FakeDialer",
    "OutboundAri",
    "StasisHandler",
    "SurveyCall",
    "SurveyOutcome",
    "channel_of",
    "outbound_from_settings",
    "running_dialer",
    "status_of",
]
