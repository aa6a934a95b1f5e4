/*
 * sched_op_empty.c — the `empty` operator (Airflow's EmptyOperator): a
 * task that does nothing and succeeds. It has no keys of its own.
 *
 *   use                          why
 *   join / fork points           "all of these, then those" without work
 *   placeholders                 a DAG's shape before its tasks exist
 *   benchmarks                   the scheduler's own cost per task
 *                                (bench/run_sched.sh)
 *
 * Unlike Airflow, which marks EmptyOperator tasks successful in the
 * scheduler without sending them to an executor, spate runs every task
 * type the same way: one forked try, one log file. So an `empty` try costs
 * what the executor costs (fork, log file, reap), which is what the
 * benchmark measures.
 */
#include "sched_op_int.h"

static const char *const empty_keys[] = {NULL};

/* No keys of its own: nothing to check (the loader refuses unknown keys). */
static void empty_check(const spate_conf_t *c, const spate_conf_node_t *task,
                        spate_stream_diag_t *d) {
    SPATE_UNUSED(c);
    SPATE_UNUSED(task);
    SPATE_UNUSED(d);
}

/* Runs in the try's own process; owns nothing. Always 0 (success). */
static int empty_run(const spate_sched_ti_ctx_t *ctx) {
    SPATE_UNUSED(ctx);
    return 0;
}

const spate_sched_op_t spate_sched_op_empty = {
    .name = "empty",
    .keys = empty_keys,
    .check = empty_check,
    .run = empty_run,
};
