#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file descriptor line by line in 1 MiB chunks, so memory stays flat in the file's size.
public final class LineReader {
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var end = 0
    private var eof = false
    /// The 1-based number of the line returned last.
    public private(set) var lineNumber = 0
    /// Bytes consumed so far.
    public private(set) var bytesRead: Int64 = 0
    private static let chunk = 1 << 20

    /// Reads from a path (`-` for standard input).
    /// - Throws: ``LedgerError/Kind/notFound`` when the file cannot be opened.
    public convenience init(path: String) throws {
        if path == "-" {
            self.init(fd: 0, owns: false)
        } else {
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw LedgerError(.notFound, "file '\(path)' cannot be opened (\(String(cString: strerror(errno))))") }
            var info = stat()
            if fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
                close(fd)
                throw LedgerError(.notFound, "'\(path)' is a folder; expected an NDJSON file")
            }
            self.init(fd: fd, owns: true)
        }
    }

    init(fd: Int32, owns: Bool) {
        self.fd = fd
        self.ownsDescriptor = owns
        buffer = [UInt8](repeating: 0, count: Self.chunk)
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Calls `body` with the next line's bytes (without the newline), or returns false at the end.
    public func next(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        while true {
            if let newline = find(0x0A) {
                lineNumber += 1
                var lineEnd = newline
                if lineEnd > start, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                let lineStart = start
                start = newline + 1
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd])) }
                return true
            }
            if eof {
                guard end > start else { return false }
                lineNumber += 1
                let lineStart = start
                let lineEnd = end
                start = end
                try buffer.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[lineStart..<lineEnd])) }
                return true
            }
            try fill()
        }
    }

    private func find(_ byte: UInt8) -> Int? {
        buffer.withUnsafeBufferPointer { b in
            guard end > start, let base = b.baseAddress else { return nil }
            guard let hit = memchr(base + start, Int32(byte), end - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func fill() throws {
        if start > 0 {
            let remaining = end - start
            if remaining > 0 {
                buffer.withUnsafeMutableBufferPointer { b in
                    _ = memmove(b.baseAddress!, b.baseAddress! + start, remaining)
                }
            }
            start = 0
            end = remaining
        }
        if end == buffer.count {
            // One line longer than the buffer: grow (a line is at most a 1 MiB record plus keys).
            guard buffer.count < 64 << 20 else {
                // The line being read is not counted yet: its number is given here, or the import
                // would place it at the line before (line 0 for the first).
                throw LedgerError(.invalidInput, "the line is longer than 64 MiB; an import line is one event (a record is at most 1 MiB)", line: lineNumber + 1)
            }
            buffer.append(contentsOf: [UInt8](repeating: 0, count: buffer.count))
        }
        let count = buffer.withUnsafeMutableBufferPointer { b in read(fd, b.baseAddress! + end, b.count - end) }
        if count < 0 {
            if errno == EINTR { return }
            if errno == EISDIR { throw LedgerError(.notFound, "the input is a folder; expected an NDJSON file") }
            throw LedgerError(.internalError, "reading input failed (\(String(cString: strerror(errno))))")
        }
        if count == 0 { eof = true }
        end += count
        bytesRead += Int64(count)
    }
}
