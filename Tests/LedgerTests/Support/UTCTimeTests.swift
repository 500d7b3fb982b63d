import Testing

@testable import Ledger

@Suite("UTC time")
struct UTCTimeTests {
    /// `recorded_at` texts: a real instant reads back as the milliseconds `format` wrote it from;
    /// a text of the right shape that names no instant, or of another shape, is nil.
    @Test(arguments: [
        ("2026-11-22T08:30:02.740Z", true), ("2024-02-29T23:59:59.999Z", true), ("1970-01-01T00:00:00.000Z", true),
        ("2026-99-99T99:99:99.999Z", false), ("2026-11-31T08:30:00.000Z", false), ("2025-02-29T00:00:00.000Z", false),
        ("2026-00-10T00:00:00.000Z", false), ("2026-01-00T00:00:00.000Z", false), ("2026-01-01T24:00:00.000Z", false),
        ("2026-01-01T00:60:00.000Z", false), ("2026-01-01T00:00:60.000Z", false), ("2026-01-01T00:00:00.000", false),
        ("2026-01-01 00:00:00.000Z", false), ("2026-01-01T00:00:00.00aZ", false), ("", false),
    ])
    func recordedAtTextsNameRealInstants(text: String, real: Bool) {
        let millis = UTCTime.millis(recordedAt: Array(text.utf8))
        #expect((millis != nil) == real)
        if let millis { #expect(UTCTime.format(millis: millis) == text) }
    }
}
