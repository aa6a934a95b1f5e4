/*
 * sched_op_run.c — runs one task of a DAG file through its operator, the
 * way one try of the scheduler would, for test_sched_ops.py (until and
 * besides `spate tasks test`).
 *
 *   sched_op_run DAGS DAG_ID TASK_ID [--postgres URL] [--sqlite PATH]
 *                [--kafka HOST:PORT] [--cql HOST:PORT] [--randomuser URL]
 *                [--run-id ID] [--logical-date TIME] [--try N]
 *
 * DAGS is a DAG file or folder, loaded with the DagBag (so the operators'
 * load-time checks run too: any problem is printed and exits 2). The
 * operator's run() is called in a forked child, as the executor does;
 * the exit status is the child's (the operator's result). Its log goes
 * to stderr.
 */
#include "sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int usage(void) {
    fprintf(stderr, "usage: sched_op_run DAGS DAG_ID TASK_ID [--postgres URL] [--sqlite PATH] "
                    "[--kafka BOOTSTRAP] [--cql POINTS] [--randomuser URL] [--run-id ID] "
                    "[--logical-date TIME] [--try N]\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 4) return usage();
    spate_sched_env_t env = {0};
    const char *run_id = NULL, *logical = NULL;
    int try_number = 1;
    for (int i = 4; i < argc; i++) {
        if (i + 1 >= argc) return usage();
        const char *k = argv[i], *v = argv[++i];
        if (strcmp(k, "--postgres") == 0) {
            env.postgres = v;
        } else if (strcmp(k, "--sqlite") == 0) {
            env.sqlite = v;
        } else if (strcmp(k, "--kafka") == 0) {
            env.kafka = v;
        } else if (strcmp(k, "--cql") == 0) {
            env.cql = v;
        } else if (strcmp(k, "--randomuser") == 0) {
            env.randomuser = v;
        } else if (strcmp(k, "--run-id") == 0) {
            run_id = v;
        } else if (strcmp(k, "--logical-date") == 0) {
            logical = v;
        } else if (strcmp(k, "--try") == 0) {
            try_number = atoi(v);
        } else {
            return usage();
        }
    }
    spate_log_set_level(SPATE_LOG_INFO);

    spate_sched_dagbag_t *bag = spate_sched_dagbag_new();
    int rc = 2;
    if (spate_sched_dagbag_load(bag, argv[1], NULL) != SPATE_OK) {
        fprintf(stderr, "sched_op_run: cannot read %s\n", argv[1]);
        goto out;
    }
    const spate_stream_diag_t *errs = spate_sched_dagbag_errors(bag);
    if (errs && errs->n > 0) {
        for (size_t i = 0; i < errs->n; i++) fprintf(stderr, "%s\n", errs->msgs[i]);
        goto out;
    }
    const spate_sched_dag_t *dag = spate_sched_dagbag_get(bag, argv[2]);
    if (dag == NULL) {
        fprintf(stderr, "sched_op_run: no DAG '%s'\n", argv[2]);
        goto out;
    }
    const spate_sched_task_t *task = spate_sched_dag_task(dag, argv[3]);
    if (task == NULL) {
        fprintf(stderr, "sched_op_run: DAG '%s' has no task '%s'\n", argv[2], argv[3]);
        goto out;
    }
    const spate_sched_op_t *op = spate_sched_op_find(task->type);
    if (op == NULL) {
        fprintf(stderr, "sched_op_run: unknown type '%s'\n", task->type);
        goto out;
    }
    int64_t ld = spate_wall_ms();
    if (logical && spate_sched_parse_time(logical, &ld) != SPATE_OK) {
        fprintf(stderr, "sched_op_run: bad --logical-date '%s'\n", logical);
        goto out;
    }
    char rid[128];
    if (run_id == NULL) {
        char iso[25];
        spate_time_iso8601(ld, iso);
        snprintf(rid, sizeof rid, "manual__%.19s+00:00", iso);
        run_id = rid;
    }
    spate_sched_ti_ctx_t ctx = {
        .dag = dag,
        .task = task,
        .run_id = run_id,
        .logical_date_ms = ld,
        .data_interval_start_ms = ld,
        .data_interval_end_ms = ld,
        .try_number = try_number,
        .env = &env,
    };
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        goto out;
    }
    if (pid == 0) {
        /* exit, not _exit: under ASan the leak check then covers run(). */
        int r = op->run(&ctx);
        spate_sched_dagbag_free(bag);
        exit(r & 0xff);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0) {
        perror("waitpid");
        goto out;
    }
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
    spate_sched_dagbag_free(bag);
    return rc;
}
