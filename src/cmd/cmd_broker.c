/*
 * cmd_broker.c — `spate broker`: the Kafka-compatible log.
 *
 * Settings come from --config FILE (a `broker:` section) and then the
 * command line. SIGINT/SIGTERM stop the loop; the broker then flushes and
 * closes every log before exiting 0.
 */
#include "cmd.h"
#include "kafka.h"

#include <sys/resource.h>
#include <string.h>

static const char *const CMD = "broker";
static spate_kafka_broker_t *running;

static void help(void) {
    printf("usage: spate broker [options]\n"
           "\n"
           "A single-node broker that speaks the Kafka wire protocol (kcat, librdkafka,\n"
           "kafkajs and the Java client work against it unchanged).\n"
           "\n"
           "options:\n"
           "  --listen HOST:PORT      address to serve on (default 127.0.0.1:9092)\n"
           "  --advertise HOST:PORT   address given to clients in Metadata (default: --listen)\n"
           "  --data-dir DIR          where logs live (default spate-data/broker)\n"
           "  --config FILE           YAML file with a 'broker:' section (docs/configuration.md)\n"
           "  --partitions N          partitions of auto-created topics (default 1)\n"
           "  --no-auto-create        do not create topics on Metadata requests\n"
           "  --no-durable            answer acks=all before fsync (flush every second)\n"
           "  --log-level LEVEL       debug, info, warn, error or off\n"
           "  --log-file FILE         append log lines to FILE instead of stderr\n"
           "\n"
           "  --probe [HOST:PORT]     do not serve: check that a Kafka broker answers at\n"
           "                          HOST:PORT (default: --listen) and exit 0 if it does,\n"
           "                          1 if not (for scripts and supervisors)\n"
           "  --timeout MS            how long --probe waits (default 2000)\n");
}

/* --probe: one ApiVersions round trip (works against real Kafka too). */
static int probe(const spate_net_addr_t *addr, int64_t timeout_ms) {
    char err[256], text[80];
    int napis = 0;
    spate_net_addr_format(addr, text, sizeof text);
    if (spate_kafka_probe(addr, (int)timeout_ms, &napis, err, sizeof err) != SPATE_OK) {
        fprintf(stderr, "spate broker: %s: not ready: %s\n", text, err);
        return SPATE_EXIT_FAIL;
    }
    printf("%s: ready (Kafka protocol, %d APIs)\n", text, napis);
    return SPATE_EXIT_OK;
}

/* Called from the signal handler: spate_kafka_broker_stop only writes to
 * an eventfd. */
static void stop_running(void) {
    if (running) spate_kafka_broker_stop(running);
}

static bool set_advertise(spate_kafka_conf_t *c, const char *v) {
    const char *colon = strrchr(v, ':');
    int64_t port;
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof c->advertise_host ||
        spate_parse_i64(colon + 1, 1, 65535, &port) != SPATE_OK) {
        spate_cmd_usage_error(CMD, "--advertise: '%s' is not HOST:PORT", v);
        return false;
    }
    memcpy(c->advertise_host, v, (size_t)(colon - v));
    c->advertise_host[colon - v] = '\0';
    c->advertise_port = (int)port;
    return true;
}

static bool load_config(const char *path, spate_kafka_conf_t *c) {
    static const char *const keys[] = {"listen",
                                       "advertise",
                                       "data_dir",
                                       "node_id",
                                       "auto_create_topics",
                                       "default_partitions",
                                       "max_partitions",
                                       "max_message_bytes",
                                       "segment_bytes",
                                       "retention_ms",
                                       "retention_bytes",
                                       "durable",
                                       "flush_interval_ms",
                                       "flush_messages",
                                       "compaction_interval_ms",
                                       "fetch_sendfile",
                                       NULL};
    spate_conf_t conf;
    spate_conf_err_t err = {{0}};
    bool ok = false;
    const char *s = NULL;
    int64_t v;
    const spate_conf_node_t *m;
    if (spate_cmd_server_conf(&conf, path, "broker", keys, &c->listen, &m, &err) != SPATE_OK)
        goto out;
    s = NULL;
    if (spate_conf_get_str(&conf, m, "advertise", &s, &err) == SPATE_EINVAL) goto out;
    if (s && !set_advertise(c, s)) goto out_quiet;
    s = NULL;
    if (spate_conf_get_str(&conf, m, "data_dir", &s, &err) == SPATE_EINVAL) goto out;
    if (s) snprintf(c->data_dir, sizeof c->data_dir, "%s", s);
#define GET_I64(key, lo, hi, field)                                                                \
    switch (spate_conf_get_i64(&conf, m, key, lo, hi, &v, &err)) {                                 \
    case SPATE_OK: field = v; break;                                                               \
    case SPATE_ENOENT: break;                                                                      \
    default: goto out;                                                                             \
    }
#define GET_BOOL(key, field)                                                                       \
    switch (spate_conf_get_bool(&conf, m, key, &field, &err)) {                                    \
    case SPATE_OK:                                                                                 \
    case SPATE_ENOENT: break;                                                                      \
    default: goto out;                                                                             \
    }
    GET_I64("node_id", 0, INT32_MAX, c->node_id);
    GET_BOOL("auto_create_topics", c->auto_create_topics);
    GET_I64("default_partitions", 1, 100000, c->default_partitions);
    GET_I64("max_partitions", 1, 100000, c->max_partitions);
    GET_I64("max_message_bytes", 1024, 1 << 30, c->max_message_bytes);
    GET_I64("segment_bytes", 1 << 14, INT64_MAX, c->segment_bytes);
    GET_I64("retention_ms", -1, INT64_MAX, c->retention_ms);
    GET_I64("retention_bytes", -1, INT64_MAX, c->retention_bytes);
    GET_BOOL("durable", c->durable);
    GET_I64("flush_interval_ms", 1, 3600000, c->flush_interval_ms);
    GET_I64("flush_messages", 1, INT64_MAX, c->flush_messages);
    GET_I64("compaction_interval_ms", 10, 86400000, c->compaction_interval_ms);
    s = NULL;
    if (spate_conf_get_str(&conf, m, "fetch_sendfile", &s, &err) == SPATE_EINVAL) goto out;
    if (s) {
        if (strcmp(s, "auto") == 0)
            c->fetch_sendfile = SPATE_KAFKA_SENDFILE_AUTO;
        else if (strcmp(s, "always") == 0)
            c->fetch_sendfile = SPATE_KAFKA_SENDFILE_ALWAYS;
        else if (strcmp(s, "never") == 0)
            c->fetch_sendfile = SPATE_KAFKA_SENDFILE_NEVER;
        else {
            spate_conf_errorf(&conf, spate_conf_get(m, "fetch_sendfile"), &err,
                              "expected auto, always or never, got '%s'", s);
            goto out;
        }
    }
#undef GET_I64
#undef GET_BOOL
    ok = true;
out:
    if (!ok) fprintf(stderr, "spate broker: %s\n", err.msg);
out_quiet:
    spate_conf_free(&conf);
    return ok;
}

int spate_cmd_broker(int argc, char **argv) {
    spate_kafka_conf_t c;
    spate_kafka_conf_default(&c);
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
        if (strcmp(a, "--no-auto-create") == 0) {
            c.auto_create_topics = false;
            continue;
        }
        if (strcmp(a, "--no-durable") == 0) {
            c.durable = false;
            continue;
        }
        if (strcmp(a, "--probe") == 0 && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)) {
            probing = true; /* the address is --listen's */
            continue;
        }
        if (strncmp(a, "--", 2) != 0)
            return spate_cmd_usage_error(CMD, "unexpected argument '%s'", a);
        char name[32];
        const char *v = strchr(a, '=');
        size_t n = v ? (size_t)(v - a) : strlen(a);
        if (n >= sizeof name) return spate_cmd_usage_error(CMD, "unknown option '%s'", a);
        memcpy(name, a, n);
        name[n] = '\0';
        static const char *const known[] = {"--listen",   "--advertise",  "--data-dir",
                                            "--config",   "--partitions", "--log-level",
                                            "--log-file", "--probe",      "--timeout"};
        bool ok = false;
        for (size_t k = 0; k < SPATE_ARRAY_LEN(known) && !ok; k++) ok = strcmp(name, known[k]) == 0;
        if (!ok) return spate_cmd_usage_error(CMD, "unknown option '%s'", name);
        if (v)
            v++;
        else if (i + 1 < argc)
            v = argv[++i];
        else
            return spate_cmd_usage_error(CMD, "%s needs a value", name);
        int64_t iv;
        if (strcmp(name, "--listen") == 0) {
            char err[256];
            if (spate_net_addr_parse(v, &c.listen, err, sizeof err) != SPATE_OK)
                return spate_cmd_usage_error(CMD, "--listen: %s", err);
        } else if (strcmp(name, "--advertise") == 0) {
            if (!set_advertise(&c, v)) return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--data-dir") == 0) {
            snprintf(c.data_dir, sizeof c.data_dir, "%s", v);
        } else if (strcmp(name, "--partitions") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 1, 100000, &iv)) return SPATE_EXIT_USAGE;
            c.default_partitions = (int32_t)iv;
        } else if (strcmp(name, "--log-level") == 0 || strcmp(name, "--log-file") == 0) {
            if (!spate_cmd_log_opt(CMD, name, v)) return SPATE_EXIT_USAGE;
        } else if (strcmp(name, "--probe") == 0) {
            char err[256];
            if (spate_net_addr_parse(v, &probe_addr, err, sizeof err) != SPATE_OK)
                return spate_cmd_usage_error(CMD, "--probe: %s", err);
            probing = have_probe_addr = true;
        } else if (strcmp(name, "--timeout") == 0) {
            if (!spate_cmd_int_opt(CMD, name, v, 1, 3600000, &probe_timeout))
                return SPATE_EXIT_USAGE;
        }
    }
    if (probing) return probe(have_probe_addr ? &probe_addr : &c.listen, probe_timeout);
    /* Every partition keeps files open: take the descriptors the system
     * allows this process (the soft limit is often 1024). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char err[512];
    spate_kafka_broker_t *b;
    if (spate_kafka_broker_start(&b, &c, err, sizeof err) != SPATE_OK) {
        spate_log(SPATE_LOG_ERROR, CMD, "%s", err);
        return SPATE_EXIT_FAIL;
    }
    running = b;
    spate_cmd_on_stop(stop_running);
    char addr[80];
    spate_net_addr_format(&c.listen, addr, sizeof addr);
    char *colon = strrchr(addr, ':');
    if (colon)
        snprintf(colon + 1, sizeof addr - (size_t)(colon + 1 - addr), "%d",
                 spate_kafka_broker_port(b));
    spate_log(SPATE_LOG_INFO, CMD, "listening on %s (Kafka protocol; data in %s, %s)", addr,
              c.data_dir, c.durable ? "acks=all after fsync" : "flush every interval");
    spate_status_t st = spate_kafka_broker_run(b);
    spate_log(SPATE_LOG_INFO, CMD, "shutting down: flushing logs");
    running = NULL;
    spate_kafka_broker_free(b);
    return st == SPATE_OK ? SPATE_EXIT_OK : SPATE_EXIT_FAIL;
}
