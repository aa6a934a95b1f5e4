/*
 * cmd_client.c — options shared by the Kafka client commands
 * (`spate topics`, `spate groups`): where the cluster is and how long to
 * wait for it.
 */
#include "cmd.h"

#include <stdlib.h>
#include <string.h>

int spate_cmd_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                        const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        spate_cmd_usage_error(cmd, "%s needs a value", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

void spate_cmd_client_default(spate_kafka_client_opts_t *c) {
    const char *env = getenv("SPATE_BOOTSTRAP");
    c->bootstrap = env && *env ? env : "127.0.0.1:9092";
    c->timeout_ms = 10000;
}

int spate_cmd_client_opt(const char *cmd, int argc, char **argv, int *i,
                         spate_kafka_client_opts_t *c) {
    static const char *const names[] = {"--bootstrap", "--timeout", "--log-level", "--log-file"};
    for (size_t k = 0; k < SPATE_ARRAY_LEN(names); k++) {
        const char *v;
        int m = spate_cmd_opt_value(cmd, argc, argv, i, names[k], &v);
        if (m <= 0) {
            if (m < 0) return -1;
            continue;
        }
        if (k == 0) {
            if (!*v) {
                spate_cmd_usage_error(cmd, "--bootstrap: empty address");
                return -1;
            }
            c->bootstrap = v;
        } else if (k == 1) {
            int64_t ms;
            if (!spate_cmd_int_opt(cmd, names[k], v, 1, 3600000, &ms)) return -1;
            c->timeout_ms = (int)ms;
        } else if (!spate_cmd_log_opt(cmd, names[k], v)) {
            return -1;
        }
        return 1;
    }
    return 0;
}
