"""Second-pass accuracy on the real Mandarin clips: CER and time per clip, per beam and encoder window.

.venv/bin/python bench/asr_accuracy.py                         # beams 1,5; minimum windows 30 s and 10 s
.venv/bin/python bench/asr_accuracy.py --beams 5 --windows 30,15,10,8

``--windows`` is WhisperOptions.min_window_s: 30 is Whisper's full window (faster-whisper's own way),
smaller ones size the encoder's window to the utterance (see asr/whisper.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import tempfile
import time
import unicodedata
import wave
from datetime import UTC, datetime
from pathlib import Path

from asr.offline import edit_distance

AUDIO = Path(__file__).resolve().parents[2] / "shared" / "audio"


def chars(text: str) -> str:
    return "".join(c for c in text if not unicodedata.category(c).startswith(("P", "Z", "S")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--beams", default="1,5")
    parser.add_argument("--windows", default="30,10", help="minimum encoder windows in seconds")
    parser.add_argument("--margin", type=float, default=4.0, help="window margin after the speech, s")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from asr.whisper import WhisperOptions, WhisperSecondPass, prepare_model

    model = prepare_model(Path(tempfile.gettempdir()) / "hotline-bench-whisper-base")
    with (AUDIO / "references.tsv").open(encoding="utf-8") as f:
        refs = [(r["file"], r["reference"]) for r in csv.DictReader(f, delimiter="\t") if r["lang"] == "zh"]
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    for beam, window in [(int(b), float(w)) for b in args.beams.split(",") for w in args.windows.split(",")]:
        whisper = WhisperSecondPass(
            model, WhisperOptions(beam_size=beam, min_window_s=window, window_margin_s=args.margin)
        )
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
            print(f"  {name}: {text} ({times[-1]:.2f} s for {len(pcm) / 32000:.1f} s)")
        print(
            f"beam {beam} window ≥{window:.0f} s: CER {100 * errors / total:.1f}% ({errors}/{total} chars), "
            f"mean {sum(times) / len(times):.2f} s per clip, one thread; load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
