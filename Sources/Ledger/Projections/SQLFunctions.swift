import GRDB

/// Exact money and share arithmetic for reports, as SQL functions: no floating point on the money path.
enum SQLFunctions {
    /// `money(cents)`: exact text with two decimals ("57005.82"); NULL stays NULL.
    static let money = DatabaseFunction("money", argumentCount: 1, pure: true) { values in
        guard let cents = Int64.fromDatabaseValue(values[0]) else { return nil }
        return Money.format(cents: cents)
    }

    /// `percent(part, whole)`: 100·part/whole with two decimals, rounded half up; NULL when whole is 0.
    static let percent = DatabaseFunction("percent", argumentCount: 2, pure: true) { values in
        guard let part = Int64.fromDatabaseValue(values[0]), let whole = Int64.fromDatabaseValue(values[1]), whole != 0 else { return nil }
        return Money.percent(part, of: whole)
    }

    static func install(_ db: Database) {
        db.add(function: money)
        db.add(function: percent)
    }
}

/// Exact conversions between decimal strings and integer cents.
public enum Money {
    /// Cents of a decimal string with at most two decimals ("48454.95" → 4845495).
    public static func cents(_ amount: String) -> Int64? { cents(utf8: amount.utf8) }

    /// Cents of a decimal string given as UTF-8 bytes.
    static func cents<S: Sequence<UInt8>>(utf8 amount: S) -> Int64? {
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var sawDot = false
        var digits = 0
        for byte in amount {
            if byte == UInt8(ascii: ".") {
                if sawDot { return nil }
                sawDot = true
            } else if byte >= 0x30, byte <= 0x39 {
                let d = Int64(byte - 0x30)
                if sawDot {
                    fractionDigits += 1
                    if fractionDigits > 2 { return nil }
                    fraction = fraction * 10 + d
                } else {
                    digits += 1
                    if digits > 15 { return nil }
                    whole = whole * 10 + d
                }
            } else {
                return nil
            }
        }
        guard digits > 0 else { return nil }
        if fractionDigits == 1 { fraction *= 10 }
        return whole * 100 + fraction
    }

    /// "57005.82" for 5700582 cents.
    public static func format(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// 100·part/whole with two decimals, rounded half away from zero, computed in integers.
    public static func percent(_ part: Int64, of whole: Int64) -> String {
        // basis points ×2 to round: (part·20000 + whole) / (2·whole), in 128-bit arithmetic.
        let negative = (part < 0) != (whole < 0)
        let p = part.magnitude, w = whole.magnitude
        let scaled = p.multipliedFullWidth(by: 20_000)
        let (sumLow, carry) = scaled.low.addingReportingOverflow(w)
        let high = scaled.high + (carry ? 1 : 0)
        let (quotient, _) = (2 * w).dividingFullWidth((high: high, low: sumLow))
        let basis = Int64(quotient)
        return format(cents: negative ? -basis : basis)
    }
}
