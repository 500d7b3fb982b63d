extension Ledger {
    /// Imports NDJSON import lines (`{"type", "data", "occurred_at", …}`) from a file or `-`,
    /// streaming, in one transaction: every line is appended or none is.
    /// - Parameters:
    ///   - path: the file, or `-` for standard input.
    ///   - actor: the staff identifier recorded as `recorded_by`.
    ///   - progress: called every 100,000 lines with the count and bytes read.
    /// - Throws: ``LedgerError`` naming the file and line of the first bad line; an empty input is
    ///   an error too ("nothing to import").
    public func importNDJSON(path: String, actor: String, progress: ((Int, Int64) -> Void)? = nil) throws -> AppendSummary {
        let reader = try LineReader(path: path)
        let name = path == "-" ? "stdin" : path
        var lines = 0
        let summary: AppendSummary
        do {
            summary = try append(actor: actor, allowSystem: false, pipelined: true) {
                var draft: EventDraft?
                while draft == nil {
                    var parsed: Result<JSONValue, JSONParser.Failure>?
                    let more = try reader.next { line in
                        var bytes = line
                        // A byte-order mark, as some editors write one, is not part of the first record.
                        if reader.lineNumber == 1, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
                            bytes = UnsafeBufferPointer(rebasing: bytes.dropFirst(3))
                        }
                        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                        do throws(JSONParser.Failure) { parsed = .success(try JSONParser.parse(bytes)) } catch { parsed = .failure(error) }
                    }
                    guard more else { return nil }
                    guard let parsed else { continue }
                    switch parsed {
                    case .success(let value): draft = try EventDraft(importLine: value)
                    case .failure(let failure): throw LedgerError(.invalidInput, "not valid JSON: \(failure)", line: reader.lineNumber)
                    }
                }
                lines += 1
                if lines % 100_000 == 0 { progress?(lines, reader.bytesRead) }
                return (draft!, reader.lineNumber)
            }
        } catch let error as LedgerError {
            throw error.at(file: name, line: error.line ?? (error.kind == .busy ? nil : reader.lineNumber))
        }
        guard summary.appended + summary.repeated > 0 else {
            throw LedgerError(.invalidInput, "nothing to import: '\(name)' holds no events (expected one JSON object per line)")
        }
        return summary
    }
}
