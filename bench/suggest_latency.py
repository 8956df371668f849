"""Suggestion compute per utterance (classifier + leaves + units + knowledge-base search), 50,000 articles.

    .venv/bin/python bench/suggest_latency.py [--articles 50000] [--rounds 20]

The 50,000-article knowledge base is made from the seed articles: each variant keeps its seed's words and
adds a district, a street, a year and a handful of words from other articles, so the index has realistic
vocabulary and document lengths. Cutting 50,000 texts with jieba is build time, not query time; the variants
are therefore made from the seed articles' already-cut words.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, ahead of bench/ itself

from kernel.settings import load_settings
from routing.assist.gazetteer import default_gazetteer
from routing.kb.index import KbIndex, default_analyzer
from routing.kb.seed import read_seed
from routing.suggest.factory import leaf_evidence
from routing.suggest.leaves import LeafScorer, read_leaves
from routing.suggest.model_store import load_or_train
from routing.suggest.service import SuggestionEngine
from routing.suggest.unit_model import UnitModel, unit_documents
from routing.suggest.units import dispatcher_from_files

UTTERANCES = [
    "喂你好，我想问一下公积金怎么提取来付房租",
    "我家楼下的路灯坏了好几天了，晚上很黑",
    "公司已经拖欠我三个月工资了",
    "小区旁边的工地晚上十二点还在施工，吵得睡不着",
    "孩子明年上小学，一年级怎么报名，需要什么材料",
    "我是外省来的候鸟老人，在海口看病医保能不能直接结算",
    "出租车司机绕路还不打表",
    "家里闻到很大的煤气味",
    "我们这片从早上开始就停水了",
    "新生儿怎么上户口",
    "在海鲜市场买海鲜被宰了，缺斤短两",
    "楼顶有人在搭违章建筑",
    "退休年龄现在是多少，延迟退休怎么算",
    "居民医保今年什么时候交",
    "餐馆的油烟太大了，熏得窗户都不敢开",
    "网约车司机乱收费",
    "旅行社导游强制购物",
    "我的身份证丢了怎么补办",
    "单位不给交社保怎么办",
    "路面有个大坑很危险",
]
DISTRICTS = ["秀英区", "龙华区", "琼山区", "美兰区"]
STREETS = ["海秀街道", "滨海街道", "金宇街道", "国兴街道", "府城街道", "白龙街道", "长流镇", "演丰镇"]


def synthetic_kb(n: int, seed: int = 7) -> KbIndex:
    rng = random.Random(seed)
    base = read_seed()
    analyzer = default_analyzer()
    base_words = [analyzer.words(a.search_text()) for a in base]
    articles, words = [], []
    for i in range(n):
        j = i % len(base)
        district, street, year = rng.choice(DISTRICTS), rng.choice(STREETS), str(rng.randint(2019, 2026))
        other = base_words[rng.randrange(len(base))]
        extra = rng.sample(other, k=min(8, len(other)))
        articles.append(
            dataclasses.replace(
                base[j], key=f"{base[j].key}-{i}", title=f"{base[j].title}（{district}{street}{year}）"
            )
        )
        words.append([*base_words[j], district, street, year, *extra])
    return KbIndex(articles, analyzer, words)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    started = time.perf_counter()
    classifier = load_or_train(load_settings().data_dir)
    print(f"model loaded in {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    kb = synthetic_kb(args.articles)
    print(f"knowledge base: {len(kb)} articles indexed in {time.perf_counter() - started:.1f} s")
    leaves = read_leaves()
    engine = SuggestionEngine(
        classifier,
        LeafScorer(leaves, leaf_evidence(read_seed())),
        dispatcher_from_files(leaves),
        kb,
        lambda: datetime.now(UTC),
        UnitModel(unit_documents(leaves, read_seed()), default_gazetteer().without_places),
    )
    now = datetime(2025, 10, 1, tzinfo=UTC)
    for text in UTTERANCES:  # warm-up
        engine.suggest(text, now)
    total, kb_only = [], []
    for _ in range(args.rounds):
        for text in UTTERANCES:
            t0 = time.perf_counter()
            engine.suggest(text, now)
            total.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            kb.search(text, now, 3)
            kb_only.append((time.perf_counter() - t0) * 1000)
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for name, values in (("suggestion (all)", total), ("kb search only", kb_only)):
        print(
            f"{name:<18} n={len(values)} p50={statistics.median(values):.2f} ms "
            f"p99={percentile(values, 0.99):.2f} ms max={max(values):.2f} ms"
        )


if __name__ == "__main__":
    main()
