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
    private var canonical: [UInt8] = []
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
        func handle(_ line: UnsafeBufferPointer<UInt8>) throws {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                if blankAt == 0 { blankAt = lineNumber }
                return
            }
            if blankAt != 0 {
                throw LedgerError(.integrity, "line \(blankAt) is empty; an archive holds one record per line", seq: expectedSeq(), file: name, line: blankAt)
            }
            try body(try record(line, expectedSeq: expectedSeq()))
        }
        try frame.forEachChunk { chunk in
            guard let raw = chunk.baseAddress, chunk.count > 0 else { return }
            let base = raw.assumingMemoryBound(to: UInt8.self)
            var position = 0
            while position < chunk.count {
                guard let hit = memchr(base + position, 0x0A, chunk.count - position) else {
                    carry.append(contentsOf: UnsafeBufferPointer(start: base + position, count: chunk.count - position))
                    if carry.count > Self.maxLineBytes {
                        throw LedgerError(.integrity, "line \(lineNumber + 1) is longer than \(Self.maxLineBytes >> 20) MiB; it is not a record", seq: expectedSeq(), file: name, line: lineNumber + 1)
                    }
                    break
                }
                let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                let line = UnsafeBufferPointer(start: base + position, count: end - position)
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

    /// One line as a record.
    func record(_ line: UnsafeBufferPointer<UInt8>, expectedSeq: Int64) throws -> EventRecord {
        let at = lineNumber
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
        let recordedAt = try string("recorded_at")
        guard Self.isRecordedAt(recordedAt) else {
            throw broken("recorded_at '\(recordedAt.prefix(80))' is not YYYY-MM-DDThh:mm:ss.sssZ", seq: seq)
        }
        return EventRecord(
            seq: seq, id: try string("id"), type: try string("type"), version: try positive("version"),
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
