#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the records of an archive (an LZ4 frame of NDJSON export lines) in order, checking each
/// line's shape: exactly the 13 record keys plus `hash`, integers where the record has integers,
/// strings and objects where it has those. `data` and `meta` are re-serialised canonically
/// (RFC 8785), so an archive written by another tool in any key order still verifies.
///
/// The chain itself (links, hashes, seq) is checked by ``ChainVerifier`` on the records it yields.
public final class ArchiveReader {
    /// The LZ4 frame underneath.
    public let frame: LZ4FrameReader
    /// The archive's name in messages.
    public var name: String { frame.name }
    /// The 1-based number of the line read last.
    public private(set) var lineNumber = 0
    private var carry: [UInt8] = []
    private var blankAt = 0
    /// A line may hold a 1 MiB record plus its envelope; anything far longer is not a record.
    static let maxLineBytes = 8 << 20

    static let lineKeys: Set<String> = [
        "seq", "id", "type", "version", "stream", "stream_version", "occurred_at", "recorded_at",
        "recorded_by", "data", "meta", "prev", "hash",
    ]

    /// Opens the archive at `path`.
    public init(path: String) throws {
        frame = try LZ4FrameReader(path: path)
    }

    /// Reads from an open frame reader.
    public init(frame: LZ4FrameReader) {
        self.frame = frame
    }

    /// Calls `body` with every record, in file order; `expectedSeq` names the seq an error is
    /// reported at when a line is too broken to have one.
    /// - Throws: the frame's errors, and ``LedgerError/Kind/integrity`` naming the line and seq of
    ///   the first line that is not a record.
    public func forEachRecord(expectedSeq: () -> Int64, _ body: (EventRecord) throws -> Void) throws {
        try forEachLine(expectedSeq: expectedSeq) { line, number in
            if let fast = CanonicalLine.record(line) {
                try body(fast)
            } else {
                try body(try Self.record(line, expectedSeq: expectedSeq(), line: number, file: name))
            }
        }
    }

    /// Calls `body` with the bytes of every line that is not blank (without its newline, valid
    /// only during the call) and its line number, in file order; ``lineNumber`` is the last line's
    /// once it returns. Blank lines are allowed only at the end.
    /// - Throws: the frame's errors, and ``LedgerError/Kind/integrity`` for a blank line before a
    ///   record or a line too long to be one.
    func forEachLine(expectedSeq: () -> Int64, _ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Void) throws {
        // Locals while reading: every access to a class's stored property is checked for
        // exclusivity at run time, and that was ~5 % of `kopa verify FILE`.
        var lineNumber = self.lineNumber
        var blankAt = self.blankAt
        var carry: [UInt8] = []
        swap(&carry, &self.carry)
        defer {
            self.lineNumber = lineNumber
            self.blankAt = blankAt
            swap(&carry, &self.carry)
        }
        func handle(_ line: UnsafeBufferPointer<UInt8>) throws {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                if blankAt == 0 { blankAt = lineNumber }
                return
            }
            if blankAt != 0 {
                throw LedgerError(.integrity, "line \(blankAt) is empty; an archive holds one record per line", seq: expectedSeq(), file: name, line: blankAt)
            }
            try body(line, lineNumber)
        }
        func tooLong() -> LedgerError {
            LedgerError(.integrity, "line \(lineNumber + 1) is longer than \(Self.maxLineBytes >> 20) MiB; it is not a record", seq: expectedSeq(), file: name, line: lineNumber + 1)
        }
        try frame.forEachChunk { chunk in
            guard let raw = chunk.baseAddress, chunk.count > 0 else { return }
            let base = raw.assumingMemoryBound(to: UInt8.self)
            var position = 0
            while position < chunk.count {
                guard let hit = memchr(base + position, 0x0A, chunk.count - position) else {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + position, count: chunk.count - position))
                    if carry.count > Self.maxLineBytes { throw tooLong() }
                    break
                }
                let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                let line = UnsafeBufferPointer(start: base + position, count: end - position)
                // The limit holds however the line falls into blocks: its end may come in the
                // block after the one that took it past 8 MiB.
                if carry.count + line.count > Self.maxLineBytes { throw tooLong() }
                if carry.isEmpty {
                    try handle(line)
                } else {
                    carry.append(contentsOf: line)
                    try carry.withUnsafeBufferPointer { try handle($0) }
                    carry.removeAll(keepingCapacity: true)
                }
                position = end + 1
            }
        }
        if !carry.isEmpty {
            try carry.withUnsafeBufferPointer { try handle($0) }
            carry.removeAll()
        }
    }

    /// One line as a record, parsed in full: any key order and whitespace, and an error naming
    /// what is wrong when the line is not a record.
    func record(_ line: UnsafeBufferPointer<UInt8>, expectedSeq: Int64) throws -> EventRecord {
        try Self.record(line, expectedSeq: expectedSeq, line: lineNumber, file: name)
    }

    /// One line as a record, parsed in full, `at` being its line number in `file`: it touches no
    /// reader state, so any thread may parse a line.
    static func record(_ line: UnsafeBufferPointer<UInt8>, expectedSeq: Int64, line at: Int, file name: String) throws -> EventRecord {
        var canonical: [UInt8] = []
        func broken(_ message: String, seq: Int64? = nil) -> LedgerError {
            LedgerError(.integrity, message, seq: seq ?? expectedSeq, file: name, line: at)
        }
        let value: JSONValue
        do throws(JSONParser.Failure) {
            value = try JSONParser.parse(line)
        } catch {
            throw broken("the line is not valid JSON: \(error)")
        }
        guard case .object(let fields) = value else {
            throw broken("the line is \(value.kindDescription), not a record object")
        }
        let seqValue = fields["seq"]?.integerValue
        if fields.count != Self.lineKeys.count || !fields.keys.allSatisfy(Self.lineKeys.contains) {
            let missing = Self.lineKeys.subtracting(fields.keys).sorted()
            let extra = Set(fields.keys).subtracting(Self.lineKeys).sorted()
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing key(s) " + missing.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("unexpected key(s) " + extra.joined(separator: ", ")) }
            throw broken("the record has \(parts.joined(separator: "; ")); expected exactly \(Self.lineKeys.sorted().joined(separator: ", "))", seq: seqValue)
        }
        guard let seq = seqValue else {
            throw broken("seq is \(fields["seq"]!.shortDescription) but expected an integer")
        }
        func string(_ key: String) throws -> String {
            guard let s = fields[key]!.stringValue else {
                throw broken("\(key) is \(fields[key]!.shortDescription) but expected a string", seq: seq)
            }
            return s
        }
        func positive(_ key: String) throws -> Int64 {
            guard let n = fields[key]!.integerValue, n >= 1 else {
                throw broken("\(key) is \(fields[key]!.shortDescription) but expected a positive integer", seq: seq)
            }
            return n
        }
        func object(_ key: String) throws -> String {
            guard case .object = fields[key]! else {
                throw broken("\(key) is \(fields[key]!.kindDescription) but expected an object", seq: seq)
            }
            canonical.removeAll(keepingCapacity: true)
            do throws(CanonicalJSON.Failure) {
                try CanonicalJSON.write(fields[key]!, into: &canonical)
            } catch {
                throw broken("\(key) has no canonical form: \(error)", seq: seq)
            }
            return String(decoding: canonical, as: UTF8.self)
        }
        let hash = try string("hash")
        guard EventHash.isHash(hash) else {
            throw broken("hash '\(hash.prefix(80))' is not 64 lower-case hex digits", seq: seq)
        }
        // Every id Kopa writes is a lower-case UUID; an archive re-hashed with another id (upper
        // case, or no UUID) would restore into a ledger Kopa could not have written.
        let id = try string("id")
        guard UUIDText.isValid(id) else {
            throw broken("id '\(id.prefix(80))' is not a lower-case UUID; expected 8-4-4-4-12 hex digits 0-9 a-f", seq: seq)
        }
        let recordedAt = try string("recorded_at")
        guard Self.isRecordedAt(recordedAt) else {
            throw broken("recorded_at '\(recordedAt.prefix(80))' is not YYYY-MM-DDThh:mm:ss.sssZ", seq: seq)
        }
        return EventRecord(
            seq: seq, id: id, type: try string("type"), version: try positive("version"),
            stream: try string("stream"), streamVersion: try positive("stream_version"),
            occurredAt: try string("occurred_at"), recordedAt: recordedAt, recordedBy: try string("recorded_by"),
            dataJSON: try object("data"), metaJSON: try object("meta"), prev: try string("prev"), hash: hash)
    }

    /// `YYYY-MM-DDThh:mm:ss.sssZ`, digits where digits belong.
    static func isRecordedAt(_ text: String) -> Bool {
        var ok = text.utf8.count == 24
        if ok {
            for (i, b) in text.utf8.enumerated() {
                switch i {
                case 4, 7: ok = b == UInt8(ascii: "-")
                case 10: ok = b == UInt8(ascii: "T")
                case 13, 16: ok = b == UInt8(ascii: ":")
                case 19: ok = b == UInt8(ascii: ".")
                case 23: ok = b == UInt8(ascii: "Z")
                default: ok = b >= 0x30 && b <= 0x39
                }
                if !ok { break }
            }
        }
        return ok
    }
}

/// The fast path for a line exactly in the canonical form `kopa export` writes: keys in RFC 8785
/// order, no whitespace, `data` and `meta` already canonical. Such a line is read without building
/// a JSON tree; its `data` and `meta` bytes are the canonical text to hash.
///
/// It is conservative: anything it is not sure of (escapes in envelope strings, non-ASCII or
/// escaped object keys, deep nesting, any deviation from the layout) returns nil, and the full
/// parser takes the line, with its error messages.
enum CanonicalLine {
    /// Where the fields of a canonical line are, as byte ranges of the line (strings without
    /// their quotes, objects with their braces), and its integers.
    ///
    /// The ranges are kept as 32-bit offsets (a line is at most ``ArchiveReader/maxLineBytes``): a
    /// layout travels with every line between the threads, and half the size is half the copying.
    struct Layout {
        /// A range of the line as two 32-bit offsets.
        struct Span {
            var start: UInt32, end: UInt32

            init(_ range: Range<Int>) {
                start = UInt32(truncatingIfNeeded: range.lowerBound)
                end = UInt32(truncatingIfNeeded: range.upperBound)
            }

            var range: Range<Int> { Int(start)..<Int(end) }
        }

        private var spans: (
            data: Span, hash: Span, id: Span, meta: Span, occurredAt: Span,
            prev: Span, recordedAt: Span, recordedBy: Span, stream: Span, type: Span
        )
        var seq: Int64, streamVersion: Int64, version: Int64

        init(
            data: Range<Int>, hash: Range<Int>, id: Range<Int>, meta: Range<Int>, occurredAt: Range<Int>,
            prev: Range<Int>, recordedAt: Range<Int>, recordedBy: Range<Int>, stream: Range<Int>, type: Range<Int>,
            seq: Int64, streamVersion: Int64, version: Int64
        ) {
            spans = (
                Span(data), Span(hash), Span(id), Span(meta), Span(occurredAt),
                Span(prev), Span(recordedAt), Span(recordedBy), Span(stream), Span(type)
            )
            self.seq = seq
            self.streamVersion = streamVersion
            self.version = version
        }

        var data: Range<Int> { spans.data.range }
        var hash: Range<Int> { spans.hash.range }
        var id: Range<Int> { spans.id.range }
        var meta: Range<Int> { spans.meta.range }
        var occurredAt: Range<Int> { spans.occurredAt.range }
        var prev: Range<Int> { spans.prev.range }
        var recordedAt: Range<Int> { spans.recordedAt.range }
        var recordedBy: Range<Int> { spans.recordedBy.range }
        var stream: Range<Int> { spans.stream.range }
        var type: Range<Int> { spans.type.range }

        /// The `,"hash":"…"` member: the line without it is the canonical record that is hashed.
        var hashMember: Range<Int> { (hash.lowerBound - 9)..<(hash.upperBound + 1) }
    }

    /// The record, or nil when the line is not exactly canonical.
    static func record(_ line: UnsafeBufferPointer<UInt8>) -> EventRecord? {
        layout(line).map { record(line, $0) }
    }

    /// The record of a line whose ``layout(_:)`` is `l`.
    static func record(_ line: UnsafeBufferPointer<UInt8>, _ l: Layout) -> EventRecord {
        func text(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
        }
        return EventRecord(
            seq: l.seq, id: text(l.id), type: text(l.type), version: l.version, stream: text(l.stream), streamVersion: l.streamVersion,
            occurredAt: text(l.occurredAt), recordedAt: text(l.recordedAt), recordedBy: text(l.recordedBy), dataJSON: text(l.data),
            metaJSON: text(l.meta), prev: text(l.prev), hash: text(l.hash))
    }

    /// The layout of the line, or nil when the line is not exactly canonical. Its strings hold no
    /// escapes and are valid UTF-8, so each field's bytes are the text of the record's field.
    static func layout(_ line: UnsafeBufferPointer<UInt8>) -> Layout? {
        var c = Cursor(bytes: line)
        guard c.literal("{\"data\":"), let data = c.object(),
            c.literal(",\"hash\":"), let hash = c.hashString(),
            c.literal(",\"id\":"), let id = c.uuidString(),
            c.literal(",\"meta\":"), let meta = c.object(),
            c.literal(",\"occurred_at\":"), let occurredAt = c.plainString(),
            c.literal(",\"prev\":"), let prev = c.hashString() ?? c.plainString(),
            c.literal(",\"recorded_at\":"), let recordedAt = c.recordedAtString(),
            c.literal(",\"recorded_by\":"), let recordedBy = c.plainString(),
            c.literal(",\"seq\":"), let seq = c.positiveInteger(),
            c.literal(",\"stream\":"), let stream = c.plainString(),
            c.literal(",\"stream_version\":"), let streamVersion = c.positiveInteger(),
            c.literal(",\"type\":"), let type = c.plainString(),
            c.literal(",\"version\":"), let version = c.positiveInteger(),
            c.literal("}"), c.index == line.count
        else { return nil }
        return Layout(
            data: data, hash: hash, id: id, meta: meta, occurredAt: occurredAt, prev: prev, recordedAt: recordedAt,
            recordedBy: recordedBy, stream: stream, type: type, seq: seq, streamVersion: streamVersion, version: version)
    }

    /// 64 lower-case hex digits, tested eight at a time (a byte test per digit was a tenth of the
    /// line check).
    static func isHash(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count == 64, let base = line.baseAddress else { return false }
        let raw = UnsafeRawPointer(base + range.lowerBound)
        for offset in stride(from: 0, to: 64, by: 8) {
            if !isHexWord(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))) { return false }
        }
        return true
    }

    /// Whether all eight bytes of `w` are `0`…`9` or `a`…`f`.
    @inline(__always)
    static func isHexWord(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard w & highs == 0 else { return false }
        // With every byte below 0x80, adding 0x80 - lo sets a byte's top bit exactly when the byte
        // is >= lo, and adding 0x7F - hi exactly when it is > hi; no carry crosses bytes.
        func inRange(_ lo: UInt64, _ hi: UInt64) -> UInt64 {
            (w &+ ones &* (0x80 - lo)) & ~(w &+ ones &* (0x7F - hi)) & highs
        }
        return inRange(0x30, 0x39) | inRange(0x61, 0x66) == highs
    }

    /// A lower-case UUID (8-4-4-4-12): the four dashes, and the 32 digits tested as four words
    /// (the middle groups of four put together two at a time).
    static func isUUID(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count == 36, let base = line.baseAddress else { return false }
        let raw = UnsafeRawPointer(base + range.lowerBound)
        func byte(_ offset: Int) -> UInt8 { raw.load(fromByteOffset: offset, as: UInt8.self) }
        let dash = UInt8(ascii: "-")
        guard byte(8) == dash, byte(13) == dash, byte(18) == dash, byte(23) == dash else { return false }
        func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        func half(_ offset: Int) -> UInt64 { UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
        return isHexWord(word(0)) && isHexWord(half(9) | half(14) << 32) && isHexWord(half(19) | half(24) << 32) && isHexWord(word(28))
    }

    /// `YYYY-MM-DDThh:mm:ss.sssZ`, tested as three words against the pattern.
    static func isRecordedAt(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count == 24, let base = line.baseAddress else { return false }
        let raw = UnsafeRawPointer(base + range.lowerBound)
        for (offset, pattern) in zip([0, 8, 16], recordedAtPattern) {
            let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            guard w & highs == 0, w & pattern.separatorMask == pattern.separators,
                digitBits(w) & pattern.digitBits == pattern.digitBits
            else { return false }
        }
        return true
    }

    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The top bit of each byte of `w` (all below 0x80) that is a digit `0`…`9`.
    @inline(__always)
    static func digitBits(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        return (w &+ ones &* 0x50) & ~(w &+ ones &* 0x46) & highs
    }

    /// Per word of `YYYY-MM-DDThh:mm:ss.sssZ`: where the separators are and what they are, and
    /// the top bits of the bytes that must be digits.
    static let recordedAtPattern: [(separatorMask: UInt64, separators: UInt64, digitBits: UInt64)] = {
        let template = Array("0000-00-00T00:00:00.000Z".utf8)
        return stride(from: 0, to: 24, by: 8).map { start in
            var mask: UInt64 = 0, separators: UInt64 = 0, digits: UInt64 = 0
            for i in 0..<8 {
                let b = template[start + i]
                if b == UInt8(ascii: "0") {
                    digits |= 0x80 << (8 * UInt64(i))
                } else {
                    mask |= 0xFF << (8 * UInt64(i))
                    separators |= UInt64(b) << (8 * UInt64(i))
                }
            }
            return (mask, separators, digits)
        }
    }()

    /// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
    static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        guard let base = b.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        while i < n {
            let c = b[i]
            if c < 0x80 {
                // Text is mostly ASCII: skip it eight bytes at a time.
                i += 1
                while i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
                continue
            }
            if c < 0xC2 { return false }
            if c < 0xE0 {
                guard i + 1 < n, b[i + 1] & 0xC0 == 0x80 else { return false }
                i += 2
                continue
            }
            if c < 0xF0 {
                guard i + 2 < n else { return false }
                let c1 = b[i + 1]
                switch c {
                case 0xE0: guard c1 >= 0xA0, c1 <= 0xBF else { return false }
                case 0xED: guard c1 >= 0x80, c1 <= 0x9F else { return false }
                default: guard c1 & 0xC0 == 0x80 else { return false }
                }
                guard b[i + 2] & 0xC0 == 0x80 else { return false }
                i += 3
                continue
            }
            if c < 0xF5 {
                guard i + 3 < n else { return false }
                let c1 = b[i + 1]
                switch c {
                case 0xF0: guard c1 >= 0x90, c1 <= 0xBF else { return false }
                case 0xF4: guard c1 >= 0x80, c1 <= 0x8F else { return false }
                default: guard c1 & 0xC0 == 0x80 else { return false }
                }
                guard b[i + 2] & 0xC0 == 0x80, b[i + 3] & 0xC0 == 0x80 else { return false }
                i += 4
                continue
            }
            return false
        }
        return true
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Nesting allowed inside `data`/`meta` before the full parser decides (it allows 64 with the line).
        static let maxDepth = 60
        /// Whether a byte of 0x80 or above was passed since the last reset (then UTF-8 is validated).
        var sawNonASCII = false

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        @inline(__always)
        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            let start = text.utf8Start
            for i in 0..<count where bytes[index + i] != start[i] { return false }
            index += count
            return true
        }

        /// The range of a string of 64 lower-case hex digits, or nil (then the index is unchanged).
        @inline(__always)
        mutating func hashString() -> Range<Int>? {
            fixedString(64) { CanonicalLine.isHash($0, $1) }
        }

        /// The range of a lower-case UUID string, or nil (any other id goes to the full parser,
        /// which names it).
        @inline(__always)
        mutating func uuidString() -> Range<Int>? {
            fixedString(36) { CanonicalLine.isUUID($0, $1) }
        }

        /// The range of a `YYYY-MM-DDThh:mm:ss.sssZ` string, or nil.
        @inline(__always)
        mutating func recordedAtString() -> Range<Int>? {
            fixedString(24) { CanonicalLine.isRecordedAt($0, $1) }
        }

        /// A string of exactly `count` bytes that `test` accepts (bytes no plain string could hold
        /// fail the tests above: they take no quote, backslash, control or non-ASCII byte).
        @inline(__always)
        mutating func fixedString(_ count: Int, _ test: (UnsafeBufferPointer<UInt8>, Range<Int>) -> Bool) -> Range<Int>? {
            let start = index + 1
            guard start + count < bytes.count, bytes[index] == 0x22, bytes[start + count] == 0x22,
                test(bytes, start..<(start + count))
            else { return nil }
            index = start + count + 1
            return start..<(start + count)
        }

        /// The range of a string without escapes or control characters, valid UTF-8.
        mutating func plainString() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == 0x22 else { return nil }
            let start = index + 1
            var high = false
            let stop = Self.skipPlain(bytes, from: start, high: &high)
            guard stop < bytes.count, bytes[stop] == 0x22 else { return nil }
            index = stop + 1
            if high, !CanonicalLine.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[start..<stop])) { return nil }
            return start..<stop
        }

        /// The index of the first byte from `start` on that is `"`, `\` or a control character (or
        /// the end), setting `high` when a byte of 0x80 or above was passed. Strings are most of a
        /// line, so they are skipped eight bytes at a time while no byte in the word is special
        /// (the word tests are exact about whether such a byte is there, not where: the byte
        /// loop then finds it).
        @inline(__always)
        static func skipPlain(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, high: inout Bool) -> Int {
            guard let base = bytes.baseAddress else { return start }
            let n = bytes.count
            var i = start
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            var passed: UInt64 = 0
            let raw = UnsafeRawPointer(base)
            while i + 8 <= n {
                let w = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
                if special & highs != 0 { break }
                passed |= w
                i += 8
            }
            if passed & highs != 0 { high = true }
            while i < n {
                let b = base[i]
                if b == 0x22 || b == 0x5C || b < 0x20 { return i }
                if b >= 0x80 { high = true }
                i += 1
            }
            return i
        }

        /// An integer in canonical form, 1 … 2^53 - 1.
        mutating func positiveInteger() -> Int64? {
            guard index < bytes.count, bytes[index] >= 0x31, bytes[index] <= 0x39 else { return nil }
            var n: Int64 = 0
            var digits = 0
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                n = n * 10 + Int64(bytes[index] - 0x30)
                digits += 1
                index += 1
                if digits > 16 { return nil }
            }
            return n < JSONValue.integerLimit ? n : nil
        }

        /// The range of a canonical object (validated as UTF-8).
        mutating func object() -> Range<Int>? {
            let start = index
            sawNonASCII = false
            guard index < bytes.count, bytes[index] == 0x7B, canonicalValue(depth: 0) else { return nil }
            if sawNonASCII, !CanonicalLine.isValidUTF8(UnsafeBufferPointer(rebasing: bytes[start..<index])) { return nil }
            return start..<index
        }

        /// Skips one value, checking that it is exactly in RFC 8785 form (integers only).
        mutating func canonicalValue(depth: Int) -> Bool {
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case 0x7B: // {
                guard depth < Self.maxDepth else { return false }
                index += 1
                if index < bytes.count, bytes[index] == 0x7D { index += 1; return true }
                var previousKey: Range<Int>? = nil
                while true {
                    guard let key = asciiKey() else { return false }
                    if let previousKey, !Self.precedes(bytes, previousKey, key) { return false }
                    previousKey = key
                    guard index < bytes.count, bytes[index] == 0x3A else { return false }
                    index += 1
                    guard canonicalValue(depth: depth + 1), index < bytes.count else { return false }
                    if bytes[index] == 0x2C { index += 1; continue }
                    if bytes[index] == 0x7D { index += 1; return true }
                    return false
                }
            case 0x5B: // [
                guard depth < Self.maxDepth else { return false }
                index += 1
                if index < bytes.count, bytes[index] == 0x5D { index += 1; return true }
                while true {
                    guard canonicalValue(depth: depth + 1), index < bytes.count else { return false }
                    if bytes[index] == 0x2C { index += 1; continue }
                    if bytes[index] == 0x5D { index += 1; return true }
                    return false
                }
            case 0x22:
                return canonicalString()
            case 0x74: return literal("true")
            case 0x66: return literal("false")
            case 0x6E: return literal("null")
            case 0x2D, 0x30...0x39:
                return canonicalInteger()
            default:
                return false
            }
        }

        /// An object key of printable ASCII without escapes (whose UTF-16 order is its byte order).
        mutating func asciiKey() -> Range<Int>? {
            guard index < bytes.count, bytes[index] == 0x22 else { return nil }
            let start = index + 1
            var i = start
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x22 { index = i + 1; return start..<i }
                if b == 0x5C || b < 0x20 || b >= 0x80 { return nil }
                i += 1
            }
            return nil
        }

        /// Whether key `a` sorts strictly before key `b`.
        static func precedes(_ bytes: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Bool {
            let common = min(a.count, b.count)
            for i in 0..<common {
                let x = bytes[a.lowerBound + i], y = bytes[b.lowerBound + i]
                if x != y { return x < y }
            }
            return a.count < b.count
        }

        /// A string escaped exactly as RFC 8785 escapes (UTF-8 validity is checked by the caller).
        mutating func canonicalString() -> Bool {
            index += 1
            while true {
                index = Self.skipPlain(bytes, from: index, high: &sawNonASCII)
                guard index < bytes.count else { return false }
                let b = bytes[index]
                if b == 0x22 { index += 1; return true }
                if b < 0x20 { return false }
                if b == 0x5C {
                    guard index + 1 < bytes.count else { return false }
                    switch bytes[index + 1] {
                    case 0x22, 0x5C, 0x62, 0x66, 0x6E, 0x72, 0x74: // " \ b f n r t
                        index += 2
                    case 0x75: // u00XX, lower-case hex, only for controls without a short escape
                        guard index + 5 < bytes.count, bytes[index + 2] == 0x30, bytes[index + 3] == 0x30,
                            bytes[index + 4] == 0x30 || bytes[index + 4] == 0x31
                        else { return false }
                        let low = bytes[index + 5]
                        let value: UInt8
                        switch low {
                        case 0x30...0x39: value = low - 0x30
                        case 0x61...0x66: value = low - 0x61 + 10
                        default: return false
                        }
                        let code = (bytes[index + 4] - 0x30) * 16 + value
                        if [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(code) { return false }
                        index += 6
                    default:
                        return false
                    }
                    continue
                }
            }
        }

        /// `0` or `-?[1-9][0-9]*` below 2^53 in magnitude, with no fraction or exponent.
        mutating func canonicalInteger() -> Bool {
            var negative = false
            if bytes[index] == 0x2D { negative = true; index += 1 }
            guard index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 else { return false }
            if bytes[index] == 0x30 {
                if negative { return false }
                index += 1
            } else {
                var n: Int64 = 0
                var digits = 0
                while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                    n = n * 10 + Int64(bytes[index] - 0x30)
                    digits += 1
                    index += 1
                    if digits > 16 { return false }
                }
                if n >= JSONValue.integerLimit { return false }
            }
            if index < bytes.count, bytes[index] == 0x2E || bytes[index] == 0x65 || bytes[index] == 0x45 { return false }
            return true
        }
    }
}
