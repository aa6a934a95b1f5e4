/*
 * sched_state.c — the names of task-instance, run and run-type states and
 * of trigger rules, spelled as Airflow spells them (its CLI, REST API and
 * UI show these words, so users and scripts already know them).
 */
#include "sched.h"

#include <string.h>

static const char *const ti_names[] = {
    [SPATE_TI_NONE] = "none",
    [SPATE_TI_SCHEDULED] = "scheduled",
    [SPATE_TI_QUEUED] = "queued",
    [SPATE_TI_RUNNING] = "running",
    [SPATE_TI_SUCCESS] = "success",
    [SPATE_TI_FAILED] = "failed",
    [SPATE_TI_UP_FOR_RETRY] = "up_for_retry",
    [SPATE_TI_UPSTREAM_FAILED] = "upstream_failed",
    [SPATE_TI_SKIPPED] = "skipped",
};

const char *spate_sched_ti_state_name(spate_sched_ti_state_t s) {
    if ((unsigned)s >= SPATE_ARRAY_LEN(ti_names)) return "unknown";
    return ti_names[s];
}

spate_status_t spate_sched_ti_state_parse(const char *s, spate_sched_ti_state_t *out) {
    for (size_t i = 0; i < SPATE_ARRAY_LEN(ti_names); i++) {
        if (strcmp(s, ti_names[i]) == 0) {
            *out = (spate_sched_ti_state_t)i;
            return SPATE_OK;
        }
    }
    return SPATE_EINVAL;
}

const char *spate_sched_run_state_name(spate_sched_run_state_t s) {
    switch (s) {
    case SPATE_RUN_QUEUED: return "queued";
    case SPATE_RUN_RUNNING: return "running";
    case SPATE_RUN_SUCCESS: return "success";
    case SPATE_RUN_FAILED: return "failed";
    }
    return "unknown";
}

const char *spate_sched_run_type_name(spate_sched_run_type_t t) {
    switch (t) {
    case SPATE_RUN_SCHEDULED: return "scheduled";
    case SPATE_RUN_MANUAL: return "manual";
    case SPATE_RUN_BACKFILL: return "backfill";
    }
    return "unknown";
}

const char *spate_sched_trigger_name(spate_sched_trigger_t t) {
    switch (t) {
    case SPATE_TRIGGER_ALL_SUCCESS: return "all_success";
    case SPATE_TRIGGER_ALL_DONE: return "all_done";
    case SPATE_TRIGGER_ALL_FAILED: return "all_failed";
    case SPATE_TRIGGER_ONE_SUCCESS: return "one_success";
    case SPATE_TRIGGER_ONE_FAILED: return "one_failed";
    case SPATE_TRIGGER_NONE_FAILED: return "none_failed";
    }
    return "unknown";
}
