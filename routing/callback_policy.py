"""The rules of the automated satisfaction callback (回访), as pure functions of ``now`` and the answers.

- **When to call**: only inside the calling windows, local time (default 09:00–12:00 and 14:00–20:00 in
  Haikou: not at lunch, never at night), never on a public holiday (``kernel.calling_hours``); the first call
  ``first_call_after`` the unit resolved the order.
- **What the answers mean** (the hotline's rule): "not solved" (key 2) reopens the order to the same unit
  (重办) and counts as unsatisfied; solved and rated 4–5 is satisfied, 3 basically satisfied, both close it;
  1–2 is unsatisfied and reopens it. Solved but not rated closes it as basically satisfied (configurable).
- **Retries**: no answer, busy, a failed call or an answered call without any key are retried after a delay
  (no answer 2 h, busy 30 min, failed 15 min), at most ``max_attempts`` calls in all; then the order goes to
  the agents' manual callback list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from kernel.calling_hours import CallingHours, SkipDays, WorkdayCalendar, closed_days, parse_windows
from routing.domain.enums import CallbackOutcome

if TYPE_CHECKING:
    from kernel.settings import Settings

# What a survey call reports (telephony.outbound.CallStatus uses the same words).
ANSWERED, NO_ANSWER, BUSY, FAILED = "answered", "no_answer", "busy", "failed"
NO_RESPONSE = "no_response"  # answered, but no key pressed


@dataclass(frozen=True)
class CampaignPolicy:
    windows: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(14), time(20)))
    timezone: str = "Asia/Shanghai"
    first_call_after: timedelta = timedelta(minutes=30)
    retry_after_no_answer: timedelta = timedelta(hours=2)
    retry_after_busy: timedelta = timedelta(minutes=30)
    retry_after_failed: timedelta = timedelta(minutes=15)
    max_attempts: int = 3
    satisfied_from: int = 4  # rating >= this: satisfied
    acceptable_from: int = 3  # rating >= this: basically satisfied; below: unsatisfied (reopens)
    solved_unrated: CallbackOutcome = CallbackOutcome.BASICALLY_SATISFIED
    closed: Callable[[date], bool] | None = None  # days without calls (public holidays)

    def __post_init__(self) -> None:
        self.hours  # noqa: B018 - the windows and the zone are checked here, not at the first call
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 1 <= self.acceptable_from <= self.satisfied_from <= 5:
            raise ValueError("ratings: 1 <= acceptable_from <= satisfied_from <= 5")
        if self.solved_unrated not in (CallbackOutcome.SATISFIED, CallbackOutcome.BASICALLY_SATISFIED):
            raise ValueError("a solved, unrated callback closes as satisfied or basically satisfied")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def hours(self) -> CallingHours:
        return CallingHours(self.windows, self.timezone, self.closed)


def policy_from_settings(settings: Settings, calendar: WorkdayCalendar | None = None) -> CampaignPolicy:
    """``HOTLINE_CALLBACK_WINDOWS`` ("09:00-12:00,14:00-20:00"), ``HOTLINE_CALLBACK_MAX_ATTEMPTS``,
    ``HOTLINE_CALLBACK_FIRST_CALL_MINUTES``, ``HOTLINE_CALLBACK_RETRY_MINUTES`` (no answer),
    ``HOTLINE_CALLBACK_SKIP_DAYS`` (holidays, non_workdays or none; the official calendar) and the hotline's
    time zone; defaults as above where a setting is absent."""
    from routing.calendar import ChineseWorkCalendar

    base = CampaignPolicy(timezone=settings.timezone)
    skip: SkipDays = getattr(settings, "callback_skip_days", "holidays")
    windows = getattr(settings, "callback_windows", None)
    first = getattr(settings, "callback_first_call_minutes", None)
    retry = getattr(settings, "callback_retry_minutes", None)
    return CampaignPolicy(
        windows=parse_windows(str(windows)) if windows else base.windows,
        timezone=settings.timezone,
        first_call_after=timedelta(minutes=float(first)) if first is not None else base.first_call_after,
        retry_after_no_answer=timedelta(minutes=float(retry))
        if retry is not None
        else base.retry_after_no_answer,
        max_attempts=int(getattr(settings, "callback_max_attempts", base.max_attempts)),
        closed=closed_days(calendar or ChineseWorkCalendar(), skip),
    )


def in_window(now: datetime, policy: CampaignPolicy) -> bool:
    return policy.hours.open_at(now)


def next_call_time(earliest: datetime, policy: CampaignPolicy) -> datetime:
    """The first moment at or after ``earliest`` inside a calling window of a calling day."""
    return policy.hours.next_open(earliest)


def first_call_at(resolved_at: datetime, policy: CampaignPolicy) -> datetime:
    return next_call_time(resolved_at + policy.first_call_after, policy)


@dataclass(frozen=True)
class Verdict:
    """What one survey call means for the order: close it, reopen it, or nobody answered the survey."""

    kind: Literal["close", "reopen", "unreachable"]
    outcome: CallbackOutcome
    solved: bool | None
    rating: int | None
    reason: str  # answered, no_answer, busy, failed, no_response
    note: str


UNREACHABLE_NOTES = {
    NO_ANSWER: "自动回访：无人接听 / no answer",
    BUSY: "自动回访：忙线 / busy",
    FAILED: "自动回访：呼叫失败 / call failed",
    NO_RESPONSE: "自动回访：接通未按键 / answered, no key pressed",
}


def judge(status: str, solved: int | None, rating: int | None, policy: CampaignPolicy) -> Verdict:
    """The hotline's rule, from the call's status and the keys pressed (solved 1/2, rating 1–5)."""
    if status != ANSWERED:
        reason = status if status in UNREACHABLE_NOTES else FAILED
        return Verdict(
            "unreachable", CallbackOutcome.UNREACHABLE, None, None, reason, UNREACHABLE_NOTES[reason]
        )
    if rating is not None and not 1 <= rating <= 5:
        rating = None
    if solved not in (1, 2):
        solved = None
    if solved is None and rating is None:
        return Verdict(
            "unreachable",
            CallbackOutcome.UNREACHABLE,
            None,
            None,
            NO_RESPONSE,
            UNREACHABLE_NOTES[NO_RESPONSE],
        )
    said = f"已解决={'是' if solved == 1 else '否' if solved == 2 else '未答'}，评分={rating or '未答'}"
    if solved == 2:
        return Verdict(
            "reopen",
            CallbackOutcome.UNSATISFIED,
            False,
            rating,
            ANSWERED,
            f"自动回访：问题未解决，重办（{said}）",
        )
    if rating is None:
        outcome = policy.solved_unrated
    elif rating >= policy.satisfied_from:
        outcome = CallbackOutcome.SATISFIED
    elif rating >= policy.acceptable_from:
        outcome = CallbackOutcome.BASICALLY_SATISFIED
    else:
        outcome = CallbackOutcome.UNSATISFIED
    as_bool = True if solved == 1 else None
    if outcome is CallbackOutcome.UNSATISFIED:
        return Verdict("reopen", outcome, as_bool, rating, ANSWERED, f"自动回访：不满意，重办（{said}）")
    return Verdict("close", outcome, as_bool, rating, ANSWERED, f"自动回访：{_OUTCOME_ZH[outcome]}（{said}）")


_OUTCOME_ZH = {CallbackOutcome.SATISFIED: "满意", CallbackOutcome.BASICALLY_SATISFIED: "基本满意"}


@dataclass(frozen=True)
class NextStep:
    kind: Literal["retry", "manual"]
    at: datetime | None = None


def after_unreachable(reason: str, attempts_made: int, now: datetime, policy: CampaignPolicy) -> NextStep:
    """After a call that reached nobody: call again later (inside a window), or hand over to an agent."""
    if attempts_made >= policy.max_attempts:
        return NextStep("manual")
    delay = {
        BUSY: policy.retry_after_busy,
        FAILED: policy.retry_after_failed,
    }.get(reason, policy.retry_after_no_answer)
    return NextStep("retry", next_call_time(now + delay, policy))
