"""The menu schema: a menu file is data (YAML), validated on load so that a bad file fails with a clear message.

A menu is a graph of nodes. Each node is one of a few kinds the engine knows how to run:

- ``play``: play a prompt, go on to ``next``;
- ``menu``: play a prompt and read one key; each key maps to an action; timeouts and wrong keys are retried
  ``retries`` times, then ``on_failure`` runs (by default: put the caller through to an agent);
- ``announcements``: the operator's current announcements ("if you are calling about X, press 1"), read per call;
- ``recording``: the recording notice, or where consent is required, ask and let the caller decline;
- ``order_query``: read a work-order number and say its state;
- ``route``: end the IVR with a route for the dialplan.

A node may carry ``variants`` for the ``night`` and ``holiday`` periods that replace its prompt or some of its keys.

``mode: direct`` is the no-menu mode (GB/T 33358 advises against IVR menus for phone intake): the caller hears
the ``direct`` prompts (any key stops them) and goes straight to ``direct.route``; a key of
``direct.language_keys`` pressed at any time chooses the language, here and later while waiting in the queue
(extensions.conf.j2, ``[hotline-queue-exit]``). In either mode ``language_by_number`` picks the first language
from the caller's number (longest matching prefix), e.g. English for international callers.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
Key = Annotated[str, Field(pattern=r"^[0-9*#]$")]
NodeId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
PromptName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]


class Route(StrEnum):
    """Where the dialplan sends the call after the IVR (``Goto(hotline-route,${HOTLINE_ROUTE},1)``)."""

    QUEUE_CONSULTATION = "queue-consultation"
    QUEUE_COMPLAINT = "queue-complaint"
    QUEUE_URGENT = "queue-urgent"
    CALLBACK = "callback"
    HANGUP = "hangup"


class Period(StrEnum):
    DAY = "day"
    NIGHT = "night"
    HOLIDAY = "holiday"


class MenuError(ValueError):
    """A menu file that cannot be used, with the file and the place in it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Action(_Strict):
    """What a key (or a timeout) does. ``route`` ends the IVR; otherwise the engine goes to ``goto``."""

    goto: NodeId | None = None
    route: Route | None = None
    set_language: Language | None = None
    set_recording: bool | None = None
    answer: str | None = None  # store the key pressed under this name (surveys)
    play: PromptName | None = None  # a prompt played before going on (e.g. "transferring you")

    @model_validator(mode="after")
    def _one_destination(self) -> Action:
        if (self.goto is None) == (self.route is None):
            raise ValueError("an action needs exactly one of 'goto' or 'route'")
        return self


class Variant(_Strict):
    prompt: PromptName | None = None
    options: dict[Key, Action] = Field(default_factory=dict)
    next: Action | None = None


class Node(_Strict):
    kind: Literal["play", "menu", "announcements", "recording", "order_query", "route"]
    prompt: PromptName | None = None
    next: Action | None = None  # play, announcements, recording, order_query
    options: dict[Key, Action] = Field(default_factory=dict)  # menu
    on_timeout: Action | None = None  # menu: taken at once on a timeout instead of retrying (e.g. language)
    on_failure: Action | None = None  # menu, order_query: after the retries
    retries: int | None = Field(default=None, ge=1, le=9)
    timeout_ms: int | None = Field(default=None, ge=500, le=30000)
    max_digits: int = Field(default=1, ge=1, le=32)
    route: Route | None = None  # route
    say_order_number: bool = False  # play: after the prompt, say the call's work-order number digit by digit
    variants: dict[Period, Variant] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kind_fields(self) -> Node:
        needs_prompt = self.kind in {"play", "menu", "order_query"}
        if needs_prompt and self.prompt is None:
            raise ValueError(f"a '{self.kind}' node needs a 'prompt'")
        if self.kind == "menu" and not self.options:
            raise ValueError("a 'menu' node needs 'options'")
        if self.kind in {"play", "announcements", "recording", "order_query"} and self.next is None:
            raise ValueError(f"a '{self.kind}' node needs 'next'")
        if self.kind == "route" and self.route is None:
            raise ValueError("a 'route' node needs 'route'")
        return self

    def for_period(self, period: Period) -> Node:
        """This node as it runs in ``period``: a variant's prompt and keys replace the usual ones."""
        variant = self.variants.get(period)
        if variant is None:
            return self
        options = {**self.options, **variant.options}
        return self.model_copy(
            update={
                "prompt": variant.prompt or self.prompt,
                "options": options,
                "next": variant.next or self.next,
            }
        )


class Hours(_Strict):
    """Daytime service hours (local time); outside them the ``night`` variants play."""

    day_start: str = Field(default="08:00", pattern=r"^\d\d:\d\d$")
    day_end: str = Field(default="22:00", pattern=r"^\d\d:\d\d$")
    timezone: str = "Asia/Shanghai"


class Recording(_Strict):
    consent_required: bool = False  # where law or policy needs the caller's consent, ask and let them decline
    consent_on_timeout: bool = False  # with consent required, silence is not consent


_OFFERS: dict[Language, str] = {"zh": "choose_language", "en": "choose_language"}
_LANGUAGE_KEYS: dict[str, Language] = {"1": "zh", "2": "en"}


class Direct(_Strict):
    """The no-menu mode: one short welcome (which also says that the call is recorded), then the queue."""

    prompts: tuple[PromptName, ...] = ("welcome_direct",)
    # After the first prompt, each other language offers itself in its own words ("For English, press 2.").
    offer: dict[Language, PromptName] = Field(default_factory=lambda: dict(_OFFERS))
    route: Route = Route.QUEUE_CONSULTATION
    transfer_prompt: PromptName | None = None  # the welcome already says "connecting you"
    language_keys: dict[Key, Language] = Field(default_factory=lambda: dict(_LANGUAGE_KEYS))


class Defaults(_Strict):
    retries: int = Field(default=3, ge=1, le=9)
    timeout_ms: int = Field(default=5000, ge=500, le=30000)


class Menu(_Strict):
    name: str
    start: NodeId
    mode: Literal["menu", "direct"] = "menu"
    direct: Direct = Direct()
    default_language: Language = "zh"
    language_by_number: dict[Annotated[str, Field(pattern=r"^\+?[0-9]*$")], Language] = Field(
        default_factory=dict
    )
    defaults: Defaults = Defaults()
    hours: Hours = Hours()
    recording: Recording = Recording()
    prompts: dict[PromptName, dict[Language, str]]
    nodes: dict[NodeId, Node]

    @model_validator(mode="after")
    def _references(self) -> Menu:
        problems: list[str] = []
        if self.start not in self.nodes:
            problems.append(f"start node '{self.start}' is not defined")
        for lang_name, texts in self.prompts.items():
            missing = [lang for lang in LANGUAGES if not texts.get(lang)]
            if missing:
                problems.append(f"prompt '{lang_name}' has no text for {', '.join(missing)}")
        for node_id, node in self.nodes.items():
            for where, action in _actions(node):
                if action.goto is not None and action.goto not in self.nodes:
                    problems.append(f"node '{node_id}' {where}: goto '{action.goto}' is not defined")
            for prompt in _prompts(node):
                if prompt not in self.prompts:
                    problems.append(f"node '{node_id}': prompt '{prompt}' has no text in 'prompts'")
        if self.mode == "direct":
            named = (*self.direct.prompts, *self.direct.offer.values(), self.direct.transfer_prompt)
            for name in named:
                if name is not None and name not in self.prompts:
                    problems.append(f"direct: prompt '{name}' has no text in 'prompts'")
            if self.recording.consent_required:
                problems.append("direct mode cannot ask for recording consent (it asks nothing)")
            if not self.direct.route.value.startswith("queue-"):
                problems.append("direct: the route must be a queue")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def language_of(self, caller: str) -> Language:
        """The caller's first language: the longest prefix of ``language_by_number`` their number starts with."""
        digits = caller.strip()
        best = max((p for p in self.language_by_number if digits.startswith(p) and p), key=len, default=None)
        return self.language_by_number[best] if best is not None else self.default_language


def _actions(node: Node) -> list[tuple[str, Action]]:
    found: list[tuple[str, Action]] = []
    for name in ("next", "on_timeout", "on_failure"):
        action = getattr(node, name)
        if action is not None:
            found.append((name, action))
    found += [(f"key {key}", action) for key, action in node.options.items()]
    for period, variant in node.variants.items():
        found += [(f"{period} key {key}", action) for key, action in variant.options.items()]
        if variant.next is not None:
            found.append((f"{period} next", variant.next))
    return found


# Prompts the engine itself plays for a node kind, beside the ones a node names.
ENGINE_PROMPTS: dict[str, tuple[str, ...]] = {
    "menu": ("timeout", "invalid"),
    "recording": ("recording_notice", "recording_consent", "recording_declined"),
    "order_query": ("timeout", "order_not_found", "order_number_is", "order_state_is", "state_unknown"),
}


def _prompts(node: Node) -> list[str]:
    names = [node.prompt] + [v.prompt for v in node.variants.values()]
    names += [action.play for _, action in _actions(node)]
    names += ENGINE_PROMPTS.get(node.kind, ())
    return [n for n in names if n is not None]


def load_menu(path: Path) -> Menu:
    """Read and validate one menu file; :class:`MenuError` names the file and each problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MenuError(f"{path}: cannot read menu: {exc}") from exc
    if not isinstance(raw, dict):
        raise MenuError(f"{path}: a menu file must be a mapping, not {type(raw).__name__}")
    try:
        return Menu.model_validate(raw)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()]
        raise MenuError(f"{path}: invalid menu:\n" + "\n".join(lines)) from exc


MENU_DIR = Path(__file__).with_name("menus")


def builtin_menu(name: str) -> Menu:
    """One of the menus shipped in ``ivr/menus`` (``hotline``, ``survey``)."""
    return load_menu(MENU_DIR / f"{name}.yaml")
