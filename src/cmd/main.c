/*
 * main.c — the spate binary: one program, one subcommand per component.
 *
 * The table below is the list of subcommands; `spate help` prints it, so
 * what is listed is what exists. Subcommands live in cmd_<name>.c and stay
 * thin: parse options, call a subsystem.
 */
#include "cmd.h"
#include "source.h"

#include <string.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} cmd_entry_t;

static const cmd_entry_t commands[] = {
    {"randomuser", spate_cmd_randomuser, "serve a randomuser.me-compatible API (1.4)"},
    {"fetch", spate_cmd_fetch, "fetch users from a randomuser API and print formatted records"},
    {"broker", spate_cmd_broker, "a Kafka-compatible broker (single node)"},
    {"topics", spate_cmd_topics, "list, create, describe and delete Kafka topics"},
    {"groups", spate_cmd_groups, "list and describe Kafka consumer groups, with lag"},
    {"cql", spate_cmd_cql, "a CQL-native-protocol server (Cassandra drivers; single node)"},
    {"cqlsh", spate_cmd_cqlsh, "a CQL shell (spate cql, Cassandra, ScyllaDB)"},
    {"validate", spate_cmd_validate, "check a pipeline file (stream jobs) without running it"},
    {"stream", spate_cmd_stream, "run stream jobs: Kafka → transform → CQL/file/stdout"},
    {"up", spate_cmd_up, "run the whole pipeline (source, broker, store, stream, scheduler)"},
    {"scheduler", spate_cmd_scheduler, "run DAGs of tasks on schedules, Airflow-style (REST API)"},
    {"dags", spate_cmd_dags, "list, trigger, pause, test and backfill scheduler DAGs"},
    {"tasks", spate_cmd_tasks, "test a scheduler task in the foreground; print a try's log"},
    {"runs", spate_cmd_runs, "list scheduler DAG runs"},
};

static void usage(FILE *f) {
    fprintf(f, "spate — the real-time data engineering stack in one small program\n"
               "\n"
               "usage: spate <command> [options]\n"
               "       spate <command> --help\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < SPATE_ARRAY_LEN(commands); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-12s %s\n  %-12s %s\n", "help", "show this help", "version",
            "print the version");
}

int main(int argc, char **argv) {
    spate_json_alloc_install(); /* before any jansson value exists */
    if (argc < 2) {
        usage(stderr);
        return SPATE_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            for (size_t i = 0; i < SPATE_ARRAY_LEN(commands); i++) {
                if (strcmp(argv[2], commands[i].name) == 0) {
                    char *hargv[] = {argv[2], "--help", NULL};
                    return commands[i].fn(2, hargv);
                }
            }
            fprintf(stderr, "spate: unknown command '%s'\n", argv[2]);
            return SPATE_EXIT_USAGE;
        }
        usage(stdout);
        return SPATE_EXIT_OK;
    }
    if (strcmp(name, "version") == 0 || strcmp(name, "--version") == 0) {
        printf("spate %s\n", SPATE_VERSION);
        return SPATE_EXIT_OK;
    }
    for (size_t i = 0; i < SPATE_ARRAY_LEN(commands); i++)
        if (strcmp(name, commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "spate: unknown command '%s'\nRun 'spate help' for the list of commands.\n",
            name);
    return SPATE_EXIT_USAGE;
}
