"""The Haikou gazetteer: districts, streets and towns, roads, landmarks, communities, villages and residential
compounds, each with the district(s) it lies in. A CSV file the hotline edits (``data/haikou_gazetteer.csv``):

    name,kind,district,street,aliases
    和平大道,road,美兰区,海甸街道,
    海秀快速路,road,秀英区|龙华区,,海秀快速干道

A road or river that crosses districts lists them all (``|``); the district is then decided by the other
places the citizen names, or left to the agent. Aliases are what citizens say (海大, 省医, 美兰机场).
Lines starting with ``#`` are comments. A file with a malformed or duplicate entry is refused whole, with the
line number, so that a typo never silently sends cases to the wrong district.

Matching is by characters first (longest name at each position), then, for names of three syllables or more
that the characters missed, by toneless pinyin: the recognizer writes 海店岛 for 海甸岛, 和平大到 for 和平大道.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from routing.suggest.phonetic import syllables as _syllables

DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")
KINDS = ("district", "street", "town", "road", "landmark", "community", "village", "compound")
HEADER = ["name", "kind", "district", "street", "aliases"]
# How much a place says about where the case is: a compound pins it down, a road may be long.
SPECIFICITY = {
    "compound": 5,
    "community": 4,
    "village": 4,
    "landmark": 4,
    "road": 3,
    "street": 2,
    "town": 2,
    "district": 1,
}
MIN_PINYIN_SYLLABLES = 3


class GazetteerError(ValueError):
    """A gazetteer file that cannot be used; ``line`` is the 1-based line of the bad entry."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    districts: tuple[str, ...]
    street: str = ""
    aliases: tuple[str, ...] = ()

    @property
    def specificity(self) -> int:
        return SPECIFICITY[self.kind]


@dataclass(frozen=True)
class PlaceMatch:
    """A place named in the text: ``said`` is the text as spoken, ``by`` is "字" or "拼音" (by sound)."""

    place: Place
    start: int
    end: int
    said: str
    by: str = "字"


def _parse_row(row: list[str], line: int, path: str) -> Place:
    if len(row) != len(HEADER):
        raise GazetteerError(path, line, f"expected {len(HEADER)} columns, found {len(row)}")
    name, kind, districts, street, aliases = (cell.strip() for cell in row)
    if not name:
        raise GazetteerError(path, line, "empty name")
    if kind not in KINDS:
        raise GazetteerError(path, line, f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    parts = tuple(d.strip() for d in districts.split("|") if d.strip())
    if not parts or any(d not in DISTRICTS for d in parts):
        raise GazetteerError(
            path, line, f"district must be one or more of {'|'.join(DISTRICTS)}: {districts!r}"
        )
    if len(set(parts)) != len(parts):
        raise GazetteerError(path, line, f"district listed twice: {districts!r}")
    alias_list = tuple(a.strip() for a in aliases.split("|") if a.strip())
    return Place(name, kind, parts, street, alias_list)


def parse(lines: Iterable[str], path: str = "<gazetteer>") -> list[Place]:
    """Places from the CSV text; raises GazetteerError naming the line of the first bad entry."""
    places: list[Place] = []
    seen: dict[str, int] = {}  # every name and alias -> the line that defined it
    reader = csv.reader(lines)
    header_done = False
    for row in reader:
        line = reader.line_num
        if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if not header_done:
            if [c.strip() for c in row] != HEADER:
                raise GazetteerError(path, line, f"the first line must be {','.join(HEADER)}")
            header_done = True
            continue
        place = _parse_row(row, line, path)
        for said in (place.name, *place.aliases):
            if said in seen:
                raise GazetteerError(path, line, f"duplicate entry {said!r} (first on line {seen[said]})")
            seen[said] = line
        places.append(place)
    if not places:
        raise GazetteerError(path, 1, "no places")
    return places


class Gazetteer:
    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self._by_text: dict[str, Place] = {}
        self._by_sound: dict[tuple[str, ...], Place] = {}
        for place in places:
            for said in (place.name, *place.aliases):
                self._by_text[said] = place
                sound = tuple(_syllables(said))
                if len(said) >= MIN_PINYIN_SYLLABLES and len(sound) == len(said):
                    # Two places that sound alike are not matched by sound at all.
                    if sound in self._by_sound and self._by_sound[sound] is not place:
                        self._by_sound[sound] = _AMBIGUOUS
                    else:
                        self._by_sound.setdefault(sound, place)
        self._longest = max(len(s) for s in self._by_text)

    @classmethod
    def load(cls, path: Path) -> Gazetteer:
        with path.open(encoding="utf-8", newline="") as f:
            return cls(parse(f, str(path)))

    def __len__(self) -> int:
        return len(self.places)

    def find(self, text: str) -> list[PlaceMatch]:
        """Every place named in ``text``, left to right, longest first, never overlapping: by characters
        first, then by sound over what the characters left."""
        covered = [False] * len(text)
        matches = self._scan(text, covered, 2, lambda i, j: self._by_text.get(text[i:j]), "字")
        sounds = _syllables(text)
        matches += self._scan(
            text, covered, MIN_PINYIN_SYLLABLES, lambda i, j: self._by_sound.get(tuple(sounds[i:j])), "拼音"
        )
        matches.sort(key=lambda m: m.start)
        return matches

    def without_places(self, text: str) -> str:
        """The text with every place named in it blanked out (for models that must judge the matter only)."""
        chars = list(text)
        for m in self.find(text):
            chars[m.start : m.end] = " " * (m.end - m.start)
        return "".join(chars)

    def _scan(
        self,
        text: str,
        covered: list[bool],
        shortest: int,
        lookup: Callable[[int, int], Place | None],
        by: str,
    ) -> list[PlaceMatch]:
        found: list[PlaceMatch] = []
        i = 0
        while i < len(text):
            for size in range(min(self._longest, len(text) - i), shortest - 1, -1):
                if any(covered[i : i + size]):
                    continue
                place = lookup(i, i + size)
                if place is not None and place is not _AMBIGUOUS:
                    found.append(PlaceMatch(place, i, i + size, text[i : i + size], by))
                    covered[i : i + size] = [True] * size
                    i += size
                    break
            else:
                i += 1
        return found


_AMBIGUOUS = Place("?", "district", DISTRICTS)


def default_gazetteer_path() -> Path:
    return Path(str(resources.files("routing.assist") / "data" / "haikou_gazetteer.csv"))


@cache
def default_gazetteer() -> Gazetteer:
    return Gazetteer.load(default_gazetteer_path())
