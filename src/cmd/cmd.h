/*
 * cmd.h — the subcommands of the spate binary (private to src/cmd).
 *
 * Each subcommand is `int spate_cmd_<name>(int argc, char **argv)` with
 * argv[0] the subcommand name; it parses its options, calls a subsystem
 * and returns the exit status: 0 success, 1 failure at run time, 2 a
 * usage error (unknown option, bad value), as in most Unix tools.
 */
#ifndef SPATE_CMD_H
#define SPATE_CMD_H

#include "base.h"
#include "kafka.h" /* spate_kafka_client_opts_t */

#define SPATE_EXIT_OK 0
#define SPATE_EXIT_FAIL 1
#define SPATE_EXIT_USAGE 2

int spate_cmd_randomuser(int argc, char **argv);
int spate_cmd_fetch(int argc, char **argv);
int spate_cmd_broker(int argc, char **argv);
int spate_cmd_topics(int argc, char **argv);
int spate_cmd_groups(int argc, char **argv);
int spate_cmd_cql(int argc, char **argv);
int spate_cmd_cqlsh(int argc, char **argv);
int spate_cmd_validate(int argc, char **argv);
int spate_cmd_stream(int argc, char **argv);
int spate_cmd_up(int argc, char **argv);
int spate_cmd_scheduler(int argc, char **argv);
int spate_cmd_dags(int argc, char **argv);
int spate_cmd_tasks(int argc, char **argv);
int spate_cmd_runs(int argc, char **argv);

/* Shared option helpers (cmd_util.c). */

/* Prints "spate <cmd>: <message>" and a hint to use --help; returns 2. */
int spate_cmd_usage_error(const char *cmd, const char *fmt, ...) SPATE_PRINTF(2, 3);
/* Parses an integer option value in [min, max] or reports a usage error. */
bool spate_cmd_int_opt(const char *cmd, const char *opt, const char *val, int64_t min, int64_t max,
                       int64_t *out);
bool spate_cmd_double_opt(const char *cmd, const char *opt, const char *val, double min, double max,
                          double *out);
/* A server's config file (broker, cql, randomuser): loads path into
 * *conf, checks its top-level keys (section and log_level), applies
 * log_level, checks the section's keys against keys (NULL-terminated)
 * and reads its `listen` into *listen when present. *m is the section
 * (NULL when the file has none). EINVAL with *err saying where and why.
 * *conf is freed by the caller (spate_conf_free) either way. */
spate_status_t spate_cmd_server_conf(spate_conf_t *conf, const char *path, const char *section,
                                     const char *const *keys, spate_net_addr_t *listen,
                                     const spate_conf_node_t **m, spate_conf_err_t *err);
/* Handles --log-level and --log-file for every subcommand; returns false
 * after reporting an error. */
bool spate_cmd_log_opt(const char *cmd, const char *opt, const char *val);
/* Options of the Kafka client commands (topics, groups; cmd_client.c).
 * spate_cmd_opt_value matches argv[*i] against an option taking a value,
 * as "--name V" or "--name=V": 1 with *val set (and *i moved past a
 * separate value), 0 when argv[*i] is something else, -1 after reporting
 * a missing value. */
int spate_cmd_opt_value(const char *cmd, int argc, char **argv, int *i, const char *name,
                        const char **val);
/* Defaults: --bootstrap from $SPATE_BOOTSTRAP or 127.0.0.1:9092,
 * --timeout 10000 ms. */
void spate_cmd_client_default(spate_kafka_client_opts_t *c);
/* Handles --bootstrap, --timeout, --log-level and --log-file: 1 when
 * argv[*i] was one of them, 0 when not, -1 after a usage error. */
int spate_cmd_client_opt(const char *cmd, int argc, char **argv, int *i,
                         spate_kafka_client_opts_t *c);
/* Installs SIGINT/SIGTERM handlers that set the returned flag. */
volatile int *spate_cmd_stop_flag(void);
/* The same, and calls hook from the signal handler (so hook must be
 * async-signal-safe, e.g. spate_loop_stop); SIGPIPE is ignored. */
volatile int *spate_cmd_on_stop(void (*hook)(void));

#endif /* SPATE_CMD_H */
