/*
 * fuzz_cql_server.c — libFuzzer target for the whole `spate cql` request
 * path without sockets to the outside: framing and the version check,
 * the connection state machine, request decoding, the CQL parser, DDL on
 * the catalog, system-table SELECTs, PREPARE/EXECUTE, BATCH, and the
 * executor on the RocksDB store (cql_int.h: cql_conn_open / cql_conn_input
 * / cql_conn_close / cql_server_reset).
 *
 * One server per process, started once: port 0 on loopback, a temporary
 * data directory (removed at exit), periodic commit log, schema fsync
 * off, logging off. For each input:
 *
 *   watcher  a connection fed a fixed STARTUP + REGISTER [SCHEMA_CHANGE,
 *            ...] first, so DDL in the input also pushes EVENTs
 *   pass 1   a fresh connection fed the input in one piece
 *   pass 2   after cql_server_reset, another fed the same bytes cut at a
 *            few points (after byte 1, after the 9-byte header, in the
 *            middle, before the last byte), so every partial-frame path
 *            runs too
 *
 * Each connection is one end of a socketpair; what the server writes to
 * it is drained from the other end and discarded between pieces (so the
 * server's output never stalls on a full socket). Connections that the
 * server did not close itself are closed, then cql_server_reset forgets
 * user keyspaces and prepared statements (the data files keep what was
 * written; table ids are never reused, so it is unreachable).
 *
 * Seeds (fuzz/corpus/cql_server/) are whole client conversations in v4
 * frames: STARTUP, OPTIONS, REGISTER, QUERY of DDL and DML, system
 * tables, PREPARE/EXECUTE (ids are MD5 of keyspace + query, so seeds can
 * name them), BATCH, a v3 conversation, refused versions.
 */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cql_exec.h"

static spate_cql_server_t *srv;
static char dir[] = "/tmp/spate-fuzz-cql-XXXXXX";

/* STARTUP {CQL_VERSION: 3.0.0}, then REGISTER [SCHEMA_CHANGE,
 * STATUS_CHANGE, TOPOLOGY_CHANGE], v4, streams 0 and 1. */
static const uint8_t WATCHER_PRELUDE[] = {
    /* STARTUP */
    0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x01, 0x00, 0x0b, 'C', 'Q', 'L',
    '_', 'V', 'E', 'R', 'S', 'I', 'O', 'N', 0x00, 0x05, '3', '.', '0', '.', '0',
    /* REGISTER */
    0x04, 0x00, 0x00, 0x01, 0x0b, 0x00, 0x00, 0x00, 0x31, 0x00, 0x03, 0x00, 0x0d, 'S', 'C', 'H',
    'E', 'M', 'A', '_', 'C', 'H', 'A', 'N', 'G', 'E', 0x00, 0x0d, 'S', 'T', 'A', 'T', 'U', 'S', '_',
    'C', 'H', 'A', 'N', 'G', 'E', 0x00, 0x0f, 'T', 'O', 'P', 'O', 'L', 'O', 'G', 'Y', '_', 'C', 'H',
    'A', 'N', 'G', 'E'};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void cleanup(void) {
    spate_cql_server_free(srv);
    srv = NULL;
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void) {
    spate_log_set_level(SPATE_LOG_OFF);
    if (!mkdtemp(dir)) abort();
    spate_cql_conf_t c;
    spate_cql_conf_default(&c);
    char err[256];
    if (spate_net_addr_parse("127.0.0.1:0", &c.listen, err, sizeof err) != SPATE_OK) abort();
    snprintf(c.data_dir, sizeof c.data_dir, "%s", dir);
    c.fsync = false;             /* schema.cql is rewritten on every DDL */
    c.commitlog_batch = false;   /* BATCH mode holds responses for the loop */
    c.max_prepared = 64;         /* eviction runs too */
    c.max_frame_bytes = 1 << 20; /* "too big" is reachable */
    c.write_buffer_bytes = 1 << 20;
    c.block_cache_bytes = 1 << 20;
    if (spate_cql_server_start(&srv, &c, err, sizeof err) != SPATE_OK) abort();
    atexit(cleanup);
}

/* Reads and discards whatever the server wrote to fd's peer. */
static void drain(int fd) {
    char buf[65536];
    while (read(fd, buf, sizeof buf) > 0) {
    }
}

/* A connection over a socketpair: c is the server's end, *peer ours.
 * NULL if it could not be made. */
static cql_conn_t *open_conn(int *peer) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return NULL;
    cql_conn_t *c = cql_conn_open(srv, sv[0], "fuzz");
    if (!c) {
        close(sv[1]);
        return NULL;
    }
    *peer = sv[1];
    return c;
}

/* Feeds data cut at the given offsets (ascending, each < size); returns
 * whether the connection is still open. */
static bool feed(cql_conn_t *c, int peer, const uint8_t *data, size_t size, const size_t *cuts,
                 size_t ncuts) {
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : size;
        if (end < at || end > size) continue;
        bool open = cql_conn_input(c, data + at, end - at);
        drain(peer);
        if (!open) return false;
        at = end;
    }
    return true;
}

/* One conversation: the watcher, then the input on its own connection. */
static void conversation(const uint8_t *data, size_t size, const size_t *cuts, size_t ncuts) {
    int wpeer = -1, peer = -1;
    cql_conn_t *w = open_conn(&wpeer);
    if (w && !cql_conn_input(w, WATCHER_PRELUDE, sizeof WATCHER_PRELUDE)) w = NULL;
    cql_conn_t *c = open_conn(&peer);
    if (c && !feed(c, peer, data, size, cuts, ncuts)) c = NULL;
    if (wpeer >= 0) drain(wpeer);
    if (c) cql_conn_close(c);
    if (w) cql_conn_close(w);
    if (peer >= 0) close(peer);
    if (wpeer >= 0) close(wpeer);
    cql_server_reset(srv);
    /* Views the executor cached point into the catalog just cleared. */
    cql_exec_schema_changed(srv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!srv) setup();
    conversation(data, size, NULL, 0);
    if (size >= 2) {
        size_t cuts[4], n = 0;
        const size_t want[4] = {1, SPATE_CQL_HEADER_LEN, size / 2, size - 1};
        for (size_t i = 0; i < 4; i++)
            if (want[i] > 0 && want[i] < size && (n == 0 || want[i] > cuts[n - 1]))
                cuts[n++] = want[i];
        conversation(data, size, cuts, n);
    }
    return 0;
}
