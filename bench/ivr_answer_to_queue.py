"""Getting to a person fast (GB/T 33358: answer within 15 s): from 12345 answering to the caller entering the
queue, for a caller who knows what to press, on the real switch with the real FastAGI IVR and its prompts.

Both moments are Asterisk's own event timestamps (ARI): the caller's channel going Up, and the dialplan's
``HotlineQueueJoin`` user event. Nobody answers in the queue; each call is hung up once it joined.

Modes (each ``--calls`` times, one call at a time):

- ``typeahead``: the caller presses 1 (Mandarin) and 1 (enquiries) as soon as 12345 answers, 0.3 s apart,
  whatever the IVR is saying (what scripts/demo_call.py does);
- ``asked``: the caller presses each key the moment the IVR asks for it (the question's prompt starts);
- ``old``: as ``asked``, with the IVR as it was before type-ahead (the welcome and the recording notice
  cannot be interrupted, no key is kept between commands): the reference;
- ``direct``: the no-menu mode (``mode: direct``), no key at all.

    .venv/bin/python bench/ivr_answer_to_queue.py --calls 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ivr.agi_port import AgiCallPort
from ivr.fastagi import AgiRequest, SessionHandler, start_server
from ivr.model import MENU_DIR
from ivr.port import CallPort
from ivr.service import IvrServices, hotline_handlers
from kernel.clock import FakeClock
from telephony.ari import AriClient, AriEndpoint
from telephony.baresip import UaAccount, running_baresip, to_wav8k
from telephony.testing import IvrProbe, cached_ivr_sounds, running_switch, why_no_asterisk

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
MODES = ("typeahead", "asked", "old", "direct")


class Weekdays:
    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5


class OldPort:
    """The call port as it was before type-ahead: STREAM FILE without escape digits, GET DATA only."""

    def __init__(self, port: CallPort) -> None:
        assert isinstance(port, AgiCallPort)
        self.port = port

    def play(self, prompt: str) -> None:
        self.port._call(lambda: self.port.agi.stream_file(prompt, escape_digits=""), prompt)

    def read_digits(self, prompt: str, max_digits: int, timeout_ms: int) -> str | None:
        keys = self.port._call(
            lambda: self.port.agi.get_data(prompt, timeout=timeout_ms, max_digits=max_digits), prompt
        )
        return str(keys) if keys else None

    def pending(self) -> str:
        return ""

    def set_variable(self, name: str, value: str) -> None:
        self.port.set_variable(name, value)

    def hangup(self) -> None:
        self.port.hangup()


def handlers(mode: str, menus: Path, probe: IvrProbe) -> dict[str, SessionHandler]:
    """The hotline's IVR watched by ``probe``; in ``old`` mode over the old call port (inside the probe)."""
    services = IvrServices(
        calendar=Weekdays(), clock=FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC)), menus=menus
    )
    watched = probe.wrap(hotline_handlers(services))["ivr"]
    if mode != "old":
        return {"ivr": watched}

    def old(port: CallPort, request: AgiRequest) -> None:
        watched(OldPort(port), request)

    return {"ivr": old}


@contextlib.asynccontextmanager
async def following(client: AriClient, events: list[dict[str, Any]]) -> AsyncIterator[None]:
    async def keep(event: dict[str, Any]) -> None:
        events.append(event)

    task = asyncio.create_task(client.run_events(keep))
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()


def stamp(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(event["timestamp"]))


async def one_call(mode: str, n: int, sip_port: int, probe: IvrProbe, events: list[dict[str, Any]],
                   audio: Path, work: Path) -> float:  # fmt: skip
    number = f"1380000{n:04d}"
    async with running_baresip(work / f"{mode}{n}", UaAccount(number), audio=audio) as phone:
        await phone.dial(f"sip:12345@127.0.0.1:{sip_port}")
        await phone.wait_event("CALL_ESTABLISHED", within=20)
        if mode == "typeahead":
            for key in "11":
                await asyncio.sleep(0.3)
                await phone.send_digit(key)
        elif mode in ("asked", "old"):
            await probe.press(number, 0, "1", phone.send_digit)
            await probe.press(number, 1, "1", phone.send_digit)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        joined = up = None
        while loop.time() < deadline and joined is None:
            mine = [e for e in events if (e.get("channel") or {}).get("caller", {}).get("number") == number]
            up = next(
                (e for e in mine if e["type"] == "ChannelStateChange" and e["channel"]["state"] == "Up"), None
            )
            joined = next((e for e in mine if e.get("eventname") == "HotlineQueueJoin"), None)
            await asyncio.sleep(0.05)
        await phone.hangup()
    if joined is None or up is None:
        raise RuntimeError(f"{mode} call {n} did not reach the queue: {probe.of(number)}")
    return (stamp(joined) - stamp(up)).total_seconds()


async def run(modes: list[str], calls: int) -> dict[str, list[float]]:
    sounds = cached_ivr_sounds()
    clip = sorted(AUDIO.glob("*.wav"))[0]
    work = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    audio = to_wav8k(clip, work / "caller.wav")
    direct = work / "menus"
    shutil.copytree(MENU_DIR, direct)
    menu = direct / "hotline.yaml"
    menu.write_text(menu.read_text(encoding="utf-8").replace("\nmode: menu\n", "\nmode: direct\n"), "utf-8")
    results: dict[str, list[float]] = {}
    for mode in modes:
        probe = IvrProbe()
        agi = start_server(
            "127.0.0.1", 0, handlers=handlers(mode, direct if mode == "direct" else MENU_DIR, probe)
        )
        try:
            with running_switch(fastagi_port=agi.port, sounds=sounds) as switch:
                cfg = switch.config
                client = AriClient(
                    AriEndpoint(
                        f"http://127.0.0.1:{cfg.http_port}", cfg.ari_user, cfg.ari_password, cfg.ari_app
                    )
                )
                events: list[dict[str, Any]] = []
                async with following(client, events):
                    results[mode] = [
                        await one_call(mode, n, cfg.sip_port, probe, events, audio, work)
                        for n in range(calls)
                    ]
        finally:
            agi.stop()
    shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    reason = why_no_asterisk(need=("sox",))
    if reason:
        print(f"cannot run: {reason}")
        return 2
    print(f"load before: {os.getloadavg()}")
    results = asyncio.run(run(args.modes.split(","), args.calls))
    print(f"load after: {os.getloadavg()}")
    print("| mode | calls | answer → queue median | min | max |")
    print("|---|---|---|---|---|")
    for mode, seconds in results.items():
        print(
            f"| {mode} | {len(seconds)} | {statistics.median(seconds):.2f} s | {min(seconds):.2f} s | {max(seconds):.2f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
