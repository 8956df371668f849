"""What each demo case is about and what happens to it: place, issue, caller, and the scripted lifecycle."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from analytics.demo.haikou import (
    CLUSTER_CATEGORIES,
    CLUSTER_TEXTS,
    COMPOUNDS,
    DISTRICT_WEIGHTS,
    ISSUES,
    MIGRATORY_COMPOUNDS,
    NORTHERN_PROVINCES,
    OUTAGE_TEXTS,
    SEASONAL_CATEGORY,
    SEASONAL_START,
    SEASONAL_STOP,
    TYPHOON_TEXTS,
)
from analytics.phones import number_blocks
from routing.domain.enums import CallbackOutcome, Channel
from routing.simulation import CaseScript

# Building-name parts for the many ordinary compounds of each street (background cases spread over them,
# so that five similar complaints at one place within two hours are rare unless something happened).
_NAME_A = ("椰林", "金海", "阳光", "碧海", "华府", "翡翠", "宝华", "南洋", "万华", "海景", "绿地", "银湖")
_NAME_B = ("花园", "小区", "家园", "公寓", "名苑", "新村")


@dataclass(frozen=True)
class Place:
    district: str
    street: str  # the street or town keyword the dispatcher recognises
    road: str
    compound: str

    @property
    def text(self) -> str:
        return f"海口市{self.district}{self.street}{self.road}{self.compound}"


def _places() -> tuple[list[Place], dict[str, Place]]:
    places: list[Place] = []
    named: dict[str, Place] = {}
    for district, streets in COMPOUNDS.items():
        for street, road, compounds in streets:
            for name in compounds:
                place = Place(district, street, road, name)
                places.append(place)
                named[name] = place
            rng = random.Random(street)
            for a in rng.sample(_NAME_A, 5):
                places.append(Place(district, street, road, a + rng.choice(_NAME_B)))
    return places, named


PLACES, NAMED_PLACES = _places()


def winter_share(day: date) -> float:
    """How much of the seasonal population is in Haikou (0 in summer, 1 in January)."""
    # A smooth yearly curve peaking mid-January, zero from May to September.
    angle = 2 * math.pi * ((day.timetuple().tm_yday - 15) / 365.0)
    return float(max(0.0, math.cos(angle)) ** 1.5)


class CaseFactory:
    def __init__(
        self, seed: int, paths: dict[str, list[str]], training: list[tuple[str, str]], ref: str
    ) -> None:
        rng = random.Random(f"{seed}:pools")
        self.phones = number_blocks(rng, ("海南省", *NORTHERN_PROVINCES))
        self.paths = paths
        self.training = [(c, t) for c, t in training if c in paths and len(t) >= 12]
        self.ref = ref
        self._serial = itertools.count(1)
        self.by_district: dict[str, list[Place]] = {}
        for place in PLACES:
            self.by_district.setdefault(place.district, []).append(place)
        self.issue_weights = [i.weight for i in ISSUES]

    # ---- who calls and from where --------------------------------------------------------------
    def phone(self, rng: random.Random, place: Place, day: date) -> str:
        out_share = 0.10
        if place.compound in MIGRATORY_COMPOUNDS:
            out_share = 0.15 + 0.6 * winter_share(day)
        province = rng.choice(NORTHERN_PROVINCES) if rng.random() < out_share else "海南省"
        return rng.choice(self.phones[province]) + f"{rng.randrange(10**4):04d}"

    def place(self, rng: random.Random, district: str | None = None) -> Place:
        if district is None:
            district = rng.choices(list(DISTRICT_WEIGHTS), weights=list(DISTRICT_WEIGHTS.values()))[0]
        return rng.choice(self.by_district[district])

    # ---- one case --------------------------------------------------------------------------------
    def ordinary(
        self,
        rng: random.Random,
        at: datetime,
        channel: Channel,
        agent: str,
        call_id: str | None,
        now: datetime,
    ) -> CaseScript:
        day = at.date()
        place = self.place(rng)
        # Seasonal residents' water/power start and stop requests in their compounds.
        if place.compound in MIGRATORY_COMPOUNDS and rng.random() < 0.25:
            season = winter_share(day)
            arriving = day.month in (9, 10, 11, 12, 1)
            if rng.random() < (season if arriving else 0.3 + 0.7 * (1 - season)):
                text = rng.choice(SEASONAL_START if arriving else SEASONAL_STOP).format(place=place.compound)
                return self._script(rng, at, channel, agent, call_id, SEASONAL_CATEGORY, text, place, now)
        if self.training and rng.random() < 0.25:
            level1, message = rng.choice(self.training)
            text = message.replace("\n", " ")[:90]
            return self._script(
                rng, at, channel, agent, call_id, rng.choice(self.paths[level1]), text, place, now
            )
        issue = rng.choices(ISSUES, weights=self.issue_weights)[0]
        text = vary(rng, rng.choice(issue.texts).format(place=place.compound))
        spot = rng.random() < issue.on_the_spot and channel is Channel.PHONE
        return self._script(rng, at, channel, agent, call_id, issue.category, text, place, now, spot)

    def surge(
        self,
        rng: random.Random,
        at: datetime,
        kind: str,
        place: Place,
        agent: str,
        call_id: str,
        now: datetime,
    ) -> CaseScript:
        texts = TYPHOON_TEXTS if kind == "typhoon" else OUTAGE_TEXTS
        category = "城乡建设/城市建设和市政管理/电力供应"
        text = rng.choice(texts).format(place=place.compound)
        if kind == "typhoon" and "积水" in text:
            category = "城乡建设/城市建设和市政管理/基础设施"
        return self._script(rng, at, Channel.PHONE, agent, call_id, category, text, place, now)

    def cluster_case(
        self,
        rng: random.Random,
        at: datetime,
        which: int,
        place: Place,
        agent: str,
        call_id: str | None,
        now: datetime,
    ) -> CaseScript:
        opener = rng.choice(("", "您好，", "我要反映，", "又是这个问题，"))
        text = opener + CLUSTER_TEXTS[which].format(place=place.compound)
        channel = Channel.PHONE if call_id else rng.choice((Channel.WECHAT, Channel.WEB))
        return self._script(rng, at, channel, agent, call_id, CLUSTER_CATEGORIES[which], text, place, now)

    def _script(
        self,
        rng: random.Random,
        at: datetime,
        channel: Channel,
        agent: str,
        call_id: str | None,
        category: str,
        text: str,
        place: Place,
        now: datetime,
        on_the_spot: bool = False,
    ) -> CaseScript:
        base = CaseScript(
            accepted_at=at,
            channel=channel,
            category_path=category,
            description=text,
            location_text=place.text,
            district=place.district,
            phone=self.phone(rng, place, at.date()),
            accepted_by=agent,
            external_ref=f"{self.ref}:{next(self._serial)}",  # unique per order (idempotent intake)
            call_id=call_id,
        )
        if on_the_spot:
            return replace(base, on_the_spot="已按知识库答复市民办理流程和所需材料。")
        r = rng.random()
        if r < 0.012:
            ack = rng.uniform(70, 160)  # very late: the ladder reaches a supervision order
        elif r < 0.07:
            ack = rng.uniform(31, 60)  # late: an alarm and the district head or bureau chief
        else:
            ack = min(29.0, rng.lognormvariate(math.log(8), 0.6))
        outcome_roll = rng.random()
        outcome = (
            CallbackOutcome.SATISFIED
            if outcome_roll < 0.80
            else CallbackOutcome.BASICALLY_SATISFIED
            if outcome_roll < 0.905
            else CallbackOutcome.UNSATISFIED
            if outcome_roll < 0.965
            else CallbackOutcome.UNREACHABLE
        )
        return replace(
            base,
            ack_minutes=ack,
            return_after_minutes=rng.uniform(10, 25) if rng.random() < 0.025 else None,
            return_approved=rng.random() < 0.55,
            extension_days=5 if rng.random() < 0.03 else None,
            resolve_hours=min(24 * 14, rng.lognormvariate(math.log(20), 1.0)),
            callback_hours=rng.uniform(4, 48),
            callback_outcome=outcome if rng.random() < 0.93 else None,
            callback_solved=rng.random() >= 0.02,
        )


_OPENERS = (
    "",
    "",
    "您好，",
    "我想反映一下，",
    "我是附近居民，",
    "麻烦问一下，",
    "投诉：",
    "你好，我要投诉，",
)
_WHEN = ("", "", "今天", "最近", "这几天", "昨天晚上", "从上周开始", "每天早上")
_TAILS = (
    "", "", "请尽快处理。", "希望有关部门管一管。", "之前反映过一次，没有结果。", "麻烦核实一下。",
    "影响很大，谢谢。", "请给个答复。", "已经好几天了。", "周边很多人都有意见。",
)  # fmt: skip


def vary(rng: random.Random, text: str) -> str:
    """Citizens word the same complaint differently: an opener, a time, a closing remark."""
    return f"{rng.choice(_OPENERS)}{rng.choice(_WHEN)}{text}，{rng.choice(_TAILS)}".rstrip("，")


def plant_cluster_times(rng: random.Random, day_start: datetime, size: int) -> list[datetime]:
    """A planted hot event: ``size`` callers about one problem within 100 minutes of daytime."""
    first = day_start + timedelta(hours=rng.uniform(8, 18))
    return sorted(first + timedelta(minutes=rng.uniform(0, 100)) for _ in range(size))
