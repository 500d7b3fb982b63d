#!/usr/bin/env python3
"""Verify a Kopa event log independently of Kopa.

Usage:
    verify_chain.py [FILE] [--expect-head HASH] [--expect-count N]
    kopa log --format ndjson | verify_chain.py
    lz4 -dc ledger.kopa | verify_chain.py          # an archive
    verify_chain.py --self-test

Input is NDJSON: one Kopa event record per line plus its "hash". For every
line this script recomputes

    hash = lower-case hex SHA-256( 0x00 || UTF-8( JCS(record without "hash") ) )

where JCS is RFC 8785 (JSON Canonicalization Scheme), and checks the chain:
`prev` is the previous line's hash (64 zeros for the first), `seq` runs
1, 2, 3 ... without gaps, seq 1 is `ledger-created`, `recorded_at` never
decreases, and every record has exactly the 13 record keys plus "hash".

Kopa records contain integers only (|n| < 2^53; decimals are strings), so the
canonicaliser below handles integer-only JSON: a float anywhere is an error.

Python 3 standard library only. Exit 0 and `ok: N events, head H` on
success; exit 1 and `broken at seq N: REASON` on stderr at the first failure;
exit 64 on a bad command line, 66 if FILE cannot be opened.
"""

import hashlib
import json
import re
import sys

RECORD_KEYS = frozenset((
    "seq", "id", "type", "version", "stream", "stream_version", "occurred_at",
    "recorded_at", "recorded_by", "data", "meta", "prev",
))
LINE_KEYS = RECORD_KEYS | {"hash"}
ZERO_HASH = "0" * 64
MAX_SAFE = 2 ** 53  # |n| must be < 2^53 (I-JSON / RFC 8785 integers)

HASH_RE = re.compile(r"[0-9a-f]{64}\Z")
RECORDED_AT_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\Z")


class CanonError(ValueError):
    pass


# --------------------------------------------------------------------------
# RFC 8785 canonicalisation (integer-only JSON)
# --------------------------------------------------------------------------

# Characters a JSON string serialiser must escape, and how ECMAScript's
# JSON.stringify (which RFC 8785 §3.2.2.2 adopts) writes them: the two-char
# escapes for " \ BS FF LF CR TAB, lower-case \u00xx for the other C0
# controls. Everything else (DEL, non-ASCII, U+2028, U+2029) is literal.
_ESCAPES = {i: "\\u%04x" % i for i in range(0x20)}
_ESCAPES.update({
    0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r",
    0x22: '\\"', 0x5C: "\\\\",
})
_ESCAPE_STR = {chr(k): v for k, v in _ESCAPES.items()}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _escape_match(m):
    return _ESCAPE_STR[m.group()]


def canon_string(s):
    """A JSON string literal as ECMAScript JSON.stringify writes it."""
    if _NEEDS_ESCAPE.search(s) is None:
        return '"' + s + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_match, s) + '"'


def _utf16_key(k):
    # RFC 8785 §3.2.3: property names sort by their UTF-16 code units.
    # Big-endian UTF-16 bytes compare exactly like the code-unit sequence.
    # (surrogatepass: a lone surrogate is reported later, by canonicalize)
    return k.encode("utf-16-be", "surrogatepass")


def _member_prefixes(keys):
    """For an object with these keys: [(key, '{"key":' or ',"key":'), ...]
    in canonical order."""
    if all(k.isascii() for k in keys):
        # For ASCII, code-point order and UTF-16 order agree; this skips
        # the encode for the (overwhelmingly) common case.
        ordered = sorted(keys)
    else:
        ordered = sorted(keys, key=_utf16_key)
    return [(k, ("{" if n == 0 else ",") + canon_string(k) + ":")
            for n, k in enumerate(ordered)]


# Records of one event type share their shape, so the sorted, escaped member
# names of an object are computed once per distinct key tuple or key set
# (a bounded cache).
_shapes = {}
_SHAPES_MAX = 8192


def _canon_scalar(v, out):
    """Append the canonical form of a non-container value to out."""
    t = type(v)
    if t is str:
        out.append(canon_string(v))
    elif t is int:
        if not -MAX_SAFE < v < MAX_SAFE:
            raise CanonError("integer %d outside the I-JSON range |n| < 2^53" % v)
        out.append(str(v))
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif v is None:
        out.append("null")
    else:
        raise CanonError("value of type %s is not allowed in a Kopa record" % t.__name__)


def _canon(v, out):
    """Append the canonical form of v to the list out.

    Strings and integers are handled inline (they are most of a record);
    everything else goes through _canon_scalar, containers recurse."""
    append = out.append
    search = _NEEDS_ESCAPE.search
    t = type(v)
    if t is dict:
        if not v:
            append("{}")
            return
        keys = tuple(v)
        members = _shapes.get(keys)
        if members is None:
            # Same keys in another order (a writer that does not keep key
            # order): look up by key set before sorting from scratch.
            keyset = frozenset(keys)
            members = _shapes.get(keyset)
            if members is None:
                members = _member_prefixes(keys)
            if len(_shapes) >= _SHAPES_MAX:
                _shapes.clear()
            _shapes[keys] = _shapes[keyset] = members
        for k, prefix in members:
            append(prefix)
            x = v[k]
            tx = type(x)
            if tx is str and search(x) is None:
                append('"' + x + '"')
            elif tx is dict or tx is list:
                _canon(x, out)
            else:
                _canon_scalar(x, out)
        append("}")
    elif t is list:
        if not v:
            append("[]")
            return
        sep = "["
        for x in v:
            append(sep)
            tx = type(x)
            if tx is str and search(x) is None:
                append('"' + x + '"')
            elif tx is dict or tx is list:
                _canon(x, out)
            else:
                _canon_scalar(x, out)
            sep = ","
        append("]")
    else:
        _canon_scalar(v, out)


def canonicalize(value):
    """RFC 8785 canonical form of an integer-only JSON value, as UTF-8 bytes."""
    out = []
    _canon(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError:
        # Python strings hold code points, so a surrogate that survives to
        # here is unpaired: the JSON text had a lone \\udXXX escape, which
        # I-JSON (and so RFC 8785) does not allow.
        raise CanonError("a string holds a lone surrogate (unpaired \\ud800-\\udfff escape)")


def record_hash(record):
    """Kopa's event hash: hex SHA-256 of 0x00 || JCS(record)."""
    return hashlib.sha256(b"\x00" + canonicalize(record)).hexdigest()


# --------------------------------------------------------------------------
# Strict JSON parsing
# --------------------------------------------------------------------------

class ParseError(ValueError):
    pass


def _reject_float(text):
    raise ParseError("number %s is not an integer (Kopa records hold integers only)" % text)


def _reject_constant(text):
    raise ParseError("%s is not JSON" % text)


def _pairs_to_dict(pairs):
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise ParseError("duplicate key %s" % json.dumps(k, ensure_ascii=False))
            seen.add(k)
    return d


_decoder = json.JSONDecoder(
    parse_float=_reject_float,
    parse_constant=_reject_constant,
    object_pairs_hook=_pairs_to_dict,
)


# --------------------------------------------------------------------------
# Chain verification
# --------------------------------------------------------------------------

class Broken(Exception):
    def __init__(self, seq, reason):
        super().__init__(reason)
        self.seq = seq
        self.reason = reason


def _is_int(v):
    return type(v) is int


def _envelope_types(rec, seq):
    """Raise Broken naming the first envelope field of the wrong type."""
    for key in ("version", "stream_version"):
        if not _is_int(rec[key]) or rec[key] < 1:
            raise Broken(seq, "%s is %s, expected a positive integer" % (key, json.dumps(rec[key])))
    for key in ("id", "type", "stream", "occurred_at", "recorded_at", "recorded_by", "prev", "hash"):
        if type(rec[key]) is not str:
            raise Broken(seq, "%s is %s, expected a string" % (key, json.dumps(rec[key])[:80]))
    for key in ("data", "meta"):
        if type(rec[key]) is not dict:
            raise Broken(seq, "%s is %s, expected an object" % (key, json.dumps(rec[key])[:80]))


def verify(stream):
    """Verify the lines of a binary stream. Returns (count, head hash)."""
    prev_hash = ZERO_HASH
    prev_recorded = ""
    expected = 1
    lineno = 0
    blank_at = 0  # line number of a blank line not yet followed by data
    sha256 = hashlib.sha256
    decoder = _decoder
    scan_once = _decoder.scan_once
    lstrip = " \t\r\n"

    for raw in stream:
        lineno += 1
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise Broken(expected, "line %d is not valid UTF-8: %s" % (lineno, e))
        if lineno == 1 and text.startswith("\ufeff"):
            raise Broken(expected, "line 1 starts with a byte order mark")
        stripped = text.strip(lstrip)
        if not stripped:
            if not blank_at:
                blank_at = lineno
            continue
        if blank_at:
            raise Broken(expected, "line %d is empty" % blank_at)
        try:
            # The C scanner directly (what json.loads runs underneath); on
            # any doubt, json's own decode produces the error message.
            rec, end = scan_once(stripped, 0)
            if end != len(stripped):
                raise StopIteration
        except ParseError as e:
            raise Broken(expected, "line %d is not valid JSON: %s" % (lineno, e))
        except (StopIteration, ValueError):
            # The scanner stops at the value it cannot read (StopIteration) or part-way through
            # an object (JSONDecodeError); json's own decode names the problem either way.
            try:
                rec = decoder.decode(stripped)
            except ValueError as e:
                raise Broken(expected, "line %d is not valid JSON: %s" % (lineno, e))

        if type(rec) is not dict:
            raise Broken(expected, "line %d is not a JSON object" % lineno)
        if rec.keys() != LINE_KEYS:
            keys = set(rec)
            missing = sorted(LINE_KEYS - keys)
            extra = sorted(keys - LINE_KEYS)
            parts = []
            if missing:
                parts.append("missing key(s) " + ", ".join(missing))
            if extra:
                parts.append("unexpected key(s) " + ", ".join(extra))
            raise Broken(rec.get("seq", expected) if _is_int(rec.get("seq")) else expected,
                         "line %d: %s" % (lineno, "; ".join(parts)))

        seq = rec["seq"]
        if not _is_int(seq):
            raise Broken(expected, "line %d: seq is %s, expected an integer" % (lineno, json.dumps(seq)))
        if seq != expected:
            raise Broken(expected, "seq gap: expected %d, found %d" % (expected, seq))

        if not (type(rec["version"]) is int and type(rec["stream_version"]) is int
                and type(rec["data"]) is dict and type(rec["meta"]) is dict
                and type(rec["id"]) is str and type(rec["type"]) is str
                and type(rec["stream"]) is str and type(rec["occurred_at"]) is str
                and type(rec["recorded_at"]) is str and type(rec["recorded_by"]) is str
                and type(rec["prev"]) is str and type(rec["hash"]) is str
                and rec["version"] >= 1 and rec["stream_version"] >= 1):
            _envelope_types(rec, seq)

        if seq == 1 and rec["type"] != "ledger-created":
            raise Broken(seq, "seq 1 has type '%s', expected 'ledger-created'" % rec["type"])

        stored = rec.pop("hash")
        if not HASH_RE.match(stored):
            raise Broken(seq, "hash '%s' is not 64 lower-case hex digits" % stored[:80])

        try:
            canonical = canonicalize(rec)
        except (CanonError, UnicodeEncodeError) as e:
            raise Broken(seq, "cannot canonicalise: %s" % e)
        computed = sha256(b"\x00" + canonical).hexdigest()
        if computed != stored:
            raise Broken(seq, "hash mismatch (stored %s, computed %s)" % (stored, computed))

        if rec["prev"] != prev_hash:
            if seq == 1:
                raise Broken(seq, "prev is %s, expected 64 zeros for the first event" % rec["prev"][:80])
            raise Broken(seq, "prev does not match hash of seq %d (prev %s, hash of seq %d %s)"
                         % (seq - 1, rec["prev"][:80], seq - 1, prev_hash))

        recorded = rec["recorded_at"]
        if not RECORDED_AT_RE.match(recorded):
            raise Broken(seq, "recorded_at '%s' is not YYYY-MM-DDThh:mm:ss.sssZ" % recorded[:80])
        if recorded < prev_recorded:
            raise Broken(seq, "recorded_at %s is earlier than seq %d's %s"
                         % (recorded, seq - 1, prev_recorded))

        prev_hash = stored
        prev_recorded = recorded
        expected += 1

    if expected == 1:
        raise Broken(1, "no records")
    return expected - 1, prev_hash


# --------------------------------------------------------------------------
# Self-test against RFC 8785 examples (the parts that fit integer-only JSON)
# --------------------------------------------------------------------------

def self_test():
    failures = []

    def check(name, got, want):
        if got != want:
            failures.append("%s:\n    got  %r\n    want %r" % (name, got, want))

    def canon_text(json_text):
        return canonicalize(_decoder.decode(json_text)).decode("utf-8")

    # RFC 8785 §3.2.3, sorting of object properties.
    sorting = canon_text(
        '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", '
        '"\\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One", '
        '"\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control", '
        '"\\u00f6": "Latin Small Letter O With Diaeresis"}')
    check("RFC 8785 3.2.3 sorting", sorting,
          '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
          '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
          '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')
    order = [k for k in json.loads(sorting)]
    check("RFC 8785 3.2.3 key order", order,
          ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"])
    # Python's default (code point) order would put U+FB33 before U+1F600.
    check("code point order differs", sorted(order)[-2:], ["\ufb33", "\U0001f600"])

    # RFC 8785 §3.2.2 example without its "numbers" member (floats).
    check("RFC 8785 3.2.2 string and literals", canon_text(
        '{\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n'
        '  "literals": [null, true, false]\n}'),
        '{"literals":[null,true,false],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')

    # String escaping, one character at a time (ECMAScript JSON.stringify).
    for ch, want in [
        ("\u000f", '"\\u000f"'), ("\u0000", '"\\u0000"'), ("\u001f", '"\\u001f"'),
        ("\u001b", '"\\u001b"'), ("\n", '"\\n"'), ("\r", '"\\r"'), ("\t", '"\\t"'),
        ("\b", '"\\b"'), ("\f", '"\\f"'), ('"', '"\\""'), ("\\", '"\\\\"'),
        ("/", '"/"'), ("\u007f", '"\u007f"'), ("\u0080", '"\u0080"'),
        ("\u2028", '"\u2028"'), ("\u2029", '"\u2029"'), ("\u00e9", '"\u00e9"'),
        ("\U0001f600", '"\U0001f600"'), ("\ufeff", '"\ufeff"'),
    ]:
        check("escape U+%04X" % ord(ch), canon_string(ch), want)
    check("escape UTF-8 bytes of U+007F", canonicalize("\u007f"), b'"\x7f"')
    check("escape UTF-8 bytes of U+2028", canonicalize("\u2028"), b'"\xe2\x80\xa8"')

    # Integers, literals, nesting, whitespace.
    check("integers", canon_text("[0, -0, 1, -1, 9007199254740991, -9007199254740991]"),
          "[0,0,1,-1,9007199254740991,-9007199254740991]")
    check("nested", canon_text('{ "b" : [ {"z":1, "a":[]}, {} ], "a": {"y": null, "x": true} }'),
          '{"a":{"x":true,"y":null},"b":[{"a":[],"z":1},{}]}')
    check("Ķekava", canonicalize({"nosaukums": "Ķekavas novads"}),
          '{"nosaukums":"Ķekavas novads"}'.encode("utf-8"))

    # Things that must be rejected.
    for name, text in [
        ("float", "1.5"), ("exponent", "1e3"), ("negative float", "-0.0"),
        ("NaN", "NaN"), ("Infinity", "Infinity"),
        ("duplicate key", '{"a":1,"a":2}'),
    ]:
        try:
            _decoder.decode(text)
        except ValueError:
            pass
        else:
            failures.append("%s (%s) was accepted" % (name, text))
    for name, value in [("2^53", 2 ** 53), ("-2^53", -(2 ** 53)),
                        ("lone high surrogate", "\ud83d"), ("lone low surrogate", "a\ude00"),
                        ("lone surrogate key", {"\ud800": 1})]:
        try:
            canonicalize(value)
        except (CanonError, UnicodeEncodeError):
            pass
        else:
            failures.append("%s was accepted" % name)

    # A two-event chain built here, then verified, then tampered with.
    import io
    r1 = {"seq": 1, "id": "00000000-0000-4000-8000-000000000001", "type": "ledger-created",
          "version": 1, "stream": "ledger", "stream_version": 1, "occurred_at": "2024-01-01",
          "recorded_at": "2024-01-01T00:00:00.000Z", "recorded_by": "self-test",
          "data": {"name": "Ķekava"}, "meta": {}, "prev": ZERO_HASH}
    r1["hash"] = record_hash(r1)
    r2 = dict(r1, seq=2, id="00000000-0000-4000-8000-000000000002", type="x",
              stream_version=2, prev=r1["hash"])
    del r2["hash"]
    r2["hash"] = record_hash(r2)
    good = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (r1, r2)).encode()
    try:
        check("chain ok", verify(io.BytesIO(good)), (2, r2["hash"]))
    except Broken as e:
        failures.append("valid chain rejected: %s" % e.reason)
    for name, bad in [
        ("tampered data", good.replace("Ķekava".encode(), b"Kekava", 1)),
        ("swapped lines", b"".join(reversed(good.splitlines(True)))),
        ("float", good.replace(b'"version": 1', b'"version": 1.0', 1)),
        ("a leading zero inside the line", good.replace(b'"stream_version": 2', b'"stream_version": 02', 1)),
        ("empty", b""),
    ]:
        try:
            verify(io.BytesIO(bad))
        except Broken:
            pass
        else:
            failures.append("%s chain was accepted" % name)

    if failures:
        for f in failures:
            print("FAIL " + f, file=sys.stderr)
        print("self-test: %d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("self-test: ok")
    return 0


# --------------------------------------------------------------------------

def usage_error(msg):
    print("verify_chain.py: %s" % msg, file=sys.stderr)
    print("usage: verify_chain.py [FILE|-] [--expect-head HASH] [--expect-count N] | --self-test",
          file=sys.stderr)
    return 64


def main(argv):
    path = None
    expect_head = None
    expect_count = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a == "--self-test":
            return self_test()
        if a in ("--expect-head", "--expect-count") or a.startswith(("--expect-head=", "--expect-count=")):
            if "=" in a:
                a, val = a.split("=", 1)
            else:
                i += 1
                if i >= len(argv):
                    return usage_error("%s needs a value" % a)
                val = argv[i]
            if a == "--expect-head":
                if not HASH_RE.match(val):
                    return usage_error("--expect-head '%s' is not 64 lower-case hex digits" % val)
                expect_head = val
            else:
                try:
                    expect_count = int(val)
                except ValueError:
                    return usage_error("--expect-count '%s' is not an integer" % val)
        elif a.startswith("-") and a != "-":
            return usage_error("unknown option '%s'" % a)
        elif path is None:
            path = a
        else:
            return usage_error("more than one input file ('%s', '%s')" % (path, a))
        i += 1

    if path is None or path == "-":
        stream = sys.stdin.buffer
    else:
        try:
            stream = open(path, "rb", buffering=1 << 20)
        except OSError as e:
            print("verify_chain.py: cannot open %s: %s" % (path, e.strerror), file=sys.stderr)
            return 66
    try:
        count, head = verify(stream)
    except Broken as e:
        print("broken at seq %d: %s" % (e.seq, e.reason), file=sys.stderr)
        return 1
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()

    if expect_count is not None and count != expect_count:
        print("count mismatch: expected %d events, found %d" % (expect_count, count), file=sys.stderr)
        return 1
    if expect_head is not None and head != expect_head:
        print("head mismatch: expected %s, found %s" % (expect_head, head), file=sys.stderr)
        return 1
    print("ok: %d events, head %s" % (count, head))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
