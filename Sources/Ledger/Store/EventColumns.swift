import GRDBSQLite

/// The columns of the event row a ``RawStatement`` is on (in ``SQLiteEventStore/columns`` order),
/// read once, and their RFC 8785 record written straight from SQLite's buffers: the same bytes as
/// ``EventRecord/writeCanonical(into:includingHash:)`` without decoding a String. Verify hashes the
/// record without its hash, export writes it with its hash. Valid until the statement steps again.
struct EventColumns {
    let seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>
    let data: UnsafeBufferPointer<UInt8>, meta: UnsafeBufferPointer<UInt8>, id: UnsafeBufferPointer<UInt8>
    let occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>, recordedBy: UnsafeBufferPointer<UInt8>
    let stream: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>
    let streamVersion: Int64, version: Int64

    /// The columns of the row `s` is on; `seq`, `prev` and `hash` as the caller read them.
    init(_ s: RawStatement, seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) {
        self.seq = seq
        self.prev = prev
        self.hash = hash
        data = s.bytes(9)
        meta = s.bytes(10)
        id = s.bytes(1)
        occurredAt = s.bytes(6)
        recordedAt = s.bytes(7)
        recordedBy = s.bytes(8)
        stream = s.bytes(4)
        type = s.bytes(2)
        streamVersion = s.int64(5)
        version = s.int64(3)
    }

    /// At most this many bytes are written by ``write(into:includingHash:)``: a string grows at
    /// most sixfold (\u00XX) plus its quotes; keys and integers fit in 256 bytes.
    var maxCanonicalBytes: Int {
        let strings = hash.count + id.count + occurredAt.count + prev.count + recordedAt.count + recordedBy.count + stream.count + type.count
        return data.count + meta.count + 6 * strings + 256
    }

    /// Writes the record, with its `hash` member or without it (the bytes that are hashed).
    func write(into out: inout ByteCursor, includingHash: Bool) {
        out.write(#"{"data":"#)
        out.write(data)
        if includingHash {
            out.write(#","hash":"#)
            out.writeString(hash)
        }
        out.write(#","id":"#)
        out.writeString(id)
        out.write(#","meta":"#)
        out.write(meta)
        out.write(#","occurred_at":"#)
        out.writeString(occurredAt)
        out.write(#","prev":"#)
        out.writeString(prev)
        out.write(#","recorded_at":"#)
        out.writeString(recordedAt)
        out.write(#","recorded_by":"#)
        out.writeString(recordedBy)
        out.write(#","seq":"#)
        out.writeInteger(seq)
        out.write(#","stream":"#)
        out.writeString(stream)
        out.write(#","stream_version":"#)
        out.writeInteger(streamVersion)
        out.write(#","type":"#)
        out.writeString(type)
        out.write(#","version":"#)
        out.writeInteger(version)
        out.write(#"}"#)
    }
}

extension RawStatement {
    /// Appends the export line (the RFC 8785 record with `hash`, and a newline) of the event row
    /// the statement is on to `part`, with each column read once (`seq`, `prev` and `hash` by the
    /// caller, who checks the chain with them).
    func writeExportLine(into part: inout LZ4FrameWriter.Part, seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) {
        let columns = EventColumns(self, seq: seq, prev: prev, hash: hash)
        part.append(upTo: columns.maxCanonicalBytes + 1) { out in
            columns.write(into: &out, includingHash: true)
            out.write(0x0A)
        }
    }
}
