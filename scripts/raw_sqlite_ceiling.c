/*
 * raw_sqlite_ceiling: the raw-SQLite ceiling for Kopa's benchmark.
 *
 *     cc -O2 -o raw_sqlite_ceiling scripts/raw_sqlite_ceiling.c -lsqlite3
 *     ./raw_sqlite_ceiling /tmp/ceiling.sqlite 1000000 300
 *
 * Creates a fresh database file DB (WAL, synchronous=FULL, as Kopa's store),
 * a table events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, stream TEXT NOT
 * NULL, body TEXT NOT NULL), inserts N rows of about BYTES bytes each (id +
 * stream + body) in ONE transaction through one prepared statement
 * (bind/step/reset), commits, then reads every row and every column back with
 * a SELECT. The two phases are timed separately, on the monotonic clock:
 *
 *     insert_rows_per_s 612345      (prepare .. COMMIT, durable)
 *     scan_rows_per_s 4400000       (prepare .. last row, warm page cache)
 *
 * No indexes besides the rowid, no JSON, no hashing: what Kopa does on top
 * of this is the cost of Kopa.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what) {
    fprintf(stderr, "raw_sqlite_ceiling: %s: %s\n", what, db ? sqlite3_errmsg(db) : "?");
    exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(stderr, "raw_sqlite_ceiling: %s: %s\n", sql, err ? err : "?");
        exit(1);
    }
}

/* xorshift64*: cheap deterministic filler so bodies are not all alike */
static unsigned long long rng = 0x9E3779B97F4A7C15ULL;
static unsigned long long next_rand(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1DULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DB N BYTES\n", argv[0]);
        return 64;
    }
    const char *path = argv[1];
    long long n = atoll(argv[2]);
    long bytes = atol(argv[3]);
    if (n < 1 || bytes < 1) {
        fprintf(stderr, "raw_sqlite_ceiling: N and BYTES must be positive\n");
        return 64;
    }

    /* a fresh file: remove any earlier database and its WAL/SHM */
    char side[4096];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);

    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) die(db, "open");
    exec(db, "PRAGMA journal_mode=WAL");
    exec(db, "PRAGMA synchronous=FULL");
    exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, "
             "stream TEXT NOT NULL, body TEXT NOT NULL)");

    /* id: a 36-char UUID-shaped string; stream: ~20 chars; body: the rest */
    const int id_len = 36;
    char stream[64];
    long body_len = bytes - id_len - 20;
    if (body_len < 1) body_len = 1;
    char *body = malloc((size_t)body_len + 1);
    if (!body) { fprintf(stderr, "raw_sqlite_ceiling: out of memory\n"); return 70; }
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789 {}\":,";
    for (long i = 0; i < body_len; i++) body[i] = alphabet[next_rand() % (sizeof alphabet - 1)];
    body[body_len] = '\0';
    char id[40];

    double t0 = now();
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO events(seq, id, stream, body) VALUES (?1, ?2, ?3, ?4)",
                           -1, &ins, NULL) != SQLITE_OK) die(db, "prepare insert");
    exec(db, "BEGIN IMMEDIATE");
    for (long long seq = 1; seq <= n; seq++) {
        unsigned long long a = next_rand(), b = next_rand();
        snprintf(id, sizeof id, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                 a >> 32, (a >> 16) & 0xffff, a & 0xfff, (b >> 48) | 0x8000, b & 0xffffffffffffULL);
        int slen = snprintf(stream, sizeof stream, "project/project-%lld", seq % 1000);
        /* vary the body a little per row, in place */
        body[seq % body_len] = alphabet[seq % (sizeof alphabet - 1)];
        sqlite3_bind_int64(ins, 1, seq);
        sqlite3_bind_text(ins, 2, id, id_len, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, stream, slen, SQLITE_STATIC);
        sqlite3_bind_text(ins, 4, body, (int)body_len, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) die(db, "insert");
        sqlite3_reset(ins);
    }
    double tc = now();
    exec(db, "COMMIT");
    sqlite3_finalize(ins);
    double t1 = now();

    sqlite3_stmt *sel = NULL;
    double t2 = now();
    if (sqlite3_prepare_v2(db, "SELECT seq, id, stream, body FROM events ORDER BY seq",
                           -1, &sel, NULL) != SQLITE_OK) die(db, "prepare select");
    long long rows = 0, check = 0;
    size_t total = 0;
    int rc;
    while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
        check += sqlite3_column_int64(sel, 0);
        const unsigned char *c1 = sqlite3_column_text(sel, 1);
        const unsigned char *c2 = sqlite3_column_text(sel, 2);
        const unsigned char *c3 = sqlite3_column_text(sel, 3);
        total += (size_t)sqlite3_column_bytes(sel, 1) + (size_t)sqlite3_column_bytes(sel, 2)
               + (size_t)sqlite3_column_bytes(sel, 3);
        /* touch the text so the reads cannot be elided */
        check += c1[0] + c2[0] + c3[0];
        rows++;
    }
    if (rc != SQLITE_DONE) die(db, "select");
    sqlite3_finalize(sel);
    double t3 = now();

    if (rows != n) {
        fprintf(stderr, "raw_sqlite_ceiling: scanned %lld rows, expected %lld\n", rows, n);
        return 70;
    }
    printf("insert_rows_per_s %.0f\n", (double)n / (t1 - t0));
    printf("scan_rows_per_s %.0f\n", (double)rows / (t3 - t2));
    fprintf(stderr, "rows %lld, %.1f bytes/row, insert %.3f s (of which COMMIT %.3f s), "
            "scan %.3f s (checksum %lld)\n",
            rows, (double)total / (double)rows, t1 - t0, t1 - tc, t3 - t2, check);
    free(body);
    sqlite3_close(db);
    return 0;
}
