"""Second-pass accuracy on the real Mandarin clips: CER and time per clip, greedy vs beam search.

.venv/bin/python bench/asr_accuracy.py
"""

from __future__ import annotations

import csv
import os
import platform
import tempfile
import time
import unicodedata
import wave
from datetime import UTC, datetime
from pathlib import Path

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def chars(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def edit_distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from asr.whisper import WhisperOptions, WhisperSecondPass, prepare_model

    model = prepare_model(Path(tempfile.gettempdir()) / "hotline-bench-whisper-base")
    with (AUDIO / "references.tsv").open(encoding="utf-8") as f:
        refs = [(r["file"], r["reference"]) for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "zh"]
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for beam in (1, 5):
        whisper = WhisperSecondPass(model, WhisperOptions(beam_size=beam))
        errors = total = 0
        times = []
        for name, reference in refs:
            with wave.open(str(AUDIO / name), "rb") as w:
                pcm = w.readframes(w.getnframes())
            t = time.perf_counter()
            text = whisper.transcribe(pcm)
            times.append(time.perf_counter() - t)
            errors += edit_distance(chars(text), chars(reference))
            total += len(chars(reference))
            print(f"  beam {beam} {name}: {text} ({times[-1]:.2f} s for {len(pcm) / 32000:.1f} s)")
        print(
            f"beam {beam}: CER {100 * errors / total:.1f}% ({errors}/{total} chars), "
            f"mean {sum(times) / len(times):.2f} s per clip, one thread, idle machine"
        )


if __name__ == "__main__":
    main()
