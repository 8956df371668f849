"""Hot-event detection (pure), reporting periods, home provinces of mobile numbers, KPI arithmetic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from analytics.errors import AnalyticsError
from analytics.evaluation import evaluate
from analytics.hot_events import detect
from analytics.kpis import kpi_values
from analytics.periods import period
from analytics.phones import home_province, is_out_of_province
from routing.views import OrderBrief, PlaceWords

PLACES = PlaceWords(
    places=(
        ("海甸二东路", "street.meilan.haidian"),
        ("海甸街道", "street.meilan.haidian"),
        ("玉沙路", "street.longhua.jinmao"),
    ),
    urgent=(("停电", "power_outage"), ("停水", "water_outage")),
)
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def brief(n: int, minutes: float, where: str, text: str, kind: str | None = None) -> OrderBrief:
    return OrderBrief(
        f"HK20261201{n:07d}",
        T0 + timedelta(minutes=minutes),
        "美兰区",
        where,
        "cat",
        text[:10],
        text,
        "dispatched",
        None,
        kind,
    )


def test_five_alike_complaints_in_one_street_within_two_hours_are_a_hot_event() -> None:
    orders = [
        brief(i, i * 20, "海甸二东路椰风水韵", f"{o}椰风水韵下水道堵塞，污水冒到路面，臭气熏天")
        for i, o in enumerate(("", "您好，", "", "我要反映，", ""))
    ]
    orders.append(brief(9, 30, "海甸二东路椰风水韵", "孩子入学学位怎么申请"))  # same place, another problem
    clusters = detect(orders, PLACES)
    assert len(clusters) == 1
    assert clusters[0].numbers == [o.number for o in orders[:5]]


def test_four_are_not_enough_and_a_wider_window_is_not_one_event() -> None:
    text = "椰风水韵下水道堵塞，污水冒到路面"
    assert detect([brief(i, i * 10, "海甸二东路", text) for i in range(4)], PLACES) == []
    assert (
        detect([brief(i, i * 40, "海甸二东路", text) for i in range(5)], PLACES) != []
    )  # chained within 2 h
    assert detect([brief(i, i * 150, "海甸二东路", text) for i in range(5)], PLACES) == []


def test_one_urgent_problem_links_differently_worded_calls_within_the_hour() -> None:
    texts = (
        "突然停电了，整栋楼都没电",
        "停电快三个小时了，冰箱坏了",
        "又停电了，请尽快抢修",
        "家里停电，有老人",
        "停电了，电梯困人",
    )
    near = [brief(i, i * 10, "海甸二东路某小区", t) for i, t in enumerate(texts)]
    assert len(detect(near, PLACES)) == 1
    spread = [brief(i, i * 70, "海甸二东路某小区", t) for i, t in enumerate(texts)]
    assert detect(spread, PLACES) == []


def test_different_streets_merged_orders_and_on_the_spot_answers_stay_out() -> None:
    text = "下水道堵塞，污水冒到路面，臭气熏天"
    split = [brief(i, i, "海甸二东路" if i % 2 else "玉沙路", text) for i in range(8)]
    assert detect(split, PLACES) == []
    spot = [brief(i, i, "海甸二东路", text, "on_the_spot") for i in range(6)]
    assert detect(spot, PLACES) == []


def test_precision_and_recall_against_planted_labels() -> None:
    text = "下水道堵塞，污水冒到路面，臭气熏天"
    orders = [brief(i, i, "海甸二东路", text) for i in range(6)]
    clusters = detect(orders, PLACES)
    labels = {"planted:1": [o.number for o in orders], "planted:2": ["HK2026120100000099"] * 5}
    result = evaluate(clusters, labels)
    assert (result["precision"], result["recall"]) == (1.0, 0.5)


def test_periods_are_local_days_both_included_and_bad_ranges_are_refused() -> None:
    now = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 01:00 on 5 December in Haikou
    p = period("2026-12-01", "2026-12-05", now)
    assert p.days == 5 and p.since == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    for first, last in (
        ("2026-12-05", "2026-12-01"),
        ("2026-12-01", "2026-12-06"),
        ("2001-01-01", "2001-01-02"),
        ("12/01/2026", None),
    ):
        with pytest.raises(AnalyticsError) as err:
            period(first, last, now)
        assert err.value.message_zh and err.value.message_en


def test_home_province_of_mobile_numbers_offline() -> None:
    assert home_province("13876543210") == "海南省"
    assert home_province("13011112222") == "北京市"
    assert is_out_of_province("13912345678") is True
    assert is_out_of_province("089866123456") in (False, None)  # a Haikou landline: no mobile block
    assert home_province("not a number") is None


def test_rates_are_ratios_of_summed_counts_and_null_without_data() -> None:
    k = kpi_values(
        Counter(
            calls_answered=8,
            calls_abandoned_queue=2,
            answered_within_15s=6,
            calls_queued=10,
            responses_due=4,
            responses_late=1,
        )
    )
    assert k["answered_within_15s_rate"] == 0.6
    assert k["connection_rate"] == 0.8
    assert k["on_time_response_rate"] == 0.75
    assert k["satisfaction_rate"] is None
