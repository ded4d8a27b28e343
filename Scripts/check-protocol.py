#!/usr/bin/env python3
"""Checks Protocol/ against itself: schemas, service definitions, golden vectors, spec examples.

An independent reader of Runnel streams, written from PROTOCOL.md with Python's `zstandard` and
`jsonschema`: it decodes every vector (zstd or plain, limits, line numbers), validates every line
against Protocol/schemas/line.json, derives the status code of every error, and compares the
outcome with Protocol/vectors/manifest.json. It also checks that the schemas are valid draft
2020-12, that Protocol/services/*.json match service.json, that every vector file is in the
manifest, and that every ```jsonl example in PROTOCOL.md is a valid line.

    pip install zstandard jsonschema
    python3 Scripts/check-protocol.py [-v]

Exit status 1 if anything disagrees. The last line is `N passed, M failed`.
"""

import decimal
import glob
import json
import os
import re
import struct
import sys

try:
    import jsonschema
    import zstandard
    from referencing import Registry, Resource
except ImportError as error:  # pragma: no cover
    print(f"check-protocol: {error}; run: pip install zstandard jsonschema", file=sys.stderr)
    sys.exit(2)

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PROTOCOL = os.path.join(ROOT, "Protocol")
SCHEMAS = os.path.join(PROTOCOL, "schemas")
VECTORS = os.path.join(PROTOCOL, "vectors")
BASE = "https://runnel.example/protocol/v1/schemas/"

DEFAULT_MAX_LINE = 16 << 20
DEFAULT_MAX_WINDOW_LOG = 24
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CONTROL_NAMES = {"hello", "credit", "ack", "nack", "ping", "pong", "health", "describe", "drain", "bye"}

verbose = "-v" in sys.argv[1:]
passed = 0
failed = 0


def check(ok, what, detail=""):
    global passed, failed
    if ok:
        passed += 1
        if verbose:
            print(f"ok    {what}")
    else:
        failed += 1
        print(f"FAIL  {what}" + (f": {detail}" if detail else ""))


# MARK: Schemas

def load_schemas():
    resources = []
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "**", "*.json"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        rel = os.path.relpath(path, SCHEMAS)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
            check(schema.get("$id") == BASE + rel.replace(os.sep, "/"), f"schema {rel}: $id", schema.get("$id"))
        except jsonschema.SchemaError as error:
            check(False, f"schema {rel}", error.message)
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


REGISTRY = load_schemas()


def validator(name):
    return jsonschema.Draft202012Validator({"$ref": BASE + name}, registry=REGISTRY)


LINE = validator("line.json")
ENVELOPE_FIELDS = validator("envelope.json#/$defs/fields")
CONTROL_FIELDS = validator("control.json#/$defs/fields")
SERVICE = validator("service.json")


# MARK: Lines

def reject_constant(name):
    raise ValueError(f"{name} is not JSON")


def line_error(raw):
    """The status code a reader refuses this line (no newline) with, or None if it is valid."""
    try:
        text = raw.decode("utf-8")  # strict: no surrogates, no overlong forms
        # Fractions stay Decimal, so 1.0 is not an integer (the envelope reads integers as digits).
        value = json.loads(text, parse_float=decimal.Decimal, parse_constant=reject_constant)
    except (UnicodeDecodeError, ValueError):
        return "INVALID_ARGUMENT"
    errors = list(LINE.iter_errors(value))
    if not errors:
        return None
    if isinstance(value, dict) and "ctl" in value:
        ctl = value["ctl"]
        if isinstance(ctl, str) and ctl not in CONTROL_NAMES and CONTROL_FIELDS.is_valid(value):
            return "UNIMPLEMENTED"
    elif isinstance(value, dict):
        v = value.get("v")
        if isinstance(v, int) and not isinstance(v, bool) and v != 1 and ENVELOPE_FIELDS.is_valid(value):
            return "UNIMPLEMENTED"
    if verbose:
        print("      " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"[:160] for e in errors[:3]))
    return "INVALID_ARGUMENT"


# MARK: Streams

def is_zstd(prefix):
    return prefix[:4] == ZSTD_MAGIC or (len(prefix) >= 4 and prefix[0] & 0xF0 == 0x50 and prefix[1:4] == b"\x2a\x4d\x18")


def decompress(data, max_window_log):
    """The decoded text up to the first fatal error, and that error or None.

    An error's offset is where the bad frame starts (the end of the last whole frame)."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        head = data[pos:pos + 4]
        if len(head) == 4 and head[0] & 0xF0 == 0x50 and head[1:4] == b"\x2a\x4d\x18":
            if pos + 8 > len(data):
                return out, {"code": "DATA_LOSS", "offset": pos}
            (size,) = struct.unpack("<I", data[pos + 4:pos + 8])
            if pos + 8 + size > len(data):
                return out, {"code": "DATA_LOSS", "offset": pos}
            pos += 8 + size
            continue
        if head != ZSTD_MAGIC[:len(head)]:
            return out, {"code": "DATA_LOSS", "offset": pos}
        if len(head) < 4:
            return out, {"code": "DATA_LOSS", "offset": pos}
        try:
            params = zstandard.get_frame_parameters(data[pos:])
        except zstandard.ZstdError:
            return out, {"code": "DATA_LOSS", "offset": pos}  # header cut short
        if params.window_size > 1 << max_window_log:
            return out, {"code": "RESOURCE_EXHAUSTED", "offset": pos}
        dobj = zstandard.ZstdDecompressor(max_window_size=1 << max_window_log).decompressobj()
        try:
            out += dobj.decompress(data[pos:])
        except zstandard.ZstdError:
            return out, {"code": "DATA_LOSS", "offset": pos}
        if not dobj.eof:
            return out, {"code": "DATA_LOSS", "offset": pos}
        pos = len(data) - len(dobj.unused_data)
    return out, None


def read_stream(data, max_line, max_window_log):
    """Decodes a stream as PROTOCOL.md says: (valid line count, [errors in order])."""
    errors = []
    if is_zstd(data):
        text, fatal = decompress(data, max_window_log)
    elif data and not (data[0] in b"\t\n\r" or 0x20 <= data[0] < 0x7F or data[0] == 0xEF):
        return 0, [{"code": "DATA_LOSS", "offset": 0}]
    else:
        text, fatal = (data[3:] if data.startswith(b"\xef\xbb\xbf") else data), None
    pieces = bytes(text).split(b"\n")
    last = pieces.pop()  # after the last newline: a line only if the stream ended cleanly
    if last and fatal is None:
        pieces.append(last)
    valid = 0
    for number, raw in enumerate(pieces, start=1):
        if len(raw) > max_line:
            errors.append({"code": "RESOURCE_EXHAUSTED", "line": number})
        elif raw in (b"", b"\r"):
            continue
        else:
            code = line_error(raw)
            if code is None:
                valid += 1
            else:
                errors.append({"code": code, "line": number})
    if fatal:
        errors.append(fatal)
    return valid, errors


# MARK: Checks

def check_vectors():
    with open(os.path.join(VECTORS, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)["vectors"]
    listed = set()
    for entry in manifest:
        name = entry["file"]
        listed.add(name)
        path = os.path.join(VECTORS, name)
        if not os.path.exists(path):
            check(False, f"vector {name}", "listed in the manifest but missing")
            continue
        with open(path, "rb") as f:
            data = f.read()
        limits = entry.get("limits", {})
        valid, errors = read_stream(data, limits.get("max_line", DEFAULT_MAX_LINE),
                                    limits.get("max_window_log", DEFAULT_MAX_WINDOW_LOG))
        expected_format = "zstd" if is_zstd(data) else "plain"
        ok = (valid == entry["valid"] and errors == entry["errors"] and entry["format"] == expected_format
              and entry["exit"] == (65 if errors else 0))
        check(ok, f"vector {name}",
              f"read {valid} valid, errors {errors}; manifest says {entry['valid']} valid, errors {entry['errors']}")
    present = {os.path.basename(p) for p in glob.glob(os.path.join(VECTORS, "*"))} - {"manifest.json", "make_vectors.py"}
    for name in sorted(present - listed):
        check(False, f"vector {name}", "not in manifest.json")


def check_services():
    for path in sorted(glob.glob(os.path.join(PROTOCOL, "services", "*.json"))):
        with open(path, encoding="utf-8") as f:
            service = json.load(f)
        problems = [e.message for e in SERVICE.iter_errors(service)]
        name = os.path.basename(path)
        if service.get("name") + ".json" != name:
            problems.append(f"name {service.get('name')!r} does not match the file name")
        check(not problems, f"service {name}", "; ".join(problems))


def check_spec_examples():
    """Every line of a ```jsonl block in PROTOCOL.md must be a valid line."""
    path = os.path.join(PROTOCOL, "PROTOCOL.md")
    if not os.path.exists(path):
        check(False, "PROTOCOL.md", "missing")
        return
    with open(path, encoding="utf-8") as f:
        spec = f.read()
    for block in re.findall(r"```jsonl\n(.*?)```", spec, flags=re.S):
        for raw in block.splitlines():
            if raw.strip():
                code = line_error(raw.encode())
                check(code is None, f"PROTOCOL.md example {raw[:70]}", code or "")


check_vectors()
check_services()
check_spec_examples()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
