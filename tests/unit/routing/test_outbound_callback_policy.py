"""The automated callback's rules: calling windows (Haikou local time), what the keys mean, retries."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from kernel.calling_hours import closed_days
from kernel.settings import Settings
from routing.calendar import ChineseWorkCalendar
from routing.callback_policy import (
    CampaignPolicy,
    after_unreachable,
    first_call_at,
    in_window,
    judge,
    next_call_time,
    parse_windows,
    policy_from_settings,
)
from routing.domain.enums import CallbackOutcome

POLICY = CampaignPolicy()


def haikou(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment given in Haikou time (UTC+8), as the aware UTC datetime the services pass around."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@pytest.mark.parametrize(
    ("hour", "minute", "inside"),
    [
        (8, 59, False),
        (9, 0, True),
        (11, 59, True),
        (12, 0, False),  # lunch
        (13, 30, False),
        (14, 0, True),
        (19, 59, True),
        (20, 0, False),
        (23, 30, False),  # never at night
        (3, 0, False),
    ],
)
def test_calling_windows_are_local_time(hour: int, minute: int, inside: bool) -> None:
    assert in_window(haikou(23, hour, minute), POLICY) is inside


def test_next_call_time_moves_to_the_next_window() -> None:
    assert next_call_time(haikou(23, 10), POLICY) == haikou(23, 10)
    assert next_call_time(haikou(23, 12, 30), POLICY) == haikou(23, 14)
    assert next_call_time(haikou(23, 21), POLICY) == haikou(24, 9)  # the night waits for the morning
    assert next_call_time(haikou(23, 2), POLICY) == haikou(23, 9)
    assert next_call_time(haikou(23, 21), POLICY).tzinfo == UTC


def test_first_call_after_the_resolution() -> None:
    assert first_call_at(haikou(23, 10), POLICY) == haikou(23, 10, 30)
    assert first_call_at(haikou(23, 11, 45), POLICY) == haikou(23, 14)  # 12:15 is lunch
    assert first_call_at(haikou(23, 19, 50), POLICY) == haikou(24, 9)
    immediate = CampaignPolicy(first_call_after=timedelta(0))
    assert first_call_at(haikou(23, 10), immediate) == haikou(23, 10)


@pytest.mark.parametrize(
    ("solved", "rating", "kind", "outcome", "as_solved"),
    [
        (1, 5, "close", CallbackOutcome.SATISFIED, True),
        (1, 4, "close", CallbackOutcome.SATISFIED, True),
        (1, 3, "close", CallbackOutcome.BASICALLY_SATISFIED, True),
        (1, 2, "reopen", CallbackOutcome.UNSATISFIED, True),
        (1, 1, "reopen", CallbackOutcome.UNSATISFIED, True),
        (1, None, "close", CallbackOutcome.BASICALLY_SATISFIED, True),  # hung up before rating
        (2, 5, "reopen", CallbackOutcome.UNSATISFIED, False),  # not solved is never satisfied
        (2, None, "reopen", CallbackOutcome.UNSATISFIED, False),
        (None, 4, "close", CallbackOutcome.SATISFIED, None),
        (None, 2, "reopen", CallbackOutcome.UNSATISFIED, None),
        (None, None, "unreachable", CallbackOutcome.UNREACHABLE, None),  # answered, no key
    ],
)
def test_what_the_answers_mean(
    solved: int | None, rating: int | None, kind: str, outcome: CallbackOutcome, as_solved: bool | None
) -> None:
    verdict = judge("answered", solved, rating, POLICY)
    assert (verdict.kind, verdict.outcome, verdict.solved) == (kind, outcome, as_solved)
    assert verdict.rating == rating
    assert verdict.note.startswith("自动回访")


def test_the_rating_thresholds_are_the_hotlines_to_set() -> None:
    strict = CampaignPolicy(satisfied_from=5, acceptable_from=4)
    assert judge("answered", 1, 3, strict).kind == "reopen"
    assert judge("answered", 1, 4, strict).outcome is CallbackOutcome.BASICALLY_SATISFIED


@pytest.mark.parametrize("status", ["no_answer", "busy", "failed", "something-else"])
def test_calls_that_reach_nobody_are_unreachable(status: str) -> None:
    verdict = judge(status, 1, 5, POLICY)  # keys from a call that was not answered are ignored
    assert (verdict.kind, verdict.outcome, verdict.solved, verdict.rating) == (
        "unreachable",
        CallbackOutcome.UNREACHABLE,
        None,
        None,
    )
    assert verdict.reason == (status if status != "something-else" else "failed")


def test_retries_inside_windows_then_the_manual_list() -> None:
    at_10 = haikou(23, 10)
    assert after_unreachable("no_answer", 1, at_10, POLICY).at == haikou(23, 14)  # +2 h is lunch
    assert after_unreachable("busy", 1, at_10, POLICY).at == haikou(23, 10, 30)
    assert after_unreachable("failed", 2, at_10, POLICY).at == haikou(23, 10, 15)
    assert after_unreachable("no_response", 2, haikou(23, 19), POLICY).at == haikou(24, 9)
    last = after_unreachable("no_answer", 3, at_10, POLICY)
    assert (last.kind, last.at) == ("manual", None)
    assert after_unreachable("busy", 1, at_10, CampaignPolicy(max_attempts=1)).kind == "manual"


def test_windows_from_settings_text_and_bad_policies() -> None:
    assert parse_windows("09:00-12:00, 14:00-20:30") == ((time(9), time(12)), (time(14), time(20, 30)))
    with pytest.raises(ValueError, match="start before"):
        CampaignPolicy(windows=((time(20), time(9)),))
    with pytest.raises(ValueError, match="max_attempts"):
        CampaignPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="ratings"):
        CampaignPolicy(acceptable_from=5, satisfied_from=4)
    with pytest.raises(ValueError, match="closes as"):
        CampaignPolicy(solved_unrated=CallbackOutcome.UNSATISFIED)


def test_no_calls_on_public_holidays_but_on_weekends() -> None:
    """National Day 2026 is 1–7 October (Thursday to Wednesday); Saturday 21 November is an ordinary weekend."""
    policy = CampaignPolicy(closed=closed_days(ChineseWorkCalendar()))
    national_day = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Haikou
    assert not in_window(national_day, policy)
    assert next_call_time(national_day, policy) == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)  # 8 Oct, 09:00
    assert in_window(haikou(21, 10), policy)  # a weekend: the hotline works and calls
    weekdays_only = CampaignPolicy(closed=closed_days(ChineseWorkCalendar(), "non_workdays"))
    assert next_call_time(haikou(21, 10), weekdays_only) == haikou(23, 9)
    # The retry after a no-answer on the eve of the holiday waits for its end.
    eve = datetime(2026, 9, 30, 11, 30, tzinfo=UTC)  # 30 September, 19:30
    assert after_unreachable("no_answer", 1, eve, policy).at == datetime(2026, 10, 8, 1, 0, tzinfo=UTC)


def test_the_policy_from_settings_skips_holidays() -> None:
    settings = Settings(environment="test", secret_key="x")
    assert not in_window(datetime(2026, 10, 2, 2, 0, tzinfo=UTC), policy_from_settings(settings))
    every_day = policy_from_settings(Settings(environment="test", secret_key="x", callback_skip_days="none"))
    assert in_window(datetime(2026, 10, 2, 2, 0, tzinfo=UTC), every_day)
