import Foundation

/// A unique temporary folder, removed when the value goes away; shared by both test targets.
// @unchecked: its only stored property is a `let` URL; the folder itself is removed once, in deinit.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The folder.
    public let url: URL

    /// Creates a fresh folder whose name starts with `label`.
    public init(_ label: String = "kopa-test") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(label)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.lowercased())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `contents` to a file in the folder and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: String) throws -> String { try write(name, Data(contents.utf8)) }

    /// Writes `contents` to a file in the folder and returns its path.
    @discardableResult
    public func write(_ name: String, _ contents: Data) throws -> String {
        let path = path(name)
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The id of a process that has ended: what a run killed outright leaves in the names of its
/// temporary files, for tests of their removal.
public func endedProcessID() throws -> Int32 {
    let finished = Process()
    finished.executableURL = URL(fileURLWithPath: "/bin/true")
    try finished.run()
    finished.waitUntilExit()
    return finished.processIdentifier
}
