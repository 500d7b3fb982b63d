/// A command's summary (import, restore, rebuild, verify): its line for people in the default
/// format; for scripts, one row of `fields` in the format asked (no seconds: machine output is stable).
func printSummary(_ fields: [(column: String, value: Cell)], format: OutputFormat, line: () -> String) {
    guard format == .table else {
        TableFormatter(columns: fields.map(\.column), rows: [fields.map(\.value)]).print(format)
        return
    }
    Console.out(line())
}
