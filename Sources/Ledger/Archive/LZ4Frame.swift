import CLZ4
import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The LZ4 frame format (the one the stock `lz4` tool reads and writes), through liblz4's frame API.
///
/// This is the only file that talks to liblz4. Every error liblz4 reports is thrown as a
/// ``LedgerError``; none is logged and skipped.
public enum LZ4Frame {
    /// The first four bytes of every LZ4 frame (little-endian 0x184D2204).
    public static let magic: [UInt8] = [0x04, 0x22, 0x4D, 0x18]
    /// The first four bytes of the old "legacy" LZ4 format (0x184C2102), which is not a frame.
    static let legacyMagic: [UInt8] = [0x02, 0x21, 0x4C, 0x18]

    /// The largest block a frame can have (4 MiB): what a reader must hold at once.
    static let largestBlock = 4 << 20

    /// The error liblz4 reported, named in words.
    static func reason(_ code: Int) -> String {
        let name = String(cString: LZ4F_getErrorName(code))
        switch name.hasPrefix("ERROR_") ? String(name.dropFirst(6)) : name {
        case "blockChecksum_invalid": return "block checksum mismatch (the compressed data was altered)"
        case "contentChecksum_invalid": return "content checksum mismatch (the decompressed data differs from what was compressed)"
        case "headerChecksum_invalid": return "frame header checksum mismatch (the frame header was altered)"
        case "decompressionFailed": return "the compressed block is corrupt"
        case "frameType_unknown": return "unknown frame type"
        case "frameSize_wrong": return "the frame's declared content size does not match its content"
        case "maxBlockSize_invalid": return "invalid maximum block size in the frame header"
        case "blockMode_invalid": return "invalid block mode in the frame header"
        case "reservedFlag_set": return "a reserved flag is set in the frame header"
        case "headerVersion_wrong": return "unsupported frame version in the header"
        case "srcPtr_wrong", "frameDecoding_alreadyStarted": return "the frame is malformed (\(name))"
        default: return "liblz4 reports \(name)"
        }
    }

    /// liblz4's result as a size, or the error it names.
    static func check(_ result: Int, _ what: String) throws -> Int {
        if LZ4F_isError(result) != 0 {
            throw LedgerError(.internalError, "LZ4 \(what) failed: \(reason(result))")
        }
        return result
    }

    /// Writes all of `bytes` to `fd`, retrying short writes and interrupted calls.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, name: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw LedgerError(.internalError, "writing '\(name)' failed (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
    }
}

/// Compresses a stream into one LZ4 frame written to a file descriptor: content checksum and block
/// checksums on, independent blocks of at most 1 MiB.
///
/// The frame is laid out here (header, blocks, end mark, checksums, as the LZ4 frame format
/// specifies) and each block is compressed with liblz4's block API, because liblz4's frame API
/// compresses on one thread only. Content comes either in order through ``write(_:)`` (compressed
/// on the caller's thread), or in numbered parts that two threads produce and compress at once
/// (``writeParts(_:produce:inOrder:)``), written in order. Independent blocks compress ~0.4 % worse
/// than linked ones (1M-event archive), and let two threads compress.
///
/// ```swift
/// let writer = try LZ4FrameWriter(fd: fd, name: "ledger.kopa")
/// try writer.write(line)
/// let (raw, compressed) = try writer.finish()
/// ```
public final class LZ4FrameWriter {
    /// Content on its way into the frame, in raw memory so appending through a ``ByteCursor``
    /// needs no checks per byte; and the blocks it compresses to (size, data, checksum each).
    struct Part {
        fileprivate var base: UnsafeMutablePointer<UInt8>
        fileprivate var capacity: Int
        fileprivate var count = 0
        fileprivate var output: UnsafeMutableRawPointer
        fileprivate var outputCapacity: Int
        fileprivate var outputCount = 0

        fileprivate init() {
            capacity = LZ4FrameWriter.blockSize + (256 << 10)
            base = .allocate(capacity: capacity)
            outputCapacity = Self.bound(capacity)
            output = .allocate(byteCount: outputCapacity, alignment: 8)
        }

        fileprivate func free() {
            base.deallocate()
            output.deallocate()
        }

        /// Room for the blocks of `count` bytes: each block's size, data (at worst stored as it
        /// is) and checksum.
        private static func bound(_ count: Int) -> Int {
            (count / LZ4FrameWriter.blockSize + 1) * (8 + Int(LZ4_compressBound(Int32(LZ4FrameWriter.blockSize))))
        }

        /// Appends at most `maxBytes` bytes, written by `body` through a cursor.
        /// - Precondition: `body` writes no more than `maxBytes` bytes.
        mutating func append(upTo maxBytes: Int, _ body: (inout ByteCursor) throws -> Void) rethrows {
            if capacity - count < maxBytes {
                let grown = max(capacity * 2, count + maxBytes)
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
                bigger.update(from: base, count: count)
                base.deallocate()
                base = bigger
                capacity = grown
            }
            let start = base + count
            var cursor = ByteCursor(start)
            try body(&cursor)
            let written = start.distance(to: cursor.position)
            precondition(written <= maxBytes, "wrote \(written) bytes into room for \(maxBytes)")
            count += written
        }

        /// Compresses the content into blocks of at most ``LZ4FrameWriter/blockSize`` bytes; a block
        /// that does not shrink is stored as it is, which the format marks by the size's high bit.
        fileprivate mutating func compress() {
            if outputCapacity < Self.bound(count) {
                output.deallocate()
                outputCapacity = Self.bound(count)
                output = .allocate(byteCount: outputCapacity, alignment: 8)
            }
            let capacity = LZ4_compressBound(Int32(LZ4FrameWriter.blockSize))
            outputCount = 0
            var offset = 0
            while offset < count {
                let size = min(LZ4FrameWriter.blockSize, count - offset)
                let source = base + offset
                let block = output + outputCount
                let compressed = Int(LZ4_compress_fast(UnsafeRawPointer(source).assumingMemoryBound(to: CChar.self), (block + 4).assumingMemoryBound(to: CChar.self), Int32(size), capacity, LZ4FrameWriter.acceleration))
                let stored: Int
                if compressed > 0, compressed < size {
                    stored = compressed
                    block.storeBytes(of: UInt32(compressed).littleEndian, as: UInt32.self)
                } else {
                    stored = size
                    (block + 4).copyMemory(from: source, byteCount: size)
                    block.storeBytes(of: (UInt32(size) | 0x8000_0000).littleEndian, as: UInt32.self)
                }
                let checksum = XXH32.hash(UnsafeRawBufferPointer(start: block + 4, count: stored))
                block.storeBytes(of: checksum.littleEndian, toByteOffset: 4 + stored, as: UInt32.self)
                outputCount += 8 + stored
                offset += size
            }
        }
    }

    /// Uncompressed bytes per block at most (the frame header says 1 MiB).
    static let blockSize = 1 << 20
    /// liblz4's acceleration: 2 compresses ~15 % faster than 1 for ~0.4 % larger archives (measured
    /// on 200 MB of a 1M-event export).
    static let acceleration: Int32 = 2
    /// Parts in flight in ``writeParts(_:produce:inOrder:)``.
    static let slotCount = 8

    private let fd: Int32
    private let name: String
    private var part = Part()
    private var content = XXH32()
    private var finished = false
    /// Whether to have the kernel start writing each 8 MiB to disk as soon as it is written: for a
    /// file the caller syncs at the end (a 185 MB archive's fsync took ~75 ms of a 1 s export).
    public var startsWriteBack = false
    private var writeBackStart: Int64 = 0
    /// Uncompressed bytes taken so far.
    public private(set) var uncompressedBytes: Int64 = 0
    /// Compressed bytes written so far.
    public private(set) var compressedBytes: Int64 = 0

    /// Starts a frame on `fd` (which stays owned by the caller); `name` is used in error messages.
    public init(fd: Int32, name: String) throws {
        self.fd = fd
        self.name = name
        // Magic; FLG: version 01, independent blocks, block checksums, content checksum; BD: 1 MiB
        // blocks; then the descriptor's checksum (the second byte of its XXH32).
        var header: [UInt8] = LZ4Frame.magic + [0x74, 0x60]
        let descriptor = header[4...].withUnsafeBytes { XXH32.hash($0) }
        header.append(UInt8(truncatingIfNeeded: descriptor >> 8))
        try header.withUnsafeBytes { try emit($0) }
    }

    deinit {
        part.free()
    }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        try LZ4Frame.writeAll(fd, bytes, name: name)
        compressedBytes += Int64(bytes.count)
        #if os(Linux)
        if startsWriteBack, compressedBytes - writeBackStart >= 8 << 20 {
            // Only a hint (for dirty pages, "don't need" starts their write-back without waiting),
            // so that the caller's final fsync waits for the tail alone; its result is not needed:
            // the fsync reports any failure to write.
            _ = posix_fadvise(fd, off_t(writeBackStart), off_t(compressedBytes - writeBackStart), POSIX_FADV_DONTNEED)
            writeBackStart = compressedBytes
        }
        #endif
    }

    /// Adds a compressed part to the content checksum and writes its blocks.
    private func emit(_ part: Part) throws {
        content.update(UnsafeRawBufferPointer(start: part.base, count: part.count))
        uncompressedBytes += Int64(part.count)
        try emit(UnsafeRawBufferPointer(start: part.output, count: part.outputCount))
    }

    /// Compresses and writes what ``write(_:)`` has gathered.
    private func flush() throws {
        guard part.count > 0 else { return }
        part.compress()
        try emit(part)
        part.count = 0
    }

    /// Appends bytes, compressing and writing each block once it is full.
    public func write(_ bytes: some Collection<UInt8>) throws {
        let count = bytes.count
        part.append(upTo: count) { cursor in
            let copied: Void? = bytes.withContiguousStorageIfAvailable { cursor.write($0) }
            if copied == nil { for byte in bytes { cursor.write(byte) } }
        }
        if part.count >= Self.blockSize { try flush() }
    }

    /// Writes the content of `count` parts, produced and compressed by two threads at once
    /// (the caller's and one more), in part order.
    ///
    /// `produce(thread, part, &content)` fills part `part` (each thread takes the next part no one
    /// has taken, so the one with less else to do takes more) and returns what `inOrder` should
    /// know of it; `inOrder` is called with each part's result in part order, one call at a time,
    /// just before the part is written, and may throw to stop. The first error (by part) is thrown;
    /// parts after it are not written. At most ``slotCount`` parts are in memory at once.
    func writeParts<Summary: Sendable>(_ count: Int, produce: @escaping @Sendable (_ thread: Int, _ part: Int, _ content: inout Part) throws -> Summary, inOrder: @escaping (Summary) throws -> Void) throws {
        try flush()
        guard count > 0 else { return }
        let job = PartsJob(writer: self, count: count, inOrder: inOrder, produce: produce)
        let worker = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            job.run(thread: 1)
            worker.signal()
        }
        job.run(thread: 0)
        worker.wait()
        if let failure = job.failure { throw failure }
    }

    /// Stops writing (before giving up on a frame after an error).
    public func abandon() {
        finished = true
    }

    /// Writes what is left, the end mark and the content checksum.
    /// - Returns: uncompressed and compressed byte counts of the whole frame.
    @discardableResult
    public func finish() throws -> (uncompressed: Int64, compressed: Int64) {
        guard !finished else { return (uncompressedBytes, compressedBytes) }
        finished = true
        try flush()
        var end = [UInt8](repeating: 0, count: 8)
        let digest = content.digest()
        for i in 0..<4 { end[4 + i] = UInt8(truncatingIfNeeded: digest >> (8 * UInt32(i))) }
        try end.withUnsafeBytes { try emit($0) }
        return (uncompressedBytes, compressedBytes)
    }

    /// One call of ``writeParts(_:produce:inOrder:)``: the slots the two threads fill, and who
    /// writes.
    ///
    /// The parts are handed out one at a time, so the thread that also writes (and checks the
    /// order) simply takes fewer: with every other part fixed to each thread, the other one waited
    /// for it (export of 1M events: one thread ~30 % busier than the other).
    // @unchecked: a slot is touched by one thread at a time. The thread that took a part fills and
    // compresses its slot (part % slotCount) once the part `slotCount` before it has been written,
    // then records the result under `state`; the parts are written (and `inOrder` called, and the
    // writer touched) only by the thread that set `writing`.
    private final class PartsJob<Summary: Sendable>: @unchecked Sendable {
        let writer: LZ4FrameWriter
        let count: Int
        let inOrder: (Summary) throws -> Void
        let produce: @Sendable (Int, Int, inout Part) throws -> Summary
        /// Raw memory: each thread fills its own slots, and an array would be one shared variable.
        let slots = UnsafeMutablePointer<Part>.allocate(capacity: LZ4FrameWriter.slotCount)
        /// Guards everything below; waited on for a slot to be written.
        private let state = NSCondition()
        /// The next part no thread has taken.
        private var taken = 0
        /// Per slot: the produced, compressed part's result, not yet written.
        private var results: [Result<Summary, any Error>?] = Array(repeating: nil, count: LZ4FrameWriter.slotCount)
        /// Parts written so far (the next to write).
        private var written = 0
        /// Whether a thread is writing parts now.
        private var writing = false
        private var failed: (any Error)?

        var failure: (any Error)? {
            state.lock()
            defer { state.unlock() }
            return failed
        }

        init(writer: LZ4FrameWriter, count: Int, inOrder: @escaping (Summary) throws -> Void, produce: @escaping @Sendable (Int, Int, inout Part) throws -> Summary) {
            self.writer = writer
            self.count = count
            self.inOrder = inOrder
            self.produce = produce
            for index in 0..<LZ4FrameWriter.slotCount { (slots + index).initialize(to: Part()) }
        }

        deinit {
            for index in 0..<LZ4FrameWriter.slotCount { slots[index].free() }
            slots.deinitialize(count: LZ4FrameWriter.slotCount)
            slots.deallocate()
        }

        /// Takes the next part and waits until its slot is free; nil when every part is taken or
        /// writing failed.
        private func nextPart() -> Int? {
            state.lock()
            defer { state.unlock() }
            guard taken < count, failed == nil else { return nil }
            let part = taken
            taken += 1
            while written <= part - LZ4FrameWriter.slotCount, failed == nil { state.wait() }
            return failed == nil ? part : nil
        }

        func run(thread: Int) {
            while let part = nextPart() {
                let index = part % LZ4FrameWriter.slotCount
                slots[index].count = 0
                let result = Result { try produce(thread, part, &slots[index]) }
                if case .success = result { slots[index].compress() }
                state.lock()
                results[index] = result
                let writes = !writing
                writing = true
                state.unlock()
                if writes { writeReady() }
            }
        }

        /// Writes every part that is next in order and produced, until one is missing.
        func writeReady() {
            while true {
                state.lock()
                let index = written % LZ4FrameWriter.slotCount
                guard let result = results[index], failed == nil else {
                    writing = false
                    state.unlock()
                    return
                }
                state.unlock()
                do {
                    try inOrder(try result.get())
                    try writer.emit(slots[index])
                } catch {
                    state.lock()
                    failed = error
                    writing = false
                    // Wakes the threads waiting for a slot: they see the failure and stop.
                    state.broadcast()
                    state.unlock()
                    return
                }
                state.lock()
                results[index] = nil
                written += 1
                state.broadcast()
                state.unlock()
            }
        }
    }
}

/// Decompresses one LZ4 frame read from a file descriptor, yielding the decompressed bytes in
/// chunks of at most one block.
///
/// A file that is not an LZ4 frame (no magic number 0x184D2204), an empty file, a damaged block or
/// header (checksums), a truncated frame and data after the frame's end are errors naming the byte
/// offset in the file.
public final class LZ4FrameReader {
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// The file name used in error messages.
    public let name: String
    private var context: OpaquePointer?
    private var input: UnsafeMutableRawBufferPointer
    private var inputStart = 0
    private var inputEnd = 0
    private let output: UnsafeMutableRawBufferPointer
    private var eof = false
    private var started = false
    private var frameEnded = false
    private var done = false
    /// How many bytes liblz4 asked for next (its hint); each hinted unit is about one block.
    private var need = 7
    private var unitStart: Int64 = 0
    /// Compressed bytes consumed so far (the offset in the file).
    public private(set) var compressedOffset: Int64 = 0
    /// Decompressed bytes yielded so far.
    public private(set) var decompressedBytes: Int64 = 0
    private static let chunk = 1 << 20
    /// The file, when it can be read again from the start; only then may ``BlockReader`` read it.
    private let reopenPath: String?
    /// Set once the header shows a frame ``BlockReader`` reads; nil while liblz4 reads.
    private var blockReader: BlockReader?
    /// Whether the frame is read by ``BlockReader`` (known once the first chunk was asked for).
    var readsBlocksItself: Bool { blockReader != nil }

    /// A frame whose blocks are independent (what `kopa export` writes, and the stock tool's
    /// default) is read block by block with liblz4's block API, its block and content checksums
    /// computed with ``XXH32``: liblz4's frame API spends as long on its checksums (~4 GB/s here)
    /// as on decompressing, ours runs at ~8 GB/s; `kopa verify FILE` of 1M events is CPU-bound.
    ///
    /// It accepts only a perfectly well-formed frame. At anything else it reads the file again
    /// from the start with liblz4's frame API and throws what that finds, so every error (message,
    /// byte offset) is exactly liblz4's. The content handed on before the error is the frame's up
    /// to the damage either way; it can differ by one block (liblz4 hands on part of a stored,
    /// uncompressed block as it arrives, and keeps back a block whose next block size is broken),
    /// so `verify` may then name a broken line in that block, or the damage, whichever it meets
    /// first; `restore` writes nothing either way.
    struct BlockReader {
        var blockChecksums: Bool
        var contentChecksum: Bool
        var contentSize: UInt64?
        var maxBlock: Int
        var content = XXH32()
    }

    /// Opens `path` for reading.
    /// - Throws: ``LedgerError/Kind/notFound`` when it cannot be opened.
    public convenience init(path: String) throws {
        try self.init(path: path, decodingBlocks: true)
    }

    /// Opens `path`; with `decodingBlocks` false, liblz4's frame API reads every frame.
    convenience init(path: String, decodingBlocks: Bool) throws {
        if path == "-" {
            try self.init(fd: 0, name: "stdin", owns: false)
            return
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw LedgerError(.notFound, "archive '\(path)' cannot be opened (\(String(cString: strerror(errno))))")
        }
        var info = stat()
        if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw LedgerError(.notFound, "'\(path)' is a folder, not an archive")
        }
        // Only a regular file can be read again from the start (to name an error as liblz4 does).
        let regular = (info.st_mode & S_IFMT) == S_IFREG
        try self.init(fd: fd, name: path, owns: true, reopenPath: regular && decodingBlocks ? path : nil)
    }

    /// Reads from `fd`; closes it when done if `owns`.
    public convenience init(fd: Int32, name: String, owns: Bool) throws {
        try self.init(fd: fd, name: name, owns: owns, reopenPath: nil)
    }

    private init(fd: Int32, name: String, owns: Bool, reopenPath: String?) throws {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = owns
        self.reopenPath = reopenPath
        input = .allocate(byteCount: Self.chunk, alignment: 16)
        output = .allocate(byteCount: LZ4Frame.largestBlock, alignment: 16)
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        if LZ4F_isError(created) != 0 {
            if owns { close(fd) }
            input.deallocate()
            output.deallocate()
            throw LedgerError(.internalError, "LZ4 decompression setup failed: \(LZ4Frame.reason(created))")
        }
    }

    deinit {
        LZ4F_freeDecompressionContext(context)
        input.deallocate()
        output.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// Reads more input; returns false at the end of the file.
    private func fill() throws -> Bool {
        if inputStart == inputEnd {
            inputStart = 0
            inputEnd = 0
        }
        while true {
            let count = read(fd, input.baseAddress! + inputEnd, input.count - inputEnd)
            if count < 0 {
                if errno == EINTR { continue }
                throw LedgerError(.internalError, "reading '\(name)' failed (\(String(cString: strerror(errno))))")
            }
            if count == 0 { eof = true; return false }
            inputEnd += count
            return true
        }
    }

    /// Checks the first bytes before liblz4 sees them, so a file that is not an LZ4 frame says so.
    private func checkMagic() throws {
        try skipSkippableFrames()
        while inputEnd - inputStart < 4, !eof { _ = try fill() }
        let head = [UInt8](input[inputStart..<min(inputEnd, inputStart + 4)])
        if head.isEmpty {
            if compressedOffset > 0 {
                throw LedgerError(.invalidInput, "'\(name)' holds only skippable frames (\(compressedOffset) bytes) and no LZ4 frame; expected an archive made by `kopa export`", file: name)
            }
            throw LedgerError(.invalidInput, "'\(name)' is empty; expected an LZ4 frame (an archive made by `kopa export`)", file: name)
        }
        if head.count < 4 {
            if Array(LZ4Frame.magic.prefix(head.count)) == head {
                throw LedgerError(.integrity, "truncated LZ4 frame: '\(name)' ends at byte \(head.count), inside the frame's magic number", file: name)
            }
            throw LedgerError(.invalidInput, "'\(name)' is not an LZ4 frame: it is only \(head.count) byte(s) long and does not start with the LZ4 magic number 04 22 4D 18", file: name)
        }
        if head == LZ4Frame.magic { return }
        var what = "it starts with \(head.map { hex($0) }.joined(separator: " ")) instead of the LZ4 frame magic number 04 22 4D 18"
        if head == LZ4Frame.legacyMagic {
            what = "it is in the legacy LZ4 format (lz4 -l); write it again with `kopa export`"
        } else if head == Array("SQLi".utf8) {
            what = "it is an SQLite database (a ledger?); check a ledger with `kopa verify --ledger \(name)`"
        } else if head[0] == UInt8(ascii: "{") || head[0] == UInt8(ascii: "[") {
            what = "it looks like plain JSON/NDJSON (it starts with '\(String(decoding: head.prefix(while: { $0 >= 0x20 && $0 < 0x7F }), as: UTF8.self))'); compress it with `lz4`, or check an NDJSON export with scripts/verify_chain.py"
        }
        throw LedgerError(.invalidInput, "'\(name)' is not an LZ4 frame (not a Kopa archive): \(what)", file: name)
    }

    private func hex(_ b: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(b >> 4)], digits[Int(b & 0xF)]])
    }

    /// Skips skippable frames (the LZ4 format's frames for metadata: magic 0x184D2A50…5F, a 4-byte
    /// little-endian size, that many bytes) at the read position: `lz4 -dc` passes over them, and
    /// so does Kopa, before and after the archive's frame.
    private func skipSkippableFrames() throws {
        while try available(4) {
            let magic = UInt32(littleEndian: (input.baseAddress! + inputStart).loadUnaligned(as: UInt32.self))
            guard magic & 0xFFFF_FFF0 == 0x184D_2A50 else { return }
            let start = compressedOffset
            func truncated(_ where: String) -> LedgerError {
                LedgerError(.integrity, "truncated LZ4 skippable frame at byte \(start) of '\(name)': the file ends inside its \(`where`)", file: name)
            }
            guard try available(8) else { throw truncated("size") }
            var remaining = 8 + Int(UInt32(littleEndian: (input.baseAddress! + inputStart + 4).loadUnaligned(as: UInt32.self)))
            while remaining > 0 {
                guard try available(1) else { throw truncated("content") }
                let count = min(remaining, inputEnd - inputStart)
                consume(count)
                remaining -= count
            }
        }
    }

    /// After the frame's end: anything more in the file but skippable frames is an error (one
    /// archive is one frame).
    private func checkTrailing() throws {
        try skipSkippableFrames()
        if inputStart == inputEnd, !eof { _ = try fill() }
        guard inputEnd > inputStart else { return }
        while inputEnd - inputStart < 4, !eof, inputEnd < input.count { _ = try fill() }
        let head = [UInt8](input[inputStart..<min(inputEnd, inputStart + 4)])
        if head == LZ4Frame.magic {
            throw LedgerError(.integrity, "a second LZ4 frame starts at byte \(compressedOffset) of '\(name)' after the archive's frame ended: a Kopa archive is one frame (was another archive appended to it?)", file: name)
        }
        throw LedgerError(.integrity, "unexpected data at byte \(compressedOffset) of '\(name)' after the end of the LZ4 frame (a Kopa archive is exactly one frame)", file: name)
    }

    /// The next chunk of decompressed bytes (valid until the next call), or nil at the end of the frame.
    /// - Throws: ``LedgerError`` (`.invalidInput` when the file is not an LZ4 frame or is empty;
    ///   `.integrity` naming the byte offset when the frame is damaged, truncated or followed by more data).
    public func next() throws -> UnsafeRawBufferPointer? {
        if done { return nil }
        if !started {
            started = true
            try checkMagic()
            // Only a file that can be read again (to name any damage as liblz4 does) is read by blocks.
            if reopenPath != nil { try readHeader() }
        }
        if blockReader != nil, !frameEnded {
            if let block = try nextBlock() { return block }
        }
        if frameEnded {
            try checkTrailing()
            done = true
            return nil
        }
        while true {
            if inputStart == inputEnd {
                if try eof || !fill() {
                    throw LedgerError(.integrity, "truncated LZ4 frame: '\(name)' ends at byte \(compressedOffset) before the frame's end mark (liblz4 expected at least \(need) more bytes)", file: name)
                }
            }
            let offered = min(need, inputEnd - inputStart)
            var sourceSize = offered
            var destinationSize = output.count
            let result = LZ4F_decompress(context, output.baseAddress, &destinationSize, input.baseAddress! + inputStart, &sourceSize, nil)
            if LZ4F_isError(result) != 0 {
                throw LedgerError(.integrity, "damaged LZ4 frame at byte \(unitStart) of '\(name)': \(LZ4Frame.reason(result))", file: name)
            }
            inputStart += sourceSize
            compressedOffset += Int64(sourceSize)
            if sourceSize == need { unitStart = compressedOffset }
            need = result == 0 ? need : result
            if result == 0 { frameEnded = true }
            if destinationSize > 0 {
                decompressedBytes += Int64(destinationSize)
                return UnsafeRawBufferPointer(rebasing: output[0..<destinationSize])
            }
            if frameEnded {
                try checkTrailing()
                done = true
                return nil
            }
        }
    }

    // MARK: - Independent blocks, read by Kopa

    /// Reads the frame header when it is one ``BlockReader`` reads (version 01, independent
    /// blocks, no dictionary, no reserved bit, a valid block size, a matching header checksum);
    /// otherwise leaves everything to liblz4.
    private func readHeader() throws {
        guard try available(7) else { return }
        let base = input.baseAddress! + inputStart
        let flags = base.load(fromByteOffset: 4, as: UInt8.self)
        let descriptor = base.load(fromByteOffset: 5, as: UInt8.self)
        let sizeCode = Int(descriptor >> 4) & 7
        guard flags >> 6 == 1, flags & 0x20 != 0, flags & 0x03 == 0, descriptor & 0x8F == 0, sizeCode >= 4 else { return }
        let length = 7 + (flags & 0x08 != 0 ? 8 : 0)
        guard try available(length) else { return }
        let header = input.baseAddress! + inputStart
        let check = UInt8(truncatingIfNeeded: XXH32.hash(UnsafeRawBufferPointer(start: header + 4, count: length - 5)) >> 8)
        guard header.load(fromByteOffset: length - 1, as: UInt8.self) == check else { return }
        var reader = BlockReader(blockChecksums: flags & 0x10 != 0, contentChecksum: flags & 0x04 != 0, contentSize: nil, maxBlock: 1 << (8 + 2 * sizeCode))
        if flags & 0x08 != 0 { reader.contentSize = UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 6, as: UInt64.self)) }
        if input.count < reader.maxBlock + 8 {
            // A whole block with its size and checksum must fit: blocks are read in one piece.
            let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: reader.maxBlock + 8, alignment: 16)
            larger.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: inputEnd - inputStart)
            inputEnd -= inputStart
            inputStart = 0
            input.deallocate()
            input = larger
        }
        consume(length)
        blockReader = reader
    }

    /// Whether `count` bytes are in `input` from `inputStart` on, reading (and first moving what
    /// is left to the front) as needed; false when the file ends first.
    private func available(_ count: Int) throws -> Bool {
        if inputEnd - inputStart >= count { return true }
        if inputStart > 0 {
            let left = inputEnd - inputStart
            if left > 0 { input.baseAddress!.copyMemory(from: input.baseAddress! + inputStart, byteCount: left) }
            inputStart = 0
            inputEnd = left
        }
        while inputEnd < count {
            if eof { return false }
            if try !fill() { return false }
        }
        return true
    }

    private func consume(_ count: Int) {
        inputStart += count
        compressedOffset += Int64(count)
        unitStart = compressedOffset
    }

    /// The next non-empty block's content, or nil at the end mark (then `frameEnded` is set).
    private func nextBlock() throws -> UnsafeRawBufferPointer? {
        guard var reader = blockReader else { return nil }
        defer { blockReader = reader }
        while true {
            guard try available(4) else { throw liblz4Error("the frame ends inside a block's size") }
            let word = UInt32(littleEndian: (input.baseAddress! + inputStart).loadUnaligned(as: UInt32.self))
            if word == 0 {
                let trailer = reader.contentChecksum ? 4 : 0
                guard try available(4 + trailer) else { throw liblz4Error("the frame ends inside its content checksum") }
                if reader.contentChecksum {
                    let stored = UInt32(littleEndian: (input.baseAddress! + inputStart + 4).loadUnaligned(as: UInt32.self))
                    guard reader.content.digest() == stored else { throw liblz4Error("content checksum mismatch") }
                }
                if let size = reader.contentSize, size != UInt64(decompressedBytes) {
                    throw liblz4Error("the frame's declared content size does not match its content")
                }
                consume(4 + trailer)
                frameEnded = true
                return nil
            }
            let stored = Int(word & 0x7FFF_FFFF)
            let unit = 4 + stored + (reader.blockChecksums ? 4 : 0)
            guard stored <= reader.maxBlock else { throw liblz4Error("a block is larger than the frame's block size") }
            guard try available(unit) else { throw liblz4Error("the frame ends inside a block") }
            let data = UnsafeRawBufferPointer(start: input.baseAddress! + inputStart + 4, count: stored)
            if reader.blockChecksums {
                let checksum = UInt32(littleEndian: (input.baseAddress! + inputStart + 4 + stored).loadUnaligned(as: UInt32.self))
                guard XXH32.hash(data) == checksum else { throw liblz4Error("block checksum mismatch") }
            }
            let produced: Int
            if word & 0x8000_0000 != 0 {
                output.baseAddress!.copyMemory(from: data.baseAddress!, byteCount: stored)
                produced = stored
            } else {
                produced = Int(LZ4_decompress_safe(
                    data.baseAddress!.assumingMemoryBound(to: CChar.self), output.baseAddress!.assumingMemoryBound(to: CChar.self),
                    Int32(stored), Int32(reader.maxBlock)))
                guard produced >= 0 else { throw liblz4Error("the compressed block is corrupt") }
            }
            consume(unit)
            let content = UnsafeRawBufferPointer(rebasing: output[0..<produced])
            reader.content.update(content)
            decompressedBytes += Int64(produced)
            if produced > 0 { return content }
        }
    }

    /// The error liblz4's frame API finds reading the file from the start (what every other path
    /// of this reader reports), or, should it find none, what ``BlockReader`` found.
    private func liblz4Error(_ found: String) -> any Error {
        let offset = unitStart
        if let reopenPath {
            do {
                let check = try LZ4FrameReader(path: reopenPath, decodingBlocks: false)
                while try check.next() != nil {}
            } catch {
                return error
            }
        }
        return LedgerError(.integrity, "damaged LZ4 frame at byte \(offset) of '\(name)': \(found)", file: name)
    }

    /// Calls `body` with every chunk of the frame's decompressed content.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while let chunk = try next() { try body(chunk) }
    }
}
