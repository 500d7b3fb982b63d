/// A command's summary: its line for people in the default format; for scripts, one row in the
/// format asked, as `verify` prints it (the seconds left out: machine output is stable).
func printSummary(_ fields: KeyValuePairs<String, Cell>, format: OutputFormat, line: () -> String) {
    guard format == .table else {
        TableFormatter(columns: fields.map(\.key), rows: [fields.map(\.value)]).print(format)
        return
    }
    Console.out(line())
}
