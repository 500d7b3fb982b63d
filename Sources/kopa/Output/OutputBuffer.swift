import Foundation

/// Output gathered in memory and handed on every 64 KiB, so printing a million rows needs no more
/// memory than printing ten. ``RowWriter`` and ``TableWriter`` write into ``bytes`` and call
/// ``flushIfFull()`` after each row.
struct OutputBuffer {
    /// What is gathered and not handed on yet.
    var bytes: [UInt8] = []
    private let flush: ([UInt8]) -> Void
    private static let flushAt = 64 << 10

    /// A buffer that hands its bytes to `flush`.
    init(flush: @escaping ([UInt8]) -> Void) {
        self.flush = flush
        bytes.reserveCapacity(Self.flushAt + 4096)
    }

    /// A buffer that hands its bytes to standard output.
    static func standardOutput() -> OutputBuffer {
        OutputBuffer { bytes in FileHandle.standardOutput.write(Data(bytes)) }
    }

    /// Appends a text.
    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Hands on what is gathered once it reaches 64 KiB.
    mutating func flushIfFull() {
        if bytes.count >= Self.flushAt { handOn() }
    }

    /// Hands on whatever is gathered.
    mutating func finish() {
        if !bytes.isEmpty { handOn() }
    }

    private mutating func handOn() {
        flush(bytes)
        bytes.removeAll(keepingCapacity: true)
    }
}
