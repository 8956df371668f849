"""Mandarin accuracy and speed of the live pipeline, as ``hotline asr transcribe`` runs it (issue 10).

.venv/bin/python bench/asr_pipeline.py          # the zh profile from settings (here: Silero VAD + Whisper)

Each referenced Mandarin clip of ../shared/audio is transcribed clean (16 kHz PCM WAV) and as an 8 kHz μ-law
WAV (what a call carries), each read and resampled by asr.audio (soxr) and fed through asr.offline (the
CallTranscription of a call). Prints CER per clip and pooled, and the real-time factor (decode seconds per
second of audio, one process; Whisper uses one thread per decode).
"""

from __future__ import annotations

import csv
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from asr.audio import read_pcm16k, write_ulaw_wav
    from asr.offline import Score, score, transcribe_pcm
    from asr.profiles import build_engines
    from kernel.settings import load_settings

    engines = build_engines(load_settings(), "zh", partials="placeholder")
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load {os.getloadavg()[0]:.1f}\n{engines.profile.describe()}"
    )
    with (AUDIO / "references.tsv").open(encoding="utf-8") as f:
        refs = [(r["file"], r["reference"]) for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "zh"]
    transcribe_pcm(read_pcm16k(AUDIO / refs[0][0]), engines)  # warm-up: model load, first-call costs
    pooled = {"clean": Score(0, 0), "μ-law 8 kHz": Score(0, 0)}
    spent = {k: 0.0 for k in pooled}
    audio_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for name, reference in refs:
            clean = AUDIO / name
            ulaw = write_ulaw_wav(read_pcm16k(clean), Path(tmp) / f"{name}.ulaw.wav")
            for coding, path in (("clean", clean), ("μ-law 8 kHz", ulaw)):
                t = time.perf_counter()
                pcm = read_pcm16k(path)
                text = "".join(s.text for s in transcribe_pcm(pcm, engines))
                spent[coding] += time.perf_counter() - t
                got = score(text, reference)
                pooled[coding] += got
                print(f"  {name} {coding}: CER {got.cer:.1%} ({got.errors}/{got.chars}) {text}")
            audio_s += len(read_pcm16k(clean)) / 32000
    for coding, total in pooled.items():
        print(
            f"{coding}: CER {total.cer:.1%} ({total.errors}/{total.chars} chars); "
            f"real-time factor {spent[coding] / audio_s:.2f} ({audio_s:.1f} s of audio)"
        )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
