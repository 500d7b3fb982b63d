import CLZ4
import Dispatch

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
    /// Uncompressed bytes per block (the frame's block size is 4 MiB).
    public static let blockSize = 4 << 20

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

/// Compresses a stream into one LZ4 frame written to a file descriptor, block by block: content
/// checksum and block checksums on, 4 MiB blocks. Memory stays flat (about three blocks).
///
/// Whole blocks are compressed and written on a second thread while the caller fills the next
/// one, so producing the content and compressing it overlap. The two block buffers are allocated
/// once and filled in turn: no allocation (and no fresh pages to fault in) per block.
///
/// ```swift
/// let writer = try LZ4FrameWriter(fd: fd, name: "ledger.kopa")
/// try writer.write(line)
/// let (raw, compressed) = try writer.finish()
/// ```
// @unchecked: the liblz4 context, the output buffer, the block being compressed and the counters
// are touched by one thread at a time, handed over through the `idle` semaphore (one block in
// flight at most); `filling` only by the caller's thread.
public final class LZ4FrameWriter: @unchecked Sendable {
    /// A block buffer: raw memory, so appending through a ``ByteCursor`` needs no checks per byte.
    struct Block {
        var base: UnsafeMutablePointer<UInt8>
        var capacity: Int
        var count = 0

        init(capacity: Int) {
            base = .allocate(capacity: capacity)
            self.capacity = capacity
        }

        /// Makes room for `extra` more bytes, keeping the content.
        mutating func reserve(_ extra: Int) {
            guard capacity - count < extra else { return }
            let grown = max(capacity * 2, count + extra)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            bigger.update(from: base, count: count)
            base.deallocate()
            base = bigger
            capacity = grown
        }
    }

    private let fd: Int32
    private let name: String
    private var context: OpaquePointer?
    private var preferences = LZ4F_preferences_t()
    private var output: [UInt8] = []
    private var finished = false
    private let worker = DispatchQueue(label: "kopa.lz4-writer")
    private let idle = DispatchSemaphore(value: 1)
    private var workerError: (any Error)?
    /// The block the caller appends to.
    private var filling: Block
    /// The other block: being compressed, or waiting to be filled next.
    private var other: Block
    /// Uncompressed bytes taken so far.
    public private(set) var uncompressedBytes: Int64 = 0
    /// Compressed bytes written so far.
    public private(set) var compressedBytes: Int64 = 0
    private static let bufferCapacity = LZ4Frame.blockSize + (1 << 20)

    /// Starts a frame on `fd` (which stays owned by the caller); `name` is used in error messages.
    public init(fd: Int32, name: String) throws {
        self.fd = fd
        self.name = name
        filling = Block(capacity: Self.bufferCapacity)
        other = Block(capacity: Self.bufferCapacity)
        let created = LZ4F_createCompressionContext(&context, UInt32(LZ4F_VERSION))
        _ = try LZ4Frame.check(created, "compression setup")
        preferences.frameInfo.blockSizeID = LZ4F_max4MB
        preferences.frameInfo.blockMode = LZ4F_blockLinked
        preferences.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        preferences.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        preferences.frameInfo.frameType = LZ4F_frame
        preferences.compressionLevel = 0
        preferences.autoFlush = 0
        reserveOutput(for: Self.bufferCapacity)
        let header = output.withUnsafeMutableBytes { out in
            LZ4F_compressBegin(context, out.baseAddress, out.count, &preferences)
        }
        try emit(try LZ4Frame.check(header, "frame header"))
    }

    // No block is in flight here: the compressing closure holds the writer until it is done.
    deinit {
        LZ4F_freeCompressionContext(context)
        filling.base.deallocate()
        other.base.deallocate()
    }

    private func reserveOutput(for sourceBytes: Int) {
        let bound = LZ4F_compressBound(sourceBytes, &preferences) + Int(LZ4F_HEADER_SIZE_MAX)
        if output.count < bound { output = [UInt8](repeating: 0, count: bound) }
    }

    private func emit(_ count: Int) throws {
        guard count > 0 else { return }
        try output.withUnsafeBytes { try LZ4Frame.writeAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<count]), name: name) }
        compressedBytes += Int64(count)
    }

    /// Appends at most `maxBytes` bytes, written by `body` through a cursor, then hands the block
    /// to the compressing thread once it is full.
    /// - Precondition: `body` writes no more than `maxBytes` bytes.
    func append(upTo maxBytes: Int, _ body: (inout ByteCursor) throws -> Void) throws {
        filling.reserve(maxBytes)
        let start = filling.base + filling.count
        var cursor = ByteCursor(start)
        try body(&cursor)
        let written = start.distance(to: cursor.position)
        precondition(written <= maxBytes, "wrote \(written) bytes into room for \(maxBytes)")
        filling.count += written
        if filling.count >= LZ4Frame.blockSize { try handOver() }
    }

    /// Compresses the full block on the worker thread and starts filling the other one.
    private func handOver() throws {
        idle.wait()
        if let workerError {
            idle.signal()
            throw workerError
        }
        swap(&filling, &other)
        filling.count = 0
        worker.async { [self] in
            do { try compress(UnsafeBufferPointer(start: other.base, count: other.count)) } catch { workerError = error }
            idle.signal()
        }
    }

    private func compress(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard !bytes.isEmpty else { return }
        reserveOutput(for: bytes.count)
        let written = output.withUnsafeMutableBytes { out in
            LZ4F_compressUpdate(context, out.baseAddress, out.count, bytes.baseAddress, bytes.count, nil)
        }
        try emit(try LZ4Frame.check(written, "compression"))
        uncompressedBytes += Int64(bytes.count)
    }

    /// Appends bytes (compressing whole blocks as they fill).
    public func write(_ bytes: some Collection<UInt8>) throws {
        let count = bytes.count
        try append(upTo: count) { cursor in
            let copied: Void? = bytes.withContiguousStorageIfAvailable { cursor.write($0) }
            if copied == nil { for byte in bytes { cursor.write(byte) } }
        }
    }

    /// Waits until no block is being compressed (before giving up on a frame after an error,
    /// so nothing writes to the descriptor once the caller closes it).
    public func abandon() {
        idle.wait()
        finished = true
        idle.signal()
    }

    /// Compresses what is left and writes the end mark and the content checksum.
    /// - Returns: uncompressed and compressed byte counts of the whole frame.
    @discardableResult
    public func finish() throws -> (uncompressed: Int64, compressed: Int64) {
        idle.wait()
        defer { idle.signal() }
        if let workerError { throw workerError }
        guard !finished else { return (uncompressedBytes, compressedBytes) }
        try compress(UnsafeBufferPointer(start: filling.base, count: filling.count))
        filling.count = 0
        reserveOutput(for: 0)
        let end = output.withUnsafeMutableBytes { out in LZ4F_compressEnd(context, out.baseAddress, out.count, nil) }
        try emit(try LZ4Frame.check(end, "frame end"))
        finished = true
        return (uncompressedBytes, compressedBytes)
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
    private let input: UnsafeMutableRawBufferPointer
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

    /// Opens `path` for reading.
    /// - Throws: ``LedgerError/Kind/notFound`` when it cannot be opened.
    public convenience init(path: String) throws {
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
        try self.init(fd: fd, name: path, owns: true)
    }

    /// Reads from `fd`; closes it when done if `owns`.
    public init(fd: Int32, name: String, owns: Bool) throws {
        self.fd = fd
        self.name = name
        self.ownsDescriptor = owns
        input = .allocate(byteCount: Self.chunk, alignment: 16)
        output = .allocate(byteCount: LZ4Frame.blockSize, alignment: 16)
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
        while inputEnd - inputStart < 4, !eof { _ = try fill() }
        let head = [UInt8](input[inputStart..<min(inputEnd, inputStart + 4)])
        if head.isEmpty {
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

    /// After the frame's end: anything more in the file is an error (one archive is one frame).
    private func checkTrailing() throws {
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

    /// Calls `body` with every chunk of the frame's decompressed content.
    public func forEachChunk(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        while let chunk = try next() { try body(chunk) }
    }
}
