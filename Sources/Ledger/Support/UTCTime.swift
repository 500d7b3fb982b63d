#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Civil-calendar arithmetic on UTC instants without Foundation: Kopa's times are strings of the
/// form `YYYY-MM-DDThh:mm:ss.sssZ`, and their lexical order is their time order.
public enum UTCTime {
    /// Milliseconds since 1970-01-01T00:00:00Z, now.
    public static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// `YYYY-MM-DDThh:mm:ss.sssZ` for milliseconds since the epoch.
    public static func format(millis: Int64) -> String {
        let days = floorDiv(millis, 86_400_000)
        let msOfDay = millis - days * 86_400_000
        let (y, m, d) = civil(fromDays: days)
        let h = msOfDay / 3_600_000, mi = msOfDay / 60_000 % 60, s = msOfDay / 1000 % 60, ms = msOfDay % 1000
        // Written digit by digit: this runs twice for every appended event.
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var v = value
                for i in stride(from: offset + width - 1, through: offset, by: -1) {
                    buffer[i] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
                    v /= 10
                }
            }
            put(y, 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(m, 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(d, 2, at: 8)
            buffer[10] = UInt8(ascii: "T")
            put(h, 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(mi, 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(s, 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(ms, 3, at: 20)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Milliseconds since the epoch of a `YYYY-MM-DDThh:mm:ss.sssZ` text that names a real instant
    /// (a month 1–12, a day of that month, hours below 24, minutes and seconds below 60, as
    /// ``format(millis:)`` writes them).
    /// - Returns: the milliseconds, or nil when the text is of another form or names no instant.
    public static func millis<Bytes: Collection<UInt8>>(recordedAt text: Bytes) -> Int64? {
        guard text.count == 24 else { return nil }
        var digits: [Int64] = []
        digits.reserveCapacity(7)
        var value: Int64 = 0, width = 0
        for (i, byte) in text.enumerated() {
            let separator: UInt8? =
                switch i {
                case 4, 7: UInt8(ascii: "-")
                case 10: UInt8(ascii: "T")
                case 13, 16: UInt8(ascii: ":")
                case 19: UInt8(ascii: ".")
                case 23: UInt8(ascii: "Z")
                default: nil
                }
            if let separator {
                guard byte == separator, width > 0 else { return nil }
                digits.append(value)
                value = 0
                width = 0
            } else {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
                width += 1
            }
        }
        let (y, m, d, h, mi, s, ms) = (digits[0], digits[1], digits[2], digits[3], digits[4], digits[5], digits[6])
        guard m >= 1, m <= 12, d >= 1, d <= daysIn(month: Int(m), year: Int(y)), h < 24, mi < 60, s < 60 else { return nil }
        return millis(year: y, month: m, day: d, hour: h, minute: mi, second: s, milli: ms)
    }

    /// Milliseconds since the epoch for a valid civil date and time.
    public static func millis(year: Int64, month: Int64, day: Int64, hour: Int64 = 0, minute: Int64 = 0, second: Int64 = 0, milli: Int64 = 0) -> Int64 {
        days(fromCivil: year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + milli
    }

    /// Number of days in a month of a year (Gregorian).
    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}
