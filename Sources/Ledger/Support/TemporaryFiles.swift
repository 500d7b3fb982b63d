import CCleanup

/// Temporary files (an export's archive, a restore's ledger and its journal files) that are
/// deleted should a signal stop the process before they are renamed into place or removed.
///
/// The error paths of export and restore delete their temporary files themselves; SIGINT, SIGTERM
/// and SIGHUP would skip them. The paths are handed to a C signal handler (`CCleanup`) that
/// unlinks them and then lets the signal end the process as it would have.
final class TemporaryFiles {
    private var slots: [Int32]

    /// Registers `paths` (and installs the handler once per process).
    init(_ paths: [String]) {
        kopa_cleanup_install()
        slots = paths.map { kopa_cleanup_add($0) }
    }

    /// Whether the signal handler knows every path (not when a path is too long, or 1024 are registered at once).
    var isRegistered: Bool { !slots.contains(-1) }

    /// Forgets the paths: the files were renamed into place or deleted. Call it at the end of the
    /// scope (`defer`), not from a deinit: Swift may end an object's life at its last use, which
    /// would forget the paths before the work is done.
    func release() {
        for slot in slots { kopa_cleanup_remove(slot) }
        slots = []
    }
}
