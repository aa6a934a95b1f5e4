/*
 * cmd_groups.c — `spate groups list|describe`: consumer groups of spate
 * broker or a real Kafka cluster, with committed offsets and lag. The work
 * is done by the Kafka admin client (src/kafka/kafka_client.c).
 */
#include "cmd.h"

#include <string.h>

static const char *const CMD = "groups";

static void help(void) {
    printf("usage: spate groups list [options]\n"
           "       spate groups describe GROUP [options]\n"
           "\n"
           "Shows the consumer groups of spate broker or of a real Kafka cluster.\n"
           "\n"
           "  list       group ids with their state (Empty, Stable, ...), sorted\n"
           "  describe   state, protocol, members with their assigned partitions, and per\n"
           "             partition the committed offset, log end offset and lag\n"
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
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return SPATE_EXIT_OK;
        }
        int m = spate_cmd_client_opt(CMD, argc, argv, &i, &o);
        if (m < 0) return SPATE_EXIT_USAGE;
        if (m > 0) continue;
        if (a[0] == '-') return spate_cmd_usage_error(CMD, "%s: unknown option '%s'", sub, a);
        if (is_list || group)
            return spate_cmd_usage_error(CMD, "%s: unexpected argument '%s'", sub, a);
        group = a;
    }
    if (!is_list && !group) return spate_cmd_usage_error(CMD, "describe: a group id is needed");

    spate_buf_t buf = SPATE_BUF_INIT;
    char err[1024] = "";
    spate_status_t st = is_list ? spate_kafka_groups_list(&o, &buf, err, sizeof err)
                                : spate_kafka_group_describe(&o, group, &buf, err, sizeof err);
    if (buf.len) fwrite(buf.data, 1, buf.len, stdout);
    spate_buf_free(&buf);
    if (st == SPATE_OK) return SPATE_EXIT_OK;
    fprintf(stderr, "spate %s: %s\n", CMD, err);
    return SPATE_EXIT_FAIL;
}
