import Crypto

extension EventRecord {
    /// Appends the RFC 8785 form of the record (without `hash`, or with it when `includingHash`).
    ///
    /// The keys are written in their fixed canonical order; `data` and `meta` are already canonical.
    public func writeCanonical(into out: inout [UInt8], includingHash: Bool = false) {
        out.append(contentsOf: #"{"data":"#.utf8)
        out.append(contentsOf: dataJSON.utf8)
        if includingHash {
            out.append(contentsOf: #","hash":""#.utf8)
            out.append(contentsOf: hash.utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #","id":"#.utf8)
        CanonicalJSON.writeString(id, into: &out)
        out.append(contentsOf: #","meta":"#.utf8)
        out.append(contentsOf: metaJSON.utf8)
        out.append(contentsOf: #","occurred_at":"#.utf8)
        CanonicalJSON.writeString(occurredAt, into: &out)
        out.append(contentsOf: #","prev":"#.utf8)
        CanonicalJSON.writeString(prev, into: &out)
        out.append(contentsOf: #","recorded_at":"#.utf8)
        CanonicalJSON.writeString(recordedAt, into: &out)
        out.append(contentsOf: #","recorded_by":"#.utf8)
        CanonicalJSON.writeString(recordedBy, into: &out)
        out.append(contentsOf: #","seq":"#.utf8)
        CanonicalJSON.writeInteger(seq, into: &out)
        out.append(contentsOf: #","stream":"#.utf8)
        CanonicalJSON.writeString(stream, into: &out)
        out.append(contentsOf: #","stream_version":"#.utf8)
        CanonicalJSON.writeInteger(streamVersion, into: &out)
        out.append(contentsOf: #","type":"#.utf8)
        CanonicalJSON.writeString(type, into: &out)
        out.append(contentsOf: #","version":"#.utf8)
        CanonicalJSON.writeInteger(version, into: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The canonical bytes that are hashed.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(dataJSON.utf8.count + metaJSON.utf8.count + 400)
        writeCanonical(into: &out)
        return out
    }

    /// The NDJSON export line (the record plus `hash`, canonical, without the newline).
    public var exportLine: String {
        var out: [UInt8] = []
        out.reserveCapacity(dataJSON.utf8.count + metaJSON.utf8.count + 480)
        writeCanonical(into: &out, includingHash: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// The hash this record should carry: hex SHA-256(0x00 ‖ JCS(record)), an RFC 6962 leaf hash.
    public func computeHash(scratch: inout [UInt8]) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(0)
        writeCanonical(into: &scratch)
        return EventHash.hex(SHA256.hash(data: scratch))
    }

    /// The hash this record should carry.
    public func computeHash() -> String {
        var scratch: [UInt8] = []
        return computeHash(scratch: &scratch)
    }
}

/// Hex encoding of digests.
public enum EventHash {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex of a digest.
    public static func hex(_ digest: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes the lower-case hex of a 32-byte digest into a 64-byte buffer.
    public static func writeHex(_ digest: some Sequence<UInt8>, into out: inout [UInt8]) {
        var i = 0
        for byte in digest {
            out[i] = digits[Int(byte >> 4)]
            out[i + 1] = digits[Int(byte & 0x0F)]
            i += 2
        }
    }

    /// Writes the lower-case hex of a SHA-256 digest into a 64-byte buffer, reading the digest in
    /// place (its generic iterator was most of the cost of checking a hash).
    public static func writeHex(_ digest: SHA256Digest, into out: inout [UInt8]) {
        precondition(out.count >= 2 * SHA256Digest.byteCount, "the hex of a SHA-256 digest takes 64 bytes")
        let hex: StaticString = "0123456789abcdef"
        let table = hex.utf8Start
        digest.withUnsafeBytes { digest in
            out.withUnsafeMutableBufferPointer { out in
                for i in 0..<digest.count {
                    let byte = digest[i]
                    out[2 * i] = table[Int(byte >> 4)]
                    out[2 * i + 1] = table[Int(byte & 0x0F)]
                }
            }
        }
    }

    /// Lower-case hex SHA-256 of arbitrary bytes (evidence files, documents).
    public static func sha256Hex(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }

    /// Whether `text` is 64 lower-case hex digits.
    public static func isHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
