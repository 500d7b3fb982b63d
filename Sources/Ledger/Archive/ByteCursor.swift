#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes bytes through a raw pointer into space the caller has reserved (see
/// ``LZ4FrameWriter/append(upTo:_:)``): no capacity or uniqueness check per byte, which is most of
/// the cost of building an export line with `Array.append`.
///
/// The caller bounds what is written: at most `6 n + 2` bytes for ``writeString(_:)`` of `n` bytes,
/// 20 for ``writeInteger(_:)``.
struct ByteCursor {
    /// Where the next byte goes.
    private(set) var position: UnsafeMutablePointer<UInt8>

    init(_ position: UnsafeMutablePointer<UInt8>) { self.position = position }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        position.pointee = byte
        position += 1
    }

    @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        memcpy(position, source, bytes.count)
        position += bytes.count
    }

    @inline(__always)
    mutating func write(_ text: StaticString) {
        memcpy(position, text.utf8Start, text.utf8CodeUnitCount)
        position += text.utf8CodeUnitCount
    }

    /// A quoted JSON string escaped as RFC 8785 §3.2.2.2 prescribes: the same bytes as
    /// ``CanonicalJSON/writeString(bytes:into:)``.
    mutating func writeString(_ bytes: UnsafeBufferPointer<UInt8>) {
        write(0x22)
        var high = false
        // Most strings need no escape: found eight bytes at a time, copied whole.
        let special = CanonicalLine.Cursor.skipPlain(bytes, from: 0, high: &high)
        write(UnsafeBufferPointer(rebasing: bytes[..<special]))
        if special < bytes.count {
            let digits: StaticString = "0123456789abcdef"
            for byte in bytes[special...] {
                switch byte {
                case 0x22: write(0x5C); write(0x22)
                case 0x5C: write(0x5C); write(0x5C)
                case 0x08: write(0x5C); write(UInt8(ascii: "b"))
                case 0x0C: write(0x5C); write(UInt8(ascii: "f"))
                case 0x0A: write(0x5C); write(UInt8(ascii: "n"))
                case 0x0D: write(0x5C); write(UInt8(ascii: "r"))
                case 0x09: write(0x5C); write(UInt8(ascii: "t"))
                case 0x00..<0x20:
                    write("\\u00")
                    write(digits.utf8Start[Int(byte >> 4)])
                    write(digits.utf8Start[Int(byte & 0xF)])
                default: write(byte)
                }
            }
        }
        write(0x22)
    }

    /// An integer in canonical form: the same bytes as ``CanonicalJSON/writeInteger(_:into:)``.
    mutating func writeInteger(_ n: Int64) {
        if n == 0 { write(UInt8(ascii: "0")); return }
        if n < 0 { write(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        var digits = 0
        var probe = magnitude
        while probe > 0 { digits += 1; probe /= 10 }
        var i = digits
        while magnitude > 0 {
            i -= 1
            position[i] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        }
        position += digits
    }
}
