/// A valid time as precise as its evidence: `YYYY`, `YYYY-MM`, `YYYY-MM-DD` or
/// `YYYY-MM-DDThh:mm:ss[.sss]Z`, with one to three digits of a second's fraction (stored as given).
///
/// An event of `2022-05` sorts at the start of May 2022 and counts as happened *as of* any time
/// from the end of May 2022 on; ``start`` and ``end`` are those two instants.
public struct OccurredAt: Sendable, Hashable {
    /// The text as given, which is what the record stores and hashes.
    public let text: String
    /// The first millisecond of the period, `YYYY-MM-DDThh:mm:ss.sssZ`.
    public let start: String
    /// The last millisecond of the period, `YYYY-MM-DDThh:mm:ss.sssZ`.
    public let end: String

    /// Parses and checks a valid time.
    /// - Throws: ``LedgerError`` naming the value and the accepted forms (an impossible date such as
    ///   `2019-02-30`, a time without `Z`, a time zone offset).
    public init(_ text: String, field: String = "occurred_at") throws(LedgerError) {
        self.text = text
        var storage = text
        let b: [UInt8] = storage.withUTF8 { Array($0) }
        func fail(_ why: String) -> LedgerError {
            LedgerError(.invalidInput, "\(field) '\(text)' \(why); expected YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss]Z (UTC)")
        }
        func digits(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var n: Int64 = 0
            for i in from..<(from + count) {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                n = n * 10 + Int64(b[i] - 0x30)
            }
            return n
        }
        guard let year = digits(0, 4), year >= 1 else { throw fail("is not a date") }
        if b.count == 4 {
            start = UTCTime.format(millis: UTCTime.millis(year: year, month: 1, day: 1))
            end = UTCTime.format(millis: UTCTime.millis(year: year + 1, month: 1, day: 1) - 1)
            return
        }
        guard b.count >= 7, b[4] == UInt8(ascii: "-"), let month = digits(5, 2) else { throw fail("is not a date") }
        guard (1...12).contains(month) else { throw fail("has no month \(month)") }
        if b.count == 7 {
            start = UTCTime.format(millis: UTCTime.millis(year: year, month: month, day: 1))
            let next = month == 12 ? UTCTime.millis(year: year + 1, month: 1, day: 1) : UTCTime.millis(year: year, month: month + 1, day: 1)
            end = UTCTime.format(millis: next - 1)
            return
        }
        guard b.count >= 10, b[7] == UInt8(ascii: "-"), let day = digits(8, 2) else { throw fail("is not a date") }
        guard day >= 1, day <= UTCTime.daysIn(month: Int(month), year: Int(year)) else {
            throw fail("is an impossible date (\(UTCTime.pad(year, 4))-\(UTCTime.pad(month, 2)) has \(UTCTime.daysIn(month: Int(month), year: Int(year))) days)")
        }
        let dayStart = UTCTime.millis(year: year, month: month, day: day)
        if b.count == 10 {
            start = UTCTime.format(millis: dayStart)
            end = UTCTime.format(millis: dayStart + 86_400_000 - 1)
            return
        }
        guard b[10] == UInt8(ascii: "T"), b.count >= 19, b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let hour = digits(11, 2), let minute = digits(14, 2), let second = digits(17, 2)
        else { throw fail("is not a date-time") }
        guard hour < 24, minute < 60, second < 60 else { throw fail("is an impossible time") }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var n = 0
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39, n < 3 {
                millis = millis * 10 + Int64(b[i] - 0x30)
                i += 1
                n += 1
            }
            guard n > 0 else { throw fail("has no digits after the decimal point") }
            // One to three digits: a stored valid time is exact to the millisecond, as recorded_at is.
            if i < b.count, b[i] >= 0x30, b[i] <= 0x39 { throw fail("has more than three digits after the decimal point (the ledger keeps milliseconds)") }
            for _ in n..<3 { millis *= 10 }
        }
        if i == b.count { throw fail("has no time zone") }
        guard b[i] == UInt8(ascii: "Z"), i + 1 == b.count else {
            if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { throw fail("has a time zone offset; write the time in UTC with 'Z'") }
            throw fail("is not a date-time")
        }
        let instant = UTCTime.format(millis: dayStart + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis)
        start = instant
        end = instant
    }
}

extension OccurredAt {
    /// Refuses a time that starts more than a day after `recordedAt` (`2052` typed for `2025`):
    /// an event records what has happened. The day of grace covers a clerk whose local date is
    /// already tomorrow in UTC.
    /// - Throws: ``LedgerError/Kind/invalidInput`` naming the value and when it is recorded.
    public func checkHasHappened(by recordedAt: String, field: String = "occurred_at") throws(LedgerError) {
        guard start > Self.latestStart(recordedAt: recordedAt) else { return }
        throw LedgerError(.invalidInput, "\(field) '\(text)' is in the future: it starts \(start), and the event is recorded \(recordedAt); an event records what has happened, so check the date", field: field)
    }

    /// The latest ``start`` an event recorded at `recordedAt` may have: a day after it.
    static func latestStart(recordedAt: String) -> String {
        UTCTime.format(millis: TimeBound.millis(recordedAt) + 86_400_000)
    }
}
