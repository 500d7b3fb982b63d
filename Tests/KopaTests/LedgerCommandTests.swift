import Ledger
import Testing

@testable import kopa

/// The exit code of each kind of failure, as DESIGN.md lists them. A busy ledger (75) and an
/// internal error (70) are hard to bring about from the command line, so the mapping is checked
/// here for every kind.
@Suite("exit codes")
struct LedgerCommandTests {
    @Test(arguments: [
        (LedgerError.Kind.integrity, 1 as Int32), (.usage, 64), (.invalidInput, 65), (.conflict, 65), (.duplicate, 65),
        (.notFound, 66), (.readOnly, 66), (.internalError, 70), (.busy, 75),
    ])
    func eachKindOfFailureHasItsExitCode(kind: LedgerError.Kind, code: Int32) {
        #expect(LedgerError(kind, "a message").exitCode == code)
    }
}
