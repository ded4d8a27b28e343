#!/usr/bin/env python3
"""Writes Runnel's golden vectors and their manifest (Protocol/vectors/).

Every vector is a file named after its case; `manifest.json` says, for each, what a reader must
make of it: how many valid lines it delivers and which errors it reports, with their status codes
and positions. The expectations below are written by hand from the spec (PROTOCOL.md), not taken
from any implementation's output; `Scripts/check-protocol.py` and the Swift `ProtocolVectorTests`
hold two implementations to them.

    python3 Protocol/vectors/make_vectors.py      # needs: pip install zstandard

The zstd bytes depend on the libzstd bundled with the `zstandard` package; another version may
compress differently, but every outcome (and every offset, which is taken from frame lengths)
stays the same.
"""

import json
import os
import struct
import sys

import zstandard

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICES = os.path.join(HERE, "..", "services")

# The line limit the limit vectors are read with (`runnel validate --max-line 256`).
SMALL_MAX_LINE = 256

manifest = []


def line(obj):
    """One JSON line as Runnel writes it: compact, UTF-8, keys in the order given."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def add(file, data, *, kind, valid, errors=(), description, max_line=None):
    with open(os.path.join(HERE, file), "wb") as f:
        f.write(data)
    entry = {
        "file": file,
        "kind": kind,
        "format": "zstd" if file.endswith(".zst") else "plain",
        "description": description,
    }
    if max_line is not None:
        entry["limits"] = {"max_line": max_line}
    entry["valid"] = valid
    entry["errors"] = [dict(e) for e in errors]
    entry["exit"] = 65 if errors else 0  # EX_DATAERR (sysexits) when any line or stream is bad
    manifest.append(entry)


def err(code, line=None, offset=None):
    e = {"code": code}
    if line is not None:
        e["line"] = line
    if offset is not None:
        e["offset"] = offset
    return e


# MARK: Messages of one story, from a URL to a stored article

TS = "2026-11-29T13:00:00.120Z"
URL = "https://baotintuc.vn/the-gioi/nga-dinh-chi-hoat-dong-phai-bo-nato-20211019081226394.htm"
ROOT = "01JDQ8Z3M60000000000000001"
PAGE = "01JDQ8Z4A10000000000000002"
PARSED = "01JDQ8Z5B20000000000000003"
ENRICHED = "01JDQ8Z6C30000000000000004"
STORED = "01JDQ8Z7D40000000000000005"

PARAGRAPHS = [
    "Tổ chức Hiệp ước Bắc Đại Tây Dương (NATO) vừa bày tỏ lấy làm tiếc về quyết định của Nga "
    "đình chỉ hoạt động của các phái bộ NATO và Nga.",
    "“Chúng tôi lấy làm tiếc về những bước đi này” - Người phát ngôn NATO Oana Lungescu nói.",
]
TITLE = "Nga thông báo đình chỉ hoạt động phái bộ ngoại giao, NATO phản ứng ra sao?"

url_requested = {
    "id": ROOT, "seq": 1, "type": "url.requested", "ts": TS, "attempt": 1, "deadline_ms": 60000,
    "meta": {"source": "urls.txt"},
    "body": {"url": URL, "depth": 0, "priority": 5},
}
page_fetched = {
    "id": PAGE, "seq": 2, "type": "page.fetched", "ts": "2026-11-29T13:00:00.480Z", "attempt": 1,
    "deadline_ms": 59640, "trace": ROOT, "parent": ROOT, "meta": {"source": "urls.txt"},
    "body": {
        "url": URL, "final_url": URL, "status": 200, "content_type": "text/html", "charset": "utf-8",
        "headers": {"last-modified": "Tue, 19 Oct 2021 01:12:26 GMT"},
        "html": "<!doctype html><html lang=\"vi\"><head><title>" + TITLE + "</title></head><body>"
        "<article><h1>" + TITLE + "</h1><p>" + PARAGRAPHS[0] + "</p><p>" + PARAGRAPHS[1] + "</p>"
        "</article><aside><h2>Tin bài liên quan</h2></aside></body></html>",
        "fetched_at": "2026-11-29T13:00:00.470Z", "elapsed_ms": 348, "redirects": [],
    },
}
parsed_body = {
    "url": URL,
    "canonical_url": URL,
    "title": TITLE,
    "byline": None,
    "published_at": "2021-10-19T08:12:26+07:00",
    "description": "NATO lấy làm tiếc về quyết định của Nga đình chỉ hoạt động của các phái bộ.",
    "site_name": "Báo Tin tức",
    "lang": "vi",
    "text": "\n\n".join(PARAGRAPHS),
    "paragraphs": PARAGRAPHS,
    "images": [{"src": "https://baotintuc.vn/images/nato.jpg", "caption": "Trụ sở NATO. Nguồn: nato.int"}],
    "outlinks": ["https://baotintuc.vn/the-gioi.htm"],
    "related": [{"title": "Nga đình chỉ phái bộ tại NATO", "url": "https://baotintuc.vn/the-gioi/nga-nato.htm"}],
    "kind": "article",
}
article_parsed = {
    "id": PARSED, "seq": 3, "type": "article.parsed", "ts": "2026-11-29T13:00:00.512Z", "attempt": 1,
    "deadline_ms": 59580, "trace": ROOT, "parent": PAGE, "meta": {"source": "urls.txt"},
    "body": parsed_body,
}
article_enriched = {
    "id": ENRICHED, "seq": 4, "type": "article.enriched", "ts": "2026-11-29T13:00:00.530Z", "attempt": 1,
    "deadline_ms": 59560, "trace": ROOT, "parent": PARSED, "meta": {"source": "urls.txt"},
    "body": dict(parsed_body, **{
        "language": {"code": "vi", "confidence": 0.99},
        "entities": [
            {"text": "NATO", "kind": "organization", "count": 3, "first": 40},
            {"text": "Oana Lungescu", "kind": "person", "count": 1, "first": 228},
        ],
        "quotes": [{"text": "Chúng tôi lấy làm tiếc về những bước đi này", "speaker": "Oana Lungescu"}],
        "keywords": ["NATO", "Nga", "phái bộ"],
        "summary": PARAGRAPHS[0],
        "word_count": 52,
        "reading_time_s": 16,
        "simhash": "9f3a0c5e12b47d80",
        "content_hash": "5d41402abc4b2a76b9719d911017c592ae1b5e3c2d1f0e9a8b7c6d5e4f3a2b1c",
    }),
}
article_stored = {
    "id": STORED, "seq": 5, "type": "article.stored", "ts": "2026-11-29T13:00:00.611Z", "attempt": 1,
    "deadline_ms": 59470, "trace": ROOT, "parent": ENRICHED, "meta": {"source": "urls.txt"},
    "body": {"url": URL, "canonical_url": URL, "article_id": 42, "action": "inserted", "version": 1},
}
error_record = {
    "id": "01JDQ8ZR9E0000000000000006", "type": "error", "ts": "2026-11-29T13:01:00.120Z", "attempt": 1,
    "trace": ROOT, "parent": ROOT, "meta": {"source": "urls.txt"},
    "body": {
        "code": 4, "status": "DEADLINE_EXCEEDED",
        "message": "deadline passed 120 ms before the fetch could start", "stage": "fetch", "attempt": 1,
        "url": URL,
        "original": {"id": ROOT, "type": "url.requested", "ts": TS, "attempt": 1, "deadline_ms": 0,
                     "meta": {"source": "urls.txt"}, "body": {"url": URL}},
    },
}
minimal = {"id": "m1", "type": "url.requested", "body": {"url": "https://example.com/"}}
unknown_type = {"id": "01JDQ8ZS0F0000000000000007", "type": "metrics.sample", "ts": TS, "attempt": 1,
                "body": {"stage": "parse", "lines_per_s": 5120}}
with open(os.path.join(SERVICES, "parse.json")) as f:
    parse_service = json.load(f)

hello = {"ctl": "hello", "versions": [1], "stage": "parse", "accepts": ["page.fetched"],
         "emits": ["article.parsed"]}
hello_auth = {"ctl": "hello", "versions": [1], "stage": "parse", "accepts": ["page.fetched"],
              "emits": ["article.parsed"], "nonce": "6f1c0e4b9a2d47c3b8e5f70a1d2c3b4e"}
credit = {"ctl": "credit", "n": 256}
ack = {"ctl": "ack", "seq": 5}

# MARK: Valid lines

add("line.url-requested.jsonl", line(url_requested), kind="line", valid=1,
    description="url.requested with every envelope field but trace/parent (a root message)")
add("line.url-requested.minimal.jsonl", line(minimal), kind="line", valid=1,
    description="the least a data line needs: id, type, body (and the body's required url)")
add("line.page-fetched.jsonl", line(page_fetched), kind="line", valid=1, description="page.fetched, all fields")
add("line.article-parsed.jsonl", line(article_parsed), kind="line", valid=1,
    description="article.parsed of a Vietnamese news page, all fields, byline null")
add("line.article-enriched.jsonl", line(article_enriched), kind="line", valid=1,
    description="article.enriched: the parsed fields plus the enrichment fields, flat")
add("line.article-stored.jsonl", line(article_stored), kind="line", valid=1, description="article.stored")
add("line.error.jsonl", line(error_record), kind="line", valid=1,
    description="an error record: DEADLINE_EXCEEDED, with the original envelope")
add("line.unknown-type.jsonl", line(unknown_type), kind="line", valid=1,
    description="a type without a schema: only the envelope is checked, and it is valid")
add("line.unknown-fields.jsonl",
    line({"id": "u1", "type": "url.requested", "x-note": "ignored", "body": {"url": "https://example.com/", "x": [1]}}),
    kind="line", valid=1, description="unknown fields, in the envelope and the body, are ignored")
add("line.nulls.jsonl",
    line({"id": "n1", "seq": 9, "type": "url.requested", "ts": None, "deadline_ms": None, "trace": None,
          "parent": None, "meta": None, "body": {"url": "https://example.com/", "depth": None}}),
    kind="line", valid=1, description="optional fields given as null are absent")
add("line.version-1.jsonl", line({"v": 1, "id": "v1", "type": "url.requested", "body": {"url": "https://example.com/"}}),
    kind="line", valid=1, description="an envelope may say which protocol version it is: 1")
add("line.ts-offset.jsonl",
    line({"id": "t1", "type": "url.requested", "ts": "2026-11-29T20:00:00.120+07:00", "body": {"url": "https://example.com/"}}),
    kind="line", valid=1, description="readers accept any RFC 3339 timestamp; writers write UTC with milliseconds")

add("line.control.hello.jsonl", line(hello) + line(hello_auth) + line(dict(hello_auth, proof=(
    "b5c2e1a0f9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2"))),
    kind="line", valid=3, description="hello: plain, with a nonce (TCP with a key), with nonce and proof")
add("line.control.hello-v.jsonl", line({"ctl": "hello", "v": 1, "stage": "send"}), kind="line", valid=1,
    description="hello may give one version as v instead of versions; accepts and emits default to []")
add("line.control.hello-mode.jsonl", line({"ctl": "hello", "versions": [1], "stage": "call", "accepts": ["*"], "emits": ["*"],
    "mode": "call"}) + line({"ctl": "hello", "versions": [1], "stage": "x", "mode": "later"}), kind="line", valid=2,
    description="call mode (7.10), and a mode this version does not define: valid, and ignored by a receiver")
add("line.control.ack-seq-range.jsonl", line({"ctl": "ack", "seq": 0}) + line({"ctl": "ack", "seq": 18446744073709551615}),
    kind="line", valid=2, description="an ack's seq is unsigned 64-bit: 0 (acknowledges nothing) to 2^64 - 1")
add("line.control.nulls.jsonl", line({"ctl": "ping", "id": None}) + line({"ctl": "bye", "code": None, "message": None})
    + line({"ctl": "hello", "versions": [1], "stage": "x", "accepts": None, "emits": None, "nonce": None, "mode": None}),
    kind="line", valid=3, description="null is the same as absent for every optional control member (2.1)")
add("line.nulls.seq-attempt-v.jsonl", line({"id": "n2", "seq": None, "type": "url.requested", "attempt": None, "v": None,
    "body": {"url": "https://example.com/"}}), kind="line", valid=1,
    description="seq, attempt and v given as null are absent (2.1): attempt 1, no seq, version 1")
add("line.control.credit.jsonl", line(credit), kind="line", valid=1, description="credit")
add("line.control.ack.jsonl", line(ack), kind="line", valid=1, description="cumulative ack")
add("line.control.nack.jsonl", line({"ctl": "nack", "seq": 7, "code": 14, "message": "draining: send it again later"}),
    kind="line", valid=1, description="nack with a numeric status code")
add("line.control.ping-pong.jsonl", line({"ctl": "ping", "id": "k17"}) + line({"ctl": "pong", "id": "k17"}),
    kind="line", valid=2, description="ping and its pong")
add("line.control.ping-id-first.jsonl", line({"id": "k18", "ctl": "ping"}), kind="line", valid=1,
    description="a line with ctl is a control line whatever the key order (ping's id comes first here)")
add("line.control.health.jsonl", line({"ctl": "health"}) + line({"ctl": "health", "status": "SERVING"})
    + line({"ctl": "health", "status": "NOT_SERVING"}),
    kind="line", valid=3, description="health request (no status) and answers")
add("line.control.describe.jsonl", line({"ctl": "describe"}) + line({"ctl": "describe", "service": parse_service}),
    kind="line", valid=2, description="describe request (no service) and answer (parse's service definition)")
add("line.control.drain.jsonl", line({"ctl": "drain"}), kind="line", valid=1, description="drain")
add("line.control.bye.jsonl", line({"ctl": "bye", "code": 0, "message": ""})
    + line({"ctl": "bye", "code": 9, "message": "type mismatch: upstream emits page.fetched, this stage (enrich) accepts article.parsed"})
    + line({"ctl": "bye"}),
    kind="line", valid=3, description="bye: a normal close, a refusal, and a bare bye (code OK)")

# MARK: Invalid lines

IA, UNIMPL = "INVALID_ARGUMENT", "UNIMPLEMENTED"


def bad(file, data, description, code=IA, valid=0, at=1):
    add(file, data, kind="line", valid=valid, errors=[err(code, line=at)], description=description)


bad("line.not-json.jsonl", b'{"id":"a","type":"url.requested","body":{"url":"https://example.com/"}\n',
    "not JSON: the closing brace is missing")
bad("line.not-an-object.jsonl", b'["id","type","body"]\n', "a JSON array, not an object")
bad("line.not-an-object.string.jsonl", b'"url.requested"\n', "a JSON string, not an object")
bad("line.trailing-data.jsonl", b'{"id":"a","type":"x","body":{}} {}\n', "two JSON values on one line")
bad("line.whitespace-only.jsonl", b'   \t\n', "a line of spaces is not blank (only an empty line is) and is not JSON")
bad("line.missing-type.jsonl", line({"id": "a", "body": {"url": "https://example.com/"}}),
    "neither type nor ctl")
bad("line.missing-id.jsonl", line({"type": "url.requested", "body": {"url": "https://example.com/"}}), "no id")
bad("line.empty-id.jsonl", line({"id": "", "type": "url.requested", "body": {"url": "https://example.com/"}}),
    "id must not be empty")
bad("line.missing-body.jsonl", line({"id": "a", "type": "url.requested"}), "no body")
bad("line.id-not-string.jsonl", line({"id": 17, "type": "url.requested", "body": {"url": "https://example.com/"}}),
    "id must be a string")
bad("line.seq-negative.jsonl", line({"id": "a", "seq": -1, "type": "url.requested", "body": {"url": "https://example.com/"}}),
    "seq must not be negative")
bad("line.seq-fraction.jsonl", b'{"id":"a","seq":1.5,"type":"url.requested","body":{"url":"https://example.com/"}}\n',
    "seq must be an integer")
bad("line.attempt-zero.jsonl", line({"id": "a", "type": "url.requested", "attempt": 0, "body": {"url": "https://example.com/"}}),
    "attempt counts from 1")
bad("line.ts-not-rfc3339.jsonl", line({"id": "a", "type": "url.requested", "ts": "29/11/2026 13:00", "body": {"url": "https://example.com/"}}),
    "ts is not an RFC 3339 timestamp")
bad("line.ts-no-zone.jsonl", line({"id": "a", "type": "url.requested", "ts": "2026-11-29T13:00:00.120", "body": {"url": "https://example.com/"}}),
    "ts without Z or an offset")
bad("line.meta-not-strings.jsonl", line({"id": "a", "type": "url.requested", "meta": {"retries": 3}, "body": {"url": "https://example.com/"}}),
    "meta values must be strings")
bad("line.invalid-utf8.jsonl", b'{"id":"a","type":"url.requested","body":{"url":"https://example.com/\xc3\x28"}}\n',
    "invalid UTF-8 (C3 28) inside a string")
bad("line.raw-control-character.jsonl", b'{"id":"a","type":"url.requested","body":{"url":"https://example.com/\x01"}}\n',
    "an unescaped control character inside a string")
bad("line.unknown-version.jsonl", line({"v": 2, "id": "a", "type": "url.requested", "body": {"url": "https://example.com/"}}),
    "protocol version 2 is not spoken", code=UNIMPL)
bad("line.unknown-version.missing-id.jsonl", line({"v": 2, "type": "url.requested", "body": {}}),
    "the version is checked before the required fields", code=UNIMPL)
bad("line.url-requested.empty-url.jsonl", line({"id": "a", "type": "url.requested", "body": {"url": ""}}),
    "url.requested needs a non-empty url")
bad("line.url-requested.body-not-object.jsonl", line({"id": "a", "type": "url.requested", "body": "https://example.com/"}),
    "a url.requested body is an object")
bad("line.url-requested.depth-string.jsonl", line({"id": "a", "type": "url.requested", "body": {"url": "https://example.com/", "depth": "1"}}),
    "depth is an integer")
bad("line.page-fetched.bad-status.jsonl", line(dict(page_fetched, body=dict(page_fetched["body"], status=700))),
    "status must be an HTTP status, 100-599")
bad("line.page-fetched.missing-html.jsonl",
    line(dict(page_fetched, body={k: v for k, v in page_fetched["body"].items() if k != "html"})),
    "page.fetched needs html")
bad("line.article-parsed.missing-title.jsonl",
    line(dict(article_parsed, body={k: v for k, v in parsed_body.items() if k != "title"})),
    "article.parsed needs title (it may be empty, not absent)")
bad("line.article-parsed.bad-kind.jsonl", line(dict(article_parsed, body=dict(parsed_body, kind="blog"))),
    "kind is article, listing or other")
bad("line.article-enriched.bad-simhash.jsonl",
    line(dict(article_enriched, body=dict(article_enriched["body"], simhash="9f3a0c5e12b47dzz"))),
    "simhash is 16 hex digits")
bad("line.article-enriched.confidence-over-1.jsonl",
    line(dict(article_enriched, body=dict(article_enriched["body"], language={"code": "vi", "confidence": 1.5}))),
    "language.confidence is within 0..1")
bad("line.article-enriched.missing-word-count.jsonl",
    line(dict(article_enriched, body={k: v for k, v in article_enriched["body"].items() if k != "word_count"})),
    "article.enriched needs word_count")
bad("line.article-stored.bad-action.jsonl", line(dict(article_stored, body=dict(article_stored["body"], action="deleted"))),
    "action is inserted, updated or unchanged")
bad("line.error.status-mismatch.jsonl", line(dict(error_record, body=dict(error_record["body"], status="UNAVAILABLE"))),
    "status must name code (4 is DEADLINE_EXCEEDED)")
bad("line.error.unknown-code.jsonl", line(dict(error_record, body=dict(error_record["body"], code=17, status="UNKNOWN"))),
    "codes are 0-16")
bad("line.control.unknown-ctl.jsonl", line({"ctl": "pause", "ms": 100}), "no such control message", code=UNIMPL)
bad("line.control.credit-negative.jsonl", line({"ctl": "credit", "n": -1}), "credit n must not be negative")
bad("line.control.credit-missing-n.jsonl", line({"ctl": "credit"}), "credit needs n")
bad("line.control.ack-missing-seq.jsonl", line({"ctl": "ack"}), "ack needs seq")
bad("line.control.ack-seq-over.jsonl", line({"ctl": "ack", "seq": 18446744073709551616}), "an ack's seq is at most 2^64 - 1")
bad("line.control.mode-not-string.jsonl", line({"ctl": "ping", "mode": 5}),
    "mode has one type in every control line (a string), so a ping with a numeric mode is refused (4)")
bad("line.control.nack-code-name.jsonl", line({"ctl": "nack", "seq": 7, "code": "UNAVAILABLE"}),
    "status codes are numbers on the wire")
bad("line.control.hello-missing-stage.jsonl", line({"ctl": "hello", "versions": [1]}), "hello needs stage")
bad("line.control.hello-missing-versions.jsonl", line({"ctl": "hello", "stage": "parse"}), "hello needs versions (or v)")
bad("line.control.health-bad-status.jsonl", line({"ctl": "health", "status": "OK"}),
    "health status is SERVING, NOT_SERVING or UNKNOWN")
bad("line.control.ctl-not-string.jsonl", line({"ctl": 1}), "ctl is a string")
bad("line.control.ping-id-number.jsonl", line({"ctl": "ping", "id": 5}), "a field any control message has keeps its type in all")

# MARK: Plain streams

story = [url_requested, page_fetched, article_parsed, article_enriched, article_stored]
link = line(hello) + line(credit) + b"".join(line(m) for m in story) + b"\n" + line(ack)
add("stream.plain.link.jsonl", link, kind="stream", valid=8,
    description="one direction of a link, uncompressed: hello, credit, five data lines, a blank line, an ack")
add("stream.plain.crlf-and-no-final-newline.jsonl",
    line(minimal)[:-1] + b"\r\n" + b"\r\n" + line(url_requested)[:-1],
    kind="stream", valid=2, description="CRLF line ends; a lone CR is a blank line; the last line has no newline")
add("stream.plain.bom.jsonl", b"\xef\xbb\xbf" + line(minimal), kind="stream", valid=1,
    description="a UTF-8 byte-order mark at the start is dropped")
add("stream.plain.empty.jsonl", b"", kind="stream", valid=0, description="an empty stream: nothing, no error")
add("stream.plain.blank-lines.jsonl", b"\n\n\r\n\n", kind="stream", valid=0, description="only blank lines")
add("stream.plain.binary-start.jsonl", b"\x89PNG\r\n\x1a\n" + line(minimal), kind="stream", valid=0,
    errors=[err("DATA_LOSS", offset=0)],
    description="neither zstd nor text: refused at byte 0, and the stream ends there")
add("stream.plain.garbage-line.jsonl", line(minimal) + b"\x00\x17\xfe\xff\x80 not a line\n" + line(url_requested),
    kind="stream", valid=2, errors=[err(IA, line=2)],
    description="binary garbage inside a plain stream is one bad line; the stream goes on")
add("stream.plain.invalid-utf8.jsonl", line(minimal)
    + b'{"id":"b","type":"url.requested","body":{"url":"https://example.com/\xed\xa0\x80"}}\n' + line(credit),
    kind="stream", valid=2, errors=[err(IA, line=2)],
    description="an encoded surrogate (ED A0 80) is invalid UTF-8: that line is refused")


def padded(n):
    """A valid url.requested line of exactly n bytes, newline excluded."""
    base = line({"id": "p", "type": "url.requested", "body": {"url": "https://example.com/?"}})[:-1]
    pad = n - len(base)
    out = base.replace(b'?"', b"?" + b"a" * pad + b'"')
    assert len(out) == n
    return out + b"\n"


add("stream.plain.long-line.jsonl", padded(SMALL_MAX_LINE) + padded(SMALL_MAX_LINE + 1) + line(ack),
    kind="stream", valid=2, errors=[err("RESOURCE_EXHAUSTED", line=2)], max_line=SMALL_MAX_LINE,
    description=f"read with a {SMALL_MAX_LINE}-byte line limit: line 1 is exactly the limit (accepted), "
    "line 2 one byte over (refused, skipped), line 3 is read")
add("stream.plain.mixed-errors.jsonl",
    line(hello) + b"\n" + b"[]\n" + line({"ctl": "resume"}) + line({"v": 3, "id": "x", "type": "a.b", "body": {}})
    + line(minimal) + padded(SMALL_MAX_LINE + 40) + line({"type": "url.requested", "body": {}}) + line(ack),
    kind="stream", valid=3, max_line=SMALL_MAX_LINE,
    errors=[err(IA, line=3), err(UNIMPL, line=4), err(UNIMPL, line=5), err("RESOURCE_EXHAUSTED", line=7),
            err(IA, line=8)],
    description="line errors do not end a stream; line numbers count blank lines")

# MARK: zstd streams


def frame(data, level=1, **params):
    """One whole frame, as a capture log writes one per batch (size unknown up front)."""
    cctx = zstandard.ZstdCompressor(level=level, write_checksum=True, write_content_size=False, **params)
    obj = cctx.compressobj()
    return obj.compress(data) + obj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)


def skippable(payload, nibble=0):
    return struct.pack("<II", 0x184D2A50 + nibble, len(payload)) + payload


def lines(*msgs):
    return b"".join(line(m) for m in msgs)


add("stream.zstd.one-frame.jsonl.zst", frame(link), kind="stream", valid=8,
    description="the link of stream.plain.link.jsonl in one zstd frame")
f1, f2, f3 = frame(lines(hello, credit)), frame(lines(url_requested, page_fetched)), frame(lines(article_parsed, ack))
add("stream.zstd.three-frames.jsonl.zst", f1 + f2 + f3, kind="stream", valid=6,
    description="three whole frames in a row, one batch each (a capture log)")

# A live link: one frame, flushed (ZSTD_e_flush) after each batch, ended when the link closes.
cobj = zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False).compressobj()
flushed = cobj.compress(lines(hello, credit)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
flushed += cobj.compress(lines(url_requested, page_fetched)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
flushed += cobj.compress(lines(article_parsed, ack)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
add("stream.zstd.flush-mid-stream.jsonl.zst", flushed, kind="stream", valid=6,
    description="one frame flushed after each of three batches, then ended: what a link carries")

whole = lines(url_requested, page_fetched, article_parsed)
cut = len(line(url_requested)) + 40
add("stream.zstd.line-across-frames.jsonl.zst", frame(whole[:cut]) + frame(whole[cut:]), kind="stream", valid=3,
    description="a frame may begin anywhere, even inside a line: line 2 starts in frame 1 and ends in frame 2")
add("stream.zstd.skippable-frame.jsonl.zst",
    skippable(b"runnel capture v1") + frame(lines(hello, credit)) + skippable(b"\x00" * 16, 0xF)
    + frame(lines(minimal)),
    kind="stream", valid=3,
    description="skippable frames (magic 50..5F 2A 4D 18) are ignored, at the start too")

# A writer killed mid-batch: frame 1 whole; frame 2 flushed once (line 3), then cut inside its next block.
cobj = zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=False).compressobj()
g = cobj.compress(lines(url_requested)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
tail = cobj.compress(lines(page_fetched)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
first = frame(lines(hello, credit))
add("stream.zstd.truncated-frame.jsonl.zst", first + g + tail[: len(tail) // 2], kind="stream", valid=3,
    errors=[err("DATA_LOSS", offset=len(first))],
    description="the writer stopped mid-frame: the 3 lines of whole blocks are delivered, then DATA_LOSS at the "
    "start of the torn frame (where a log is cut back to)")

params = zstandard.ZstdCompressionParameters.from_level(1, window_log=25, write_checksum=1, write_content_size=0)
cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()
huge = cobj.compress(lines(minimal)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
assert zstandard.get_frame_parameters(huge).window_size == 1 << 25
first = frame(lines(hello, credit))
add("stream.zstd.window-too-large.jsonl.zst", first + huge, kind="stream", valid=2,
    errors=[err("RESOURCE_EXHAUSTED", offset=len(first))],
    description="frame 2 asks for a 32 MiB window (window log 25), over the default 2^24: refused, the stream ends")
params = zstandard.ZstdCompressionParameters.from_level(1, window_log=24, write_checksum=1, write_content_size=0)
cobj = zstandard.ZstdCompressor(compression_params=params).compressobj()
at_limit = cobj.compress(lines(minimal)) + cobj.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
assert zstandard.get_frame_parameters(at_limit).window_size == 1 << 24
add("stream.zstd.window-at-limit.jsonl.zst", at_limit, kind="stream", valid=1,
    description="a 16 MiB window (window log 24) is exactly the default limit: accepted")

first = frame(lines(hello, credit))
add("stream.zstd.garbage-after-frame.jsonl.zst", first + b"this is not zstd\n" + frame(lines(minimal)),
    kind="stream", valid=2, errors=[err("DATA_LOSS", offset=len(first))],
    description="bytes that are not a frame after a whole frame: DATA_LOSS at their offset, the stream ends "
    "(the frame after them is not read)")
add("stream.zstd.mixed-errors.jsonl.zst",
    frame(line(hello) + b"\n" + b"[]\n" + line({"ctl": "resume"}) + line({"v": 3, "id": "x", "type": "a.b", "body": {}}))
    + frame(line(minimal) + padded(SMALL_MAX_LINE + 40)[:100])
    + frame(padded(SMALL_MAX_LINE + 40)[100:] + line({"type": "url.requested", "body": {}}) + line(ack)),
    kind="stream", valid=3, max_line=SMALL_MAX_LINE,
    errors=[err(IA, line=3), err(UNIMPL, line=4), err(UNIMPL, line=5), err("RESOURCE_EXHAUSTED", line=7),
            err(IA, line=8)],
    description="the lines of stream.plain.mixed-errors.jsonl in three frames, the long line 7 across two: "
    "line errors in zstd are the same as in plain text")

with open(os.path.join(HERE, "manifest.json"), "w") as f:
    json.dump({
        "description": "Runnel protocol v1 golden vectors. Each entry: the file, kind (line: one case, "
        "stream: framing), format (plain or zstd, by magic number), limits to read it with "
        "(default max_line 16777216, max_window_log 24), valid (lines delivered and valid), errors "
        "(in order; line = 1-based line number in the decoded text, offset = byte offset in the file for "
        "errors that end the stream) and exit (the status of `runnel validate`). See PROTOCOL.md, Vectors.",
        "vectors": manifest,
    }, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(manifest)} vectors written to {HERE}", file=sys.stderr)
