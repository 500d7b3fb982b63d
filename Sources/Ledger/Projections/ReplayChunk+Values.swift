import Foundation

extension ReplayChunk {
    /// Appends an event and the values its type's slots ask for.
    ///
    /// Payload fields are found by scanning the canonical JSON's top-level members; a value is bound
    /// as the old dictionary-based binding did (``ReplayChunk/appendValue(_:)`` is that reference and
    /// the path for anything unusual): strings as text, integers and booleans as integers, a money
    /// object as its amount, other objects and arrays as their canonical JSON, absent or null as NULL.
    mutating func append(_ row: RawEventRow, plan: ReplayPlan, audience: PreparedEvent.Audience = .all) {
        let type = plan.index(of: row.type)
        let event = PreparedEvent(
            seq: row.seq, type: Int32(type), firstValue: Int32(values.count),
            start: appendBytes(row.start), end: appendBytes(row.end), typeName: appendBytes(row.type), stream: appendBytes(row.stream),
            audience: audience)
        for binding in plan.slots[type] {
            switch binding {
            case .seq: values.append(BoundValue(kind: .integer, number: row.seq, length: 0))
            case .version: values.append(BoundValue(kind: .integer, number: row.version, length: 0))
            case .streamVersion: values.append(BoundValue(kind: .integer, number: row.streamVersion, length: 0))
            case .id: appendText(row.id)
            case .type: values.append(text(event.typeName))
            case .stream: values.append(text(event.stream))
            case .occurredAt: appendText(row.occurredAt)
            case .occurredStart: values.append(text(event.start))
            case .occurredEnd: values.append(text(event.end))
            case .recordedAt: appendText(row.recordedAt)
            case .recordedBy: appendText(row.recordedBy)
            case .data: appendText(row.data)
            case .meta: appendText(row.meta)
            case .source: appendJSON(Self.member("source", of: row.meta))
            case .evidence: appendJSON(Self.member("evidence", of: row.meta))
            case .corrects: appendJSON(Self.member("corrects", of: row.meta))
            case .retracts: appendJSON(Self.member("retracts", of: row.meta))
            case .reason: appendJSON(Self.member("reason", of: row.meta))
            case .field(let name): appendJSON(Self.member(name, of: row.data))
            case .cents(let name):
                let amount = Self.member(name, of: row.data).flatMap { Self.member("amount", of: $0) }
                if let amount, let cents = Self.plainString(amount).flatMap({ Money.cents(utf8: $0) }) ?? Self.decodedString(amount).flatMap(Money.cents) {
                    values.append(BoundValue(kind: .integer, number: cents, length: 0))
                } else {
                    values.append(.null)
                }
            case .currency(let name): appendJSON(Self.member(name, of: row.data).flatMap { Self.member("currency", of: $0) })
            }
        }
        events.append(event)
    }

    private func text(_ span: ByteSpan) -> BoundValue {
        BoundValue(kind: .text, number: Int64(span.offset), length: span.count)
    }

    private mutating func appendBytes<C: Collection<UInt8>>(_ bytes: C) -> ByteSpan {
        let offset = self.bytes.count
        self.bytes.append(contentsOf: bytes)
        return ByteSpan(offset: Int32(offset), count: Int32(self.bytes.count - offset))
    }

    private mutating func appendText<C: Collection<UInt8>>(_ bytes: C) {
        values.append(text(appendBytes(bytes)))
    }

    /// A JSON value given by its bytes (nil when absent), bound as ``appendValue(_:)`` would bind it parsed.
    mutating func appendJSON(_ json: UnsafeBufferPointer<UInt8>?) {
        guard let json, let first = json.first else { return values.append(.null) }
        switch first {
        case UInt8(ascii: "\""):
            if let plain = Self.plainString(json) { return appendText(plain) }
        case UInt8(ascii: "t") where json.count == 4: return values.append(BoundValue(kind: .integer, number: 1, length: 0))
        case UInt8(ascii: "f") where json.count == 5: return values.append(BoundValue(kind: .integer, number: 0, length: 0))
        case UInt8(ascii: "n") where json.count == 4: return values.append(.null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let n = Self.smallInteger(json) { return values.append(BoundValue(kind: .integer, number: n, length: 0)) }
        case UInt8(ascii: "{"):
            if let amount = Self.member("amount", of: json), Self.member("currency", of: json) != nil { return appendJSON(amount) }
            return appendText(json)  // canonical already: the stored payload is
        case UInt8(ascii: "["):
            return appendText(json)
        default: break
        }
        appendValue(try? JSONParser.parse(String(decoding: json, as: UTF8.self)))
    }

    /// The reference binding of a parsed value (what the projections bound before values were
    /// prepared from bytes): the fallback for escaped strings and unusual numbers.
    mutating func appendValue(_ value: JSONValue?) {
        switch value {
        case nil, .null?: values.append(.null)
        case .string(let s)?: appendText(s.utf8)
        case .integer(let n)?: values.append(BoundValue(kind: .integer, number: n, length: 0))
        case .bool(let b)?: values.append(BoundValue(kind: .integer, number: b ? 1 : 0, length: 0))
        case .object(let members)? where members["amount"] != nil && members["currency"] != nil:
            appendValue(members["amount"])
        case let other?: appendText(CanonicalJSON.string(other).utf8)
        }
    }

    // MARK: - Reading canonical JSON without parsing it

    /// The bytes of member `key`'s value in a JSON object (nil when absent or not an object).
    static func member(_ key: String, of object: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var key = key
        return key.withUTF8 { member($0, of: object) }
    }

    static func member(_ key: UnsafeBufferPointer<UInt8>, of object: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        var i = skipSpace(object, 0)
        guard i < object.count, object[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            i = skipSpace(object, i)
            guard i < object.count, object[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            guard let keyEnd = stringEnd(object, i) else { return nil }
            i = skipSpace(object, keyEnd)
            guard i < object.count, object[i] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipSpace(object, i + 1)
            guard let valueEnd = valueEnd(object, valueStart) else { return nil }
            let keyLength = keyEnd - 1 - keyStart
            if keyLength == key.count, keyLength == 0 || memcmp(object.baseAddress! + keyStart, key.baseAddress!, keyLength) == 0 {
                return UnsafeBufferPointer(rebasing: object[valueStart..<valueEnd])
            }
            i = skipSpace(object, valueEnd)
            guard i < object.count, object[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    /// The contents of a JSON string without escapes (nil when it has any, or is not a string).
    static func plainString(_ json: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        guard json.count >= 2, json.first == UInt8(ascii: "\""), json.last == UInt8(ascii: "\"") else { return nil }
        let inner = UnsafeBufferPointer(rebasing: json[1..<(json.count - 1)])
        return inner.contains(UInt8(ascii: "\\")) ? nil : inner
    }

    /// A JSON string with escapes, decoded.
    static func decodedString(_ json: UnsafeBufferPointer<UInt8>) -> String? {
        (try? JSONParser.parse(String(decoding: json, as: UTF8.self)))?.stringValue
    }

    /// A JSON integer of up to 15 digits (always below 2^53); nil for anything else.
    private static func smallInteger(_ json: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let negative = json[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        let digits = json.count - i
        // A leading zero is valid only alone.
        guard digits >= 1, digits <= 15, !(digits > 1 && json[i] == UInt8(ascii: "0")) else { return nil }
        var n: Int64 = 0
        while i < json.count {
            let d = json[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            n = n * 10 + Int64(d)
            i += 1
        }
        return negative ? -n : n
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int {
        var i = from
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// The index after the closing quote of the string that opens at `from`.
    private static func stringEnd(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int? {
        var i = from + 1
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""): return i + 1
            case UInt8(ascii: "\\"): i += 2
            default: i += 1
            }
        }
        return nil
    }

    /// The index after the JSON value that starts at `from`.
    private static func valueEnd(_ b: UnsafeBufferPointer<UInt8>, _ from: Int) -> Int? {
        guard from < b.count else { return nil }
        switch b[from] {
        case UInt8(ascii: "\""): return stringEnd(b, from)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = from
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(b, i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = from
            while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]"),
                b[i] != 0x20, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x09
            {
                i += 1
            }
            return i
        }
    }
}
