import Foundation
import KopaTestSupport
import Testing

@testable import Ledger

/// Deterministic bytes from the library's SplitMix64.
extension SplitMix64 {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            var i = 0
            while i + 8 <= count {
                raw.storeBytes(of: next(), toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count { raw[i] = UInt8(truncatingIfNeeded: next()); i += 1 }
        }
        return out
    }
}

/// LZ4 frame helpers for tests: compress with Kopa's writer, decompress with its reader.
enum Frames {
    /// Compresses `bytes` into one frame at `path` with ``LZ4FrameWriter``.
    static func compress(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let writer = try LZ4FrameWriter(fd: fd, name: path)
        // Uneven pieces, so block boundaries fall inside the writes.
        var offset = 0
        var size = 1
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            try writer.write(bytes[offset..<end])
            offset = end
            size = size * 3 + 7
        }
        let (raw, compressed) = try writer.finish()
        #expect(raw == Int64(bytes.count))
        #expect(compressed == Int64((try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? -1))
    }

    /// Calls `body` with a new frame writer on a new file at `path` (closed afterwards).
    static func withWriter<T>(_ path: String, _ body: (LZ4FrameWriter) throws -> T) throws -> T {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        return try body(try LZ4FrameWriter(fd: fd, name: path))
    }

    /// The decompressed content of the frame at `path`, read with ``LZ4FrameReader``.
    static func decompress(_ path: String) throws -> [UInt8] {
        let reader = try LZ4FrameReader(path: path)
        var out: [UInt8] = []
        try reader.forEachChunk { out.append(contentsOf: $0) }
        return out
    }

    /// The content, whether Kopa read the blocks itself, or the error, reading `path` with or
    /// without Kopa's own block reading.
    static func read(_ path: String, decodingBlocks: Bool) -> (content: [UInt8], itself: Bool, error: String?) {
        var out: [UInt8] = []
        var itself = false
        do {
            let reader = try LZ4FrameReader(path: path, decodingBlocks: decodingBlocks)
            try reader.forEachChunk { chunk in
                itself = reader.readsBlocksItself
                out.append(contentsOf: chunk)
            }
            return (out, itself, nil)
        } catch {
            return (out, itself, "\(error)")
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    static func read(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Runs a shell command line (with the stock `lz4` tool) and requires it to succeed.
    static func shell(_ command: String) throws {
        let result = try runTool("/bin/sh", ["-c", command])
        #expect(result.status == 0, "\(command): \(result.stderr)")
    }

    /// NDJSON-like text that compresses the way an export does.
    static func text(lines: Int, seed: UInt64 = 7) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        var out: [UInt8] = []
        for i in 0..<lines {
            let n = rng.next() % 100_000
            out.append(contentsOf: #"{"data":{"n":\#(n),"name":"Ķekava \#(i)"},"seq":\#(i + 1),"type":"meeting-held"}"#.utf8)
            out.append(0x0A)
        }
        return out
    }
}

@Suite("archives: LZ4 frames")
struct ArchiveLZ4FrameTests {
    @Test func roundTripsAcrossBlocksAndTheStockToolReadsIt() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        var rng = SplitMix64(seed: 1)
        // Compressible text and incompressible bytes, several 1 MiB blocks together.
        let content = Frames.text(lines: 60_000) + rng.bytes(6 << 20) + Frames.text(lines: 10)
        let frame = dir.path("content.lz4")
        try Frames.compress(content, to: frame)
        #expect(try Frames.decompress(frame) == content)

        // The stock tool decompresses and tests it.
        try Frames.shell("lz4 -q -t '\(frame)' && lz4 -q -dc '\(frame)' > '\(dir.path("by-lz4"))'")
        #expect(try Frames.read(dir.path("by-lz4")) == content)
    }

    @Test func headerHasContentAndBlockChecksumsAndIndependentOneMebibyteBlocks() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let frame = dir.path("small.lz4")
        try Frames.compress(Array("hello\n".utf8), to: frame)
        let bytes = try Frames.read(frame)
        #expect(Array(bytes.prefix(4)) == LZ4Frame.magic)
        let flags = bytes[4]
        #expect(flags >> 6 == 0b01, "frame version 01")
        #expect(flags & 0x20 != 0, "independent blocks")
        #expect(flags & 0x10 != 0, "block checksums on")
        #expect(flags & 0x04 != 0, "content checksum on")
        #expect(bytes[5] >> 4 == 6, "1 MiB maximum block size")
        let info = try runTool("/bin/sh", ["-c", "lz4 -v --list '\(frame)' 2>&1 || true"])
        #expect(info.stdout.contains("LZ4Frame"), "\(info.stdout)")
    }

    @Test("reads frames the stock tool writes", arguments: ["", "-B4", "-B5 -BD", "--no-frame-crc", "--content-size", "-9 -BX", "--no-crc"])
    func readsStockFrames(options: String) throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let content = Frames.text(lines: 30_000)
        try Frames.write(content, to: dir.path("plain"))
        try Frames.shell("lz4 -q \(options) -c '\(dir.path("plain"))' > '\(dir.path("stock.lz4"))'")
        #expect(try Frames.decompress(dir.path("stock.lz4")) == content)
    }

    @Test func emptyContentIsAValidFrame() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        try Frames.compress([], to: dir.path("empty.lz4"))
        #expect(try Frames.decompress(dir.path("empty.lz4")).isEmpty)
        try Frames.shell("test -z \"$(lz4 -q -dc '\(dir.path("empty.lz4"))')\"")
    }

    @Test func anEmptyFileIsNotAFrame() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let path = try dir.write("empty", "")
        expectLedgerError(.invalidInput, mentioning: ["is empty", "expected an LZ4 frame"]) { _ = try Frames.decompress(path) }
    }

    @Test func somethingElseIsNotAFrame() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let ndjson = try dir.write("plain.ndjson", #"{"data":{},"seq":1}"# + "\n")
        expectLedgerError(.invalidInput, mentioning: ["not an LZ4 frame", "plain JSON/NDJSON"]) { _ = try Frames.decompress(ndjson) }
        var rng = SplitMix64(seed: 3)
        let random = dir.path("random")
        try Frames.write([0x11] + rng.bytes(4095), to: random)
        expectLedgerError(.invalidInput, mentioning: ["not an LZ4 frame", "11 "]) { _ = try Frames.decompress(random) }
        let short = try dir.write("short", "ab")
        expectLedgerError(.invalidInput, mentioning: ["not an LZ4 frame", "2 byte(s)"]) { _ = try Frames.decompress(short) }
        try Frames.shell("printf 'hello world hello world\\n' | lz4 -q -l -c > '\(dir.path("legacy"))'")
        expectLedgerError(.invalidInput, mentioning: ["legacy LZ4 format"]) { _ = try Frames.decompress(dir.path("legacy")) }
        let ledger = try TestLedger()
        expectLedgerError(.invalidInput, mentioning: ["not an LZ4 frame", "SQLite database", "kopa verify --ledger"]) { _ = try Frames.decompress(ledger.path) }
        expectLedgerError(.notFound, mentioning: ["cannot be opened"]) { _ = try Frames.decompress(dir.path("missing")) }
        expectLedgerError(.notFound, mentioning: ["folder"]) { _ = try Frames.decompress(dir.url.path) }
    }

    @Test func everyTruncationIsCaught() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let frame = dir.path("frame.lz4")
        try Frames.compress(Frames.text(lines: 40), to: frame)
        let bytes = try Frames.read(frame)
        for length in 1..<bytes.count {
            let cut = dir.path("cut")
            try Frames.write(Array(bytes.prefix(length)), to: cut)
            let error = expectLedgerError(.integrity, mentioning: ["truncated LZ4 frame", "ends at byte \(length)"]) { _ = try Frames.decompress(cut) }
            if error == nil { Issue.record("a frame cut to \(length) of \(bytes.count) bytes was not caught") }
        }
    }

    @Test func everyFlippedByteIsCaught() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let frame = dir.path("frame.lz4")
        try Frames.compress(Frames.text(lines: 40), to: frame)
        let bytes = try Frames.read(frame)
        for position in 0..<bytes.count {
            for mask: UInt8 in [0x01, 0x80] {
                var damaged = bytes
                damaged[position] ^= mask
                let path = dir.path("damaged")
                try Frames.write(damaged, to: path)
                do {
                    _ = try Frames.decompress(path)
                    Issue.record("flipping byte \(position) with \(mask) was not caught")
                } catch let error as LedgerError {
                    #expect(position < 4 ? error.kind == .invalidInput : error.kind == .integrity, "byte \(position): \(error)")
                }
            }
        }
    }

    @Test func aDamagedBlockIsNamedByItsOffset() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        var rng = SplitMix64(seed: 9)
        // Incompressible, so blocks of 1 MiB stored as they are: offsets are easy to predict.
        let content = rng.bytes(3 << 20)
        let frame = dir.path("frame.lz4")
        try Frames.compress(content, to: frame)
        var bytes = try Frames.read(frame)
        // Header 7 bytes; block 1: size 4 + data 1 MiB + checksum 4; block 2's data starts after its size.
        let block2Data = 7 + 4 + (1 << 20) + 4 + 4
        let position = block2Data + 123_456
        bytes[position] ^= 0x20
        try Frames.write(bytes, to: frame)
        let error = expectLedgerError(.integrity, mentioning: ["damaged LZ4 frame at byte", "block checksum mismatch"]) {
            _ = try Frames.decompress(frame)
        }
        #expect(error?.message.contains("at byte \(block2Data) ") == true, "\(String(describing: error))")
    }

    @Test func dataAfterTheFrameIsCaught() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let frame = dir.path("frame.lz4")
        try Frames.compress(Frames.text(lines: 10), to: frame)
        let bytes = try Frames.read(frame)
        let twice = dir.path("twice.lz4")
        try Frames.write(bytes + bytes, to: twice)
        expectLedgerError(.integrity, mentioning: ["second LZ4 frame starts at byte \(bytes.count)"]) { _ = try Frames.decompress(twice) }
        let junk = dir.path("junk.lz4")
        try Frames.write(bytes + Array("\n".utf8), to: junk)
        expectLedgerError(.integrity, mentioning: ["unexpected data at byte \(bytes.count)", "after the end of the LZ4 frame"]) { _ = try Frames.decompress(junk) }
    }

    /// Skippable frames (the LZ4 format's metadata frames, which `lz4 -dc` passes over) before and
    /// after the archive's frame are passed over, by Kopa's block reader and by liblz4's alike; one
    /// cut short is named.
    @Test(arguments: [true, false])
    func skippableFramesAroundTheFrameArePassedOver(decodingBlocks: Bool) throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let frame = dir.path("frame.lz4")
        let text = Frames.text(lines: 200)
        try Frames.compress(text, to: frame)
        let bytes = try Frames.read(frame)
        func skippable(_ nibble: UInt8, _ content: [UInt8]) -> [UInt8] {
            let size = UInt32(content.count)
            return [0x50 | nibble, 0x2A, 0x4D, 0x18, UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)] + content
        }
        let wrapped = dir.path("wrapped.lz4")
        try Frames.write(skippable(0, Array("made by a tool".utf8)) + skippable(0xF, []) + bytes + skippable(3, [1, 2, 3]), to: wrapped)
        let read = Frames.read(wrapped, decodingBlocks: decodingBlocks)
        #expect(read.error == nil, "\(read.error ?? "")")
        #expect(read.content == text)
        #expect(read.itself == decodingBlocks)
        let cut = dir.path("cut.lz4")
        try Frames.write(bytes + skippable(0, Array(repeating: 7, count: 100)).dropLast(10), to: cut)
        #expect(Frames.read(cut, decodingBlocks: decodingBlocks).error?.contains("truncated LZ4 skippable frame at byte \(bytes.count)") == true)
        let only = dir.path("only.lz4")
        try Frames.write(skippable(0, [1]), to: only)
        #expect(Frames.read(only, decodingBlocks: decodingBlocks).error?.contains("holds only skippable frames") == true)
    }

    /// Parts made on two threads land in the frame in part order; a part larger than a block
    /// spans several.
    @Test func partsFromTwoThreadsAreWrittenInOrder() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let path = dir.path("parts.lz4")
        let count = 3 * LZ4FrameWriter.slotCount + 1
        let parts: [[UInt8]] = (0..<count).map { i in
            i == 5 ? Frames.text(lines: 40_000, seed: 5) : Frames.text(lines: i * 37 % 500, seed: UInt64(i))
        }
        #expect(parts[5].count > 2 * LZ4FrameWriter.blockSize)
        var seen: [(part: Int, thread: Int)] = []
        let (raw, _) = try Frames.withWriter(path) { writer in
            try writer.write(Array("first ".utf8))
            try writer.writeParts(count) { thread, part, content in
                parts[part].withUnsafeBufferPointer { bytes in content.append(upTo: bytes.count) { $0.write(bytes) } }
                return [part, thread]
            } inOrder: { seen.append(($0[0], $0[1])) }
            try writer.write(Array("last".utf8))
            return try writer.finish()
        }
        #expect(seen.map(\.part) == Array(0..<count))
        #expect(seen.allSatisfy { $0.thread == 0 || $0.thread == 1 })
        let content = Array("first ".utf8) + parts.flatMap { $0 } + Array("last".utf8)
        #expect(raw == Int64(content.count))
        #expect(try Frames.decompress(path) == content)
        try Frames.shell("lz4 -q -t '\(path)'")
    }

    /// Parts are handed out one at a time: when one thread is slow, the other takes most parts
    /// (as far as the slots allow), and the frame is the same.
    @Test func theLessBusyThreadTakesMoreParts() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let path = dir.path("parts.lz4")
        let count = 4 * LZ4FrameWriter.slotCount
        let parts: [[UInt8]] = (0..<count).map { Frames.text(lines: 50, seed: UInt64($0)) }
        var seen: [(part: Int, thread: Int)] = []
        _ = try Frames.withWriter(path) { writer in
            try writer.writeParts(count) { thread, part, content in
                if thread == 1 { Thread.sleep(forTimeInterval: 0.03) }
                parts[part].withUnsafeBufferPointer { bytes in content.append(upTo: bytes.count) { $0.write(bytes) } }
                return [part, thread]
            } inOrder: { seen.append(($0[0], $0[1])) }
            return try writer.finish()
        }
        #expect(seen.map(\.part) == Array(0..<count))
        // Each part thread 1 holds lets thread 0 fill the other slots meanwhile.
        #expect(seen.filter { $0.thread == 0 }.count > count / 2, "\(seen.map(\.thread))")
        #expect(try Frames.decompress(path) == parts.flatMap { $0 })
    }

    struct PartFailure: Error, Equatable {
        let part: Int
    }

    /// The error of the first failing part (by part, whichever thread failed first) is thrown,
    /// and no later part is handed on, whether making the part or checking it in order failed.
    @Test("the first failing part is the error", arguments: [([3], nil), ([9, 4], nil), ([20, 2], nil), ([], 6), ([12], 7)] as [([Int], Int?)])
    func theFirstFailingPartIsTheError(failingParts: [Int], refusedInOrder: Int?) throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        var handedOn: [Int] = []
        let first = (failingParts + [refusedInOrder].compactMap { $0 }).min()!
        try Frames.withWriter(dir.path("parts.lz4")) { writer in
            #expect(throws: PartFailure(part: first)) {
                try writer.writeParts(30) { _, part, content in
                    if failingParts.contains(part) { throw PartFailure(part: part) }
                    Frames.text(lines: 1, seed: UInt64(part)).withUnsafeBufferPointer { line in content.append(upTo: line.count) { $0.write(line) } }
                    return part
                } inOrder: { part in
                    if part == refusedInOrder { throw PartFailure(part: part) }
                    handedOn.append(part)
                }
            }
            writer.abandon()
        }
        #expect(handedOn == Array(0..<first))
    }

    /// A frame of independent blocks is read block by block by Kopa (checksums by its own XXH32);
    /// whatever is wrong with it, the error (message, byte offset) is exactly liblz4's frame API's,
    /// for flipped bits and truncations all over a frame of several blocks, one of them stored
    /// uncompressed. The content handed on before the error is the frame's content up to the
    /// damage in both; it may differ by one block, since liblz4 hands on part of a stored block as
    /// it arrives, and keeps back a block whose next block size it finds broken.
    @Test func readingBlocksItselfAgreesWithLiblz4OnEveryDamage() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        var rng = SplitMix64(seed: 3)
        let frame = dir.path("frame.lz4")
        try Frames.compress(Frames.text(lines: 6_000) + rng.bytes(1 << 20) + Frames.text(lines: 300), to: frame)
        let bytes = try Frames.read(frame)
        let whole = Frames.read(frame, decodingBlocks: true)
        #expect(whole.itself && whole.error == nil)
        #expect(whole.content == Frames.read(frame, decodingBlocks: false).content)
        let path = dir.path("damaged")
        // The header, the block boundaries, the end mark and checksum, and every 40,000th byte
        // between them (each case decodes the frame three times; every byte is the job of
        // everyFlippedByteIsCaught and everyTruncationIsCaught).
        let near = Set(Self.blockStarts(bytes).flatMap { ($0 - 6)...($0 + 6) }).union(0..<24).union((bytes.count - 12)..<bytes.count)
        let spots = (1..<bytes.count).filter { near.contains($0) || $0 % 40_000 == 0 }
        var cases: [(String, [UInt8])] = spots.map { ("cut to \($0)", Array(bytes.prefix($0))) }
        for position in spots where position >= 4 {
            var damaged = bytes
            damaged[position] ^= position % 2 == 0 ? 0x01 : 0x80
            cases.append(("bit flipped at \(position)", damaged))
        }
        cases.append(("another frame appended", bytes + bytes))
        for (label, damaged) in cases {
            try Frames.write(damaged, to: path)
            let ours = Frames.read(path, decodingBlocks: true)
            let theirs = Frames.read(path, decodingBlocks: false)
            #expect(ours.error != nil && ours.error == theirs.error, "\(label): \(ours.error ?? "no error") / \(theirs.error ?? "no error")")
            let prefixes = whole.content.starts(with: ours.content) && whole.content.starts(with: theirs.content)
            #expect(prefixes && abs(ours.content.count - theirs.content.count) <= 1 << 20, "\(label): content before the error (\(ours.content.count) and \(theirs.content.count) bytes)")
        }
    }

    /// Where each block's size field starts in a frame of Kopa's writer (7-byte header, block
    /// checksums on).
    static func blockStarts(_ frame: [UInt8]) -> [Int] {
        var starts: [Int] = []
        var at = 7
        while at + 4 <= frame.count {
            starts.append(at)
            let word = UInt32(frame[at]) | UInt32(frame[at + 1]) << 8 | UInt32(frame[at + 2]) << 16 | UInt32(frame[at + 3]) << 24
            if word == 0 { break }
            at += 4 + Int(word & 0x7FFF_FFFF) + 4
        }
        return starts
    }

    /// The stock tool's frames: independent blocks with block checksums and the content size are
    /// read by Kopa itself; linked blocks by liblz4. Both give the content back.
    @Test func stockFramesOfEitherBlockModeAreRead() throws {
        let dir = try TemporaryDirectory("kopa-lz4")
        let content = Frames.text(lines: 40_000)  // ~3 MB: several blocks of 64 KiB (-B4)
        let plain = dir.path("plain")
        try Frames.write(content, to: plain)
        for (flags, itself) in [("-B4 -BI -BX --content-size", true), ("-B4 -BI", true), ("-B4 -BD -BX", false)] {
            let frame = dir.path("stock.lz4")
            try Frames.shell("lz4 -q -f \(flags) '\(plain)' '\(frame)'")
            let read = Frames.read(frame, decodingBlocks: true)
            let same = read.content == content
            #expect(read.error == nil && same, "lz4 \(flags): \(read.error ?? "")")
            #expect(read.itself == itself, "lz4 \(flags)")
        }
    }
}
