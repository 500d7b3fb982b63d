#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "CCleanup.h"

/// Untouched slots cost no memory (zero pages until written).
#define SLOTS 1024
#define PATH_BYTES 4096

static char paths[SLOTS][PATH_BYTES];
/// 1 while a slot holds a path; written under the lock, read by the handler without it (a slot
/// is marked used only after its path is complete).
static volatile sig_atomic_t used[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void handler(int sig) {
    for (int i = 0; i < SLOTS; i++) {
        if (used[i]) unlink(paths[i]);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/// Slots are never reused, so the handler never reads a path that is being overwritten. A
/// command registers a handful of paths (an export's one, a restore's or an init's four, a report
/// at a past time one); past 1024 in one process, paths are no longer registered, and only their
/// removal on a signal is lost (the next run removes what a dead process left).
static int next_slot = 0;

int kopa_cleanup_add(const char *path) {
    size_t length = strlen(path);
    if (length >= PATH_BYTES) return -1;
    int slot = -1;
    pthread_mutex_lock(&lock);
    if (next_slot < SLOTS) {
        slot = next_slot++;
        memcpy(paths[slot], path, length + 1);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        used[slot] = 1;
    }
    pthread_mutex_unlock(&lock);
    return slot;
}

void kopa_cleanup_remove(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    pthread_mutex_lock(&lock);
    used[slot] = 0;
    pthread_mutex_unlock(&lock);
}

static void install(void) {
    const int signals[] = {SIGINT, SIGTERM, SIGHUP};
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        sigaddset(&unblock, signals[i]);
        struct sigaction current;
        if (sigaction(signals[i], NULL, &current) != 0 || current.sa_handler == SIG_IGN) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = handler;
        sigemptyset(&action.sa_mask);
        sigaction(signals[i], &action, NULL);
    }
    // A mask inherited from the parent (a test runner's, say) would hold these signals pending
    // for good, and the process could not be stopped at all.
    pthread_sigmask(SIG_UNBLOCK, &unblock, NULL);
}

void kopa_cleanup_install(void) {
    pthread_once(&once, install);
}
