/// XXH32, the checksum of the LZ4 frame format (header, block and content checksums).
///
/// liblz4 computes it inside its frame API but does not export it; Kopa writes its frames' blocks
/// itself (so that two threads can compress them) and so needs its own. The algorithm is the one
/// of the xxHash specification; tests check it against the checksums liblz4 and the stock tool write.
struct XXH32 {
    private static let prime1: UInt32 = 0x9E37_79B1
    private static let prime2: UInt32 = 0x85EB_CA77
    private static let prime3: UInt32 = 0xC2B2_AE3D
    private static let prime4: UInt32 = 0x27D4_EB2F
    private static let prime5: UInt32 = 0x1656_67B1

    private var v1, v2, v3, v4: UInt32
    private let seed: UInt32
    private var total = 0
    /// Bytes of an unfinished 16-byte stripe.
    private var pending: (UInt64, UInt64) = (0, 0)
    private var pendingCount = 0

    /// A checksum of nothing yet.
    init(seed: UInt32 = 0) {
        self.seed = seed
        v1 = seed &+ Self.prime1 &+ Self.prime2
        v2 = seed &+ Self.prime2
        v3 = seed
        v4 = seed &- Self.prime1
    }

    /// The checksum of `bytes` in one go.
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        var state = XXH32(seed: seed)
        state.update(bytes)
        return state.digest()
    }

    @inline(__always) private static func rotl(_ value: UInt32, _ count: UInt32) -> UInt32 {
        (value << count) | (value >> (32 - count))
    }

    @inline(__always) private static func round(_ acc: UInt32, _ lane: UInt32) -> UInt32 {
        rotl(acc &+ lane &* prime2, 13) &* prime1
    }

    /// Takes the next bytes of the content.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var p = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        total += remaining
        if pendingCount > 0 {
            let take = min(16 - pendingCount, remaining)
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.advanced(by: pendingCount).copyMemory(from: p, byteCount: take) }
            pendingCount += take
            p += take
            remaining -= take
            guard pendingCount == 16 else { return }
            withUnsafeBytes(of: pending) { stripes($0.baseAddress!, count: 1) }
            pendingCount = 0
        }
        let whole = remaining / 16
        if whole > 0 { stripes(p, count: whole) }
        p += whole * 16
        remaining -= whole * 16
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.copyMemory(from: p, byteCount: remaining) }
            pendingCount = remaining
        }
    }

    /// Mixes `count` 16-byte stripes into the four lanes; the lanes live in registers meanwhile.
    private mutating func stripes(_ start: UnsafeRawPointer, count: Int) {
        var a = v1, b = v2, c = v3, d = v4
        var p = start
        for _ in 0..<count {
            a = Self.round(a, UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            b = Self.round(b, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            c = Self.round(c, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
            d = Self.round(d, UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            p += 16
        }
        v1 = a
        v2 = b
        v3 = c
        v4 = d
    }

    /// The checksum of everything taken so far.
    func digest() -> UInt32 {
        var h: UInt32
        if total >= 16 {
            h = Self.rotl(v1, 1) &+ Self.rotl(v2, 7) &+ Self.rotl(v3, 12) &+ Self.rotl(v4, 18)
        } else {
            h = seed &+ Self.prime5
        }
        h = h &+ UInt32(truncatingIfNeeded: total)
        withUnsafeBytes(of: pending) { tail in
            var i = 0
            while i + 4 <= pendingCount {
                h = h &+ UInt32(littleEndian: tail.loadUnaligned(fromByteOffset: i, as: UInt32.self)) &* Self.prime3
                h = Self.rotl(h, 17) &* Self.prime4
                i += 4
            }
            while i < pendingCount {
                h = h &+ UInt32(tail[i]) &* Self.prime5
                h = Self.rotl(h, 11) &* Self.prime1
                i += 1
            }
        }
        h ^= h >> 15
        h = h &* Self.prime2
        h ^= h >> 13
        h = h &* Self.prime3
        h ^= h >> 16
        return h
    }
}
