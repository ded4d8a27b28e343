"""Realistic Runnel messages for benchmarks, made from the real news texts of shared/corpus.

small:   url.requested lines of ~200 bytes
article: article.parsed lines of ~5 KB (title + text of a real article, trimmed or repeated)
"""
import glob
import html
import json
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "corpus"))


def corpus_texts():
    texts = []
    for path in sorted(glob.glob(os.path.join(CORPUS, "daniel", "truth", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            paragraphs = [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", f.read(), re.S)]
        if len(paragraphs) >= 2:
            texts.append((paragraphs[0], paragraphs[1:]))
    if not texts:
        raise SystemExit(f"no corpus texts under {CORPUS}")
    return texts


def ulid(rng, i):
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "01J" + "".join(rng.choice(alphabet) for _ in range(15)) + f"{i:08d}"


def envelope(rng, i, type_, body):
    return {
        "id": ulid(rng, i),
        "type": type_,
        "ts": "2026-11-29T13:00:%02d.%03dZ" % (i // 1000 % 60, i % 1000),
        "attempt": 1,
        "trace": ulid(rng, i),
        "body": body,
    }


def small(count, seed=1):
    rng = random.Random(seed)
    hosts = ["vov.vn", "vnexpress.net", "tuoitre.vn", "bbc.co.uk", "express.gr", "rp.pl", "lenta.ru"]
    words = ["the-gioi", "thoi-su", "kinh-te", "nato-nga", "politics", "world", "economy", "sport"]
    for i in range(count):
        url = "https://%s/%s/%s-%d.html" % (rng.choice(hosts), rng.choice(words), "-".join(rng.sample(words, 3)), i)
        yield envelope(rng, i, "url.requested", {"url": url, "depth": 0})


def articles(count, size=5000, seed=2):
    rng = random.Random(seed)
    texts = corpus_texts()
    for i in range(count):
        title, paragraphs = texts[i % len(texts)]
        body = list(paragraphs)
        while sum(len(p) for p in body) < size:
            body += paragraphs
        # Trim to `size` bytes of UTF-8 (not characters: Greek or Vietnamese take 2–3 bytes each).
        text = "\n\n".join(body).encode("utf-8")[:size].decode("utf-8", errors="ignore")
        yield envelope(rng, i, "article.parsed", {
            "url": "https://example.org/a/%d" % i, "title": title, "text": text,
            "lang": "el", "kind": "article",
        })


def write_jsonl(path, messages):
    with open(path, "w", encoding="utf-8") as f:
        for m in messages:
            f.write(json.dumps(m, ensure_ascii=False, separators=(",", ":")) + "\n")
