#ifndef KOPA_CCLEANUP_H
#define KOPA_CCLEANUP_H

/// Temporary files that must not outlive a stopped process.
///
/// An export or a restore writes a temporary file and renames it into place when it is done;
/// its error paths delete it. SIGINT, SIGTERM and SIGHUP would skip those paths and leave it
/// behind, so the signal handler installed here deletes every registered path (unlink is
/// async-signal-safe) and then lets the signal end the process as it would have.

/// Registers a path; returns its slot for `kopa_cleanup_remove`, or -1 when the path is too long
/// or 1024 paths are registered at once (the file is then only removed by the caller's own error
/// paths). A removed path's slot is reused.
int kopa_cleanup_add(const char *path);

/// Forgets the path in `slot` (the file was renamed into place or deleted). -1 is ignored.
void kopa_cleanup_remove(int slot);

/// Installs the handler for SIGINT, SIGTERM and SIGHUP, once, and unblocks them in the calling
/// thread (the main thread: a mask inherited from the parent would keep them pending for good);
/// a signal the process ignores (started under nohup) stays ignored.
void kopa_cleanup_install(void);

#endif
