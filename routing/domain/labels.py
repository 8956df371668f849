"""Chinese labels of the order's states and actions, for messages and pages."""

from __future__ import annotations

from routing.domain.enums import OrderState

STATE_LABELS_ZH = {
    OrderState.ACCEPTED: "已受理",
    OrderState.DISPATCHED: "已派单",
    OrderState.ACKNOWLEDGED: "已签收",
    OrderState.IN_PROGRESS: "办理中",
    OrderState.RETURNED: "退单待裁定",
    OrderState.RESOLVED: "已办结待回访",
    OrderState.CLOSED: "已归档",
}


ACTION_LABELS_ZH = {
    "dispatch": "派单",
    "acknowledge": "签收",
    "start_work": "开始办理",
    "resolve": "办结",
    "return": "退单",
    "rule_on_return": "裁定退单",
    "request_extension": "申请延期",
    "record_callback": "登记回访",
    "reopen": "重办",
    "answer_on_the_spot": "当场答复",
    "add_progress_note": "填写进展",
    "object": "提出派单异议",
    "negotiate": "协商派单",
    "emergency_transfer": "紧急热线转接",
    "merge": "并单",
    "unmerge": "取消并单",
}
