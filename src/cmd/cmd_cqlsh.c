/*
 * cmd_cqlsh.c — `spate cqlsh [host[:port]] [-e STATEMENTS] [-k KEYSPACE]`:
 * a CQL shell like Cassandra's cqlsh, against spate cql, Cassandra or
 * ScyllaDB. The work is in src/cql/cql_shell.c; this file parses options.
 */
#include "cmd.h"
#include "cql.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CMD = "cqlsh";

static void help(void) {
    printf("usage: spate cqlsh [HOST[:PORT]] [options]\n"
           "\n"
           "A CQL shell: statements end with ';'. Interactive on a terminal (line\n"
           "editing, history in ~/.spate_cqlsh_history); otherwise a script on stdin.\n"
           "HOST:PORT defaults to $SPATE_CQL, else 127.0.0.1:9042.\n"
           "\n"
           "options:\n"
           "  -e, --execute STATEMENTS  run these statements and exit\n"
           "  -k, --keyspace KEYSPACE   USE this keyspace first\n"
           "  -f, --file FILE           run the statements in FILE and exit\n"
           "  -u, --username USER       log in as USER (PasswordAuthenticator)\n"
           "  -p, --password PASSWORD   USER's password (default: $SPATE_CQL_PASSWORD)\n"
           "  --connect-timeout MS      default 5000\n"
           "  --request-timeout MS      default 12000\n"
           "  --log-level LEVEL         debug, info, warn, error or off\n"
           "\n"
           "Exit status: 0 done, 1 cannot connect, 2 a statement failed (or usage).\n");
}

int spate_cmd_cqlsh(int argc, char **argv) {
    spate_cql_shell_opts_t o = {0};
    const char *file = NULL;
    o.host = getenv("SPATE_CQL");
    if (o.host && !o.host[0]) o.host = NULL;
    bool host_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            help();
            return SPATE_EXIT_OK;
        }
        if (a[0] != '-') {
            if (host_given) return spate_cmd_usage_error(CMD, "unexpected argument '%s'", a);
            o.host = a;
            host_given = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t ms;
        if (strcmp(a, "-e") == 0 || strcmp(a, "--execute") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs statements", a);
            o.execute = v;
        } else if (strcmp(a, "-k") == 0 || strcmp(a, "--keyspace") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a keyspace", a);
            o.keyspace = v;
        } else if (strcmp(a, "-u") == 0 || strcmp(a, "--username") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a user name", a);
            o.username = v;
        } else if (strcmp(a, "-p") == 0 || strcmp(a, "--password") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a password", a);
            o.password = v;
        } else if (strcmp(a, "-f") == 0 || strcmp(a, "--file") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a file", a);
            file = v;
        } else if (strcmp(a, "--connect-timeout") == 0 || strcmp(a, "--request-timeout") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a value", a);
            if (!spate_cmd_int_opt(CMD, a, v, 1, 3600000, &ms)) return SPATE_EXIT_USAGE;
            if (a[2] == 'c')
                o.connect_timeout_ms = (int)ms;
            else
                o.request_timeout_ms = (int)ms;
        } else if (strcmp(a, "--log-level") == 0) {
            if (!v) return spate_cmd_usage_error(CMD, "%s needs a value", a);
            if (!spate_cmd_log_opt(CMD, a, v)) return SPATE_EXIT_USAGE;
        } else {
            return spate_cmd_usage_error(CMD, "unknown option '%s'", a);
        }
        i++;
    }
    if (!o.host) o.host = "127.0.0.1:9042";
    if (o.username && !o.password) o.password = getenv("SPATE_CQL_PASSWORD");
    if (file && o.execute) return spate_cmd_usage_error(CMD, "-e and -f exclude each other");
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "spate cqlsh: %s: %s\n", file, strerror(errno));
            return SPATE_EXIT_USAGE;
        }
        spate_buf_t b = {0};
        char chunk[65536];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) spate_buf_append(&b, chunk, n);
        fclose(f);
        o.execute = b.data ? b.data : "";
        int rc = spate_cql_shell_run(&o);
        spate_buf_free(&b);
        return rc;
    }
    return spate_cql_shell_run(&o);
}
