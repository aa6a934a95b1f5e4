/*
 * cmd_groups.c — `spate groups list|describe`: consumer groups of spate
 * broker or a real Kafka cluster, with committed offsets and lag. The work
 * is done by the Kafka admin client (src/kafka/kafka_client.c).
 *
 * `describe --json` prints the admin client's structured result
 * (spate_kafka_group_collect) as one JSON object, for scripts:
 *
 *   {"group":"g","state":"Stable","protocol_type":"consumer",
 *    "protocol":"range","coordinator":{"id":1,"host":"h","port":9092},
 *    "members":[{"member_id":"...","client_id":"...","host":"/127.0.0.1",
 *                "assignment":"t:0,1"}],
 *    "offsets":[{"topic":"t","partition":0,"committed":3,"log_end":4,
 *                "lag":1}]}
 *
 * "offsets" lists the partitions with a committed offset, sorted, as the
 * text does; "log_end" and "lag" are null (with an "error") when the
 * watermarks could not be read, "assignment" null when the member's
 * assignment is not in the consumer protocol's format.
 */
#include "cmd.h"

#include <string.h>

static const char *const CMD = "groups";

static void help(void) {
    printf("usage: spate groups list [options]\n"
           "       spate groups describe GROUP [--json] [options]\n"
           "\n"
           "Shows the consumer groups of spate broker or of a real Kafka cluster.\n"
           "\n"
           "  list       group ids with their state (Empty, Stable, ...), sorted\n"
           "  describe   state, protocol, members with their assigned partitions, and per\n"
           "             partition the committed offset, log end offset and lag\n"
           "             (--json: the same as one JSON object)\n"
           "\n"
           "options:\n"
           "  --bootstrap HOST:PORT   a broker of the cluster (default $SPATE_BOOTSTRAP,\n"
           "                          else 127.0.0.1:9092)\n"
           "  --timeout MS            how long to wait for the cluster (default 10000)\n"
           "  --log-level LEVEL       debug, info, warn, error or off\n"
           "  --log-file FILE         append log lines to FILE instead of stderr\n"
           "\n"
           "Exit status: 0 done, 1 unknown group or the cluster could not be reached,\n"
           "2 usage error.\n");
}

static void json_str(spate_buf_t *b, const char *key, const char *v) {
    spate_buf_printf(b, "\"%s\":", key);
    spate_json_put_str(b, v, strlen(v));
}

/* `describe --json`: the group as one JSON object (see the top). */
static spate_status_t describe_json(const spate_kafka_client_opts_t *o, const char *group,
                                    spate_buf_t *b, char *err, size_t errlen) {
    spate_kafka_group_info_t g;
    spate_status_t st = spate_kafka_group_collect(o, group, &g, err, errlen);
    if (st != SPATE_OK) goto out;
    spate_buf_putc(b, '{');
    json_str(b, "group", g.group);
    spate_buf_putc(b, ',');
    json_str(b, "state", g.state);
    spate_buf_putc(b, ',');
    json_str(b, "protocol_type", g.protocol_type);
    spate_buf_putc(b, ',');
    json_str(b, "protocol", g.protocol);
    spate_buf_printf(b, ",\"coordinator\":{\"id\":%d,", (int)g.coordinator_id);
    json_str(b, "host", g.coordinator_host);
    spate_buf_printf(b, ",\"port\":%d},\"members\":[", g.coordinator_port);
    spate_buf_t as = SPATE_BUF_INIT;
    for (int i = 0; i < g.nmembers; i++) {
        const spate_kafka_member_info_t *m = &g.members[i];
        spate_buf_puts(b, i ? ",{" : "{");
        json_str(b, "member_id", m->member_id);
        spate_buf_putc(b, ',');
        json_str(b, "client_id", m->client_id);
        spate_buf_putc(b, ',');
        json_str(b, "host", m->host);
        spate_buf_puts(b, ",\"assignment\":");
        spate_buf_reset(&as);
        if (spate_kafka_assignment_format(m->assignment, m->assignment_len, &as) == SPATE_OK)
            spate_json_put_str(b, as.data, as.len);
        else
            spate_buf_puts(b, "null");
        spate_buf_putc(b, '}');
    }
    spate_buf_free(&as);
    spate_buf_puts(b, "],\"offsets\":[");
    for (int i = 0; i < g.noffsets; i++) {
        const spate_kafka_offset_info_t *oi = &g.offsets[i];
        spate_buf_puts(b, i ? ",{" : "{");
        json_str(b, "topic", oi->topic);
        spate_buf_printf(b, ",\"partition\":%d,\"committed\":%lld", (int)oi->partition,
                         (long long)oi->committed);
        if (oi->high >= 0) {
            spate_buf_printf(b, ",\"log_end\":%lld,\"lag\":%lld}", (long long)oi->high,
                             (long long)oi->lag);
        } else {
            spate_buf_puts(b, ",\"log_end\":null,\"lag\":null,");
            json_str(b, "error", oi->wm_err);
            spate_buf_putc(b, '}');
        }
    }
    spate_buf_puts(b, "]}\n");
out:
    spate_kafka_group_info_free(&g);
    return st;
}

int spate_cmd_groups(int argc, char **argv) {
    if (argc < 2) return spate_cmd_usage_error(CMD, "a subcommand is needed: list or describe");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        help();
        return SPATE_EXIT_OK;
    }
    bool is_list = strcmp(sub, "list") == 0;
    if (!is_list && strcmp(sub, "describe") != 0)
        return spate_cmd_usage_error(CMD, "unknown subcommand '%s'", sub);

    spate_kafka_client_opts_t o;
    spate_cmd_client_default(&o);
    const char *group = NULL;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return SPATE_EXIT_OK;
        }
        int m = spate_cmd_client_opt(CMD, argc, argv, &i, &o);
        if (m < 0) return SPATE_EXIT_USAGE;
        if (m > 0) continue;
        if (!is_list && strcmp(a, "--json") == 0) {
            json = true;
            continue;
        }
        if (a[0] == '-') return spate_cmd_usage_error(CMD, "%s: unknown option '%s'", sub, a);
        if (is_list || group)
            return spate_cmd_usage_error(CMD, "%s: unexpected argument '%s'", sub, a);
        group = a;
    }
    if (!is_list && !group) return spate_cmd_usage_error(CMD, "describe: a group id is needed");

    spate_buf_t buf = SPATE_BUF_INIT;
    char err[1024] = "";
    spate_status_t st = is_list ? spate_kafka_groups_list(&o, &buf, err, sizeof err)
                        : json  ? describe_json(&o, group, &buf, err, sizeof err)
                                : spate_kafka_group_describe(&o, group, &buf, err, sizeof err);
    if (buf.len) fwrite(buf.data, 1, buf.len, stdout);
    spate_buf_free(&buf);
    if (st == SPATE_OK) return SPATE_EXIT_OK;
    fprintf(stderr, "spate %s: %s\n", CMD, err);
    return SPATE_EXIT_FAIL;
}
