import Testing

@testable import Ledger

/// Byte comparisons stand in for String comparisons on the hot paths (replay order, chain checks):
/// they must order as Swift orders the same strings.
@Suite("byte comparisons")
struct BytesTests {
    @Test(arguments: [
        ("", ""), ("", "a"), ("a", ""), ("a", "a"), ("a", "b"), ("ab", "a"), ("a", "ab"),
        ("2024-03-01T00:00:00.000Z", "2024-02-29T23:59:59.999Z"), ("Rīga", "Riga"), ("Ķekava", "Kekava"),
    ])
    func ordersAsStringsDo(a: String, b: String) {
        var text = a
        let (order, same) = text.withUTF8 { (Bytes.compare($0, Array(b.utf8)), Bytes.equal($0, Array(b.utf8))) }
        #expect((order < 0) == (a < b) && (order > 0) == (b < a), "\(a) vs \(b)")
        #expect(same == (a == b), "\(a) vs \(b)")
    }
}
