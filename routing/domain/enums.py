from __future__ import annotations

from enum import StrEnum


class CaseType(StrEnum):
    CONSULTATION = "consultation"  # 咨询
    COMPLAINT = "complaint"  # 投诉
    REPORT = "report"  # 举报
    HELP_REQUEST = "help_request"  # 求助
    SUGGESTION = "suggestion"  # 建议
    PRAISE = "praise"  # 表扬


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    WECHAT = "wechat"
    GRID = "grid"  # a grid worker (网格员) entering a case in the field
    OPEN311 = "open311"


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class OrderState(StrEnum):
    ACCEPTED = "accepted"  # 已受理
    DISPATCHED = "dispatched"  # 已派单
    ACKNOWLEDGED = "acknowledged"  # 已签收 (the unit responded)
    IN_PROGRESS = "in_progress"  # 办理中
    RETURNED = "returned"  # 退单待裁定 (a unit says it is not responsible)
    RESOLVED = "resolved"  # 已办结, waiting for the satisfaction callback
    CLOSED = "closed"  # 已归档


OPEN_STATES = frozenset(
    {
        OrderState.ACCEPTED,
        OrderState.DISPATCHED,
        OrderState.ACKNOWLEDGED,
        OrderState.IN_PROGRESS,
        OrderState.RETURNED,
    }
)


class AssignmentRole(StrEnum):
    LEAD = "lead"  # 主办
    ASSIST = "assist"  # 协办


class DeadlineKind(StrEnum):
    RESPONSE = "response"  # the unit must acknowledge within N minutes (30 by the Haikou rule)
    RESOLUTION = "resolution"  # the lead unit must resolve within N working days
    ESCALATION = "escalation"  # the next rung of the ladder after a response breach
    SUPERVISION_ACK = "supervision_ack"
    SUPERVISION_RESOLUTION = "supervision_resolution"
    RESPONSE_WARNING = "response_warning"  # yellow card before the response deadline
    RESOLUTION_WARNING = "resolution_warning"  # yellow card before the resolution deadline
    OBJECTION_REVIEW = "objection_review"  # the hotline must rule on a dispatch objection by then


WARNING_OF = {
    DeadlineKind.RESPONSE: DeadlineKind.RESPONSE_WARNING,
    DeadlineKind.RESOLUTION: DeadlineKind.RESOLUTION_WARNING,
}
CLOCK_OF_WARNING = {warning: clock for clock, warning in WARNING_OF.items()}


class CardColor(StrEnum):
    """Local practice (e.g. Shandong): a yellow card before a deadline, a red card when it is missed."""

    YELLOW = "yellow"  # 黄牌预警
    RED = "red"  # 红牌警示


class RequestKind(StrEnum):
    RETURN = "return"  # 退单: the unit says the case is not its duty
    EXTENSION = "extension"  # 延期
    APPEAL = "appeal"  # 申诉: against an evaluation or a lateness record
    OBJECTION = "objection"  # 派单异议 of an assisting unit against its part in a dispatch


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CallbackOutcome(StrEnum):
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    UNREACHABLE = "unreachable"


class SupervisionState(StrEnum):
    ISSUED = "issued"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REFERRED = "referred_to_discipline"  # 移送纪委


class AlarmKind(StrEnum):
    RESPONSE_BREACH = "response_breach"
    ESCALATED = "escalated"
    RESOLUTION_BREACH = "resolution_breach"
    SUPERVISION_ISSUED = "supervision_issued"
    SUPERVISION_BREACH = "supervision_breach"
    DISCIPLINE_REFERRAL = "discipline_referral"
    OBJECTION_OVERDUE = "objection_overdue"  # the hotline has not ruled on a dispatch objection in time
