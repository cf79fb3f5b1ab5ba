#!/usr/bin/env python3
"""Throughput of Python vaderSentiment over the TweetEval sentiment test texts, one pass,
for comparison with `cargo bench -p switchboard-nlp` (SWITCHBOARD_DATASETS set).

    pip install vaderSentiment
    python3 scripts/vader-throughput.py ../shared/datasets
"""
import sys
import time

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"
    with open(f"{root}/tweeteval/sentiment/test_text.txt", encoding="utf-8") as f:
        texts = f.read().splitlines()
    analyzer = SentimentIntensityAnalyzer()
    best = None
    for _ in range(3):
        start = time.perf_counter()
        for t in texts:
            analyzer.polarity_scores(t)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"vaderSentiment: {len(texts)} texts, best of 3 passes: {len(texts) / best:.0f} texts/s")


if __name__ == "__main__":
    main()
