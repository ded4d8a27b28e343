#!/usr/bin/env python3
"""Writes N news-like pages into DIR (for a loopback HTTP server) and prints their URLs with a
PORT placeholder: Scripts/chaos.sh and the benchmarks use it.

    news_site.py DIR N
"""
import os
import random
import sys

WORDS = ("phái bộ ngoại giao NATO Nga quyết định đình chỉ hoạt động quân sự đối thoại "
         "the council said on Monday that talks would resume next week after a long pause in relations "
         "ministers agreed to meet again and discussed security energy trade and the future of the region").split()


def page(i, rng):
    title = f"Tin {i}: " + " ".join(rng.choice(WORDS) for _ in range(8))
    paragraphs = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 60))).capitalize() + "."
                  for _ in range(rng.randint(4, 8))]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    related = "\n".join(f'<li><a href="/tin-{j}.html">Tin liên quan {j}</a></li>' for j in range(i + 1, i + 4))
    return f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title} | Báo Mẫu</title>
<meta property="og:title" content="{title}"><link rel="canonical" href="/tin-{i}.html"></head>
<body><nav class="menu"><a href="/">Trang chủ</a> <a href="/the-gioi">Thế giới</a></nav>
<article><h1>{title}</h1><time datetime="2025-11-13T08:30:00+07:00">Thứ năm, 13/11/2025 08:30</time>
{body}</article>
<div class="tin-lien-quan"><h3>Tin bài liên quan</h3><ul>{related}</ul></div>
<footer>© Báo Mẫu</footer></body></html>"""


def main():
    directory, n = sys.argv[1], int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(7)
    for i in range(n):
        with open(os.path.join(directory, f"tin-{i}.html"), "w", encoding="utf-8") as f:
            f.write(page(i, rng))
        print(f"http://127.0.0.1:PORT/tin-{i}.html")


if __name__ == "__main__":
    main()
