"""The order form that fills itself, measured on realistic calls (bench/data/assist_calls.yaml).

.venv/bin/python bench/assist_calls.py                     # the citizens' finals as text
.venv/bin/python bench/assist_calls.py --speech 12         # also 12 calls through speech:
                                                           # espeak-ng (Mandarin) → 8 kHz μ-law → 16 kHz
                                                           # → Whisper base (asr/whisper.py) → same path

Each call's finals go one by one through the suggestion engine and the assist, as on a live call; the last
autofill is compared with the truth an agent would file. Reported: district accuracy (an empty district is
right when the truth is empty), address F1 (characters, SQuAD-style; both empty counts 1), category top-1
(first level), case type, unit (one of the acceptable leads), and per field whether the agent could keep
the value or had to change it. The location counts as kept at address F1 ≥ 0.8; the summary counts as kept
when it has the words the truth lists; the phone counts as kept when the number on the form is the one to
call back (a number read out is only offered, so taking it is a change). espeak-ng speech is synthetic: it
tests the mechanics (numbers, place names through recognition), not the recognizer's accuracy on callers.
espeak-ng's ``cmn`` voice turns characters into pinyin and then reads that pinyin with English letter rules
(Whisper heard "1,2,1,4,…" for every call), so the text is given to it as tone-numbered pinyin
(pypinyin) with the ``cmn-latn-pinyin`` variant of the same Mandarin voice, as the IVR's prompts are made.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from pypinyin import Style, lazy_pinyin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.assist.autofill import Autofill
from routing.assist.service import Assistant
from routing.suggest.factory import engine_from_files
from routing.suggest.service import SuggestionEngine

CALLS = Path(__file__).parent / "data" / "assist_calls.yaml"
FIELDS = ("citizen_phone", "district", "location_text", "case_type", "category", "unit", "description")


def char_f1(guess: str, truth: str) -> float:
    if not guess and not truth:
        return 1.0
    if not guess or not truth:
        return 0.0
    common = sum((Counter(guess) & Counter(truth)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(guess), common / len(truth)
    return 2 * precision * recall / (precision + recall)


def unit_ok(code: str, units: list[str]) -> bool:
    if code in units:
        return True
    return code.startswith("district_bureau.") and f"city.{code.split('.', 2)[2]}" in units


def kept(fill: Autofill, truth: dict[str, Any], caller: str) -> dict[str, bool]:
    phone = str(truth.get("callback") or caller)
    category = fill.value("category").split("/", 1)[0]
    return {
        "citizen_phone": fill.value("citizen_phone") == phone,
        "district": fill.value("district") == (truth["district"] or ""),
        "location_text": char_f1(fill.value("location_text"), truth["address"] or "") >= 0.8,
        "case_type": fill.value("case_type") == truth["type"],
        "category": category in _listed(truth["category"]),
        "unit": unit_ok(fill.value("unit"), truth["units"]),
        "description": all(w in fill.value("description") for w in truth.get("summary") or ()),
    }


def run(engine: SuggestionEngine, assistant: Assistant, calls: list[dict[str, Any]], finals_of: Any) -> None:
    per_field: dict[str, list[bool]] = {f: [] for f in FIELDS}
    f1s, offered, latencies = [], [], []
    wrong: list[str] = []
    for call in calls:
        call_id = call["id"]
        assistant.call_started(call_id, call["caller"])
        fill = None
        for text in finals_of(call):
            started = time.perf_counter()
            result = engine.on_final_utterance(text, call_id)
            fill = assistant.on_final(call_id, text, result, engine.dispatcher)
            latencies.append((time.perf_counter() - started) * 1000)
        engine.call_ended(call_id)
        assistant.call_ended(call_id)
        assert fill is not None
        truth = call["truth"]
        outcome = kept(fill, truth, call["caller"])
        for name, ok in outcome.items():
            per_field[name].append(ok)
            if not ok:
                wrong.append(f"{call_id} {name}: {fill.value(name)!r} (truth {_truth(name, truth, call)!r})")
        f1s.append(char_f1(fill.value("location_text"), truth["address"] or ""))
        if truth.get("callback"):
            offered.append(truth["callback"] in fill.fields["citizen_phone"].offers)
    n = len(calls)
    print(f"calls {n}, finals {len(latencies)}")
    print(f"district accuracy {sum(per_field['district'])}/{n} = {sum(per_field['district']) / n:.3f}")
    print(f"address F1 {statistics.mean(f1s):.3f}")
    print(
        f"category top-1 (first level) {sum(per_field['category'])}/{n} = {sum(per_field['category']) / n:.3f}"
    )
    print(f"case type {sum(per_field['case_type'])}/{n}   unit {sum(per_field['unit'])}/{n}")
    print(f"callback numbers read out and offered {sum(offered)}/{len(offered)}")
    total = sum(len(v) for v in per_field.values())
    kept_all = sum(sum(v) for v in per_field.values())
    print(f"fields kept {kept_all}/{total} = {kept_all / total:.3f}  (changed {total - kept_all})")
    print("kept per field: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in per_field.items()))
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"suggest + autofill compute per final: p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms"
    )
    for line in wrong:
        print("  changed:", line)


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _truth(name: str, truth: dict[str, Any], call: dict[str, Any]) -> Any:
    return {
        "citizen_phone": truth.get("callback") or call["caller"],
        "district": truth["district"],
        "location_text": truth["address"],
        "case_type": truth["type"],
        "category": truth["category"],
        "unit": truth["units"],
        "description": truth.get("summary"),
    }[name]


def speech_finals(whisper: Any, workdir: Path) -> Any:
    """Each final spoken by espeak-ng (Mandarin), coded as telephone audio, recognised by Whisper base."""

    def finals_of(call: dict[str, Any]) -> list[str]:
        out = []
        for i, text in enumerate(call["finals"]):
            wav = workdir / f"{call['id']}-{i}.wav"
            ulaw = wav.with_suffix(".ulaw")
            pcm = wav.with_suffix(".raw")
            spoken = " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))
            voice = ["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "150", "-w", str(wav), spoken]
            subprocess.run(voice, check=True)
            subprocess.run(
                ["sox", "-q", str(wav), "-r", "8000", "-c", "1", "-t", "raw", "-e", "mu-law", str(ulaw), "vol", "0.7"],
                check=True,
            )  # fmt: skip
            subprocess.run(
                ["sox", "-q", "-t", "raw", "-r", "8000", "-e", "mu-law", "-c", "1", str(ulaw),
                 "-r", "16000", "-b", "16", "-e", "signed-integer", "-t", "raw", str(pcm)],
                check=True,
            )  # fmt: skip
            heard = whisper.transcribe(pcm.read_bytes())
            print(f"    {call['id']} said {text!r} heard {heard!r}")
            out.append(heard)
        return out

    return finals_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--speech", type=int, default=0, help="also run N calls through speech")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    calls = yaml.safe_load(CALLS.read_text(encoding="utf-8"))["calls"]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        engine = engine_from_files(data_dir)
        assistant = Assistant(dispatcher=engine.dispatcher)
        print("== text (the citizens' finals as typed) ==")
        run(engine, assistant, calls, lambda call: call["finals"])
        if args.speech:
            from asr.whisper import WhisperSecondPass, default_cache_dir, prepare_model

            whisper = WhisperSecondPass(prepare_model(default_cache_dir(data_dir)))
            # Spread over the set, and always the calls whose citizen reads out a callback number.
            step = max(1, len(calls) // max(args.speech, 1))
            read_out = [c for c in calls if c["truth"].get("callback")]
            spread = [c for i, c in enumerate(calls) if i % step == 0 and c not in read_out]
            chosen = {c["id"] for c in (read_out + spread)[: max(args.speech, len(read_out))]}
            subset = [c for c in calls if c["id"] in chosen]
            ids = ", ".join(c["id"] for c in subset)
            print(f"== speech (espeak-ng Mandarin → μ-law → Whisper base), {len(subset)} calls: {ids} ==")
            run(engine, assistant, subset, speech_finals(whisper, Path(tmp)))


if __name__ == "__main__":
    main()
