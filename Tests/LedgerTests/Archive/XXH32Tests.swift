import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

@Suite("archives: XXH32")
struct XXH32Tests {
    /// The stock `lz4` tool ends a frame with the XXH32 of its content: the reference.
    @Test("agrees with the stock tool's content checksum", arguments: [0, 1, 3, 4, 5, 15, 16, 17, 31, 32, 33, 63, 100, 1000, 65_537])
    func agreesWithTheStockTool(count: Int) throws {
        let dir = try TemporaryDirectory("kopa-xxh32")
        var rng = SplitMix64(seed: UInt64(count) + 1)
        let content = rng.bytes(count)
        try Frames.write(content, to: dir.path("plain"))
        try Frames.shell("lz4 -q -f -c '\(dir.path("plain"))' > '\(dir.path("plain.lz4"))'")
        let frame = try Frames.read(dir.path("plain.lz4"))
        let stock = frame.suffix(4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(content.withUnsafeBytes { XXH32.hash($0) } == stock)
    }

    /// Taken in pieces of any size, the checksum is the one of the whole.
    @Test func piecesGiveTheChecksumOfTheWhole() {
        var rng = SplitMix64(seed: 3)
        let content = rng.bytes(5000)
        let whole = content.withUnsafeBytes { XXH32.hash($0) }
        for piece in [1, 2, 3, 7, 15, 16, 17, 100, 4999] {
            var state = XXH32()
            var offset = 0
            while offset < content.count {
                let end = min(content.count, offset + piece)
                content[offset..<end].withUnsafeBytes { state.update($0) }
                offset = end
            }
            #expect(state.digest() == whole, "pieces of \(piece)")
        }
    }

    @Test func theEmptyInputHasThePublishedChecksum() {
        #expect(XXH32.hash(UnsafeRawBufferPointer(start: nil, count: 0)) == 0x02CC_5D05)
    }
}
