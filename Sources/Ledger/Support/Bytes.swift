import Foundation

/// Comparisons of UTF-8 text held as bytes, for the hot paths that never make a String.
/// Byte order is code point order, and for the fixed-width UTC times Kopa stores, time order.
enum Bytes {
    /// Negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Int {
        b.withUnsafeBufferPointer { b in
            let common = min(a.count, b.count)
            let order = common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common)
            return order != 0 ? Int(order) : a.count - b.count
        }
    }

    /// Whether the two hold the same bytes.
    static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: [UInt8]) -> Bool {
        a.count == b.count && compare(a, b) == 0
    }
}
