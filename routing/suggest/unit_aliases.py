"""The names callers use for a unit (routing/data/unit_aliases.yaml): 警察, 车管所, 城管, 移动的卡, 95598.

A caller who names the body that handles the matter is usually right: 交警判我全责，要怎么申请复核 is the
traffic police's even though 全责 and 复核 are in no duty of theirs. Names are found longest first and each
stretch of the text counts once, so 交通警察 is the traffic police, not also the police, and 电信诈骗 is a
police matter, not China Telecom's. Numbers (110, 95598) count only as whole numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from routing.reference import data_file


class UnitAliasesError(ValueError):
    """The aliases file is malformed; the message names the line."""


class UnitAliases:
    def __init__(self, names: dict[str, str]) -> None:
        """``names``: name → unit code."""
        self.names = dict(names)
        parts = [
            rf"(?<!\d){re.escape(n)}(?!\d)" if n.isdigit() else re.escape(n)
            for n in sorted(self.names, key=lambda n: (-len(n), n))
        ]
        self._pattern = re.compile("|".join(parts)) if parts else None

    def named(self, text: str) -> dict[str, str]:
        """Unit code → the first name of it in ``text``."""
        found: dict[str, str] = {}
        for match in self._pattern.finditer(text) if self._pattern else ():
            found.setdefault(self.names[match.group()], match.group())
        return found

    @classmethod
    def packaged(cls, known: set[str]) -> UnitAliases:
        return cls.load(data_file("unit_aliases.yaml"), known)

    @classmethod
    def load(cls, path: Path, known: set[str]) -> UnitAliases:
        return cls(parse_aliases(path.read_text(encoding="utf-8"), known, path.name))


def parse_aliases(text: str, known: set[str], name: str = "unit_aliases.yaml") -> dict[str, str]:
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
        code = key.value
        if code not in known:
            raise UnitAliasesError(f"{where}: unknown unit {code!r}")
        items = yaml.safe_load(yaml.serialize(value))
        if not isinstance(items, list) or not items:
            raise UnitAliasesError(f"{where}: {code}: expected a list of names")
        for item in items:
            alias = str(item).strip() if isinstance(item, str | int) else ""
            if not alias:
                raise UnitAliasesError(f"{where}: {code}: a name must be non-empty text")
            if alias in names:
                raise UnitAliasesError(f"{where}: {alias!r} already names {names[alias]}")
            names[alias] = code
    return names
