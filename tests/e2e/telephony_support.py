"""Shared pieces of the real-switch call tests: the ARI recorder with a copy of every event, sipp agents,
baresip callers, the real FastAGI IVR (watched by an ``IvrProbe``), and waits on what Asterisk and the
database report."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hotline.bootstrap import App
from ivr.fastagi import FastAgiHandle, start_server
from ivr.service import IvrServices, hotline_handlers
from telephony import sipp
from telephony.agents import AgentDesk, RecordingCli
from telephony.ari import AriClient, AriEndpoint, EventHandler
from telephony.baresip import to_wav8k, why_no_baresip
from telephony.config import DEFAULT_QUEUES, QueueSpec
from telephony.events import CallAnswered
from telephony.orm import CallRow
from telephony.records import CallRecorder
from telephony.service import TelephonyService
from telephony.switch import Switch
from telephony.testing import IvrProbe, cached_ivr_sounds, free_port, why_no_asterisk

AUDIO = Path(__file__).resolve().parents[3] / "shared" / "audio"
# Short rings and no wrap-up, so a test does not wait on the queue's pacing.
NO_WRAPUP = tuple(
    QueueSpec(q.name, q.title, q.strategy, 10, 0, q.weight, q.announce_seconds) for q in DEFAULT_QUEUES
)


def free_port_udp() -> int:
    return free_port(socket.SOCK_DGRAM)


async def start_sipp_caller(
    work: Path,
    scenario: Path,
    inf: Path,
    sip_port: int,
    *,
    service: str = "12346",
    calls: int = 1,
    rate: int = 1,
    timeout_s: int = 60,
) -> asyncio.subprocess.Process:
    """sipp citizens dialling ``service`` on the switch's SIP port from ``work`` (statistics in
    ``work/stats.csv``); the caller waits on the returned process."""
    return await asyncio.create_subprocess_exec(
        *sipp.caller_command(
            scenario,
            inf,
            target=f"127.0.0.1:{sip_port}",
            service=service,
            local_port=free_port_udp(),
            calls=calls,
            rate=rate,
            limit=calls,
            media_port=free_port_udp(),
            stats=work / "stats.csv",
            timeout_s=timeout_s,
        ),
        cwd=work,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def padded(clip: Path, out: Path, before_s: float = 2.0, after_s: float = 3.0) -> tuple[Path, int]:
    """The clip once with silence before and after, as raw 8 kHz μ-law for sipp; and its length in ms. Played
    once, every utterance is whole: a looping clip cut at the hang-up ends in a fragment."""
    wav = out.with_suffix(".wav")
    subprocess.run(
        ["sox", str(clip), str(wav), "pad", str(before_s), str(after_s)], check=True, capture_output=True
    )
    sipp.to_ulaw(wav, out)
    return out, out.stat().st_size // 8  # 8 bytes of μ-law per ms


def speech_clips() -> tuple[Path, Path]:
    """Two speech clips (caller, agent), or a skip with the reason."""
    reason = why_no_asterisk(need=("sipp", "sox")) or why_no_baresip()
    if reason:
        pytest.skip(reason)
    clips = sorted(AUDIO.glob("*.wav"))
    if len(clips) < 2:
        pytest.skip(f"no speech clips under {AUDIO}")
    return clips[0], clips[1]


def call_media(out: Path) -> tuple[Path, Path, Path]:
    """The caller's voice (8 kHz WAV, baresip), the agent's (μ-law, sipp) and the IVR's prompts; or a skip."""
    caller_clip, agent_clip = speech_clips()
    return (
        to_wav8k(caller_clip, out / "caller.wav"),
        sipp.to_ulaw(agent_clip, out / "agent.ulaw"),
        cached_ivr_sounds(),
    )


def queue_agent(
    hot: App, port: int, now: datetime, *, skills: tuple[str, ...] = ("urgent", "consultation")
) -> AgentDesk:
    """agent1001, a sipp softphone on ``port``, logged in to the queues of ``skills`` (rendered into queues.conf
    when the switch starts)."""
    desk = AgentDesk(hot.session_factory, RecordingCli([]))
    desk.create("agent1001", "Li Lei", list(skills), contact=f"sip:agent1001@127.0.0.1:{port}")
    desk.login("agent1001", now)
    return desk


@dataclass
class Ari:
    client: AriClient
    recorder: CallRecorder
    events: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[EventHandler] = field(default_factory=list)  # added by a test, after the recorder

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    def varsets(self, channel_id: str) -> dict[str, str]:
        return {
            e["variable"]: e.get("value", "")
            for e in self.of_type("ChannelVarset")
            if e.get("channel", {}).get("id") == channel_id
        }


def ari_client(switch: Switch) -> AriClient:
    cfg = switch.config
    return AriClient(
        AriEndpoint(f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app)
    )


@contextlib.asynccontextmanager
async def recorder_running(
    switch: Switch, app: App, *, recorder: CallRecorder | None = None
) -> AsyncIterator[Ari]:
    """The production TelephonyService (ARI events into call records) with a copy of every event."""
    client = ari_client(switch)
    ari = Ari(client, recorder or CallRecorder(app.session_factory, app.bus))

    async def keep(event: dict[str, Any]) -> None:
        ari.events.append(event)
        for listener in ari.listeners:
            await listener(event)

    service = TelephonyService(client, ari.recorder, listeners=[keep])
    task = asyncio.create_task(service.run())
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield ari
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()


@contextlib.contextmanager
def ivr_server(services: IvrServices, probe: IvrProbe) -> Iterator[FastAgiHandle]:
    """The real FastAGI server with the hotline's handlers, each session watched by ``probe``."""
    handle = start_server("127.0.0.1", 0, handlers=probe.wrap(hotline_handlers(services)))
    try:
        yield handle
    finally:
        handle.stop()


@contextlib.contextmanager
def sipp_agent(
    work: Path, audio_ulaw: Path, port: int, *, name: str = "agent", ring_ms: int = 500
) -> Iterator[None]:
    """An auto-answering agent (sipp UAS) on ``port``: rings ``ring_ms``, answers, talks until the BYE."""
    scenario = sipp.write_agent(work, audio_ulaw, ring_ms=ring_ms, name=name)
    proc = subprocess.Popen(
        sipp.agent_command(scenario, local_port=port, media_port=free_port(socket.SOCK_DGRAM)),
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(5)


async def until(check: Callable[[], Any], *, within: float = 20.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail the test with ``what`` otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.1)


async def queue_shows(switch: Switch, *needles: str, within: float = 30.0) -> str:
    shown = ""

    def check() -> bool:
        nonlocal shown
        shown = switch.rx("queue show")
        return all(n in shown for n in needles)

    await until(check, within=within, what=f"queue show with {needles}: {shown}")
    return shown


def answered_pop(app: App, caller: str) -> CallAnswered | None:
    return next(
        (e for e in app.bus.published if isinstance(e, CallAnswered) and e.caller_number == caller), None
    )


def call_of(app: App, caller: str) -> CallRow | None:
    with app.session_factory() as session:
        return session.scalar(
            select(CallRow).where(CallRow.caller_number == caller).order_by(CallRow.started_at.desc())
        )


async def ended(app: App, caller: str, *, within: float = 15.0) -> CallRow:
    def check() -> CallRow | None:
        row = call_of(app, caller)
        return row if row is not None and row.ended_at is not None else None

    row: CallRow = await until(check, within=within, what=f"the call of {caller} ended in the database")
    return row
