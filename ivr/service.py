"""The hotline's AGI scripts (``ivr`` and ``survey``) wired to the engine, the menus and the adapters.

Menus are read from ``$HOTLINE_IVR_MENU_DIR`` (default: the files shipped in ``ivr/menus``) and re-read when a
file changes, so an edited menu takes effect on the next call; a file that no longer validates is logged and the
last good version keeps running.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.announcements import (
    AnnouncementSource,
    NoAnnouncements,
    YamlAnnouncements,
    default_announcements_path,
)
from ivr.engine import IvrEngine, IvrResult, hotline_variables, survey_variables
from ivr.fastagi import AgiRequest, SessionHandler
from ivr.model import LANGUAGES, MENU_DIR, Language, Menu, MenuError, Period, Route, load_menu
from ivr.orders import OrderStatusLookup
from ivr.port import CallerHungUp, CallPort
from ivr.schedule import WorkCalendar
from kernel.clock import Clock, SystemClock

if TYPE_CHECKING:
    from kernel.core import Core

log = logging.getLogger(__name__)


class MenuSource:
    """One menu file, re-validated whenever it changes on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._menu: Menu = load_menu(path)  # a bad file at start-up is an error, not a warning
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size)

    def current(self) -> Menu:
        stamp = self._stat()
        if stamp is not None and stamp != self._stamp:
            with self._lock:
                try:
                    self._menu = load_menu(self.path)
                except MenuError as exc:
                    log.error("keeping the previous menu: %s", exc)
                self._stamp = stamp
        return self._menu


def menu_dir() -> Path:
    return Path(os.environ.get("HOTLINE_IVR_MENU_DIR") or MENU_DIR)


@dataclass
class IvrServices:
    calendar: WorkCalendar
    orders: OrderStatusLookup | None = None
    announcements: AnnouncementSource = field(default_factory=NoAnnouncements)
    clock: Clock = field(default_factory=SystemClock)
    menus: Path = field(default_factory=menu_dir)

    def __post_init__(self) -> None:
        self.hotline_menu = MenuSource(self.menus / "hotline.yaml")
        self.survey_menu = MenuSource(self.menus / "survey.yaml")

    @classmethod
    def from_core(cls, core: Core, calendar: WorkCalendar, orders: OrderStatusLookup) -> IvrServices:
        """Production wiring: routing's work orders, the Chinese calendar, the announcements file."""
        return cls(
            calendar=calendar,
            orders=orders,
            announcements=YamlAnnouncements(default_announcements_path(core.settings.data_dir)),
            clock=core.clock,
        )

    def hotline_engine(self) -> IvrEngine:
        return IvrEngine(
            self.hotline_menu.current(), self.calendar, orders=self.orders, announcements=self.announcements
        )

    def survey_engine(self) -> IvrEngine:
        return IvrEngine(self.survey_menu.current(), self.calendar)


def _language(value: str | None) -> Language | None:
    return next((lang for lang in LANGUAGES if lang == value), None)


FALLBACK = IvrResult(
    route=Route.QUEUE_CONSULTATION,
    language="zh",
    period=Period.DAY,
    recording=True,
    choices=("error",),
    answers={},
)


def run_hotline_ivr(services: IvrServices, port: CallPort, request: AgiRequest) -> IvrResult:
    """The inbound IVR; sets the HOTLINE_* variables of the dialplan contract before returning.

    A fault in the IVR itself must not drop a citizen's call: the caller is then put through to an agent."""
    try:
        result = services.hotline_engine().run(
            port,
            services.clock.now(),
            language=_language(request.params.get("lang")),
            caller=request.env.get("agi_callerid", ""),
        )
    except CallerHungUp:
        raise
    except Exception:
        log.exception("IVR failed on call %s; routing it to an agent", request.call_id)
        result = FALLBACK
    for name, value in hotline_variables(result).items():
        port.set_variable(name, value)
    return result


@dataclass(frozen=True)
class SurveyAnswers:
    solved: int | None  # 1 yes, 2 no
    rating: int | None  # 1..5


def run_survey(
    services: IvrServices,
    port: CallPort,
    *,
    order_number: str | None = None,
    language: Language | None = None,
) -> SurveyAnswers:
    """The satisfaction survey on an outbound callback; sets HOTLINE_SURVEY_SOLVED / _RATING and returns them.

    Each answer is put on the channel as soon as it is given, so that a citizen who says "not solved" and
    hangs up before rating still counts (the dialplan's hangup handler reports what is there)."""
    engine = services.survey_engine()
    result = engine.run(
        _AnswersAsTheyCome(port, engine.menu),
        services.clock.now(),
        language=language,
        order_number=order_number,
    )
    for name, value in survey_variables(result).items():
        port.set_variable(name, value)
    solved, rating = result.answers.get("solved"), result.answers.get("rating")
    return SurveyAnswers(int(solved) if solved else None, int(rating) if rating else None)


class _AnswersAsTheyCome:
    """The call port, plus: a key that answers a survey question is set on the channel at once."""

    def __init__(self, port: CallPort, menu: Menu) -> None:
        self.port = port
        self.questions: dict[str, tuple[str, frozenset[str]]] = {}
        for node in menu.nodes.values():
            for period in Period:
                asked = node.for_period(period)
                answers = {a.answer for a in asked.options.values() if a.answer}
                if asked.prompt and len(answers) == 1:
                    keys = frozenset(k for k, a in asked.options.items() if a.answer)
                    self.questions[asked.prompt] = (answers.pop(), keys)

    def play(self, prompt: str) -> None:
        self.port.play(prompt)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        keys = self.port.read_digits(prompt, max_digits, timeout_ms)
        question = self.questions.get(prompt.rsplit("/", 1)[-1])
        if keys and question and keys[0] in question[1]:
            self.port.set_variable(f"HOTLINE_SURVEY_{question[0].upper()}", keys[0])
        return keys

    def pending(self) -> str:
        return self.port.pending()

    def set_variable(self, name: str, value: str) -> None:
        self.port.set_variable(name, value)

    def hangup(self) -> None:
        self.port.hangup()


def hotline_handlers(services: IvrServices) -> dict[str, SessionHandler]:
    def ivr(port: CallPort, request: AgiRequest) -> None:
        run_hotline_ivr(services, port, request)

    def survey(port: CallPort, request: AgiRequest) -> None:
        number = request.params.get("order") or None
        run_survey(services, port, order_number=number, language=_language(request.params.get("lang")))

    return {"ivr": ivr, "survey": survey}
