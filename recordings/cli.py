"""``hotline recordings ...``: ingest, compress, retention, verify, list, play, sample."""

from __future__ import annotations

import getpass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from kernel.cli import parts
from recordings.context import RecordingsContext
from recordings.parts import RecordingsParts

if TYPE_CHECKING:
    from recordings.call_end import CallEndIngestor

app = typer.Typer(help="录音与质检 / recordings and quality review", no_args_is_help=True)
console = Console()


def _ctx(ctx: typer.Context) -> RecordingsContext:
    return parts(ctx, RecordingsParts).ctx


@app.command()
def ingest(
    typer_ctx: typer.Context,
    call_id: str,
    directory: Annotated[Path, typer.Argument(help="MixMonitor's folder, e.g. …/monitor/hotline")],
    uniqueid: Annotated[str | None, typer.Option(help="file stem when it differs from the call id")] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    queue: Annotated[str | None, typer.Option()] = None,
    order: Annotated[list[str] | None, typer.Option(help="linked work-order number (repeatable)")] = None,
) -> None:
    """Store a finished call's MixMonitor files (idempotent)."""
    from recordings.ingest import ingest as do_ingest

    result = do_ingest(
        _ctx(typer_ctx),
        call_id,
        directory,
        uniqueid=uniqueid,
        agent=agent,
        queue=queue,
        order_numbers=order or (),
    )
    console.print(
        f"recording {result.recording_id}: stored {result.stored or '-'}, unchanged {result.unchanged or '-'}"
    )


@app.command()
def compress(
    typer_ctx: typer.Context, codec: Annotated[str, typer.Option(help="opus | gsm")] = "opus"
) -> None:
    """Make compressed long-term copies of every recording that has none yet."""
    from recordings.compress import compress_recording, pending_compression

    ctx = _ctx(typer_ctx)
    pending = pending_compression(ctx)
    before = after = 0
    with Progress(console=console) as progress:
        task = progress.add_task("compressing", total=len(pending))
        for recording_id in pending:
            done = compress_recording(ctx, recording_id, codec)
            if done:
                before, after = before + done.original_bytes, after + done.compressed_bytes
            progress.advance(task)
    console.print(f"{len(pending)} recordings, {before} → {after} bytes")


@app.command()
def retention(
    typer_ctx: typer.Context,
    run: Annotated[
        bool, typer.Option("--run/--dry-run", help="apply the policy; without --run only report")
    ] = False,
    keep_original_days: Annotated[
        int | None, typer.Option(help="default $HOTLINE_RECORDINGS_KEEP_ORIGINAL_DAYS or 30")
    ] = None,
    delete_after_days: Annotated[
        int | None, typer.Option(help="default $HOTLINE_RECORDINGS_DELETE_AFTER_DAYS or 730")
    ] = None,
    compress_first: Annotated[bool, typer.Option("--compress/--no-compress")] = True,
    codec: Annotated[str, typer.Option(help="opus | gsm")] = "opus",
    sweep: Annotated[bool, typer.Option("--sweep/--no-sweep", help="store spool leftovers first")] = True,
) -> None:
    """Sweep the spool, compress, apply the retention policy, and report what was deleted (the job the web
    process runs daily; a run without --run changes nothing)."""
    from dataclasses import replace
    from zoneinfo import ZoneInfo

    from recordings.jobs import run_retention_job
    from recordings.orders import SqlOrderLookup
    from recordings.retention import RetentionPolicy

    hot = parts(typer_ctx, RecordingsParts)
    ctx = hot.ctx
    policy = RetentionPolicy.from_env()
    if keep_original_days is not None:
        policy = replace(policy, keep_original_days=keep_original_days)
    if delete_after_days is not None:
        policy = replace(policy, delete_after_days=delete_after_days)
    ingestor = _ingestor(hot) if sweep and run else None
    try:
        report = run_retention_job(
            ctx,
            SqlOrderLookup(ctx.session_factory),
            policy,
            dry_run=not run,
            compress=compress_first,
            codec=codec,
            ingestor=ingestor,
            run_on=ctx.clock.now().astimezone(ZoneInfo(hot.settings.timezone)).date(),
        )
    finally:
        if ingestor is not None:
            ingestor.close()
    assert report is not None  # a run by hand claims no slot
    for swept in report.swept:
        console.print(f"swept call {swept['call_id']}: {swept['outcome']} {swept['detail']}")
    for done in report.compressed:
        console.print(
            f"compressed {done['recording_id']}: {done['original_bytes']} → {done['compressed_bytes']} bytes"
        )
    for failed in report.compress_failed:
        console.print(f"[red]compression failed[/red] {failed['recording_id']}: {failed['error']}")
    table = Table(
        "recording", "call", "deleted / 删除", title="would delete (dry run)" if not run else "deleted"
    )
    for action in report.deleted:
        table.add_row(
            str(action["recording_id"]), action["call_id"], f"{action['what']}: {', '.join(action['kinds'])}"
        )
    console.print(table)
    for hold in report.held:
        console.print(
            f"held {hold['recording_id']} ({hold['call_id']}): open orders {', '.join(hold['open_orders'])}"
        )
    console.print(
        f"run {report.run_id}{' (dry run)' if not run else ''}: {len(report.compressed)} compressed, "
        f"{len(report.deleted)} deleted, {report.bytes_freed} bytes freed, {len(report.held)} held"
    )


def _ingestor(hot: RecordingsParts, monitor_dir: Path | None = None) -> CallEndIngestor:
    from recordings.call_end import CallEndIngestor
    from recordings.call_end_terms import main_monitor_dir
    from recordings.calls import SqlCallLookup
    from recordings.transcripts import SqlTranscriptSource

    return CallEndIngestor(
        hot.ctx,
        monitor_dir or main_monitor_dir(hot.settings),
        calls=SqlCallLookup(hot.session_factory),
        transcripts=SqlTranscriptSource(hot.session_factory),
        workers=1,
    )


@app.command()
def sweep(
    typer_ctx: typer.Context,
    monitor_dir: Annotated[
        Path | None, typer.Option(help="default: the main Asterisk instance's monitor directory")
    ] = None,
) -> None:
    """Store every finished call left in the switch's spool (calls that ended while the web process was
    down, or whose ingest failed); each call's outcome is logged."""
    hot = parts(typer_ctx, RecordingsParts)
    ingestor = _ingestor(hot, monitor_dir)
    try:
        outcomes = ingestor.sweep()
    finally:
        ingestor.close()
    for o in outcomes:
        console.print(f"{o.call_id}: {o.outcome} recording {o.recording_id or '-'} {o.detail}")
    console.print(f"{len(outcomes)} calls swept from {ingestor.monitor_dir}")


@app.command()
def verify(
    typer_ctx: typer.Context,
) -> None:
    """Check every stored file against its SHA-256; exit 1 when one is missing or altered."""
    from recordings.integrity import verify as do_verify

    with Progress(console=console) as progress:
        task = progress.add_task("verifying", total=None)
        report = do_verify(
            _ctx(typer_ctx), progress=lambda done, total: progress.update(task, completed=done, total=total)
        )
    for problem in report.problems:
        console.print(
            f"[red]{problem.problem}[/red] recording {problem.recording_id} {problem.kind} "
            f"{problem.storage_key} {problem.detail}"
        )
    for orphan in report.orphans:
        console.print(f"[yellow]orphan[/yellow] {orphan}")
    console.print(
        f"{report.checked} files checked, {len(report.problems)} problems, {len(report.orphans)} orphans"
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command("list")
def list_recordings(
    typer_ctx: typer.Context,
    agent: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option()] = 20,
) -> None:
    """The latest recordings."""
    from recordings.queries import RecordingFilter, find_recordings, recording_json

    ctx = _ctx(typer_ctx)
    table = Table("id", "call", "agent", "started", "seconds", "state", "files")
    with ctx.session_factory() as session:
        for r in find_recordings(session, RecordingFilter(agent=agent, limit=limit)):
            row = recording_json(r)
            table.add_row(
                str(r.id),
                r.call_id,
                r.agent or "",
                row["started_at"],
                f"{r.duration_ms / 1000:.1f}",
                r.retention_state,
                ",".join(row["kinds"]),
            )
    console.print(table)


@app.command()
def play(
    typer_ctx: typer.Context,
    recording_id: int,
    device: Annotated[str | None, typer.Option(help="PortAudio device name or index (see `devices`)")] = None,
    kind: Annotated[str | None, typer.Option(help="mixed | caller | agent | compressed")] = None,
) -> None:
    """Play a recording on this station's sound device (audited)."""
    from recordings.access import ListenAudit, Listener
    from recordings.orm import Recording
    from recordings.player import play_bytes
    from recordings.queries import playable_file
    from recordings.storage import read_all

    ctx = _ctx(typer_ctx)
    with ctx.session_factory() as session:
        recording = session.get(Recording, recording_id)
        file = playable_file(recording, kind) if recording else None
        if file is None:
            console.print(f"[red]没有可播放的录音 / nothing to play for recording {recording_id}[/red]")
            raise typer.Exit(1)
        key = file.storage_key
    data = read_all(ctx.store, key)
    ListenAudit(ctx.session_factory, ctx.clock.now).record(
        Listener(getpass.getuser(), "station"), recording_id, "play", kind=file.kind, client="local"
    )
    chosen: str | int | None = int(device) if device and device.isdigit() else device
    with Progress(console=console) as progress:
        task = progress.add_task(f"playing {recording_id}", total=None)
        played = play_bytes(
            data,
            device=chosen,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"played {played.frames} frames at {played.sample_rate} Hz on {played.device}")


@app.command()
def devices() -> None:
    """Output devices PortAudio sees."""
    from recordings.player import list_output_devices

    for line in list_output_devices():
        console.print(line)


@app.command()
def sample(
    typer_ctx: typer.Context,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (local time); default today")] = None,
    percent: Annotated[float, typer.Option(help="random share of each agent's calls")] = 5.0,
) -> None:
    """Pick calls for quality review: a random share per agent plus the rule-based ones."""
    from recordings.orders import SqlOrderLookup
    from recordings.sampling import SamplingRules, run_sampling
    from recordings.transcripts import SqlTranscriptSource

    hot = parts(typer_ctx, RecordingsParts)
    ctx = hot.ctx
    when = date.fromisoformat(day) if day else datetime.now().date()
    samples = run_sampling(
        ctx,
        SqlOrderLookup(ctx.session_factory),
        SqlTranscriptSource(ctx.session_factory),
        when,
        SamplingRules(random_percent=percent),
        tz=hot.settings.timezone,
    )
    for s in samples:
        console.print(
            f"{s.reason:13} recording {s.recording_id} call {s.call_id} agent {s.agent or '-'} {s.detail}"
        )
    console.print(f"{len(samples)} new samples for {when}")
