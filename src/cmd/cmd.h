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

#define SPATE_EXIT_OK 0
#define SPATE_EXIT_FAIL 1
#define SPATE_EXIT_USAGE 2

int spate_cmd_randomuser(int argc, char **argv);
int spate_cmd_fetch(int argc, char **argv);
int spate_cmd_broker(int argc, char **argv);

/* Shared option helpers (cmd_util.c). */

/* Prints "spate <cmd>: <message>" and a hint to use --help; returns 2. */
int spate_cmd_usage_error(const char *cmd, const char *fmt, ...) SPATE_PRINTF(2, 3);
/* Parses an integer option value in [min, max] or reports a usage error. */
bool spate_cmd_int_opt(const char *cmd, const char *opt, const char *val, int64_t min, int64_t max,
                       int64_t *out);
bool spate_cmd_double_opt(const char *cmd, const char *opt, const char *val, double min, double max,
                          double *out);
/* Handles --log-level and --log-file for every subcommand; returns false
 * after reporting an error. */
bool spate_cmd_log_opt(const char *cmd, const char *opt, const char *val);
/* Installs SIGINT/SIGTERM handlers that set the returned flag. */
volatile int *spate_cmd_stop_flag(void);

#endif /* SPATE_CMD_H */
