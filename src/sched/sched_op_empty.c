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
 * As Airflow marks EmptyOperator tasks successful in the scheduler
 * without sending them to an executor, spate's scheduler settles an
 * `empty` task in the tick that schedules it (sched_core.c, finish_empty):
 * SCHEDULED → SUCCESS with the next try number, start = end = now, exit 0;
 * no fork, no worker, pool or max_active_tasks slot, no log file. Its
 * downstream tasks are decided in the same tick. So empty_run below is
 * never called by the scheduler; `spate tasks test` (cmd_dags.c), which
 * runs one operator in-process, still calls it.
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

/* Only `spate tasks test` calls it (the scheduler never forks an empty
 * task); owns nothing. Always 0 (success). */
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
