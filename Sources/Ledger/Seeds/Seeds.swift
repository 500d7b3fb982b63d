import Foundation

/// The seed ledger: Ķekava's URBACT history reconstructed from the seed documents (`seeds/`).
public enum Seeds {
    /// The seed files in import order (lexical order of `seeds/*.ndjson`).
    public static func files(in directory: URL = BundledResources.seeds) throws -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        let files = names.filter { $0.hasSuffix(".ndjson") }.sorted().map { directory.appendingPathComponent($0) }
        guard !files.isEmpty else {
            throw LedgerError(.notFound, "no seed files (*.ndjson) in '\(directory.path)'")
        }
        return files
    }

    /// Creates a ledger at `path` and imports every seed file into it; the ledger appears at
    /// `path` only once every file is in.
    /// - Returns: the ledger and the number of seed events imported.
    public static func build(at path: String, actor: String = "kopa-seed", directory: URL = BundledResources.seeds) throws -> (Ledger, Int) {
        let files = try files(in: directory)
        var count = 0
        let ledger = try Ledger.create(at: path, name: "Ķekava municipality — URBACT projects (seed ledger)", actor: actor) { ledger in
            for file in files {
                count += try ledger.importNDJSON(path: file.path, actor: actor).appended
            }
        }
        return (ledger, count)
    }
}
