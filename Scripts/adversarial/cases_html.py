"""Hostile HTML through `runnel parse`, with every tree builder (the default, which is the native
one with gumbo for pages where a browser moves built nodes; the native one alone; libxml2; and
gumbo, by RUNNEL_PARSE_TREE): each page gives a sane article.parsed or an error record with the
documented status code (RELIABILITY.md, "Hostile HTML"), exit 0, within a generous time."""
import json
import time

from harness import case

RESOURCE_EXHAUSTED = 8
OUT_OF_RANGE = 11
DATA_LOSS = 15
PROSE = "<p>" + "A sentence of plain prose that goes on for a while, with commas, and more words. " * 3 + "</p>"


BUILDERS = ("automatic", "native", "libxml2", "html5")


def page_line(html: str) -> str:
    return json.dumps({
        "id": "01JDQ8Z3M60000000000000001", "seq": 1, "type": "page.fetched", "ts": "2026-11-29T13:00:00.120Z",
        "attempt": 1, "body": {"url": "https://example.com/a", "status": 200, "content_type": "text/html", "html": html},
    }) + "\n"


def parse(ctx, html: str, code: int | tuple | None, seconds: float = 30.0):
    """Parses `html` with every builder; expects an article (code None) or an error with `code`."""
    for tree in BUILDERS:
        started = time.monotonic()
        r = ctx.run(["parse"], input=page_line(html), timeout=seconds + 30, env={"RUNNEL_PARSE_TREE": tree})
        elapsed = time.monotonic() - started
        ctx.expect_exit(r, 0)
        ctx.expect(elapsed < seconds, f"{tree}: took {elapsed:.1f} s (bound {seconds:g} s)")
        records = [json.loads(line) for line in r.stdout.decode().splitlines() if line.strip()]
        ctx.expect(len(records) == 1, f"{tree}: {len(records)} records, not 1")
        record = records[0]
        if code is None:
            ctx.expect(record.get("type") == "article.parsed", f"{tree}: {record.get('type')}, not article.parsed")
            ctx.expect(isinstance(record["body"].get("paragraphs"), list), f"{tree}: no paragraphs list")
        else:
            ctx.expect(record.get("type") == "error", f"{tree}: {record.get('type')}, not an error record")
            codes = code if isinstance(code, tuple) else (code,)
            ctx.expect(record["body"].get("code") in codes, f"{tree}: code {record['body'].get('code')}, not {code}")
            ctx.expect("limit" in record["body"].get("message", "") or "max" in record["body"].get("message", ""),
                       f"{tree}: the message names no limit")


@case("html", "one tag with 200,000 attributes")
def attributes(ctx):
    parse(ctx, "<html><body><div " + " ".join(f'a{i}="v"' for i in range(200_000)) + ">" + PROSE + "</div></body></html>", OUT_OF_RANGE)


@case("html", "2,000 tags of 256 attributes each (at the limit)")
def attributes_at_limit(ctx):
    attrs = " ".join(f'data-a{i}="v"' for i in range(256))
    parse(ctx, "<html><body>" + f"<div {attrs}>x</div>" * 2_000 + PROSE + "</body></html>", None)


@case("html", "100,000 nested divs")
def nested(ctx):
    parse(ctx, "<html><body>" + "<div>" * 100_000 + PROSE + "</div>" * 100_000 + "</body></html>", OUT_OF_RANGE)


@case("html", "1,000 nested divs around 20,000 paragraphs")
def nested_at_limit(ctx):
    parse(ctx, "<html><body>" + "<div>" * 1_000 + "<p>x</p>" * 20_000 + PROSE + "</body></html>", None)


@case("html", "100,000 unclosed divs")
def unclosed(ctx):
    parse(ctx, "<html><body>" + "<div>" * 100_000 + PROSE + "</body></html>", OUT_OF_RANGE)


@case("html", "30,000 nested inline spans, b and i")
def inline_nested(ctx):
    parse(ctx, "<html><body><p>" + "<span><b><i>" * 10_000 + "x" + "</i></b></span>" * 10_000 + "</p></body></html>", OUT_OF_RANGE)


@case("html", "a 50 MB text node")
def giant_text(ctx):
    # Its line is over --max-line (16 MiB) before the page is over --max-html-bytes: the stream
    # refuses the line (RESOURCE_EXHAUSTED) and goes on.
    parse(ctx, "<html><body><p>" + "word " * (10 << 20) + "</p></body></html>", (RESOURCE_EXHAUSTED, OUT_OF_RANGE), seconds=60)


@case("html", "a 10 MB text node")
def big_text(ctx):
    parse(ctx, "<html><body><p>" + "word " * (2 << 20) + "</p></body></html>", None, seconds=60)


@case("html", "1,000,000 tiny elements", timeout=240)  # four builders, each with its own bound
def tiny(ctx):
    parse(ctx, "<html><body>" + "<b>x</b>" * 1_000_000 + "</body></html>", None, seconds=90)


@case("html", "a 1 MB attribute value")
def attribute_value(ctx):
    parse(ctx, '<html><body><div class="' + "x" * (1 << 20) + '">' + PROSE + "</div></body></html>", None)


@case("html", "40,000 distinct formatting elements left open")
def formatting(ctx):
    parse(ctx, "<html><body>" + "".join(f"<b id={i}>" for i in range(40_000)) + "<p>x</p>" * 40_000 + "</body></html>", OUT_OF_RANGE)


@case("html", "<b><i><u> left open 20,000 times")
def formatting_same(ctx):
    parse(ctx, "<html><body>" + "<b><i><u>" * 20_000 + "<p>x</p>" * 20_000 + "</body></html>", OUT_OF_RANGE)


@case("html", "<a>a<div>b repeated 40,000 times (adoption agency)")
def adoption(ctx):
    # A browser nests each <div> ever deeper (past the depth limit), and so does the native
    # builder, which makes the adoption agency's moves: every builder refuses the page.
    parse(ctx, "<html><body>" + "<a href=/x>a<div>b" * 40_000 + "</body></html>", OUT_OF_RANGE)


@case("html", "<b>1<p>2</b>3</p> repeated 100,000 times", timeout=240)  # four builders, each with its own bound
def misnested(ctx):
    parse(ctx, "<html><body>" + "<b>1<p>2</b>3</p>" * 100_000 + "</body></html>", None, seconds=60)


@case("html", "tables nested 20,000 deep")
def deep_tables(ctx):
    parse(ctx, "<html><body>" + "<table><tr><td>" * 20_000 + "x" + "</td></tr></table>" * 20_000 + "</body></html>", OUT_OF_RANGE)


@case("html", "a table of 100,000 rows", timeout=240)  # four builders, each with its own bound
def wide_table(ctx):
    parse(ctx, "<html><body><table>" + "<tr><td>x<td>y" * 100_000 + "</table>" + PROSE + "</body></html>", None, seconds=60)


@case("html", "100,000 unclosed list items and options", timeout=240)  # four builders, each with its own bound
def implied_ends(ctx):
    parse(ctx, "<html><body><ul>" + "<li>item" * 100_000 + "</ul><select>" + "<option>o" * 100_000 + "</select>" + PROSE + "</body></html>", None, seconds=60)


@case("html", "200,000 links", timeout=240)  # four builders, each with its own bound
def links(ctx):
    parse(ctx, "<html><body><p>" + "".join(f"<a href=/a{i}>link {i}</a> " for i in range(200_000)) + "</p></body></html>", None, seconds=60)


@case("html", "a page of replacement characters")
def replacement(ctx):
    for tree in BUILDERS:
        r = ctx.run(["parse"], input=page_line("<html><body><p>" + "\ufffd\ufffda\ufffd" * 5_000 + "</p></body></html>"),
                    env={"RUNNEL_PARSE_TREE": tree})
        ctx.expect_exit(r, 0)
        ctx.expect(json.loads(r.stdout.decode().splitlines()[0])["body"].get("code") == DATA_LOSS, f"{tree}: not DATA_LOSS")


@case("html", "100,000 comments and a script with markup in it")
def comments(ctx):
    parse(ctx, "<html><body>" + "<!-- <div a b c> -->" * 100_000 + "<script>" + "<div x y z>" * 10_000 + "</script>" + PROSE + "</body></html>", None)
