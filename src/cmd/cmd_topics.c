/*
 * cmd_topics.c — `spate topics list|create|describe|delete`: topic
 * administration against spate broker or a real Kafka cluster. The work
 * is done by the Kafka admin client (src/kafka/kafka_client.c).
 *
 * `describe --json` prints the admin client's structured result
 * (spate_kafka_topics_collect) as one JSON array, one object per topic in
 * the order named, for scripts:
 *
 *   [{"topic":"t","partition_count":1,"replication_factor":1,
 *     "partitions":[{"partition":0,"leader":1,"replicas":[1],"isr":[1],
 *                    "low":0,"high":4}]}]
 *
 * A partition whose watermarks could not be read has "low" and "high"
 * null and an "error" string.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

static const char *const CMD = "topics";

static void help(void) {
    printf(
        "usage: spate topics list [--internal] [options]\n"
        "       spate topics create NAME [--partitions N] [--replication-factor N]\n"
        "                                [--config KEY=VALUE ...] [options]\n"
        "       spate topics describe NAME... [--json] [options]\n"
        "       spate topics delete NAME... [options]\n"
        "\n"
        "Administers the topics of spate broker or of a real Kafka cluster.\n"
        "\n"
        "  list       topic names, one a line, sorted (--internal: with __consumer_offsets ...)\n"
        "  create     create a topic (partitions, replication factor: broker defaults)\n"
        "  describe   partitions with leader, replicas, ISR and low/high watermark offsets\n"
        "             (--json: the same as one JSON array)\n"
        "  delete     delete topics\n"
        "\n"
        "options:\n"
        "  --bootstrap HOST:PORT   a broker of the cluster (default $SPATE_BOOTSTRAP,\n"
        "                          else 127.0.0.1:9092)\n"
        "  --timeout MS            how long to wait for the cluster (default 10000)\n"
        "  --log-level LEVEL       debug, info, warn, error or off\n"
        "  --log-file FILE         append log lines to FILE instead of stderr\n"
        "\n"
        "Exit status: 0 done, 1 the cluster refused or could not be reached, 2 usage error.\n");
}

/* Prints what the client produced, then its error; the exit status. */
static int finish(spate_status_t st, spate_buf_t *out, const char *err) {
    if (out->len) fwrite(out->data, 1, out->len, stdout);
    spate_buf_free(out);
    if (st == SPATE_OK) return SPATE_EXIT_OK;
    fprintf(stderr, "spate %s: %s\n", CMD, err);
    return SPATE_EXIT_FAIL;
}

static void json_ids(spate_buf_t *b, const int32_t *ids, int n) {
    spate_buf_putc(b, '[');
    for (int i = 0; i < n; i++) spate_buf_printf(b, "%s%d", i ? "," : "", (int)ids[i]);
    spate_buf_putc(b, ']');
}

/* `describe --json`: the topics as one JSON array (see the top). */
static spate_status_t describe_json(const spate_kafka_client_opts_t *o, const char *const *names,
                                    size_t n, spate_buf_t *b, char *err, size_t errlen) {
    spate_kafka_topic_info_t *ti;
    spate_status_t st = spate_kafka_topics_collect(o, names, n, &ti, err, errlen);
    if (st != SPATE_OK) return st;
    spate_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        const spate_kafka_topic_info_t *t = &ti[i];
        spate_buf_puts(b, i ? ",{\"topic\":" : "{\"topic\":");
        spate_json_put_str(b, t->name, strlen(t->name));
        spate_buf_printf(b, ",\"partition_count\":%d,\"replication_factor\":%d,\"partitions\":[",
                         t->nparts, (int)t->replication_factor);
        for (int p = 0; p < t->nparts; p++) {
            const spate_kafka_part_info_t *pi = &t->parts[p];
            spate_buf_printf(b, "%s{\"partition\":%d,\"leader\":%d,\"replicas\":", p ? "," : "",
                             (int)pi->id, (int)pi->leader);
            json_ids(b, pi->replicas, pi->nreplicas);
            spate_buf_puts(b, ",\"isr\":");
            json_ids(b, pi->isr, pi->nisr);
            if (pi->high >= 0) {
                spate_buf_printf(b, ",\"low\":%lld,\"high\":%lld}", (long long)pi->low,
                                 (long long)pi->high);
            } else {
                spate_buf_puts(b, ",\"low\":null,\"high\":null,\"error\":");
                spate_json_put_str(b, pi->wm_err, strlen(pi->wm_err));
                spate_buf_putc(b, '}');
            }
        }
        spate_buf_puts(b, "]}");
    }
    spate_buf_puts(b, "]\n");
    spate_kafka_topic_infos_free(ti, n);
    return SPATE_OK;
}

int spate_cmd_topics(int argc, char **argv) {
    if (argc < 2)
        return spate_cmd_usage_error(CMD,
                                     "a subcommand is needed: list, create, describe or delete");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        help();
        return SPATE_EXIT_OK;
    }
    bool is_list = strcmp(sub, "list") == 0, is_create = strcmp(sub, "create") == 0;
    bool is_describe = strcmp(sub, "describe") == 0, json = false;
    if (!is_list && !is_create && !is_describe && strcmp(sub, "delete") != 0)
        return spate_cmd_usage_error(CMD, "unknown subcommand '%s'", sub);

    spate_kafka_client_opts_t o;
    spate_cmd_client_default(&o);
    bool internal = false;
    int64_t partitions = -1, rf = -1;
    /* Names and --config values point into argv: at most argc of each. */
    const char **names = spate_xcalloc((size_t)argc, sizeof *names);
    const char **configs = spate_xcalloc((size_t)argc, sizeof *configs);
    size_t nnames = 0, nconfigs = 0;
    int rc = SPATE_EXIT_USAGE;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            rc = SPATE_EXIT_OK;
            goto out;
        }
        int m = spate_cmd_client_opt(CMD, argc, argv, &i, &o);
        if (m < 0) goto out;
        if (m > 0) continue;
        if (is_list && strcmp(a, "--internal") == 0) {
            internal = true;
            continue;
        }
        if (is_describe && strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (is_create) {
            if ((m = spate_cmd_opt_value(CMD, argc, argv, &i, "--partitions", &v)) != 0) {
                if (m < 0 || !spate_cmd_int_opt(CMD, "--partitions", v, 1, 100000, &partitions))
                    goto out;
                continue;
            }
            if ((m = spate_cmd_opt_value(CMD, argc, argv, &i, "--replication-factor", &v)) != 0) {
                if (m < 0 || !spate_cmd_int_opt(CMD, "--replication-factor", v, 1, 32767, &rf))
                    goto out;
                continue;
            }
            if ((m = spate_cmd_opt_value(CMD, argc, argv, &i, "--config", &v)) != 0) {
                if (m < 0) goto out;
                if (!strchr(v, '=') || *v == '=') {
                    spate_cmd_usage_error(CMD, "--config: '%s' is not KEY=VALUE", v);
                    goto out;
                }
                configs[nconfigs++] = v;
                continue;
            }
        }
        if (strncmp(a, "-", 1) == 0) {
            spate_cmd_usage_error(CMD, "%s: unknown option '%s'", sub, a);
            goto out;
        }
        names[nnames++] = a;
    }
    if (is_list && nnames > 0) {
        spate_cmd_usage_error(CMD, "list: unexpected argument '%s'", names[0]);
        goto out;
    }
    if (is_create && nnames != 1) {
        spate_cmd_usage_error(CMD, "create: exactly one topic name is needed");
        goto out;
    }
    if (!is_list && !is_create && nnames == 0) {
        spate_cmd_usage_error(CMD, "%s: at least one topic name is needed", sub);
        goto out;
    }

    spate_buf_t buf = SPATE_BUF_INIT;
    char err[1024] = "";
    spate_status_t st;
    if (is_list) {
        st = spate_kafka_topics_list(&o, internal, &buf, err, sizeof err);
    } else if (is_create) {
        st = spate_kafka_topic_create(&o, names[0], (int32_t)partitions, (int32_t)rf,
                                      (const char *const *)configs, nconfigs, err, sizeof err);
        if (st == SPATE_OK) spate_buf_printf(&buf, "Created topic %s.\n", names[0]);
    } else if (is_describe && json) {
        st = describe_json(&o, (const char *const *)names, nnames, &buf, err, sizeof err);
    } else if (is_describe) {
        st = spate_kafka_topics_describe(&o, (const char *const *)names, nnames, &buf, err,
                                         sizeof err);
    } else {
        st = spate_kafka_topics_delete(&o, (const char *const *)names, nnames, &buf, err,
                                       sizeof err);
    }
    rc = finish(st, &buf, err);
out:
    free(names);
    free(configs);
    return rc;
}
