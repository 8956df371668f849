"""What a citizen's words say about the order: the place and its district, the callback number, the type of
case and a one-paragraph summary. Pure functions of the text (and the gazetteer), no clock, no I/O.

Rules the hotline follows, which these functions keep:
- A place is a guess until the agent accepts it. Two districts named (or a place that lies in two) leave the
  district empty and offer both; no place leaves everything empty.
- The caller's number from the screen pop is what the order carries; a different number said aloud is only
  offered, because citizens often read out a relative's number or the number of the place they complain of.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from routing.assist.gazetteer import DISTRICTS, Gazetteer, PlaceMatch
from routing.assist.spoken import figures_for_quantities, phone_numbers

# Words around an address that belong to it: house numbers and where exactly (门口, 对面, 路口).
_ADDRESS_TAIL = re.compile(
    r"^(?:的)?(?:[0-9零〇一二两三四五六七八九十百千幺]+(?:号楼|号|栋|幢|单元|楼|层|室|巷|弄))+"
    r"|^(?:的)?(?:门口|附近|对面|旁边|路口|交叉口|十字路口|东侧|西侧|南侧|北侧|东门|西门|南门|北门|后门|正门|"
    r"后面|里面|一带|那边|这边|段|辅路|天桥|公交站|站台|停车场)"
)
# What may lie between two place names of one address ("美兰区的海甸岛那个和平大道").
_JOIN = re.compile(
    r"^[，, ]?(?:的|那个|这个|就是|在|上|里|那里|这里|那边|这边|附近|旁边|靠近|往|和|与|跟)*[的，, ]?$"
)
_FILLERS = re.compile(
    r"(嗯+|呃+|额+|啊+|呀|哦|喂+|那个|这个|就是说|就是|然后呢|然后|对对对|对对|是这样的|怎么说呢)[，,、 ]?"
)


@dataclass(frozen=True)
class LocationGuess:
    """``address``: the place as the citizen said it (house numbers as figures), or "" when none was named.
    ``district``: set only when everything named lies in one district; ``candidates`` otherwise."""

    address: str
    district: str | None
    candidates: tuple[str, ...]
    matches: tuple[PlaceMatch, ...] = ()
    why: str = ""


def _clusters(matches: Sequence[PlaceMatch], text: str) -> list[list[PlaceMatch]]:
    groups: list[list[PlaceMatch]] = []
    for m in matches:
        if groups and _JOIN.match(text[groups[-1][-1].end : m.start]):
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _districts_of(matches: Sequence[PlaceMatch]) -> tuple[set[str], set[str]]:
    """(districts named outright, districts all the other places agree on)."""
    named = {m.place.districts[0] for m in matches if m.place.kind == "district"}
    agreed: set[str] | None = None
    for m in matches:
        if m.place.kind == "district":
            continue
        here = set(m.place.districts)
        agreed = here if agreed is None else (agreed & here or agreed | here)
    return named, agreed or set()


def locate(text: str, gazetteer: Gazetteer) -> LocationGuess:
    matches = gazetteer.find(text)
    if not matches:
        return LocationGuess("", None, (), (), "未提到海口的地名")
    groups = _clusters(matches, text)
    # The address is the richest run of place names; a lone district name is not an address.
    best = max(groups, key=lambda g: (sum(m.place.specificity for m in g), g[-1].end))
    start, end = best[0].start, best[-1].end
    tail = _ADDRESS_TAIL.match(text[end:])
    while tail:
        end += tail.end()
        tail = _ADDRESS_TAIL.match(text[end:])
    # Places heard by sound are written as the gazetteer spells them (海店岛 → 海甸岛).
    spoken = text[start:end]
    for m in reversed([m for m in best if m.by == "拼音"]):
        spoken = spoken[: m.start - start] + m.place.name + spoken[m.end - start :]
    address = figures_for_quantities(spoken).lstrip("的")
    if all(m.place.kind == "district" for m in best):
        address = ""
    named, agreed = _districts_of(matches)
    said = "、".join(f"{m.said}（{m.place.name}，按读音）" if m.by == "拼音" else m.said for m in matches)
    if len(named) > 1:
        return LocationGuess(address, None, _ordered(named), tuple(matches), f"提到了两个区：{said}")
    if len(named) == 1:
        (district,) = named
        if agreed and district not in agreed:
            both = _ordered(named | agreed)
            return LocationGuess(address, None, both, tuple(matches), f"所说的区与地名不一致：{said}")
        return LocationGuess(address, district, (district,), tuple(matches), f"市民说了区名：{said}")
    if len(agreed) == 1:
        (district,) = agreed
        return LocationGuess(address, district, (district,), tuple(matches), f"按地名：{said}")
    return LocationGuess(address, None, _ordered(agreed), tuple(matches), f"地名跨区，须确认：{said}")


def _ordered(districts: set[str]) -> tuple[str, ...]:
    return tuple(d for d in DISTRICTS if d in districts)


# ---- the number to call back ------------------------------------------------------------------------
def local_phone(digits: str) -> str:
    """A Haikou landline said without its area code (6xxxxxxx) gets 0898; anything else is left as said."""
    if len(digits) == 8 and digits[0] == "6":
        return "0898" + digits
    return digits


@dataclass(frozen=True)
class CallbackGuess:
    number: str
    why: str


def callback_number(text: str, caller: str, valid: object = None) -> CallbackGuess | None:
    """The number the citizen read out to be called back on, when it is not the caller's own number.

    ``valid`` is a function returning the national form or raising ValueError (routing.commands.normalize_phone).
    """
    own = re.sub(r"\D", "", caller or "")
    best: CallbackGuess | None = None
    for spoken in phone_numbers(text):
        candidate = local_phone(spoken.digits)
        if callable(valid):
            try:
                candidate = str(valid(candidate))
            except ValueError:
                continue
        if candidate.lstrip("0") == own.lstrip("0") or candidate.endswith(own[-8:] or "#"):
            continue
        why = "市民报了回电号码" if spoken.cued else "市民说了一个号码"
        if best is None or spoken.cued:
            best = CallbackGuess(candidate, why)
    return best


# ---- the kind of case -------------------------------------------------------------------------------
CASE_CUES: dict[str, tuple[str, ...]] = {
    "praise": ("表扬", "感谢", "谢谢你们", "点赞", "锦旗", "好评", "很负责", "非常满意", "给他们点个赞"),
    "suggestion": (
        "建议",
        "提个意见",
        "提个建议",
        "希望能增加",
        "能不能考虑",
        "最好能",
        "可不可以增设",
        "应该增设",
    ),
    "report": (
        "举报",
        "偷排",
        "非法",
        "违法",
        "无证",
        "黑车",
        "偷偷",
        "私自",
        "违规",
        "假冒",
        "传销",
        "赌博",
    ),
    "help_request": (
        "求助",
        "帮帮",
        "救命",
        "走失",
        "困在",
        "被困",
        "没饭吃",
        "急需",
        "紧急",
        "晕倒",
        "找不到家",
    ),
    "consultation": (
        "请问",
        "咨询",
        "想问",
        "问一下",
        "需要什么材料",
        "要带什么",
        "怎么办理",
        "怎么办",
        "在哪里办",
        "去哪里办",
        "能不能办",
        "可以办",
        "多久能",
        "是不是",
        "有没有",
        "怎么申请",
        "怎么补",
        "流程",
        "条件",
    ),
    "complaint": (
        "投诉",
        "反映",
        "坏了",
        "没人管",
        "扰民",
        "拖欠",
        "太吵",
        "不给",
        "乱收费",
        "服务态度",
        "一直没",
        "好几天",
        "不处理",
        "臭",
        "堵",
        "漏水",
        "停水",
        "停电",
    ),
}
# The explicit words decide over the circumstantial ones.
_STRONG = {"表扬", "建议", "举报", "求助", "咨询", "投诉"}


@dataclass(frozen=True)
class CaseTypeGuess:
    case_type: str
    why: str
    cues: tuple[str, ...] = field(default=())


def case_type(text: str, default: str | None = None) -> CaseTypeGuess:
    """The type of case from the citizen's words; the category's usual type when nothing says."""
    scores: dict[str, float] = {}
    cues: dict[str, list[str]] = {}
    for kind, words in CASE_CUES.items():
        for w in words:
            if w in text:
                scores[kind] = scores.get(kind, 0.0) + (3.0 if w in _STRONG else 1.0)
                cues.setdefault(kind, []).append(w)
    if not scores:
        if default:
            return CaseTypeGuess(default, "按分类的常见类型")
        return CaseTypeGuess("complaint", "未听出类型，按投诉")
    # On a tie the more serious reading wins: a report or help before a complaint before a question.
    order = ("report", "help_request", "complaint", "praise", "suggestion", "consultation")
    best = max(scores, key=lambda k: (scores[k], -order.index(k)))
    return CaseTypeGuess(best, f"听到「{'」「'.join(cues[best])}」", tuple(cues[best]))


# ---- the summary ---------------------------------------------------------------------------------------
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_WHEN = re.compile(
    r"(从[^，。]{1,10}(开始|起)|[0-9一二两三四五六七八九十几半好多]+(个)?(天|日|周|星期|礼拜|月|年|小时)(了|多|以来)?|"
    r"昨天|前天|今天|上周|上个月|最近|这几天|一直|每天|每晚|晚上|凌晨|早上|上午|下午|至今|到现在)"
)
_WANT = re.compile(
    r"(希望|请|麻烦|要求|帮忙|帮我|尽快|赶紧|能不能|可不可以|想问|想咨询|想办|怎么办|要办|想知道|给个说法)"
)
_GREETING = re.compile(r"^(你好|您好|喂|哎|那个)?[，, ]*(是)?(12345|市民热线|热线)?[吗吧呢]?[，, ]*$")
MAX_SUMMARY = 160


def clean(utterance: str) -> str:
    """A final utterance without hesitations and greetings."""
    text = _FILLERS.sub("", utterance).strip(" ，,、")
    return "" if _GREETING.match(text) else text


def summarize(utterances: Sequence[str], what: Sequence[str] = (), location: str = "") -> str:
    """One extractive paragraph: the sentences that say what happened, where, since when, what is wanted.

    ``what``: the words that carry the matter (taxonomy words, matched KB words). Sentences are kept in the
    order the citizen said them; each earns a point for each of the four questions it answers, and the best
    are kept until the paragraph is about ``MAX_SUMMARY`` characters long.
    """
    sentences: list[str] = []
    for u in utterances:
        for piece in _SENTENCE.findall(clean(u)):
            piece = clean(piece)
            # A number read out for the callback belongs in the phone field, not the description.
            if len(piece) >= 2 and piece not in sentences and not phone_numbers(piece):
                sentences.append(piece)
    if not sentences:
        return ""
    scored = []
    for i, s in enumerate(sentences):
        # The first thing said after the greeting usually names the matter (我要举报一个黑诊所).
        points = 1.0 if i == 0 or any(cue in s for cue in _STRONG) else 0.0
        points += 1.0 if any(w and w in s for w in what) else 0.0
        points += 1.0 if location and any(part in s for part in _address_parts(location)) else 0.0
        points += 1.0 if _WHEN.search(s) else 0.0
        points += 1.0 if _WANT.search(s) else 0.0
        scored.append((points, i, s))
    kept: list[tuple[int, str]] = []
    length = 0
    for points, i, s in sorted(scored, key=lambda t: (-t[0], t[1])):
        if points == 0 and kept:
            break
        if length and length + len(s) > MAX_SUMMARY:
            continue
        kept.append((i, s))
        length += len(s) + 1
    out = "，".join(s.rstrip("。！？!?；;，,") for _, s in sorted(kept))
    return figures_for_quantities(out)[:MAX_SUMMARY] + "。"


def _address_parts(location: str) -> list[str]:
    return [p for p in re.split(r"[0-9]+\w?", location) if len(p) >= 2] or [location]
