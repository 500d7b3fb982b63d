import Foundation

/// A point in time given on the command line for `--as-of`, `--known-at`, `--since`, `--until`:
/// `YYYY-MM-DD` (the whole day, UTC) or an RFC 3339 date-time (with `Z` or an offset).
public struct TimeBound: Sendable, Equatable {
    /// The first millisecond meant, `YYYY-MM-DDThh:mm:ss.sssZ`.
    public let start: String
    /// The last millisecond meant: the end of the day for a date.
    public let end: String

    /// Parses a date or date-time.
    /// - Throws: ``LedgerError`` naming the value and the accepted forms.
    public init(_ text: String) throws(LedgerError) {
        func fail(_ cause: LedgerError? = nil) -> LedgerError {
            // A well-formed date that the calendar does not have: OccurredAt says why ("is an
            // impossible date (2021-06 has 30 days)"), which "is not a date YYYY-MM-DD" would hide.
            let shaped = text.utf8.enumerated().allSatisfy { i, byte in i == 4 || i == 7 ? byte == UInt8(ascii: "-") : (0x30...0x39).contains(byte) }
            let why = cause.flatMap { cause -> String? in
                guard shaped else { return nil }
                let message = cause.message
                guard let from = message.range(of: "' "), let to = message.range(of: "; expected"), from.upperBound < to.lowerBound else { return nil }
                return String(message[from.upperBound..<to.lowerBound])
            }
            return LedgerError(.invalidInput, "time '\(text)' \(why ?? "is not a date YYYY-MM-DD or an RFC 3339 date-time"); expected a date YYYY-MM-DD or a date-time such as 2021-06-15T12:00:00Z")
        }
        if text.utf8.count == 10 {
            do {
                let day = try OccurredAt(text)
                start = day.start
                end = day.end
                return
            } catch {
                throw fail(error)
            }
        }
        var utc = Self.normalised(text)
        // An offset (+02:00) is converted to UTC; 'Z' is taken as is.
        let bytes = Array(utc.utf8)
        if bytes.count >= 25, bytes[bytes.count - 6] == UInt8(ascii: "+") || bytes[bytes.count - 6] == UInt8(ascii: "-"), bytes[bytes.count - 3] == UInt8(ascii: ":") {
            let sign: Int64 = bytes[bytes.count - 6] == UInt8(ascii: "+") ? 1 : -1
            guard let hh = Int64(String(decoding: bytes[(bytes.count - 5)..<(bytes.count - 3)], as: UTF8.self)),
                let mm = Int64(String(decoding: bytes[(bytes.count - 2)...], as: UTF8.self)), hh < 24, mm < 60,
                let local = try? OccurredAt(String(decoding: bytes[..<(bytes.count - 6)], as: UTF8.self) + "Z"), local.text.count > 10
            else { throw fail() }
            let millis = TimeBound.millis(local.start) - sign * (hh * 3_600_000 + mm * 60_000)
            utc = UTCTime.format(millis: millis)
        }
        guard let instant = try? OccurredAt(utc), instant.text.utf8.count > 10 else { throw fail() }
        start = instant.start
        end = instant.end
    }

    /// RFC 3339 allows what a stored time never has: a lower-case `t` or `z`, and any number of
    /// fraction digits. The ledger records milliseconds, so a finer fraction is cut to them
    /// (12:00:00.1239 means the millisecond 12:00:00.123).
    static func normalised(_ text: String) -> String {
        var b = Array(text.utf8)
        guard b.count > 19 else { return text }
        if b[10] == UInt8(ascii: "t") { b[10] = UInt8(ascii: "T") }
        if b[b.count - 1] == UInt8(ascii: "z") { b[b.count - 1] = UInt8(ascii: "Z") }
        if b[19] == UInt8(ascii: ".") {
            var end = 20
            while end < b.count, b[end] >= UInt8(ascii: "0"), b[end] <= UInt8(ascii: "9") { end += 1 }
            if end - 20 > 3 { b.removeSubrange(23..<end) }
        }
        return String(decoding: b, as: UTF8.self)
    }

    /// Milliseconds since the epoch of a normalised `YYYY-MM-DDThh:mm:ss.sssZ`.
    static func millis(_ normalised: String) -> Int64 {
        let b = Array(normalised.utf8)
        func n(_ from: Int, _ count: Int) -> Int64 {
            var v: Int64 = 0
            for i in from..<(from + count) { v = v * 10 + Int64(b[i] - 0x30) }
            return v
        }
        return UTCTime.millis(year: n(0, 4), month: n(5, 2), day: n(8, 2), hour: n(11, 2), minute: n(14, 2), second: n(17, 2), milli: n(20, 3))
    }
}
