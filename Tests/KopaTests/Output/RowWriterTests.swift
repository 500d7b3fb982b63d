import Ledger
import Testing

@testable import kopa

/// The bytes the streamed formats write, checked without a process in between.
@Suite("row writer")
struct RowWriterTests {
    /// Collects what an ``OutputBuffer`` hands on.
    final class Sink {
        var bytes: [UInt8] = []
    }

    /// What `rows` print as in `format`, header included.
    static func printed(_ format: OutputFormat, columns: [String], rows: [[Cell]]) -> String {
        let sink = Sink()
        var writer = RowWriter(format: format, columns: columns, output: OutputBuffer { sink.bytes += $0 })
        for row in rows { writer.add(row) }
        writer.finish()
        return String(decoding: sink.bytes, as: UTF8.self)
    }

    /// RFC 4180: a field holding a comma, a quote, or a line break of any kind (CR alone and LF
    /// alone included: spreadsheets break lines at either) is quoted, its quotes doubled; any other
    /// field is written as it is.
    @Test(arguments: [
        ("plain", "plain"), ("", ""), ("Ķekava", "Ķekava"), ("tab\there", "tab\there"),
        ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("one\ntwo", "\"one\ntwo\""), ("one\rtwo", "\"one\rtwo\""), ("one\r\ntwo", "\"one\r\ntwo\""),
    ])
    func csvQuotesAFieldOnlyWhenItMust(text: String, field: String) {
        #expect(Self.printed(.csv, columns: ["v"], rows: [[.text(text)]]) == "v\r\n\(field)\r\n")
    }
}
