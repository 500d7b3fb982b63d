import ArgumentParser
import Ledger

/// `--expect-head` and `--expect-count` of `verify` and `restore`: where the auditor was told the
/// log ends, which is how a removed tail is caught.
struct ExpectedEndOptions: ParsableArguments {
    @Option(name: .customLong("expect-head"), help: ArgumentHelp("Fail unless the log ends at this hash.", valueName: "hash"))
    var head: String?

    @Option(name: .customLong("expect-count"), parsing: .unconditional, help: ArgumentHelp("Fail unless the log holds this many events.", valueName: "n"))
    var count: Int64?

    /// A malformed expectation is a bad command line (64), found before any work.
    func validate() throws {
        do { try Ledger.validateExpectedEnd(head: head, count: count) } catch { throw ValidationError(error.message) }
    }
}
