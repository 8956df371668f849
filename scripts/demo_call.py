"""Place a demo call into the running system (after `make run`): two headless SIP phones (baresip).

The agent's phone registers as the demo agent with the SIP password `make run` printed and answers
automatically; the citizen's phone dials 12345, presses 1 (Mandarin) after the welcome, then 1 (consultation)
into the main menu, and plays a real Mandarin clip. Meanwhile log in to the web desk as that agent:
the screen pop, the live transcript and the suggestions appear there.

    .venv/bin/python scripts/demo_call.py --password PASSWORD [--agent agent1] [--clip FILE] [--talk 25]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telephony.baresip import UaAccount, running_baresip, to_wav8k  # noqa: E402

CLIP = ROOT.parent / "shared" / "audio" / "zh_aishell_BAC009S0724W0121.wav"


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", default="agent1")
    ap.add_argument("--password", required=True, help="the agent's SIP password (make run prints it)")
    ap.add_argument("--switch", default="127.0.0.1:5060")
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--talk", type=float, default=25.0, help="seconds to stay on the line once answered")
    ap.add_argument(
        "--keys", default="11", help="IVR keys: language, then service ('' waits for the IVR's fallback)"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        base = Path(work)
        # The citizen keeps talking (the clip, a pause, again...): whatever the IVR took, the agent hears them.
        once = to_wav8k(args.clip, base / "once.wav", pad_seconds=3)
        voice = base / "citizen.wav"
        sox = await asyncio.create_subprocess_exec("sox", str(once), str(voice), "repeat", "60")
        if await sox.wait() != 0:
            raise SystemExit("sox could not build the citizen's audio")
        agent_voice = to_wav8k(args.clip, base / "agent.wav", pad_seconds=600)
        agent = UaAccount(args.agent, password=args.password, registrar=args.switch, auto_answer=True)
        async with running_baresip(base / "agent", agent, audio=agent_voice) as desk_phone:
            await asyncio.sleep(3)  # baresip registers as it starts, before its control socket reports events
            print(f"{args.agent}'s phone started (registering at {args.switch})")
            async with running_baresip(base / "citizen", UaAccount("13800138000"), audio=voice) as phone:
                await phone.dial(f"sip:12345@{args.switch}")
                await phone.wait_event("CALL_ESTABLISHED", within=15)
                print("12345 answered: the IVR speaks")
                # The welcome (7 s) and the recording notice (5 s) cannot be skipped; the language and main
                # menus take a key while they play. A key pressed between two AGI commands is lost, so each
                # is pressed three times across the menu's prompt (a menu reads only the first).
                started = asyncio.get_running_loop().time()
                for key, at in zip(args.keys, (8.0, 16.0), strict=False):
                    for offset in (0.0, 1.5, 3.0):
                        delay = started + at + offset - asyncio.get_running_loop().time()
                        await asyncio.sleep(max(0.0, delay))
                        await phone.send_digit(key)
                    print(f"pressed {key}")
                mark = len(desk_phone.events)
                await desk_phone.wait_event("CALL_ESTABLISHED", after=0, within=150)
                print(f"{args.agent} answered; talking for {args.talk:.0f} s")
                await asyncio.sleep(args.talk)
                await phone.hangup()
                await desk_phone.wait_event("CALL_CLOSED", after=mark, within=15)
                print("hung up")


if __name__ == "__main__":
    asyncio.run(main())
