"""The names callers use for a unit (routing/data/unit_aliases.yaml): 警察, 车管所, 城管, 移动的卡, 95598.

A caller who names the body that handles the matter is usually right: 交警判我全责，要怎么申请复核 is the
traffic police's even though 全责 and 复核 are in no duty of theirs. A name counts only as whole words of the
sentence (jieba's cut): 工会 is not in 施工会吵, 交警 not in 移交警方, 报警 not in 烟雾报警器. At each place the
longest name is tried first, so 交通警察 is the traffic police, not also the police, and 电信诈骗 is a police
matter, not China Telecom's. A number (110, 95598) counts only when dialled: 打/拨/报 or 电话 just before it,
never 交了110元 or 110千伏.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from routing.reference import data_file
from routing.suggest.textnorm import normalize, word_bounds

_DIALLED = re.compile(r"(打|拨|报|电话|热线)[了过个的给是\s:：]{0,2}$")


class UnitAliasesError(ValueError):
    """The aliases file is malformed; the message names the line."""


class UnitAliases:
    def __init__(self, names: dict[str, str]) -> None:
        """``names``: name → unit code."""
        self.names = {normalize(n): code for n, code in names.items()}
        longest_first = sorted(self.names, key=lambda n: (-len(n), n))
        self._pattern = re.compile("|".join(map(re.escape, longest_first))) if longest_first else None
        self._by_first: dict[str, list[str]] = {}
        for name in longest_first:
            self._by_first.setdefault(name[0], []).append(name)

    def named(self, text: str) -> dict[str, str]:
        """Unit code → the first name of it in ``text``."""
        text = normalize(text)
        found: dict[str, str] = {}
        if self._pattern is None or not self._pattern.search(text):
            return found
        bounds = word_bounds(text)
        at = 0
        while at < len(text):
            match = self._longest_at(text, at, bounds)
            if match is None:
                at += 1
                continue
            found.setdefault(self.names[match], match)
            at += len(match)
        return found

    def _longest_at(self, text: str, at: int, bounds: frozenset[int]) -> str | None:
        if at not in bounds:
            return None
        for name in self._by_first.get(text[at], ()):
            end = at + len(name)
            if text.startswith(name, at) and end in bounds:
                if name.isdigit() and (text[end : end + 1].isdigit() or not _DIALLED.search(text[:at])):
                    continue
                return name
        return None

    @classmethod
    def packaged(cls, known: set[str]) -> UnitAliases:
        return cls.load(data_file("unit_aliases.yaml"), known)

    @classmethod
    def load(cls, path: Path, known: set[str]) -> UnitAliases:
        return cls(parse_aliases(path.read_text(encoding="utf-8"), known, path.name))


def parse_aliases(text: str, known: set[str], name: str = "unit_aliases.yaml") -> dict[str, str]:
    """Name → unit code; ``known``: the units that lead cases city-wide (only they can be named)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise UnitAliasesError(f"{name}: not YAML ({exc.__class__.__name__})") from exc
    units = [v for k, v in root.value if k.value == "units"] if isinstance(root, yaml.MappingNode) else []
    if len(units) != 1 or not isinstance(units[0], yaml.MappingNode):
        raise UnitAliasesError(f"{name}: expected one 'units' mapping of unit codes to lists of names")
    names: dict[str, str] = {}
    for key, value in units[0].value:
        where = f"{name} line {key.start_mark.line + 1}"
        if not isinstance(key, yaml.ScalarNode):
            raise UnitAliasesError(f"{where}: a unit code must be text")
        code = key.value
        if code not in known:
            raise UnitAliasesError(f"{where}: {code!r} is not a unit that leads cases city-wide")
        if not isinstance(value, yaml.SequenceNode) or not value.value:
            raise UnitAliasesError(f"{where}: {code}: expected a list of names")
        for item in value.value:
            # Names are text as written: a bare 0110 or yes would be read as a number or a truth value.
            if not isinstance(item, yaml.ScalarNode) or item.tag != "tag:yaml.org,2002:str":
                line = item.start_mark.line + 1
                raise UnitAliasesError(f"{name} line {line}: {code}: a name must be text (quote numbers)")
            alias = item.value.strip()
            if not alias:
                raise UnitAliasesError(f"{where}: {code}: a name must be non-empty text")
            if alias in names:
                raise UnitAliasesError(f"{where}: {alias!r} already names {names[alias]}")
            names[alias] = code
    return names
