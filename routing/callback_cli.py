"""``hotline callbacks ...``: the satisfaction-callback campaign from the command line.

``run-once`` is one round (sync, then survey calls through the switch when inside a calling window);
``run`` keeps going; ``due``, ``manual`` and ``attempts NUMBER`` show the state. Calling needs the switch's
ARI (telephony): it is the one command here that reaches beyond routing, as an entry point may.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from hotline.bootstrap import App, bootstrap
from routing.callback_campaign import CallbackCampaign, RoundReport
from routing.callback_orm import CallbackTask
from routing.callback_policy import policy_from_settings

app = typer.Typer(help="满意度回访 / satisfaction callbacks (回访)", no_args_is_help=True)
console = Console()


async def _round(hot: App, *, forever: bool) -> RoundReport | None:
    from telephony.outbound import AriDialer, outbound_from_settings
    from telephony.queue_callback import QueueCallbacks, QueueCallbackStore

    # The callback-in-queue hooks enter {ari_app}-outbound, which only one process may serve (a second
    # websocket for the same application would take its events away): a one-off round uses its own.
    ari, plan = outbound_from_settings(hot.settings, app_suffix="-outbound" if forever else "-outbound-once")
    campaign = CallbackCampaign(hot.work_orders, AriDialer(ari, plan), policy_from_settings(hot.settings))
    try:
        await ari.start()
    except TimeoutError:
        console.print(
            "[yellow]交换机 ARI 未连接 / the switch's ARI is not reachable: no calls placed[/yellow]"
        )
    try:
        if forever:
            queue_callbacks = QueueCallbacks(
                ari, QueueCallbackStore(hot.write_session_factory), hot.clock, plan=plan
            )
            stop = asyncio.Event()
            await asyncio.gather(campaign.run_forever(stop), queue_callbacks.run_forever(stop))
            return None
        return await campaign.run_once()
    finally:
        await ari.aclose()


@contextlib.contextmanager
def _hotline() -> Iterator[App]:
    hot = bootstrap()
    try:
        yield hot
    finally:
        hot.close()


@app.command("run-once")
def run_once() -> None:
    """一轮回访 / One round: create due callbacks, call those due now (inside the calling windows)."""
    with _hotline() as hot:
        report = asyncio.run(_round(hot, forever=False))
    assert report is not None
    console.print(
        f"new {report.created}, cancelled {report.cancelled}, called {report.called}: "
        + (", ".join(f"{k} {v}" for k, v in sorted(report.results.items())) or "-")
    )


@app.command("run")
def run() -> None:
    """持续回访 / Keep calling (a round every 30 s), and serve callback-in-queue, until interrupted."""
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt), _hotline() as hot:
        asyncio.run(_round(hot, forever=True))


def _tasks(hot: App, state: str) -> None:
    table = Table("order", "unit", "attempts", "next call (UTC)", "result", "note")
    with hot.session_factory() as session:
        rows = session.scalars(
            select(CallbackTask).where(CallbackTask.state == state).order_by(CallbackTask.next_attempt_at)
        ).all()
    for row in rows:
        when = f"{row.next_attempt_at:%Y-%m-%d %H:%M}" if row.next_attempt_at else ""
        table.add_row(row.order_number, row.unit_code or "", str(row.attempts), when, row.result, row.note)
    console.print(table)


@app.command()
def due() -> None:
    """待回访 / Callbacks the survey will make."""
    with _hotline() as hot:
        _tasks(hot, "due")


@app.command()
def manual() -> None:
    """人工回访清单 / The manual callback list (the survey reached nobody)."""
    with _hotline() as hot:
        _tasks(hot, "manual")


@app.command()
def attempts(
    number: Annotated[str, typer.Argument(help="work order number, e.g. HK202611230000123")],
) -> None:
    """回访记录 / Every call made for one work order."""
    with _hotline() as hot:
        done = CallbackCampaign(hot.work_orders, None).attempts(number)
    table = Table("#", "mode", "by", "role", "status", "solved", "rating", "outcome", "at (UTC)", "recording")
    for a in done:
        table.add_row(
            str(a.attempt),
            a.mode,
            a.by,
            a.by_role,
            a.call_status,
            "" if a.solved is None else ("yes" if a.solved else "no"),
            "" if a.rating is None else str(a.rating),
            a.outcome,
            f"{a.started_at:%Y-%m-%d %H:%M:%S}",
            a.recording or "",
        )
    console.print(table)
