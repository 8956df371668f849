"""The outbound application composed: routing's satisfaction-callback campaign (回访) dialling through
telephony's outbound ARI application, and callback-in-queue. One process per switch serves it (the
campaign role holds a lease); ``hotline callbacks run-once`` does one round with an application of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import typer
from rich.console import Console

from hotline.bootstrap import App
from kernel.cli import parts
from routing.callback_campaign import CallbackCampaign, RoundReport
from routing.callback_policy import policy_from_settings
from telephony.missed_calls import queue_callback_policy
from telephony.outbound import AriDialer, OutboundAri, outbound_from_settings
from telephony.queue_callback import QueueCallbacks, QueueCallbackStore

log = logging.getLogger(__name__)
console = Console()


@dataclass
class Outbound:
    ari: OutboundAri
    campaign: CallbackCampaign
    queue_callbacks: QueueCallbacks


@contextlib.asynccontextmanager
async def outbound(app: App, *, app_suffix: str = "-outbound") -> AsyncIterator[Outbound]:
    """The outbound ARI application connected (it keeps reconnecting while the switch is down)."""
    ari, plan = outbound_from_settings(app.settings, app_suffix=app_suffix)
    campaign = CallbackCampaign(
        app.work_orders, AriDialer(ari, plan), policy_from_settings(app.settings, app.calendar)
    )
    queue_callbacks = QueueCallbacks(
        ari,
        QueueCallbackStore(app.write_session_factory),
        app.clock,
        plan=plan,
        policy=queue_callback_policy(app.settings, app.calendar),  # windows, holidays, missed-call time
    )
    try:
        await ari.start()
    except TimeoutError:
        log.warning("the switch's ARI is not reachable yet; the outbound application keeps trying")
    try:
        yield Outbound(ari, campaign, queue_callbacks)
    finally:
        await ari.aclose()


async def serve_outbound(app: App, stop: asyncio.Event) -> None:
    """Satisfaction callbacks and callback-in-queue until ``stop`` is set."""
    async with outbound(app) as out:
        await asyncio.gather(out.campaign.run_forever(stop), out.queue_callbacks.run_forever(stop))


async def one_round(app: App) -> RoundReport:
    # The callback-in-queue hooks enter {ari_app}-outbound, which only one process may serve (a second
    # websocket for the same application would take its events away): a one-off round uses its own.
    async with outbound(app, app_suffix="-outbound-once") as out:
        return await out.campaign.run_once()


def add_commands(callbacks: typer.Typer) -> None:
    """``hotline callbacks run-once`` and ``run``: the group is routing's; calling needs telephony."""

    @callbacks.command("run-once")
    def run_once(ctx: typer.Context) -> None:
        """一轮回访 / One round: create due callbacks, call those due now (inside the calling windows)."""
        report = asyncio.run(one_round(parts(ctx, App)))
        console.print(
            f"new {report.created}, cancelled {report.cancelled}, called {report.called}: "
            + (", ".join(f"{k} {v}" for k, v in sorted(report.results.items())) or "-")
        )

    @callbacks.command("run")
    def run(ctx: typer.Context) -> None:
        """持续回访 / Keep calling (a round every 30 s), and serve callback-in-queue, until interrupted
        (the campaign role: ``hotline run campaign``)."""
        from hotline.roles import run_from_cli

        run_from_cli(ctx, ["campaign"], alone=False)
