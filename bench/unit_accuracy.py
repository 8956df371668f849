"""Responsible-unit suggestion on realistic requests: top-1 and top-3 per unit family.

.venv/bin/python bench/unit_accuracy.py [--file bench/data/unit_requests.yaml ...] [--misses]

Test sets (bench/data): unit_requests_dev*.yaml are for tuning; unit_requests.yaml and _v2…_v7 were each
written by someone who had not seen the model, and each file's header says when it was first measured and since
when it is no longer blind.

The requests are written for this benchmark (not the training messages). A suggestion counts when it is one
of the request's acceptable units, or the district counterpart of one (district_bureau.<区>.market for
city.market), because territorial management sends a city bureau's case to its district bureau.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.suggest.factory import engine_from_files

DEFAULT_FILE = Path(__file__).parent / "data" / "unit_requests.yaml"


def acceptable(code: str, units: list[str]) -> bool:
    if code in units:
        return True
    if code.startswith("district_bureau."):
        return f"city.{code.split('.', 2)[2]}" in units
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, nargs="+", default=[DEFAULT_FILE])
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    requests = [r for path in args.file for r in yaml.safe_load(path.read_text(encoding="utf-8"))["requests"]]
    with tempfile.TemporaryDirectory() as tmp:
        engine = engine_from_files(Path(tmp), with_kb=False)
    per: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    misses = []
    started = time.perf_counter()
    for r in requests:
        units = [u.code for u in engine.suggest(r["text"], articles=0).units]
        top1 = bool(units) and acceptable(units[0], r["units"])
        top3 = any(acceptable(u, r["units"]) for u in units[:3])
        per[r["family"]].append((top1, top3))
        if not top1:
            misses.append((r["text"], r["units"], units[:3]))
    ms = (time.perf_counter() - started) * 1000 / len(requests)
    print(f"{'family':<10}{'n':>4}{'top-1':>8}{'top-3':>8}")
    for family, rows in sorted(per.items(), key=lambda kv: -len(kv[1])):
        t1 = sum(a for a, _ in rows)
        t3 = sum(b for _, b in rows)
        print(f"{family:<10}{len(rows):>4}{t1:>5}/{len(rows):<3}{t3:>4}/{len(rows):<3}")
    all_rows = [row for rows in per.values() for row in rows]
    n = len(all_rows)
    t1, t3 = sum(a for a, _ in all_rows), sum(b for _, b in all_rows)
    print(
        f"{'all':<10}{n:>4}  top-1 {t1}/{n} = {t1 / n:.3f}  top-3 {t3}/{n} = {t3 / n:.3f}  {ms:.2f} ms/request"
    )
    if args.misses:
        for text, want, got in misses:
            print(f"MISS {text} | want {want} | got {got}")


if __name__ == "__main__":
    main()
