import Foundation

/// The projections and reports in force: the bundled ones plus an analyst's folders
/// (`--projections DIR`, holding `*.sql` projections and `reports/*.sql`).
public struct ProjectionSet: Sendable {
    /// Projections, bundled first.
    public var projections: [ProjectionDefinition]
    /// Reports by name.
    public var reports: [String: ReportDefinition]

    /// Loads the bundled folder and any extra folders; a name defined twice is an error.
    /// - Throws: ``LedgerError`` naming the file that cannot be read or parsed.
    public static func load(extra: [URL] = [], bundled: URL = BundledResources.projections) throws -> ProjectionSet {
        var projections: [ProjectionDefinition] = []
        var reports: [String: ReportDefinition] = [:]
        for folder in [bundled] + extra {
            for definition in try ProjectionDefinition.load(directory: folder) {
                if let other = projections.first(where: { $0.name == definition.name }) {
                    throw LedgerError(.invalidInput, "projection '\(definition.name)' is defined twice: \(other.file) and \(definition.file)")
                }
                projections.append(definition)
            }
            for report in try ReportDefinition.load(directory: folder.appendingPathComponent("reports")) {
                if let other = reports[report.name] {
                    throw LedgerError(.invalidInput, "report '\(report.name)' is defined twice: \(other.file) and \(report.file)")
                }
                reports[report.name] = report
            }
        }
        return ProjectionSet(projections: projections, reports: reports)
    }

    /// The report with this name.
    /// - Throws: ``LedgerError`` for an unknown name, suggesting the nearest.
    public func report(_ name: String) throws -> ReportDefinition {
        guard let report = reports[name] else {
            let hint = Spelling.nearest(to: name, among: reports.keys).map { " (did you mean '\($0)'?)" } ?? ""
            throw LedgerError(.notFound, "unknown report '\(name)'\(hint); `kopa reports` lists them")
        }
        return report
    }
}
