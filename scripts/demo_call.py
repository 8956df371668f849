"""Place a demo call into the running system (after `make run`): two headless SIP phones (baresip).

Before you run it, log in to the web desk as the agent and set the status to 就绪 (ready): app_queue only
rings a ready agent. The agent's phone registers with the SIP password `make run` printed and answers by
itself; the citizen's phone dials 12345 and presses the keys that lead to an agent *now* (read from the menu
in force: by day 1 Mandarin then 1 enquiries, at night 1 then 0, since 1 then asks for a callback), and plays
a real Mandarin clip. On the desk the screen pop, the live transcript and the suggestions appear.

    .venv/bin/python scripts/demo_call.py --password PASSWORD [--agent agent1] [--clip FILE] [--talk 25]
                                          [--at 2026-11-23T23:00+08:00]   # choose the keys as at that time
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ivr.model import load_menu  # noqa: E402
from ivr.paths import KeyPath, keys_to_queue  # noqa: E402
from ivr.service import menu_dir  # noqa: E402
from kernel.clock import Clock, FakeClock, SystemClock  # noqa: E402
from routing.calendar import ChineseWorkCalendar  # noqa: E402
from telephony.baresip import UaAccount  # noqa: E402
from telephony.demo import agent_not_ready, demo_call  # noqa: E402

CLIP = ROOT.parent / "shared" / "audio" / "zh_aishell_BAC009S0724W0121.wav"


def plan(clock: Clock, keys: str | None = None) -> KeyPath:
    """The keys to press at the clock's time, from the menu the IVR runs (``$HOTLINE_IVR_MENU_DIR``)."""
    menu = load_menu(menu_dir() / "hotline.yaml")
    path = keys_to_queue(menu, clock.now(), ChineseWorkCalendar())
    return path if keys is None else KeyPath(keys, path.route, path.period)


def preflight(agent: str) -> str | None:
    """Why the agent would not be rung, when the main switch can be asked (root, same machine)."""
    try:
        from kernel.settings import load_settings
        from telephony.setup import main_switch

        shown = main_switch(load_settings(), []).rx("queue show", timeout=5)
    except Exception:  # not root, no switch here: the call itself will tell
        return None
    return agent_not_ready(shown, agent)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", default="agent1")
    ap.add_argument("--password", required=True, help="the agent's SIP password (make run prints it)")
    ap.add_argument("--switch", default="127.0.0.1:5060")
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--talk", type=float, default=25.0, help="seconds to stay on the line once answered")
    ap.add_argument("--keys", default=None, help="IVR keys to press instead of those of the menu in force")
    ap.add_argument("--at", type=datetime.fromisoformat, default=None, help="choose the keys as at this time")
    args = ap.parse_args()
    clock: Clock = FakeClock(args.at) if args.at else SystemClock()
    path = plan(clock, args.keys)
    print(f"{path.period} menu: pressing {' then '.join(path.keys) or 'nothing'} for {path.route}")
    problem = preflight(args.agent)
    if problem:
        print(f"not calling: {problem}")
        return 2
    with tempfile.TemporaryDirectory() as work:
        outcome = await demo_call(
            switch=args.switch,
            agent=UaAccount(args.agent, password=args.password, registrar=args.switch, auto_answer=True),
            citizen=UaAccount("13800138000"),
            keys=path.keys,
            clip=args.clip,
            work=Path(work),
            talk_seconds=args.talk,
        )
    print(outcome.message if outcome.ok else f"demo call failed: {outcome.message}")
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
