/*
 * fuzz_sched_dag.c — libFuzzer target for the DAG loader
 * (src/sched/sched_dag.c) and the template renderer (sched_template.c).
 *
 * The input is loaded as YAML (spate_conf_load_string, name "fuzz.yaml")
 * and, when it loads, handed to spate_sched_dagbag_add_node as a pipeline
 * file's `dags` node would be. Then the bag's promises are checked: every
 * message starts with "fuzz.yaml:"; every DAG is found by its id; every
 * task's up[] index is in range and names the upstream id as written;
 * topo is a permutation in which each task comes after its upstream; every
 * string scalar of every task renders or fails with a message (never
 * crashes). Adding the same node again must give the same count. All
 * memory is freed (ASan reports leaks).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "invariant failed: %s (%s:%d)\n", #c, __FILE__, __LINE__);             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_dag(const spate_sched_dagbag_t *b, const spate_sched_dag_t *d) {
    CHECK(spate_sched_dagbag_get(b, d->dag_id) == d);
    CHECK(d->dag_id[0] != '\0' && d->description != NULL);
    CHECK(d->max_active_runs >= 1 && d->max_active_tasks >= 1);
    CHECK(d->schedule.kind == SPATE_SCHED_NONE || d->start_date_ms <= d->end_date_ms);
    size_t *pos = calloc(d->ntasks + 1, sizeof *pos);
    CHECK(pos != NULL);
    for (size_t i = 0; i < d->ntasks; i++) {
        CHECK(d->topo[i] < d->ntasks);
        CHECK(pos[d->topo[i]] == 0); /* a permutation */
        pos[d->topo[i]] = i + 1;
    }
    spate_sched_ti_ctx_t ctx = {.dag = d, .run_id = "manual__x", .try_number = 1};
    spate_buf_t out = SPATE_BUF_INIT;
    for (size_t i = 0; i < d->ntasks; i++) {
        const spate_sched_task_t *t = &d->tasks[i];
        CHECK(spate_sched_dag_task(d, t->id) == t);
        CHECK(t->pool != NULL && t->pool_slots >= 1);
        for (size_t k = 0; k < t->nupstream; k++) {
            CHECK(t->up[k] < d->ntasks);
            CHECK(strcmp(d->tasks[t->up[k]].id, t->upstream[k]) == 0);
            CHECK(pos[t->up[k]] < pos[i]); /* upstream first */
        }
        ctx.task = t;
        for (const spate_conf_node_t *n = t->node->child; n; n = n->next) {
            if (n->kind != SPATE_CONF_SCALAR) continue;
            char err[128];
            spate_buf_reset(&out);
            spate_status_t st = spate_sched_render(n->value, &ctx, &out, err, sizeof err);
            CHECK(st == SPATE_OK || (st == SPATE_EINVAL && err[0] != '\0'));
        }
    }
    spate_buf_free(&out);
    free(pos);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 8192) return 0;
    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    spate_conf_t c;
    spate_conf_err_t err;
    if (spate_conf_load_string(&c, "fuzz.yaml", text, size, &err) == SPATE_OK) {
        spate_sched_dagbag_t *b = spate_sched_dagbag_new();
        CHECK(b != NULL);
        spate_sched_dagbag_add_node(b, &c, c.root);
        const spate_stream_diag_t *d = spate_sched_dagbag_errors(b);
        for (size_t i = 0; i < d->n; i++) CHECK(strncmp(d->msgs[i], "fuzz.yaml:", 10) == 0);
        size_t n = spate_sched_dagbag_count(b);
        CHECK(n == 0 || d->n == 0); /* one source: broken means no DAG */
        for (size_t i = 0; i < n; i++) check_dag(b, spate_sched_dagbag_at(b, i));
        CHECK(spate_sched_dagbag_at(b, n) == NULL);
        spate_sched_dagbag_add_node(b, &c, c.root);
        CHECK(spate_sched_dagbag_count(b) == n);
        spate_sched_dagbag_free(b);
    }
    spate_conf_free(&c);
    free(text);
    return 0;
}
