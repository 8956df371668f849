"""Language: zh-CN by default on every page, English on request (``?lang=en`` or the ``lang`` cookie).

Shared labels (navigation, states, actions, errors) live in the catalogue below; a template's one-off text
is written as a pair, ``tr("中文", "English")``, so both languages sit side by side where they are used.
"""

from __future__ import annotations

from collections.abc import Callable

from routing.domain.enums import CallbackOutcome, OrderState
from routing.domain.model import STATE_LABELS_ZH

LANGS = ("zh-CN", "en")
LANG_COOKIE = "lang"

STATE_LABELS_EN = {
    OrderState.ACCEPTED: "accepted",
    OrderState.DISPATCHED: "dispatched",
    OrderState.ACKNOWLEDGED: "acknowledged",
    OrderState.IN_PROGRESS: "in progress",
    OrderState.RETURNED: "returned, awaiting ruling",
    OrderState.RESOLVED: "resolved, awaiting callback",
    OrderState.CLOSED: "closed",
}

CATALOGUE: dict[str, tuple[str, str]] = {
    "site": ("热线工作台", "Hotline desk"),
    "nav.desk": ("座席工作台", "Agent desk"),
    "nav.inbox": ("单位待办", "Unit inbox"),
    "nav.wallboard": ("监控大屏", "Wallboard"),
    "nav.bigscreen": ("指挥大屏", "Command screen"),
    "nav.analytics": ("数据分析", "Analytics"),
    "nav.rulings": ("退单与审批", "Rulings & approvals"),
    "nav.negotiations": ("协商派单", "Negotiation"),
    "nav.callbacks": ("回访", "Callbacks"),
    "nav.missed": ("漏接回拨", "Missed-call callbacks"),
    "nav.scorecards": ("质检评分表", "Scorecards"),
    "nav.reviews": ("质检", "QA reviews"),
    "nav.monitor": ("通话监听", "Monitoring"),
    "nav.recordings": ("录音", "Recordings"),
    "nav.users": ("账号", "Accounts"),
    "nav.audit": ("访问审计", "Access audit"),
    "nav.logout": ("退出", "Log out"),
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad": ("用户名或密码错误", "Wrong user name or password"),
    "login.locked": (
        "登录失败次数过多，账号已锁定至 {until}",
        "Too many failed log-ins; locked until {until}",
    ),
    "login.inactive": ("账号已停用", "This account is disabled"),
    "err.required": ("必填", "Required"),
    "err.csrf": ("表单已过期，请刷新页面后重试", "The form expired; reload the page and try again"),
    "err.forbidden": ("无权访问此页面", "You may not open this page"),
    "err.not_found": ("未找到", "Not found"),
    "nothing_yet": ("暂无数据", "Nothing available yet"),
    "not_connected": ("未连接", "Not connected"),
    "save": ("保存", "Save"),
    "submit": ("提交", "Submit"),
    "order.number": ("工单号", "Order"),
    "order.state": ("状态", "State"),
    "order.title": ("标题", "Title"),
    "order.category": ("分类", "Category"),
    "order.district": ("区", "District"),
    "order.location": ("地点", "Location"),
    "order.description": ("诉求内容", "Description"),
    "order.phone": ("来电号码", "Caller number"),
    "order.citizen_name": ("市民姓名", "Citizen name"),
    "order.lead_unit": ("主办单位", "Lead unit"),
    "order.accepted_at": ("受理时间", "Accepted"),
    "order.response_due": ("响应时限", "Respond by"),
    "order.resolution_due": ("办结时限", "Resolve by"),
    "order.reply": ("答复", "Reply"),
    "order.history": ("办理记录", "History"),
    "order.urgent": ("紧急", "Urgent"),
    "time.overdue": ("已超时", "overdue"),
    "time.left": ("剩余", "left"),
}

OUTCOME_LABELS = {
    CallbackOutcome.SATISFIED: ("满意", "satisfied"),
    CallbackOutcome.BASICALLY_SATISFIED: ("基本满意", "basically satisfied"),
    CallbackOutcome.UNSATISFIED: ("不满意", "unsatisfied"),
    CallbackOutcome.UNREACHABLE: ("联系不上", "unreachable"),
}


def normalize_lang(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.lower().startswith("en"):
        return "en"
    if value.lower().startswith("zh"):
        return "zh-CN"
    return None


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **values: object) -> str:
        zh, en = CATALOGUE.get(key, (key, key))
        text = en if lang == "en" else zh
        return text.format(**values) if values else text

    return t


def pair(lang: str) -> Callable[[str, str], str]:
    def tr(zh: str, en: str) -> str:
        return en if lang == "en" else zh

    return tr


def state_label(state: str, lang: str) -> str:
    s = OrderState(state)
    return STATE_LABELS_EN[s] if lang == "en" else STATE_LABELS_ZH[s]


def outcome_label(outcome: str, lang: str) -> str:
    zh, en = OUTCOME_LABELS[CallbackOutcome(outcome)]
    return en if lang == "en" else zh
