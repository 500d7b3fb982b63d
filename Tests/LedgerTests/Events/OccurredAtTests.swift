import KopaTestSupport
import Testing

@testable import Ledger

/// Valid time: as precise as the evidence, sorting at the start of its period.
@Suite("occurred_at")
struct OccurredAtTests {
    @Test(arguments: [
        ("2022", "2022-01-01T00:00:00.000Z", "2022-12-31T23:59:59.999Z"),
        ("2022-05", "2022-05-01T00:00:00.000Z", "2022-05-31T23:59:59.999Z"),
        ("2024-02", "2024-02-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z"),
        ("2023-02", "2023-02-01T00:00:00.000Z", "2023-02-28T23:59:59.999Z"),
        ("2022-12", "2022-12-01T00:00:00.000Z", "2022-12-31T23:59:59.999Z"),
        ("2019-12-05", "2019-12-05T00:00:00.000Z", "2019-12-05T23:59:59.999Z"),
        ("2024-02-29", "2024-02-29T00:00:00.000Z", "2024-02-29T23:59:59.999Z"),
        ("2000-02-29", "2000-02-29T00:00:00.000Z", "2000-02-29T23:59:59.999Z"),
        ("2019-12-05T18:30:00Z", "2019-12-05T18:30:00.000Z", "2019-12-05T18:30:00.000Z"),
        ("2019-12-05T18:30:00.5Z", "2019-12-05T18:30:00.500Z", "2019-12-05T18:30:00.500Z"),
        ("2019-12-05T18:30:00.05Z", "2019-12-05T18:30:00.050Z", "2019-12-05T18:30:00.050Z"),
        ("2019-12-05T18:30:00.123Z", "2019-12-05T18:30:00.123Z", "2019-12-05T18:30:00.123Z"),
        ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59.000Z", "1999-12-31T23:59:59.000Z"),
    ])
    func acceptsEachPrecision(text: String, start: String, end: String) throws {
        let when = try OccurredAt(text)
        #expect(when.text == text)
        #expect(when.start == start)
        #expect(when.end == end)
    }

    @Test(arguments: [
        ("2019-02-30", "impossible date"),
        ("2023-02-29", "impossible date"),
        ("1900-02-29", "impossible date"),
        ("2019-04-31", "impossible date"),
        ("2019-01-00", "impossible date"),
        ("2019-13", "no month 13"),
        ("2019-00-10", "no month 0"),
        ("2019-12-05T18:00:00", "no time zone"),
        ("2019-12-05T18:00:00.250", "no time zone"),
        ("2019-12-05T18:00:00+02:00", "time zone offset"),
        ("2019-12-05T18:00:00-05:00", "time zone offset"),
        ("2019-12-05T24:00:00Z", "impossible time"),
        ("2019-12-05T18:60:00Z", "impossible time"),
        // No leap second: a stored time is counted in milliseconds, and :60 would start the next minute.
        ("2016-12-31T23:59:60Z", "impossible time"),
        // Nothing after the Z: the text is stored and hashed as given.
        ("2019-12-05T18:00:00Zjunk", "not a date-time"),
        ("2019-12-05T18:00:00.250ZZ", "not a date-time"),
        ("2019-12-05 18:00:00Z", "not a date-time"),
        ("2019-12-05T18:00Z", "not a date-time"),
        ("2019-12-05T18:00:00.Z", "no digits after the decimal point"),
        ("2019-12-05T18:00:00.1234Z", "more than three digits after the decimal point"),
        ("2019-12-05Z", "not a date-time"),
        ("2019-5-1", "not a date"),
        ("05.12.2019", "not a date"),
        ("20191205", "not a date"),
        ("yesterday", "not a date"),
        ("", "not a date"),
        ("0000", "not a date"),
    ])
    func rejectsAndNamesTheValue(text: String, why: String) {
        expectLedgerError(.invalidInput, mentioning: ["'\(text)'", why, "YYYY-MM-DD"]) {
            _ = try OccurredAt(text)
        }
    }

    /// Query bounds take any RFC 3339 date-time: lower-case t and z, offsets, and fractions finer
    /// than the millisecond the ledger records (cut to it).
    @Test(arguments: [
        ("2021-06-15T12:00:00Z", "2021-06-15T12:00:00.000Z", "2021-06-15T12:00:00.000Z"),
        ("2021-06-15t12:00:00z", "2021-06-15T12:00:00.000Z", "2021-06-15T12:00:00.000Z"),
        ("2021-06-15T12:00:00.1234Z", "2021-06-15T12:00:00.123Z", "2021-06-15T12:00:00.123Z"),
        ("2021-06-15T12:00:00.123456+02:00", "2021-06-15T10:00:00.123Z", "2021-06-15T10:00:00.123Z"),
        ("2021-06-15", "2021-06-15T00:00:00.000Z", "2021-06-15T23:59:59.999Z"),
    ])
    func timeBoundsTakeRFC3339(text: String, start: String, end: String) throws {
        let bound = try TimeBound(text)
        #expect(bound.start == start)
        #expect(bound.end == end)
    }

    @Test(arguments: ["2021-06-15T12:00:00", "2021-06-15T25:00:00Z", "2021-06-15T12:00:00.Z", "yesterday", "2021-06-15T12:00:00.1234"])
    func timeBoundsRefuseWhatIsNoTime(text: String) {
        #expect(throws: LedgerError.self) { try TimeBound(text) }
    }

    /// A well-formed day the calendar lacks is named as such, not as a text in the wrong form.
    @Test(arguments: [
        ("2021-06-31", "is an impossible date (2021-06 has 30 days)"),
        ("2021-13-01", "has no month 13"),
        ("21-06-2021", "is not a date YYYY-MM-DD or an RFC 3339 date-time"),
    ])
    func timeBoundsSayWhyADateIsRefused(text: String, reason: String) {
        expectLedgerError(.invalidInput, mentioning: ["time '\(text)' \(reason)", "expected a date YYYY-MM-DD"]) { _ = try TimeBound(text) }
    }

    @Test func namesTheFieldItChecks() {
        expectLedgerError(.invalidInput, mentioning: ["starts_on '2019-02-30'"]) {
            _ = try OccurredAt("2019-02-30", field: "starts_on")
        }
    }

    /// A valid time may start up to a day after its recording, to the millisecond, and no later.
    @Test func aValidTimeMayStartUpToADayAfterItsRecording() throws {
        let recordedAt = "2025-03-10T12:00:00.000Z"
        try OccurredAt("2025-03-11T12:00:00Z").checkHasHappened(by: recordedAt)
        try OccurredAt("2025-03-11").checkHasHappened(by: recordedAt)
        expectLedgerError(.invalidInput, mentioning: ["occurred_at '2025-03-11T12:00:00.001Z' is in the future"]) {
            try OccurredAt("2025-03-11T12:00:00.001Z").checkHasHappened(by: recordedAt)
        }
        // A day starts at midnight: the day after tomorrow is refused even just before midnight.
        try OccurredAt("2025-03-11").checkHasHappened(by: "2025-03-10T00:00:00.000Z")
        expectLedgerError(.invalidInput, mentioning: ["occurred_at '2025-03-12' is in the future"]) {
            try OccurredAt("2025-03-12").checkHasHappened(by: "2025-03-10T23:59:59.999Z")
        }
    }

    @Test func sortsCoarserTimesAtTheStartOfTheirPeriod() throws {
        let month = try OccurredAt("2022-05")
        let day = try OccurredAt("2022-05-17")
        #expect(month.start < day.start)
        #expect(month.end > day.end)
    }
}
