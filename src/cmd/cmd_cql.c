/*
 * cmd_cql.c — `spate cql`: the CQL-native-protocol server (single node).
 *
 * Settings come from --config FILE (a `cql:` section) and then the command
 * line. SIGINT/SIGTERM stop the loop; the server closes every connection,
 * fsyncs the commit log and exits 0. The schema is on disk after every DDL
 * (schema.cql is rewritten and fsynced before the answer); data is in
 * RocksDB under DIR/data (cql_store.h).
 *
 * Huge pages: every write inserts into RocksDB's memtable, a skip list
 * over its 16 MiB arena, and with 4 KiB pages nearly every step of the
 * search is a TLB miss. glibc backs its heap with transparent huge pages
 * when the tunable glibc.malloc.hugetlb=1 is set, but reads tunables only
 * when a process starts, so `spate cql` adds it to GLIBC_TUNABLES and
 * executes itself again first (same pid and arguments): store CPU -8 %
 * and upserts +10 % in alternated bench_cql runs, RSS +2 MiB at start.
 * SPATE_CQL_HUGE_PAGES=0 keeps 4 KiB pages; not done under valgrind or
 * AddressSanitizer (their allocators ignore the tunable) nor in a secure
 * (setuid, capabilities) process, whose tunables glibc cleans; an
 * environment mark makes sure it happens at most once.
 */
#include "cmd.h"
#include "cql.h"

#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#define HUGE_TUNABLE "glibc.malloc.hugetlb=1"
#define REEXEC_MARK "SPATE_CQL_REEXECUTED"

/* Runs spate again with HUGE_TUNABLE in GLIBC_TUNABLES (see the header);
 * returns only if that is not wanted or not possible. */
static void reexec_with_huge_pages(int argc, char **argv) {
#if defined(__SANITIZE_ADDRESS__)
    (void)argc;
    (void)argv;
#else
    /* the mark of a run that already is the second one: whatever glibc
     * made of GLIBC_TUNABLES (a setuid or capability-raised process has
     * it cleaned), never a third */
    if (getenv(REEXEC_MARK)) {
        unsetenv(REEXEC_MARK);
        return;
    }
    const char *off = getenv("SPATE_CQL_HUGE_PAGES"), *tun = getenv("GLIBC_TUNABLES");
    const char *pre = getenv("LD_PRELOAD");
    if ((off && strcmp(off, "0") == 0) || (tun && strstr(tun, "glibc.malloc.hugetlb")) ||
        (pre && strstr(pre, "vgpreload")) /* valgrind */ || getauxval(AT_SECURE))
        return;
    spate_buf_t t = SPATE_BUF_INIT;
    spate_buf_printf(&t, "%s%s%s", tun && *tun ? tun : "", tun && *tun ? ":" : "", HUGE_TUNABLE);
    char **av = spate_xcalloc((size_t)argc + 2, sizeof *av);
    av[0] = "spate";
    for (int i = 0; i < argc; i++) av[i + 1] = argv[i]; /* argv[0] is "cql" */
    char *keep = tun ? spate_xstrdup(tun) : NULL;       /* setenv may free tun */
    if (setenv("GLIBC_TUNABLES", t.data, 1) == 0 && setenv(REEXEC_MARK, "1", 1) == 0)
        execv("/proc/self/exe", av);
    /* still here: run as we are */
    unsetenv(REEXEC_MARK);
    if (keep)
        setenv("GLIBC_TUNABLES", keep, 1);
    else
        unsetenv("GLIBC_TUNABLES");
    free(keep);
    free(av);
    spate_buf_free(&t);
#endif
}

static const char *const CMD = "cql";
static spate_cql_server_t *running;

static void help(void) {
    printf("usage: spate cql [options]\n"
           "\n"
           "A single-node server that speaks the CQL native protocol v4 (and v3), so\n"
           "Cassandra drivers (python3-cassandra, the Node cassandra-driver) connect to it\n"
           "unchanged. Keyspaces and tables are kept in DIR/schema.cql, the data in\n"
           "DIR/data (RocksDB; its write-ahead log is the commit log).\n"
           "\n"
           "options:\n"
           "  --listen HOST:PORT      address to serve on (default 127.0.0.1:9042)\n"
           "  --data-dir DIR          where the schema and the data live\n"
           "                          (default spate-data/cql)\n"
           "  --config FILE           YAML file with a 'cql:' section (docs/commands.md)\n"
           "  --cluster-name NAME     system.local.cluster_name (default spate)\n"
           "  --commitlog-sync MODE   periodic (default: writes fsynced within\n"
           "                          --commitlog-sync-period-ms, 10000) or batch (a write\n"
           "                          is answered after the fsync that covers it)\n"
           "  --commitlog-sync-period-ms MS\n"
           "  --log-level LEVEL       debug, info, warn, error or off\n"
           "  --log-file FILE         append log lines to FILE instead of stderr\n"
           "\n"
           "  --probe [HOST:PORT]     do not serve: check that a CQL server answers at\n"
           "                          HOST:PORT (default: --listen) and exit 0 if it does,\n"
           "                          1 if not (for scripts and supervisors)\n"
           "  --timeout MS            how long --probe waits (default 2000)\n");
}

/* --probe: one OPTIONS round trip (works against Cassandra too). */
static int probe(const spate_net_addr_t *addr, int64_t timeout_ms) {
    char err[256], text[80], info[64] = "";
    spate_net_addr_format(addr, text, sizeof text);
    if (spate_cql_probe(addr, (int)timeout_ms, info, sizeof info, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "spate cql: %s: not ready: %s\n", text, err);
        return SPATE_EXIT_FAIL;
    }
    printf("%s: ready (CQL native protocol v4, %s)\n", text, info);
    return SPATE_EXIT_OK;
}

/* Called from the signal handler: spate_cql_server_stop only writes to an
 * eventfd. */
static void stop_running(void) {
    if (running) spate_cql_server_stop(running);
}

static bool commitlog_mode(const char *s, spate_cql_conf_t *c) {
    if (strcmp(s, "periodic") == 0)
        c->commitlog_batch = false;
    else if (strcmp(s, "batch") == 0)
        c->commitlog_batch = true;
    else
        return false;
    return true;
}

static bool load_config(const char *path, spate_cql_conf_t *c) {
    static const char *const keys[] = {"listen",
                                       "data_dir",
                                       "cluster_name",
                                       "max_frame_bytes",
                                       "max_prepared",
                                       "fsync",
                                       "commitlog_sync",
                                       "commitlog_sync_period_ms",
                                       "block_cache_bytes",
                                       "write_buffer_bytes",
                                       "users",
                                       NULL};
    spate_conf_t conf;
    spate_conf_err_t err = {{0}};
    bool ok = false;
    const char *s = NULL;
    int64_t v;
    const spate_conf_node_t *m;
    if (spate_cmd_server_conf(&conf, path, "cql", keys, &c->listen, &m, &err) != SPATE_OK) goto out;
    s = NULL;
    if (spate_conf_get_str(&conf, m, "data_dir", &s, &err) == SPATE_EINVAL) goto out;
    if (s) snprintf(c->data_dir, sizeof c->data_dir, "%s", s);
    s = NULL;
    if (spate_conf_get_str(&conf, m, "cluster_name", &s, &err) == SPATE_EINVAL) goto out;
    if (s) snprintf(c->cluster_name, sizeof c->cluster_name, "%s", s);
    switch (spate_conf_get_i64(&conf, m, "max_frame_bytes", 1024, 256LL << 20, &v, &err)) {
    case SPATE_OK: c->max_frame_bytes = (uint32_t)v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
    switch (spate_conf_get_i64(&conf, m, "max_prepared", 1, 1000000, &v, &err)) {
    case SPATE_OK: c->max_prepared = (int32_t)v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
    switch (spate_conf_get_bool(&conf, m, "fsync", &c->fsync, &err)) {
    case SPATE_OK:
    case SPATE_ENOENT: break;
    default: goto out;
    }
    s = NULL;
    if (spate_conf_get_str(&conf, m, "commitlog_sync", &s, &err) == SPATE_EINVAL) goto out;
    if (s && !commitlog_mode(s, c)) {
        spate_conf_errorf(&conf, spate_conf_get(m, "commitlog_sync"), &err,
                          "commitlog_sync must be periodic or batch, not '%s'", s);
        goto out;
    }
    switch (spate_conf_get_i64(&conf, m, "commitlog_sync_period_ms", 1, 3600000, &v, &err)) {
    case SPATE_OK: c->commitlog_sync_period_ms = v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
    switch (spate_conf_get_i64(&conf, m, "block_cache_bytes", 1 << 20, 1LL << 40, &v, &err)) {
    case SPATE_OK: c->block_cache_bytes = (size_t)v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
    switch (spate_conf_get_i64(&conf, m, "write_buffer_bytes", 1 << 20, 1LL << 32, &v, &err)) {
    case SPATE_OK: c->write_buffer_bytes = (size_t)v; break;
    case SPATE_ENOENT: break;
    default: goto out;
    }
    const spate_conf_node_t *u = spate_conf_get(m, "users");
    if (u && u->kind != SPATE_CONF_MAP) {
        spate_conf_errorf(&conf, u, &err, "expected a map of user: password");
        goto out;
    }
    c->nusers = 0;
    for (const spate_conf_node_t *e = u ? u->child : NULL; e; e = e->next) {
        if (e->kind != SPATE_CONF_SCALAR || !e->value || !e->value[0]) {
            spate_conf_errorf(&conf, e, &err, "the password must be a non-empty string");
            goto out;
        }
        if (c->nusers == SPATE_CQL_MAX_USERS || strlen(e->key) >= sizeof c->users[0].name ||
            strlen(e->value) >= sizeof c->users[0].password || !e->key[0]) {
            spate_conf_errorf(&conf, e, &err,
                              "at most %d users, names and passwords under 128 bytes",
                              SPATE_CQL_MAX_USERS);
            goto out;
        }
        snprintf(c->users[c->nusers].name, sizeof c->users[0].name, "%s", e->key);
        snprintf(c->users[c->nusers].password, sizeof c->users[0].password, "%s", e->value);
        c->nusers++;
    }
    ok = true;
out:
    if (!ok) fprintf(stderr, "spate cql: %s\n", err.msg);
    spate_conf_free(&conf);
    return ok;
}

int spate_cmd_cql(int argc, char **argv) {
    reexec_with_huge_pages(argc, argv);
    spate_cql_conf_t c;
    spate_cql_conf_default(&c);
    spate_net_addr_t probe_addr;
    bool probing = false, have_probe_addr = false;
    int64_t probe_timeout = 2000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (strncmp(a, "--config=", 9) == 0)
            v = a + 9;
        else if (strcmp(a, "--config") == 0 && i + 1 < argc)
            v = argv[i + 1];
        if (v && !load_config(v, &c)) return SPATE_EXIT_USAGE;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return SPATE_EXIT_OK;
        }
        if (strcmp(a, "--probe") == 0 && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
            probing = true; /* the address is --listen's */
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return spate_cmd_usage_error(CMD, "unexpected argument '%s'", a);
        char name[48];
        const char *v = strchr(a, '=');
        size_t n = v ? (size_t)(v - a) : strlen(a);
        if (n >= sizeof name) return spate_cmd_usage_error(CMD, "unknown option '%s'", a);
        memcpy(name, a, n);
        name[n] = '\0';
        static const char *const known[] = {"--listen",         "--data-dir",
                                            "--config",         "--log-level",
                                            "--log-file",       "--probe",
                                            "--timeout",        "--cluster-name",
                                            "--commitlog-sync", "--commitlog-sync-period-ms"};
        bool ok = false;
        for (size_t k = 0; k < SPATE_ARRAY_LEN(known) && !ok; k++) ok = strcmp(name, known[k]) == 0;
        if (!ok) return spate_cmd_usage_error(CMD, "unknown option '%s'", name);
        if (v)
            v++;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return spate_cmd_usage_error(CMD, "%s needs a value", name);
        if (strcmp(name, "--listen") == 0) {
            char err[256];
            if (spate_net_addr_parse(v, &c.listen, err, sizeof err) != SPATE_OK)
                return spate_cmd_usage_error(CMD, "--listen: %s", err);
        } else if (strcmp(name, "--data-dir") == 0) {
            if (!v[0]) return spate_cmd_usage_error(CMD, "--data-dir must not be empty");
            snprintf(c.data_dir, sizeof c.data_dir, "%s", v);
        } else if (strcmp(name, "--cluster-name") == 0) {
            snprintf(c.cluster_name, sizeof c.cluster_name, "%s", v);
        } else if (strcmp(name, "--log-level") == 0 || strcmp(name, "--log-file") == 0) {
            if (!spate_cmd_log_opt(CMD, name, v)) return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--probe") == 0) {
            char err[256];
            if (spate_net_addr_parse(v, &probe_addr, err, sizeof err) != SPATE_OK)
                return spate_cmd_usage_error(CMD, "--probe: %s", err);
            probing = have_probe_addr = true;
        } else if (strcmp(name, "--commitlog-sync") == 0) {
            if (!commitlog_mode(v, &c))
                return spate_cmd_usage_error(CMD, "--commitlog-sync must be periodic or batch");
        } else if (strcmp(name, "--commitlog-sync-period-ms") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 1, 3600000, &c.commitlog_sync_period_ms))
                return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--timeout") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 1, 3600000, &probe_timeout))
                return SPATE_EXIT_USAGE;
        }
    }
    if (probing) return probe(have_probe_addr ? &probe_addr : &c.listen, probe_timeout);
    char err[1024];
    spate_cql_server_t *s;
    if (spate_cql_server_start(&s, &c, err, sizeof err) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, CMD, "%s", err);
        return SPATE_EXIT_FAIL;
    }
    running = s;
    spate_cmd_on_stop(stop_running);
    char addr[80];
    spate_net_addr_format(&c.listen, addr, sizeof addr);
    char *colon = strrchr(addr, ':');
    if (colon)
        snprintf(colon + 1, sizeof addr - (size_t)(colon + 1 - addr), "%d",
                 spate_cql_server_port(s));
    spate_log(SPATE_LOG_INFO, CMD,
              "listening on %s (CQL native protocol v4; data in %s; commitlog_sync %s%s)", addr,
              c.data_dir, c.commitlog_batch ? "batch" : "periodic",
              c.nusers ? "; PasswordAuthenticator" : "");
    spate_status_t st = spate_cql_server_run(s);
    spate_log(SPATE_LOG_INFO, CMD, "shutting down");
    running = NULL;
    spate_cql_server_free(s);
    return st == SPATE_OK ? SPATE_EXIT_OK : SPATE_EXIT_FAIL;
}
