import Foundation
import Ledger
import KopaTestSupport
import Testing

/// The built `kopa` executable, found next to the test bundle in the build products folder
/// (`.build*/debug/`), or `$KOPA_TEST_BINARY`. Tests fail, never skip, when it is missing.
let kopaBinary: Result<URL, KopaBinaryMissing> = {
    let fm = FileManager.default
    var candidates: [URL] = []
    if let explicit = ProcessInfo.processInfo.environment["KOPA_TEST_BINARY"], !explicit.isEmpty {
        candidates.append(URL(fileURLWithPath: explicit))
    }
    // Linux: the test runner is the `<Package>PackageTests.xctest` executable inside the products
    // folder, so Bundle.main is that folder. macOS: the `.xctest` bundle sits in the products folder.
    var folders: [URL] = []
    for bundle in [Bundle.main] + Bundle.allBundles {
        let url = bundle.bundleURL.resolvingSymlinksInPath()
        folders.append(url)
        folders.append(url.deletingLastPathComponent())
    }
    folders.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
    if let argument0 = CommandLine.arguments.first, argument0.contains("/") {
        folders.append(URL(fileURLWithPath: argument0).resolvingSymlinksInPath().deletingLastPathComponent())
    }
    candidates += folders.map { $0.appendingPathComponent("kopa") }
    for candidate in candidates {
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue, fm.isExecutableFile(atPath: candidate.path) {
            return .success(candidate)
        }
    }
    return .failure(KopaBinaryMissing(searched: candidates.map(\.path)))
}()

struct KopaBinaryMissing: Error, CustomStringConvertible {
    var searched: [String]
    var description: String {
        "the kopa executable was not found next to the test bundle; build it with `swift build` first. Looked at:\n  "
            + searched.joined(separator: "\n  ")
    }
}

/// The path of the `kopa` binary, or a thrown error that fails the test.
func kopaPath() throws -> String { try kopaBinary.get().path }

/// The repository checkout (for `scripts/`, `seeds/`).
let checkoutRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// What a finished process did.
struct ProcessResult: CustomStringConvertible {
    var status: Int32
    var signalled: Bool
    var stdout: String
    var stderr: String
    var description: String { "exit \(status)\(signalled ? " (signal)" : "")\nstdout: \(stdout.prefix(2000))\nstderr: \(stderr.prefix(2000))" }
    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
}

/// A process started with its output going to files (no pipe can fill up and block it).
// @unchecked: Foundation's Process is not Sendable; every test uses a process only from the
// thread that started it (signals go to its pid).
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let scratch: TemporaryDirectory
    private var handles: [FileHandle] = []

    init(_ executable: String, _ arguments: [String], stdin: StandardInput = .none, cwd: URL? = nil, environment: [String: String] = [:]) throws {
        scratch = try TemporaryDirectory("kopa-process")
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in ["KOPA_LEDGER", "KOPA_ACTOR", "KOPA_HOME"] { env.removeValue(forKey: key) }
        env.merge(environment) { $1 }
        process.environment = env
        if let cwd { process.currentDirectoryURL = cwd }
        for name in ["stdout", "stderr"] { _ = FileManager.default.createFile(atPath: scratch.path(name), contents: nil) }
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path("stdout")))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path("stderr")))
        process.standardOutput = out
        process.standardError = err
        handles = [out, err]
        switch stdin {
        case .none:
            process.standardInput = FileHandle.nullDevice
        case .text(let text):
            let path = try scratch.write("stdin", text)
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            process.standardInput = input
            handles.append(input)
        case .file(let path):
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            process.standardInput = input
            handles.append(input)
        }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    func wait() -> ProcessResult {
        process.waitUntilExit()
        for handle in handles { try? handle.close() }
        handles = []
        func read(_ name: String) -> String {
            String(decoding: FileManager.default.contents(atPath: scratch.path(name)) ?? Data(), as: UTF8.self)
        }
        return ProcessResult(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            stdout: read("stdout"), stderr: read("stderr"))
    }
}

enum StandardInput {
    case none
    case text(String)
    case file(String)
}

/// Runs `kopa` with `arguments` and waits for it.
@discardableResult
func kopa(_ arguments: [String], stdin: StandardInput = .none, cwd: URL? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
    try RunningProcess(try kopaPath(), arguments, stdin: stdin, cwd: cwd, environment: environment).wait()
}

/// Runs any tool and waits for it.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: StandardInput = .none, cwd: URL? = nil) throws -> ProcessResult {
    try RunningProcess(executable, arguments, stdin: stdin, cwd: cwd).wait()
}

/// The path of a tool on `PATH` (python3 lives under pyenv on some machines).
func tool(_ name: String) throws -> String {
    for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw KopaBinaryMissing(searched: ["\(name) on PATH"])
}

/// A fresh ledger for command-line tests, created through the library with a couple of fixtures.
final class CLILedger: Sendable {
    let directory: TemporaryDirectory
    let path: String

    init(fixtures: Bool = true) throws {
        directory = try TemporaryDirectory("kopa-cli")
        path = directory.path("kopa.sqlite")
        let ledger = try Ledger.create(at: path, name: "CLI test ledger", actor: "tester")
        if fixtures {
            _ = try ledger.append([
                EventDraft(type: "organisation-registered", data: .object(["organisation": .string("kekava"), "name": .string("Ķekavas novada pašvaldība"), "kind": .string("municipality"), "country": .string("LV")]), occurredAt: "2018-04-04"),
                EventDraft(type: "project-registered", data: .object(["project": .string("cities4csr"), "title": .string("CITIES4CSR"), "programme": .string("URBACT III"), "network_type": .string("action-planning"), "lead_partner": .string("kekava")]), occurredAt: "2019-09-02"),
            ], actor: "tester")
        }
    }

    /// `kopa SUBCOMMAND --ledger PATH --actor tester REST…`
    @discardableResult
    func kopa(_ arguments: String..., stdin: StandardInput = .none) throws -> ProcessResult {
        try self.kopa(arguments, stdin: stdin)
    }

    @discardableResult
    func kopa(_ arguments: [String], stdin: StandardInput = .none) throws -> ProcessResult {
        precondition(!arguments.isEmpty)
        let full = [arguments[0], "--ledger", path, "--actor", "tester"] + arguments.dropFirst()
        return try KopaTests.kopa(full, stdin: stdin, cwd: directory.url)
    }

    func open() throws -> Ledger { try Ledger.open(at: path) }
    func head() throws -> ChainHead { try open().head() }
    func events() throws -> [EventRecord] { try open().events() }
}

/// Parses JSON text with Kopa's strict parser.
func parseJSON(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }
