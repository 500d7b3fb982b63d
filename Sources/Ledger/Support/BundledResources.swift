import Foundation

/// Where the bundled catalog (`events/`), projections (`projections/`) and seeds (`seeds/`) are.
///
/// SwiftPM resources must live inside a target's folder, while DESIGN.md keeps these folders at
/// the top of the repository. Kopa therefore looks, in order: `$KOPA_HOME`; `share/kopa` beside
/// the executable's folder (an installed copy); the checkout the binary was built from (found
/// through this file's compile-time path). So a built `kopa` works from any working directory.
public enum BundledResources {
    /// The folder that holds `events/`, `projections/` and `seeds/`.
    public static let root: URL = {
        let fm = FileManager.default
        var candidates: [URL] = []
        if let home = ProcessInfo.processInfo.environment["KOPA_HOME"], !home.isEmpty {
            candidates.append(URL(fileURLWithPath: home))
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/kopa"))
        let thisFile = URL(fileURLWithPath: #filePath)
        candidates.append(thisFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent())
        for candidate in candidates where fm.fileExists(atPath: candidate.appendingPathComponent("events/defs.json").path) {
            return candidate
        }
        return candidates.last!
    }()

    /// The bundled event catalog folder.
    public static var events: URL { root.appendingPathComponent("events") }
    /// The bundled projections folder.
    public static var projections: URL { root.appendingPathComponent("projections") }
    /// The bundled seed folder.
    public static var seeds: URL { root.appendingPathComponent("seeds") }
}
