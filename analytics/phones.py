"""A mobile number's home province, offline, from the ``phonenumbers`` package's prefix geodata.

phonenumbers carries China's mobile number blocks (the first seven digits: 138 7654 … → 海南省海口市) in its
geocoder data, so no online lookup is needed. The province is the part of the description up to 省, 市 or
自治区 (北京市, 海南省, 内蒙古自治区). Landlines and numbers without geodata have no province.
"""

from __future__ import annotations

import random
from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder

HOME_PROVINCE = "海南省"
_AUTONOMOUS = ("内蒙古", "广西", "西藏", "宁夏", "新疆")


@lru_cache(maxsize=200_000)
def home_province(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86:
        return None
    description = geocoder.description_for_number(parsed, "zh")
    if not description:
        return None
    for region in _AUTONOMOUS:  # the geodata writes 内蒙古包头市, 广西南宁市 without 自治区
        if description.startswith(region):
            return region
    for suffix in ("省", "市"):
        cut = description.find(suffix)
        if cut > 0:
            return description[: cut + len(suffix)]
    return description


def is_out_of_province(number: str) -> bool | None:
    province = home_province(number)
    return None if province is None else province != HOME_PROVINCE


_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
             "156", "157", "158", "159", "176", "177", "180", "181", "182", "183", "185", "186", "187",
             "188", "189", "198")  # fmt: skip


def number_blocks(
    rng: random.Random, provinces: tuple[str, ...], per_province: int = 40
) -> dict[str, list[str]]:
    """Seven-digit mobile blocks whose prefix geodata places them in each province (for demo data); a
    block and four random digits make a number of that province."""
    blocks: dict[str, list[str]] = {p: [] for p in provinces}
    for _ in range(400_000):
        if all(len(v) >= per_province for v in blocks.values()):
            break
        block = rng.choice(_PREFIXES) + f"{rng.randrange(10**4):04d}"
        province = home_province(block + "0000")
        if province in blocks and len(blocks[province]) < per_province:
            blocks[province].append(block)
    return blocks
