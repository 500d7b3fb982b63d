#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "CCleanup.h"

/// Untouched slots cost no memory (zero pages until written).
#define SLOTS 1024
#define PATH_BYTES 4096

static char paths[SLOTS][PATH_BYTES];
/// 1 while a slot holds a path; changed under the lock, read by the handler without it.
static volatile sig_atomic_t used[SLOTS];
/// Per slot, odd while its path is being written. Slots are reused, and the handler runs on one
/// thread while the others go on: it copies a path and uses the copy only when the counter was
/// even and unchanged around the copy, so it never unlinks a path torn between two writes.
static unsigned versions[SLOTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void handler(int sig) {
    // On this thread's stack: two signals at once may run the handler on two threads.
    char copy[PATH_BYTES];
    for (int i = 0; i < SLOTS; i++) {
        if (!used[i]) continue;
        unsigned before = __atomic_load_n(&versions[i], __ATOMIC_ACQUIRE);
        if (before & 1) continue;
        for (int j = 0; j < PATH_BYTES; j++) {
            copy[j] = __atomic_load_n(&paths[i][j], __ATOMIC_RELAXED);
            if (copy[j] == 0) break;
        }
        copy[PATH_BYTES - 1] = 0;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&versions[i], __ATOMIC_RELAXED) != before || !used[i]) continue;
        unlink(copy);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

int kopa_cleanup_add(const char *path) {
    size_t length = strlen(path);
    if (length >= PATH_BYTES) return -1;
    int slot = -1;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        if (used[i]) continue;
        slot = i;
        __atomic_add_fetch(&versions[i], 1, __ATOMIC_SEQ_CST);
        // The odd counter is seen before any byte of the new path (as Linux's write_seqcount_begin).
        __atomic_thread_fence(__ATOMIC_RELEASE);
        for (size_t j = 0; j <= length; j++) __atomic_store_n(&paths[i][j], path[j], __ATOMIC_RELAXED);
        __atomic_add_fetch(&versions[i], 1, __ATOMIC_SEQ_CST);
        used[i] = 1;
        break;
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
